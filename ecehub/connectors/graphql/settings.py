"""The ``graphql`` source's settings: the endpoint, its headers (from the environment), and
per entity the root fields that fetch records by keys, list them by parent keys and page
through them, validated when the config loads.

Names that go into a query (fields, arguments, types, the steps of a path) must be GraphQL
names: they are written into the document, so nothing else may be. Values never are: keys
and filter values travel as variables.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self
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

__all__ = [
    "GraphqlEntityConfig",
    "GraphqlFilterArgument",
    "GraphqlFindQuery",
    "GraphqlKeysQuery",
    "GraphqlSourceConfig",
    "check_path",
]

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_TYPE = re.compile(r"\[?[_A-Za-z][_0-9A-Za-z]*!?\]?!?")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"not a GraphQL name: {value!r} (letters, digits and _)")
    return value


def _check_type(value: str) -> str:
    if not _TYPE.fullmatch(value) or value.count("[") != value.count("]"):
        raise ValueError(f"not a GraphQL input type: {value!r}, e.g. ID!, [ID!]!, String, Int")
    return value


def check_path(value: str) -> str:
    """A dotted path of GraphQL field names (list positions as numbers), e.g.
    ``address.city`` or ``phones.0.number``; ``""`` is the value itself."""
    if value == "":
        return value
    for part in value.split("."):
        if not (_NAME.fullmatch(part) or part.isdigit()):
            raise ValueError(
                f"not a path of GraphQL field names: {value!r} (e.g. address.city, edges.node)"
            )
    return value


GraphqlName = Annotated[str, AfterValidator(_check_name)]
GraphqlType = Annotated[str, AfterValidator(_check_type)]
GraphqlPath = Annotated[str, AfterValidator(check_path)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GraphqlKeysQuery(_Strict):
    """A root field taking keys: a list of them (``providers(ids: [ID!]!)``, one call per
    ``max`` keys) or one (``provider(id: ID!)``, one call per key). The calls of one
    ``fetch`` or ``children`` go in one request, as aliases of one document (up to the
    source's ``max_aliases``)."""

    field: GraphqlName
    argument: GraphqlName
    type: GraphqlType = Field(default="[ID!]!", description="the argument's GraphQL type")
    records_path: GraphqlPath = Field(
        default="", description="where the records are in the field's value, e.g. nodes"
    )
    max: int = Field(default=500, ge=1, le=10_000, description="keys per call of a list field")
    parent_key_path: GraphqlPath | None = Field(
        default=None,
        description="children listed inside their parent (e.g. field: providers, "
        "records_path: sites): the path of the parent's key in the object holding them, "
        "e.g. id",
    )

    @property
    def takes_list(self) -> bool:
        return self.type.startswith("[")

    @model_validator(mode="after")
    def _parent_key_path(self) -> Self:
        names = [p for p in self.records_path.split(".") if p and not p.isdigit()]
        if self.parent_key_path is not None and not names:
            raise ValueError(
                "parent_key_path needs records_path: where the children are inside the "
                "parent's object (e.g. sites)"
            )
        return self


class GraphqlFindQuery(_Strict):
    """A root field listing records page by page: ``connection`` (Relay: ``first``/``after``
    arguments, ``pageInfo { hasNextPage endCursor }``, records at ``edges.node`` or
    ``nodes``), ``offset`` (``offset``/``limit`` arguments; a short page is the last) or
    ``none`` (one call)."""

    field: GraphqlName
    paging: Literal["connection", "offset", "none"] = "connection"
    page_size: int = Field(default=100, ge=1, le=10_000)
    records_path: GraphqlPath | None = Field(
        default=None, description="default: edges.node for connection, else the value itself"
    )
    first_argument: GraphqlName = "first"
    after_argument: GraphqlName = "after"
    offset_argument: GraphqlName = "offset"
    limit_argument: GraphqlName = "limit"
    page_info_path: GraphqlPath = "pageInfo"

    @property
    def path(self) -> str:
        if self.records_path is not None:
            return self.records_path
        return "edges.node" if self.paging == "connection" else ""


class GraphqlFilterArgument(_Strict):
    """A canonical filter pushed down as an argument of the ``find`` field (the API must
    give ``op`` the hub's meaning: ``eq`` ignores case, ...; the hub checks every record it
    gets back, so a looser API costs rows, never correctness)."""

    argument: GraphqlName
    op: FilterOp = "eq"
    type: GraphqlType = Field(default="String", description="e.g. String, Int, [String!]")


class GraphqlEntityConfig(EntityConfig):
    """``key``, ``fields``, ``identifiers`` and ``parent`` are dotted paths inside one
    record (``address.city``); the query's selection is made from them."""

    fetch: GraphqlKeysQuery | None = None
    children: GraphqlKeysQuery | None = Field(
        default=None, description="a root field taking parent keys (needs `parent`)"
    )
    find: GraphqlFindQuery | None = None
    filters: dict[str, GraphqlFilterArgument] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_key_path(cls, data: Any) -> Any:
        """A key of several paths would need keys passed as input objects, which the
        fetch and children fields (``ids: [ID!]!``) do not take: refused, saying so."""
        if isinstance(data, dict) and isinstance(data.get("key"), list | tuple):
            raise ValueError(
                "a graphql source takes a key of one path: its fetch field takes one value per "
                "record, so `key: [a, b]` cannot be asked; map the path of a field that alone "
                "identifies the record (sql, csv and rest sources take a key of several)"
            )
        return data

    @model_validator(mode="after")
    def _queries(self) -> Self:
        if self.fetch is None and self.find is None:
            raise ValueError("give `fetch` (a field taking keys), `find` (a listing) or both")
        if self.fetch is None and not any(
            argument.op == "in"
            and (
                self.identifiers.get(name.split(":", 1)[1])
                if name.startswith("identifier:")
                else self.fields.get(name)
            )
            == self.key
            for name, argument in self.filters.items()
        ):
            raise ValueError(
                "without `fetch`, records are fetched by key through `find`: give a `filters` "
                "entry with op `in` for the field or identifier mapped to the key's path"
            )
        if self.children is not None and not self.parent:
            raise ValueError("`children` needs `parent: {parent_entity: path.of.parent.key}`")
        if self.filters and self.find is None:
            raise ValueError("`filters` are arguments of the `find` field: give `find`")
        paths = [self.key, *self.fields.values(), *self.identifiers.values()]
        paths += list((self.parent or {}).values())
        for path in paths:
            check_path(path)
        return self


class GraphqlSourceConfig(SourceConfig):
    url: str = Field(description="the GraphQL endpoint, e.g. https://api.example.org/graphql")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="sent with every request, e.g. Authorization: Bearer ${PARTNER_TOKEN}",
    )
    max_aliases: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="aliased calls in one request (fetch/children of more keys than that "
        "take more requests, sent together); keep it within the API's own alias limit",
    )
    max_concurrency: int = Field(default=8, ge=1, le=256, description="requests in flight")
    entities: dict[str, GraphqlEntityConfig] = Field(default_factory=dict)  # type: ignore[assignment]

    @field_validator("url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        # The message must not echo the value: it may carry credentials.
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("url must be an absolute http:// or https:// URL")
        return value
