"""Query limits that refuse a query before any source is called.

- :class:`QueryCost` estimates the source calls a query makes from its selection set and the
  config, and refuses one over ``server.max_cost`` (code ``QUERY_TOO_COSTLY``) or asking for a
  page over ``server.max_page_size`` (``BAD_USER_INPUT``), after validation and before
  execution.
- :class:`PersistedQueries` runs only allow-listed queries (``PERSISTED_QUERY_NOT_ALLOWED``).
- :class:`ErrorCodes` gives strawberry's limit and validation errors a code clients can test.
- :class:`MaskUnexpected` (production) hides the message of any error without a code.

The estimate does not multiply by page size: every key asked for at one nesting level becomes
one call per source (DataLoaders), so a field costs one call per source that maps its entity,
counted again for each alias, fragment use and nesting level it appears at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import MaskErrors, SchemaExtension

from ecehub.config.model import Config, ServerConfig
from ecehub.errors import ConfigError

__all__ = [
    "SOURCE_FIELDS",
    "ErrorCodes",
    "MaskUnexpected",
    "PersistedQueries",
    "QueryCost",
    "estimate_cost",
    "load_allow_list",
]

SOURCE_FIELDS: dict[tuple[str, str], tuple[tuple[str, str | None], ...]] = {
    # (GraphQL type, field) -> the (entity, parent entity) it reads from every source mapping it
    ("Query", "programs"): (("program", None),),
    ("Query", "program"): (("program", None),),
    ("Query", "site"): (("site", None),),
    ("Query", "staff"): (("staff", None),),
    ("Query", "fundingReport"): (("program", None), ("funding", "program")),
    ("Query", "supportSummary"): (
        ("program", None),
        ("funding", "program"),
        ("activity", "program"),
        ("checklist", "program"),
    ),
    ("Program", "sites"): (("site", "program"),),
    ("Program", "staff"): (("staff", "program"),),
    ("Program", "checklists"): (("checklist", "program"),),
    ("Program", "assessments"): (("assessment", "program"),),
    ("Program", "enrollment"): (("enrollment", "program"),),
    ("Program", "funding"): (("funding", "program"),),
    ("Program", "ratingHistory"): (("rating", "program"),),
    ("Program", "activity"): (("activity", "program"),),
    ("Program", "supportSummary"): (
        ("funding", "program"),
        ("activity", "program"),
        ("checklist", "program"),
    ),
    ("Site", "rooms"): (("room", "site"),),
    ("Site", "staff"): (("staff", "site"),),
    ("Staff", "trainings"): (("training", "staff"),),
    ("Checklist", "responses"): (("checklist_response", "checklist"),),
    ("Checklist", "notMetCount"): (("checklist_response", "checklist"),),
    ("Assessment", "scores"): (("assessment_score", "assessment"),),
}
"""Fields whose resolvers call sector sources. A field not listed costs nothing."""

PAGED_FIELDS: frozenset[tuple[str, str]] = frozenset({("Query", "programs")})


def _sources_mapping(config: Config, entity: str, parent: str | None) -> int:
    return sum(
        1
        for source in config.sources.values()
        if entity in source.entities
        and (parent is None or source.entities[entity].parent_entity == parent)
    )


def _coded(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        config: Config,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.config = config
        self.fragments = fragments
        self.variables = variables
        self.cost = 0
        self.page_errors: list[GraphQLError] = []

    def selection_set(self, parent: GraphQLObjectType, node: SelectionSetNode | None) -> None:
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                self.selection_set(
                    self._type(selection.type_condition, parent), selection.selection_set
                )
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:  # validation has refused cycles and unknown names
                    self.selection_set(
                        self._type(fragment.type_condition, parent), fragment.selection_set
                    )

    def _type(self, condition: Any, parent: GraphQLObjectType) -> GraphQLObjectType:
        named = self.schema.get_type(condition.name.value) if condition else None
        return named if isinstance(named, GraphQLObjectType) else parent

    def field(self, parent: GraphQLObjectType, node: FieldNode) -> None:
        name = node.name.value
        definition = parent.fields.get(name)
        if definition is None:
            return
        for entity, parent_entity in SOURCE_FIELDS.get((parent.name, name), ()):
            self.cost += _sources_mapping(self.config, entity, parent_entity)
        if (parent.name, name) in PAGED_FIELDS:
            self._check_page(node)
        child = get_named_type(definition.type)
        if isinstance(child, GraphQLObjectType):
            self.selection_set(child, node.selection_set)

    def _check_page(self, node: FieldNode) -> None:
        limit = self.config.server.max_page_size
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            value = value_from_ast_untyped(arg.value, dict(self.variables))
            if isinstance(value, int) and value > limit:
                self.page_errors.append(
                    _coded(
                        f"`first` must be between 1 and {limit}",
                        "BAD_USER_INPUT",
                        maxPageSize=limit,
                    )
                )


def _walk(
    schema: GraphQLSchema,
    config: Config,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> _Walk:
    walk = _Walk(schema, config, fragments, variables or {})
    root = schema.get_root_type(operation.operation)
    if root is not None:
        walk.selection_set(root, operation.selection_set)
    return walk


def estimate_cost(
    schema: GraphQLSchema,
    config: Config,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The estimated number of source calls of ``operation``."""
    return _walk(schema, config, operation, fragments, variables).cost


def _operation_parts(
    document: Any, operation_name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return (operations[0] if len(operations) == 1 else None), fragments


class QueryCost(SchemaExtension):
    """Refuses, before execution, a query whose estimated source calls exceed the limit or
    that asks for a page over ``max_page_size``. Nothing has run, so no source is called."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            operation, fragments = _operation_parts(document, ctx.operation_name)
            if operation is not None:
                walk = _walk(ctx.schema._schema, self.config, operation, fragments, ctx.variables)
                limit = self.config.server.max_cost
                errors = list(walk.page_errors)
                if walk.cost > limit:
                    errors.append(
                        _coded(
                            f"query too costly: about {walk.cost} source calls, at most "
                            f"{limit} allowed; ask for fewer nested lists or aliases",
                            "QUERY_TOO_COSTLY",
                            cost=walk.cost,
                            maxCost=limit,
                        )
                    )
                if errors:
                    ctx.result = ExecutionResult(data=None, errors=errors)
        yield


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """``{sha256 hex: query text}`` from a JSON file; every hash must match its text."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            str(path), [("server.persisted_queries.file", f"cannot read: {exc}")]
        ) from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigError(
            str(path), [("server.persisted_queries.file", "not a JSON object of hash: query")]
        )
    bad = [k for k, v in raw.items() if query_hash(v) != k.lower()]
    if bad:
        raise ConfigError(
            str(path),
            [("server.persisted_queries.file", f"hash does not match its query: {bad[0]}")],
            suggestion="the key is the sha256 hex digest of the query text, byte for byte",
        )
    return {k.lower(): v for k, v in raw.items()}


_NOT_ALLOWED_PLACEHOLDER = "query PersistedQueryNotAllowed { __typename }"


class PersistedQueries(SchemaExtension):
    """Allow-list mode: a request names an allowed query by
    ``extensions.persistedQuery.sha256Hash`` (its text may be left out) or sends an allowed
    text exactly; anything else is refused with ``PERSISTED_QUERY_NOT_ALLOWED``."""

    def __init__(self, allowed: Mapping[str, str]) -> None:
        self.allowed = allowed
        self.refused = False

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        persisted = (ctx.operation_extensions or {}).get("persistedQuery")
        wanted = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if isinstance(wanted, str):
            text = self.allowed.get(wanted.lower())
            self.refused = text is None or (ctx.query is not None and ctx.query != text)
        else:
            self.refused = ctx.query is None or query_hash(ctx.query) not in self.allowed
            text = ctx.query
        # Refused requests still get parsed and validated as a harmless stand-in, so the
        # answer is a GraphQL error rather than "no query found".
        ctx.query = _NOT_ALLOWED_PLACEHOLDER if self.refused else text
        yield

    def on_execute(self) -> Iterator[None]:
        if self.refused:
            self.execution_context.result = ExecutionResult(
                data=None,
                errors=[
                    _coded(
                        "this server only runs allow-listed (persisted) queries",
                        "PERSISTED_QUERY_NOT_ALLOWED",
                    )
                ],
            )
        yield


_LIMIT_CODES = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "TOO_MANY_ALIASES"),
    ("Document contains more than", "TOO_MANY_TOKENS"),
    ("introspection has been disabled", "INTROSPECTION_DISABLED"),
)


def code_for(error: GraphQLError) -> str | None:
    """The code for an error strawberry or graphql-core raise without one."""
    for needle, code in _LIMIT_CODES:
        if needle in error.message:
            return code
    if error.original_error is None and error.path is None:
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    return None


class ErrorCodes(SchemaExtension):
    """Adds ``extensions.code`` to limit, parse and validation errors that have none."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if not (error.extensions or {}).get("code"):
                code = code_for(error)
                if code is not None:
                    error.extensions = {**(error.extensions or {}), "code": code}


def is_unexpected(error: GraphQLError) -> bool:
    """An error raised by code rather than on purpose: it has no code, and an exception
    behind it. Coded errors (BAD_USER_INPUT, SOURCE_*, ...) and GraphQL errors stay."""
    return not (error.extensions or {}).get("code") and error.original_error is not None


class MaskUnexpected(MaskErrors):
    """MaskErrors for unexpected errors only, with code INTERNAL_SERVER_ERROR."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=is_unexpected,
            error_message="Unexpected error; it has been logged on the server.",
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def limit_extensions(config: Config, base_dir: Path | None = None) -> list[Any]:
    """The schema extensions for ``config.server``'s limits, in the order they must run."""
    from strawberry.extensions import (
        DisableIntrospection,
        MaxAliasesLimiter,
        MaxTokensLimiter,
        QueryDepthLimiter,
    )

    server: ServerConfig = config.server
    out: list[Any] = []
    pq = server.persisted_queries
    if pq.mode == "allow_list":
        if pq.file is None:
            raise ConfigError(
                str(config.file or "<config>"),
                [("server.persisted_queries.file", "required in allow_list mode")],
            )
        path = pq.file if pq.file.is_absolute() or base_dir is None else base_dir / pq.file
        allowed = load_allow_list(path)
        out.append(lambda: PersistedQueries(allowed))
    out += [
        lambda: MaxTokensLimiter(max_token_count=server.max_tokens),
        lambda: QueryDepthLimiter(max_depth=server.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=server.max_aliases),
        lambda: QueryCost(config),
    ]
    if server.mode == "production":
        # MaskUnexpected must exit after ErrorCodes (listed later, so it exits first).
        out += [DisableIntrospection, MaskUnexpected]
    out.append(ErrorCodes)
    return out
