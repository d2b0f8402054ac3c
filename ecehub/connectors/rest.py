"""The ``rest`` connector: aiohttp, one ClientSession per connector."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.base import Connector, FilterOp

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "PaginationConfig",
    "RestConnector",
    "RestEntityConfig",
    "RestFilterParam",
    "RestSourceConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    ``cursor``: an opaque cursor the API returns at ``next_cursor_path``; ``none``: one call."""

    style: Literal["page", "offset", "cursor", "none"] = "page"
    page_param: str = "page"
    first_page: int = 1
    size_param: str = "page_size"
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"
    page_size: int = Field(default=100, ge=1, le=10_000)


class RestBatch(_Strict):
    """A query parameter taking many values at once (comma-separated), e.g. ``ids``."""

    param: str
    max: int = Field(default=100, ge=1, le=10_000)


class RestFilterParam(_Strict):
    """Push a canonical filter down as a query parameter. ``op`` is what the API does with
    it; a filter with no matching param (or another op) is applied client-side."""

    param: str
    op: FilterOp = "eq"


class RestEntityConfig(EntityConfig):
    """``path`` is the list endpoint; ``key``, ``fields``, ``identifiers`` and ``parent`` are
    JSON paths (dotted, e.g. ``address.city``) inside one record."""

    path: str
    records_path: str | None = Field(default=None, description="overrides the source's")
    item_path: str | None = Field(
        default=None, description="per-key endpoint, e.g. /providers/{key}, when no batch param"
    )
    batch: RestBatch | None = None
    parent_batch: RestBatch | None = Field(
        default=None, description="param filtering the list by many parent keys at once"
    )
    parent_path: str | None = Field(
        default=None, description="per-parent endpoint, e.g. /providers/{parent_key}/staff"
    )
    filters: dict[str, RestFilterParam] = Field(default_factory=dict)


class RestSourceConfig(SourceConfig):
    base_url: str
    auth: Annotated[ApiKeyAuth | BearerAuth, Field(discriminator="type")] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str = Field(default="data", description="JSON path of the record array")
    pagination: PaginationConfig = Field(default_factory=PaginationConfig)
    max_concurrency: int = Field(default=8, ge=1, le=256)
    entities: dict[str, RestEntityConfig] = Field(default_factory=dict)  # type: ignore[assignment]


class RestConnector(Connector):
    kind = "rest"
    settings_model: ClassVar[type[SourceConfig]] = RestSourceConfig
