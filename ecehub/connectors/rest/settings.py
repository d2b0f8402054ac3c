"""The ``rest`` source's settings: auth, pagination, batch and filter params, the query
language (``dialect``/``query``), the entity and source config models, validated when the
config loads. OAuth2 client credentials and client
certificates are in :mod:`~ecehub.connectors.rest.credentials`."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.base import FilterOp
from ecehub.connectors.rest.credentials import OAuth2ClientCredentialsAuth, TlsSettings
from ecehub.connectors.rest.dialects import (
    DIALECT_PAGINATION,
    DIALECT_QUERY,
    DIALECT_RECORDS_PATH,
    Dialect,
    RestQueryLanguage,
    check_field_name,
)
from ecehub.connectors.rest.paths import ApiPath
from ecehub.connectors.rest.search import RestSearch, RestSearchFilter
from ecehub.connectors.transforms import key_columns

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "OAuth2ClientCredentialsAuth",
    "PaginationConfig",
    "RestBatch",
    "RestByKeys",
    "RestEntityConfig",
    "RestFilterParam",
    "RestQueryLanguage",
    "RestSearch",
    "RestSearchFilter",
    "RestSourceConfig",
    "TlsSettings",
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
    ``cursor``: an opaque cursor the API returns at ``next_cursor_path`` (page size sent as
    ``limit_param``); ``none``: one call.

    A page shorter than ``page_size`` is taken as the last one (unless ``more_path`` says
    otherwise), so ``page_size`` must not exceed what the API actually returns per page."""

    style: Literal["page", "offset", "cursor", "none"] = Field(
        default="page",
        description="page: page number + size; offset: offset + limit (SODA, OData); cursor: "
        "the API's cursor; none: one call answers everything",
    )
    page_param: str = Field(default="page", description="page: the page number's parameter")
    first_page: int = Field(
        default=1, ge=0, le=1, description="page: the first page's number (0 or 1)"
    )
    size_param: str = Field(default="page_size", description="page: the page size's parameter")
    offset_param: str = Field(
        default="offset",
        description="offset: the parameter of how many records to skip ($offset, $skip)",
    )
    limit_param: str = Field(
        default="limit", description="offset and cursor: the page size's parameter ($limit, $top)"
    )
    cursor_param: str = Field(default="cursor", description="cursor: the cursor's parameter")
    next_cursor_path: str = Field(
        default="next_cursor", description="cursor: where the answer gives the next cursor"
    )
    order_param: str | None = Field(
        default=None,
        description="page and offset: the parameter fixing the listing's order ($order, "
        "$orderby), sent with each entity's `order` (stable pages need a stable order)",
    )
    more_path: str | None = Field(
        default=None,
        description="page and offset: a key of the answer that, when present and not empty, "
        "says more records follow even after a short page (OData @odata.nextLink, from a "
        "server capping its pages below page_size)",
    )
    page_size: int = Field(
        default=100,
        ge=1,
        le=50_000,
        description="The most rows the API returns per call (each call asks for what it needs, "
        "up to this)",
    )

    _USED_BY: ClassVar[dict[str, tuple[str, ...]]] = {
        "page": ("page_param", "first_page", "size_param", "order_param", "more_path"),
        "offset": ("offset_param", "limit_param", "order_param", "more_path"),
        "cursor": ("cursor_param", "next_cursor_path", "limit_param"),
        "none": (),
    }
    _HINTS: ClassVar[dict[tuple[str, str], str]] = {
        ("offset", "size_param"): "offset paging takes the page size in limit_param",
        ("offset", "page_param"): "offset paging sends the records skipped in offset_param",
        ("offset", "first_page"): "offset paging starts at offset 0",
        ("cursor", "size_param"): "cursor paging takes the page size in limit_param",
        ("page", "limit_param"): "page paging takes the page size in size_param",
        ("page", "offset_param"): "page paging sends the page number in page_param",
    }

    @model_validator(mode="after")
    def _settings_of_the_style(self) -> Self:
        """A setting the style does not send is a mistake (``size_param`` with offset paging
        was accepted, then paged wrong at run time): refused, naming what the style uses;
        two of its parameters with one name too."""
        used = self._USED_BY[self.style]
        stray = sorted(
            name
            for name in self.model_fields_set
            if name not in ("style", "page_size") and name not in used
        )
        if stray:
            uses = ", ".join(used) or "nothing but one call"
            hints = [
                hint
                for (style, name), hint in self._HINTS.items()
                if style == self.style and name in stray
            ]
            raise ValueError(
                f"{', '.join(stray)} not used by style {self.style!r}, which uses {uses}"
                + "".join(f"; {hint}" for hint in hints)
            )
        sent = [(name, getattr(self, name)) for name in used if name.endswith("_param")]
        values = [value for _, value in sent if value is not None]
        clash = sorted({v for v in values if values.count(v) > 1})
        if clash:
            raise ValueError(
                f"{', '.join(repr(c) for c in clash)} names two paging parameters "
                f"({', '.join(n for n, v in sent if v in clash)}); each needs its own"
            )
        return self

    def params(self) -> set[str]:
        """The query parameters this paging sends."""
        return {
            value
            for name in self._USED_BY[self.style]
            if name.endswith("_param") and (value := getattr(self, name)) is not None
        }


class RestBatch(_Strict):
    """A query parameter taking many values at once: comma-separated (``ids=1,2``) or the
    parameter repeated (``id=1&id=2``)."""

    param: str
    max: int = Field(default=100, ge=1, le=10_000, description="most values per request")
    style: Literal["comma", "repeat"] = Field(
        default="comma", description="comma: ids=1,2; repeat: id=1&id=2"
    )


class RestByKeys(_Strict):
    """How ``fetch`` asks for a batch of keys in one request: ``expression`` (the source's
    query language: SODA ``$where=operation_number in ('1','2')``, OData
    ``$filter=Id in ('1','2')``), ``repeat`` (``id=1&id=2``), ``comma`` (``ids=1,2``) or
    ``post`` (a JSON search body holding the list). A batch is split into requests of at
    most ``max`` keys, and the query styles further so that no URL exceeds the source's
    ``max_url_length``."""

    style: Literal["expression", "repeat", "comma", "post"] = Field(
        default="expression",
        description="expression: the source's query language (needs `dialect` or `query`); "
        "repeat: id=1&id=2; comma: ids=1,2; post: a JSON body",
    )
    field: str | None = Field(
        default=None,
        description="expression: the source's name of the key field (default: the entity's `key`)",
    )
    fields: list[str] | None = Field(
        default=None,
        description="expression and post, a key of several paths: the source's names of its "
        "parts, in the order of `key` (default: the key's paths)",
    )
    literal: Literal["text", "number"] | list[Literal["text", "number"]] = Field(
        default="text",
        description="expression: keys written as quoted text ('1') or bare numbers (1, for a "
        "number column; a key that is not a number is then not asked: it cannot be there); "
        "a list gives each part of a key of several paths its own",
    )
    param: str | None = Field(
        default=None, description="repeat and comma: the query parameter taking the keys"
    )
    path: ApiPath | None = Field(
        default=None, description="post: the search endpoint (default: the entity's path)"
    )
    body: JsonValue = Field(
        default=None,
        description='post: the JSON body, the string "{keys}" where the list of keys goes, '
        'e.g. {"filter": {"ids": "{keys}"}}; the answer is read at records_path, unpaged, so '
        "max must not exceed what the API answers at once",
    )
    max: int = Field(default=200, ge=1, le=10_000, description="most keys per request")

    @model_validator(mode="after")
    def _style_settings(self) -> Self:
        takes = {
            "expression": {"field", "fields", "literal"},
            "repeat": {"param"},
            "comma": {"param"},
            "post": {"path", "body", "fields"},
        }[self.style]
        stray = sorted(self.model_fields_set - takes - {"style", "max"})
        if stray:
            raise ValueError(
                f"by_keys: {', '.join(stray)} not used by style {self.style!r}, which takes "
                f"{', '.join(sorted(takes))} and max"
            )
        if self.style in ("repeat", "comma") and self.param is None:
            raise ValueError(f"by_keys style {self.style!r} needs `param`, e.g. param: ids")
        if self.style == "post" and not _holds_keys(self.body):
            raise ValueError(
                'by_keys style post needs a `body` holding the string "{keys}" where the list '
                'of keys goes, e.g. body: {"ids": "{keys}"}'
            )
        if self.field is not None:
            check_field_name(self.field)
        if self.field is not None and self.fields is not None:
            raise ValueError(
                "by_keys: `field` names a one-path key's field, `fields` the parts "
                "of a key of several: give one"
            )
        return self

    def part_names(self, key_columns: tuple[str, ...]) -> list[str]:
        """The source's names of the key's parts."""
        if self.fields is not None:
            return list(self.fields)
        if self.field is not None:
            return [self.field]
        return list(key_columns)

    def literals(self, parts: int) -> list[Literal["text", "number"]]:
        """How each of the key's ``parts`` is written."""
        if isinstance(self.literal, list):
            return list(self.literal)
        return [self.literal] * parts


def _holds_keys(body: Any) -> bool:
    if body == "{keys}":
        return True
    if isinstance(body, dict):
        return any(_holds_keys(v) for v in body.values())
    if isinstance(body, list):
        return any(_holds_keys(v) for v in body)
    return False


class RestFilterParam(_Strict):
    """Push a canonical filter down: as a query parameter (``param``: ``op`` is what the API
    does with it), or, on a source with a query language (``dialect`` or ``query``), as a
    condition of its expression (no ``param``: eq, in and contains are written with the
    language's templates). A filter with no entry (or another op) is applied client-side."""

    param: str | None = Field(
        default=None,
        description="the query parameter taking the value; without it the filter is a "
        "condition of the source's query expression (`dialect` or `query`)",
    )
    field: str | None = Field(
        default=None,
        description="expression filter: the source's field name (default: the JSON path the "
        "canonical field is mapped to)",
    )
    op: FilterOp = Field(
        default="eq",
        description="param filter: what the API does with the value (eq, in, contains, gte, "
        "lte); an expression filter writes eq, in and contains itself and takes no op",
    )
    max: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="most values one call may carry for op `in`; more are split into calls",
    )
    case_sensitive: bool | None = Field(
        default=None,
        description="true: the API compares text exactly (ABC is not abc), while a hub filter "
        "ignores case and surrounding spaces. A param filter then sends no text (the hub "
        "filters after reading the listing); an expression filter sends it upper-cased as a "
        "superset (upper(f) like '%ABC%') and the hub keeps the exact matches. Default: false "
        "for a param filter, the query language's case_sensitive for an expression filter",
    )

    @model_validator(mode="after")
    def _param_or_field(self) -> Self:
        if self.param is not None and self.field is not None:
            raise ValueError(
                "a filter takes `param` (a query parameter) or `field` (a condition of the "
                "source's query expression), not both"
            )
        if self.param is None and "op" in self.model_fields_set:
            raise ValueError(
                "an expression filter (no `param`) writes eq, in and contains itself: drop "
                "`op`, or give the query parameter in `param`"
            )
        if self.field is not None:
            check_field_name(self.field)
        return self


_Key = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "the key's JSON path, or a list of paths whose values together are "
            "the key (joined with | after escaping | and \\ in each value)",
        }
    ),
]


class RestEntityConfig(EntityConfig):
    """``path`` is the list endpoint; ``key``, ``fields``, ``identifiers`` and ``parent`` are
    JSON paths (dotted, e.g. ``address.city``) inside one record. ``key`` may list several
    paths (a grant number and a program number): the source key is their values joined by
    :func:`~ecehub.connectors.transforms.join_key`, as for sql and csv sources, and keys are
    asked by ``by_keys`` (expression or post), a search body's ``{keys}`` or an ``item_path``
    holding each path's placeholder."""

    path: ApiPath
    key: _Key
    key_columns: SkipJsonSchema[tuple[str, ...]] = ()
    """The key's paths, from ``key`` (set by the validator, never written in the file)."""

    @model_validator(mode="before")
    @classmethod
    def _key_columns(cls, data: Any) -> Any:
        return key_columns(data)

    records_path: str | None = Field(default=None, description="overrides the source's")
    item_path: ApiPath | None = Field(
        default=None, description="per-key endpoint, e.g. /providers/{key}, when no batch param"
    )
    item_record_path: str | None = Field(
        default=None,
        description="JSON path of the record in an item_path response (default: the whole body)",
    )
    batch: RestBatch | None = Field(
        default=None, description="param taking many keys at once (ids=1,2 or id=1&id=2)"
    )
    by_keys: RestByKeys | None = Field(
        default=None,
        description="how fetch asks for many keys in one request (expression, repeat, comma "
        "or post), split to fit max and the source's max_url_length",
    )
    parent_batch: RestBatch | None = Field(
        default=None, description="param filtering the list by many parent keys at once"
    )
    parent_path: ApiPath | None = Field(
        default=None, description="per-parent endpoint, e.g. /providers/{parent_key}/staff"
    )
    filters: dict[str, RestFilterParam] = Field(default_factory=dict)
    search: RestSearch | None = Field(
        default=None,
        description="list by POSTing a JSON search body (filters, paging and, with {keys}, "
        "keys at their placeholders) instead of GET path",
    )
    order: str | None = Field(
        default=None,
        description="the value of pagination.order_param for this entity's listings "
        "(default: ':id' with dialect soda, else the key field; sent only when the source's "
        "pagination has an order_param)",
    )

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        if len(self.key_columns) > 1:
            self._check_composite_key()
        elif self.item_path is not None and "{key}" not in self.item_path:
            raise ValueError("item_path needs a {key} placeholder, e.g. /providers/{key}")
        if self.parent_path is not None and "{parent_key}" not in self.parent_path:
            raise ValueError(
                "parent_path needs a {parent_key} placeholder, e.g. /providers/{parent_key}/staff"
            )
        if (self.parent_batch or self.parent_path) and not self.parent:
            raise ValueError(
                "parent_batch/parent_path need `parent: {parent_entity: json.path}` to group by"
            )
        if self.batch is not None and self.by_keys is not None:
            raise ValueError(
                "`batch` and `by_keys` both say how to fetch many keys: keep one (`batch: "
                "{param: ids}` is `by_keys: {style: comma, param: ids}`)"
            )
        if self.by_keys is not None:
            columns = self.key_columns
            names = self.by_keys.part_names(columns)
            literals = self.by_keys.literals(len(columns))
            if len(names) != len(columns) or len(literals) != len(columns):
                raise ValueError(
                    f"by_keys: the key has {len(columns)} path(s) ({', '.join(columns)}): "
                    f"`fields` and a `literal` list take one entry per path"
                )
        if self.search is not None:
            self._check_search(self.search)
        return self

    def _check_composite_key(self) -> None:
        """What asks for a key of several paths can carry each part apart."""
        columns = self.key_columns
        placeholders = " and ".join("{" + c + "}" for c in columns)
        ways = (
            f"by_keys style expression (with a dialect) or post, a search body with "
            f'"{{keys}}", or an item_path holding {placeholders}'
        )
        if self.batch is not None:
            raise ValueError(
                f"`batch` sends keys in one parameter, which cannot hold a key of several "
                f"paths ({', '.join(columns)}): use {ways}"
            )
        if self.by_keys is not None:
            if self.by_keys.style in ("repeat", "comma"):
                raise ValueError(
                    f"by_keys style {self.by_keys.style} sends keys in one parameter, which "
                    f"cannot hold a key of several paths ({', '.join(columns)}): use {ways}"
                )
            if self.by_keys.field is not None:
                raise ValueError(
                    f"by_keys.field names one field; a key of {len(columns)} paths takes "
                    f"`fields: [...]`, one name per path"
                )
        if self.item_path is not None:
            missing = [c for c in columns if "{" + c + "}" not in self.item_path]
            if "{key}" in self.item_path or missing:
                raise ValueError(
                    f"item_path of a key of several paths holds one placeholder per path "
                    f"({placeholders}), not {{key}}, e.g. /grants/{{{columns[0]}}}/..."
                )
        asked = (
            self.by_keys is not None
            or self.item_path is not None
            or (self.search is not None and self.search.takes_keys)
        )
        if not asked and not self.list_only:
            raise ValueError(
                f"a key of several paths ({', '.join(columns)}) is asked for by {ways}; "
                f"give one (or `list_only: true` for an entity never asked by key)"
            )

    def _check_search(self, search: RestSearch) -> None:
        if self.filters:
            raise ValueError(
                "an entity with `search` is listed by POSTing its body: declare its filters "
                f"in search.filters (and their placeholders in search.body), not in `filters` "
                f"({', '.join(sorted(self.filters))})"
            )
        if search.takes_keys:
            other = [
                name
                for name in ("by_keys", "batch", "item_path")
                if getattr(self, name) is not None
            ]
            if other:
                raise ValueError(
                    f'search.body with "{{keys}}" and `{other[0]}` both say how to fetch keys: '
                    f"keep one"
                )
        if search.key_fields is not None and (
            len(self.key_columns) == 1 or len(search.key_fields) != len(self.key_columns)
        ):
            raise ValueError(
                f"search.key_fields names the parts of a key of several paths: give "
                f"{len(self.key_columns)}, one per path of `key` ({', '.join(self.key_columns)})"
            )
        for name in search.filters:
            if name.startswith("identifier:"):
                mapped = name.split(":", 1)[1] in self.identifiers
            else:
                mapped = name in self.fields
            if not mapped:
                raise ValueError(
                    f"search.filters.{name}: {name} is not mapped in this entity; map it in "
                    f"`fields` (or `identifiers` for identifier:<SYSTEM>)"
                )

    def expression_field(self, name: str, flt: RestFilterParam) -> str | None:
        """The source's field an expression filter on canonical ``name`` compares: its own
        ``field``, else the JSON path ``name`` is mapped to (``None``: not mapped)."""
        if flt.field is not None:
            return flt.field
        if name.startswith("identifier:"):
            return self.identifiers.get(name.split(":", 1)[1])
        return self.fields.get(name)


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
    health_path: ApiPath | None = Field(
        default=None,
        description="GET this for health(); default: the first entity's list, one record",
    )
    dialect: Dialect | None = Field(
        default=None,
        description="soda (Socrata: $where, $limit/$offset, $order) or odata ($filter, "
        "$top/$skip, $orderby): fills `query`, `pagination` (unless it sets another style) "
        "and records_path; anything set explicitly overrides the preset",
    )
    query: RestQueryLanguage | None = Field(
        default=None,
        description="the API's query language: the expression param and its templates "
        "(with `dialect`, only the pieces to change)",
    )
    max_url_length: int = Field(
        default=2000,
        ge=256,
        le=65_536,
        description="longest URL sent: a batch of keys or an `in` filter that would make a "
        "longer one is split into several requests",
    )

    @model_validator(mode="before")
    @classmethod
    def _dialect_presets(cls, data: Any) -> Any:
        """``dialect`` fills what the config leaves out: query, pagination, records_path."""
        if not isinstance(data, dict) or data.get("dialect") not in DIALECT_QUERY:
            return data
        dialect: Dialect = data["dialect"]
        out = dict(data)
        query = out.get("query")
        if query is None or isinstance(query, dict):
            out["query"] = {**DIALECT_QUERY[dialect], **(query or {})}
        pagination = out.get("pagination")
        if pagination is None or (
            isinstance(pagination, dict) and pagination.get("style", "offset") == "offset"
        ):
            out["pagination"] = {**DIALECT_PAGINATION[dialect], **(pagination or {})}
        out.setdefault("records_path", DIALECT_RECORDS_PATH[dialect])
        return out

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

    @model_validator(mode="after")
    def _children_of_composite_keys(self) -> Self:
        """As for sql sources: a child's one parent path cannot hold a key of several."""
        for entity, ent in self.entities.items():
            parent = ent.parent_entity
            above = self.entities.get(parent) if parent else None
            if above is not None and len(above.key_columns) > 1:
                raise ValueError(
                    f"entities.{entity}.parent: {parent} is keyed by several paths "
                    f"({', '.join(above.key_columns)}), which one parent path cannot hold; "
                    f"give {parent} a one-path key or drop the parent"
                )
        return self

    @model_validator(mode="after")
    def _query_settings(self) -> Self:
        """What an entity asks of the source's query language and paging is there, and no
        parameter is sent for two things."""
        paging = self.pagination.params()
        reserved = dict.fromkeys(paging, "pagination")
        if self.query is not None:
            reserved[self.query.param] = "the query expression"
        for name, ent in self.entities.items():
            where = f"entities.{name}"
            if ent.by_keys is not None and ent.by_keys.style == "expression":
                if self.query is None:
                    raise ValueError(
                        f"{where}.by_keys style expression needs the source's query language: "
                        f"set `dialect: soda` or `dialect: odata` (or a `query` block)"
                    )
                for part in ent.by_keys.part_names(ent.key_columns):
                    check_field_name(part)
            for canonical, flt in ent.filters.items():
                if flt.param is None:
                    if self.query is None:
                        raise ValueError(
                            f"{where}.filters.{canonical} has no `param`: give the query "
                            f"parameter, or set the source's `dialect` (soda, odata) or "
                            f"`query` to write it in the query expression"
                        )
                    field = ent.expression_field(canonical, flt)
                    if field is None:
                        raise ValueError(
                            f"{where}.filters.{canonical}: {canonical} is not mapped in this "
                            f"entity; map it, or name the source's field in `field`"
                        )
                    check_field_name(field)
                elif flt.param in reserved:
                    raise ValueError(
                        f"{where}.filters.{canonical}: param {flt.param!r} is already "
                        f"{reserved[flt.param]}'s"
                    )
            for what, batch in (("batch", ent.batch), ("parent_batch", ent.parent_batch)):
                if batch is not None and batch.param in reserved:
                    raise ValueError(
                        f"{where}.{what}: param {batch.param!r} is already "
                        f"{reserved[batch.param]}'s"
                    )
            if ent.order is not None and self.pagination.order_param is None:
                raise ValueError(
                    f"{where}.order needs pagination.order_param (the parameter it goes in, "
                    f"e.g. $order)"
                )
        return self

    def order_of(self, ent: RestEntityConfig) -> str | None:
        """The order an entity's listings are asked in (``None``: none sent)."""
        if self.pagination.order_param is None:
            return None
        if ent.order is not None:
            return ent.order
        if self.dialect == "soda":
            return ":id"
        return ",".join(ent.key_columns)

    def case_sensitive(self, flt: RestFilterParam) -> bool:
        """Whether the API compares this filter's text exactly."""
        if flt.case_sensitive is not None:
            return flt.case_sensitive
        if flt.param is None and self.query is not None:
            return self.query.case_sensitive
        return False
