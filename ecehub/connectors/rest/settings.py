"""The ``rest`` source's settings: auth, pagination, batch and filter params, the entity and
source config models, validated when the config loads. OAuth2 client credentials and client
certificates are in :mod:`~ecehub.connectors.rest.credentials`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.base import FilterOp
from ecehub.connectors.rest.credentials import OAuth2ClientCredentialsAuth, TlsSettings

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "OAuth2ClientCredentialsAuth",
    "PaginationConfig",
    "RestBatch",
    "RestEntityConfig",
    "RestFilterParam",
    "RestSourceConfig",
    "TlsSettings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("a path starts with '/', e.g. /v1/providers")
    return value


_ApiPath = Annotated[str, AfterValidator(_check_path)]


class ApiKeyAuth(_Strict):
    type: Literal["api_key"]
    header: str | None = "X-API-Key"
    query: str | None = Field(default=None, description="send the key as this query param")
    value: SecretStr


class BearerAuth(_Strict):
    type: Literal["bearer"]
    token: SecretStr


class PaginationConfig(_Strict):
    """How list endpoints page. ``page``: page number + size; ``offset``: offset + limit;
    ``cursor``: an opaque cursor the API returns at ``next_cursor_path`` (page size sent as
    ``limit_param``); ``none``: one call.

    A page shorter than ``page_size`` is taken as the last one, so ``page_size`` must not
    exceed what the API actually returns per page."""

    style: Literal["page", "offset", "cursor", "none"] = "page"
    page_param: str = Field(default="page", description="page: the page number's parameter")
    first_page: int = Field(default=1, description="page: the first page's number (0 or 1)")
    size_param: str = Field(default="page_size", description="page: the page size's parameter")
    offset_param: str = Field(default="offset", description="offset: the offset's parameter")
    limit_param: str = Field(
        default="limit", description="offset and cursor: the page size's parameter"
    )
    cursor_param: str = Field(default="cursor", description="cursor: the cursor's parameter")
    next_cursor_path: str = Field(
        default="next_cursor", description="cursor: where the answer gives the next cursor"
    )
    page_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="The most rows the API returns per call (each call asks for what it needs, "
        "up to this)",
    )

    _USED_BY: ClassVar[dict[str, tuple[str, ...]]] = {
        "page": ("page_param", "first_page", "size_param"),
        "offset": ("offset_param", "limit_param"),
        "cursor": ("cursor_param", "next_cursor_path", "limit_param"),
        "none": (),
    }

    @model_validator(mode="after")
    def _settings_of_the_style(self) -> Self:
        """A setting the style does not send is a mistake (``size_param`` with offset paging
        was accepted, then paged wrong at run time): refused, naming what the style uses."""
        used = self._USED_BY[self.style]
        stray = sorted(
            name
            for name in self.model_fields_set
            if name not in ("style", "page_size") and name not in used
        )
        if stray:
            uses = ", ".join(used) or "nothing but one call"
            raise ValueError(
                f"{', '.join(stray)} not used by style {self.style!r}, which uses {uses}"
                + (
                    "; for offset paging the page size goes in limit_param"
                    if "size_param" in stray
                    else ""
                )
            )
        return self


class RestBatch(_Strict):
    """A query parameter taking many values at once (comma-separated), e.g. ``ids``."""

    param: str
    max: int = Field(default=100, ge=1, le=10_000)


class RestFilterParam(_Strict):
    """Push a canonical filter down as a query parameter. ``op`` is what the API does with
    it; a filter with no matching param (or another op) is applied client-side."""

    param: str
    op: FilterOp = "eq"
    max: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="most values one call may carry for op `in`; more are split into calls",
    )
    case_sensitive: bool = Field(
        default=False,
        description="true: the API compares text exactly (ABC is not abc), while a hub filter "
        "ignores case; a text value is then not sent but filtered here, after reading the "
        "listing (exact, at the cost of the rows read)",
    )


class RestEntityConfig(EntityConfig):
    """``path`` is the list endpoint; ``key``, ``fields``, ``identifiers`` and ``parent`` are
    JSON paths (dotted, e.g. ``address.city``) inside one record."""

    path: _ApiPath
    records_path: str | None = Field(default=None, description="overrides the source's")
    item_path: _ApiPath | None = Field(
        default=None, description="per-key endpoint, e.g. /providers/{key}, when no batch param"
    )
    item_record_path: str | None = Field(
        default=None,
        description="JSON path of the record in an item_path response (default: the whole body)",
    )
    batch: RestBatch | None = None
    parent_batch: RestBatch | None = Field(
        default=None, description="param filtering the list by many parent keys at once"
    )
    parent_path: _ApiPath | None = Field(
        default=None, description="per-parent endpoint, e.g. /providers/{parent_key}/staff"
    )
    filters: dict[str, RestFilterParam] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        if self.item_path is not None and "{key}" not in self.item_path:
            raise ValueError("item_path needs a {key} placeholder, e.g. /providers/{key}")
        if self.parent_path is not None and "{parent_key}" not in self.parent_path:
            raise ValueError(
                "parent_path needs a {parent_key} placeholder, e.g. /providers/{parent_key}/staff"
            )
        if (self.parent_batch or self.parent_path) and not self.parent:
            raise ValueError(
                "parent_batch/parent_path need `parent: {parent_entity: json.path}` to group by"
            )
        return self


class RestSourceConfig(SourceConfig[RestEntityConfig]):
    base_url: str
    auth: (
        Annotated[
            ApiKeyAuth | BearerAuth | OAuth2ClientCredentialsAuth, Field(discriminator="type")
        ]
        | None
    ) = None
    tls: TlsSettings | None = Field(
        default=None, description="client certificate (mutual TLS) and CA for an https:// API"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str = Field(
        default="data", description="JSON path of the record array ('' = the body itself)"
    )
    pagination: PaginationConfig = Field(default_factory=PaginationConfig)
    max_concurrency: int = Field(default=8, ge=1, le=256)
    health_path: _ApiPath | None = Field(
        default=None,
        description="GET this for health(); default: the first entity's list, one record",
    )

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        # The message must not echo the value: it may carry credentials.
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("base_url must be an absolute http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _tls_needs_https(self) -> Self:
        if self.tls is not None and urlsplit(self.base_url).scheme != "https":
            raise ValueError("`tls` needs an https:// base_url (TLS is not used over http://)")
        return self
