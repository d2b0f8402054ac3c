"""Query limits that refuse a query before any source is called.

- :class:`DocumentLimits` measures a document once (cached by the hash of its text), before
  graphql-core validates it: selections, depth and aliases with every fragment spread
  counted, and each fragment measured once and multiplied by its uses, never expanded per
  spread. Over ``server.max_selections`` (or asking for one field so often at one place that
  validation's field-merging check would take long) is refused with ``QUERY_TOO_COMPLEX``,
  over ``max_depth`` with ``QUERY_TOO_DEEP``, over ``max_aliases`` with ``TOO_MANY_ALIASES``;
  a refused document is not validated; a document text found valid before (under the same
  rules) is not validated again. Parsed documents are cached by text
  (:class:`ParsedDocuments`).
- :class:`QueryCost` estimates the source calls a query makes from its selection set and the
  config, and refuses one over ``server.max_cost`` (code ``QUERY_TOO_COSTLY``) or asking for a
  page over ``server.max_page_size`` (``BAD_USER_INPUT``), after validation and before
  execution.
- :class:`PersistedQueries` runs only allow-listed queries (``PERSISTED_QUERY_NOT_ALLOWED``).
- :class:`ErrorCodes` gives strawberry's limit and validation errors a code clients can test.
- :class:`MaskUnexpected` (production) hides the message of any error without a code.

The estimate does not multiply by page size: every key asked for at one nesting level becomes
one call per source (DataLoaders), so a field costs the calls its resolver makes for one
batch (see :data:`SOURCE_FIELDS`), counted again for each alias, fragment use and nesting
level it appears at. Reports cover up to 500 programs per listing round; a report over more
makes its calls again per 500.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NoFragmentCyclesRule,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
    value_from_ast_untyped,
)
from strawberry.extensions import MaskErrors, SchemaExtension

from ecehub.config.model import Config, ServerConfig
from ecehub.errors import ConfigError

__all__ = [
    "SOURCE_FIELDS",
    "Calls",
    "DocumentLimits",
    "ErrorCodes",
    "MaskUnexpected",
    "ParsedDocuments",
    "PersistedQueries",
    "QueryCost",
    "calls_of",
    "estimate_cost",
    "load_allow_list",
    "measure",
]


@dataclass(frozen=True)
class Calls:
    """What a resolver asks of the sources for one batch of keys, one call per source:

    - ``children``: the sources mapping ``entity`` under ``parent``;
    - ``fetch``: by key, the sources mapping ``entity``;
    - ``resolve``: by hub ID, one fetch round (``@source:key`` IDs, crosswalk-linked records)
      and one shared-identifier lookup per source holding a ``match_on`` identifier;
    - ``list``: one listing round, a find per source then ``resolve`` to complete the page;
    - ``ancestors``: a fetch of each entity above ``entity`` (a scoped role's check);
    - ``health``: every source (the health check behind ``Query.sources``).
    """

    kind: Literal["children", "fetch", "resolve", "list", "ancestors", "health"]
    entity: str = ""
    parent: str | None = None


_LIST_PROGRAMS = Calls("list", "program")

SOURCE_FIELDS: dict[tuple[str, str], tuple[Calls, ...]] = {
    # (GraphQL type, field) -> the calls its resolver makes
    ("Query", "programs"): (_LIST_PROGRAMS,),
    ("Query", "program"): (Calls("resolve", "program"),),
    ("Query", "site"): (Calls("resolve", "site"), Calls("ancestors", "site")),
    ("Query", "staff"): (Calls("resolve", "staff"), Calls("ancestors", "staff")),
    ("Query", "sources"): (Calls("health"),),
    ("Query", "audit"): (Calls("resolve", "program"),),  # a scoped role's program check
    # Reports list their programs (or resolve them by ID: fewer calls), then read children.
    ("Query", "fundingReport"): (_LIST_PROGRAMS, Calls("children", "funding", "program")),
    ("Query", "supportSummary"): (
        _LIST_PROGRAMS,
        Calls("children", "funding", "program"),
        Calls("children", "activity", "program"),
        Calls("children", "checklist", "program"),
    ),
    ("Query", "enrollmentReport"): (_LIST_PROGRAMS, Calls("children", "enrollment", "program")),
    ("CrosswalkLink", "record"): (Calls("fetch", "program"),),
    ("CrosswalkLink", "program"): (Calls("resolve", "program"),),
    ("Program", "sites"): (Calls("children", "site", "program"),),
    ("Program", "staff"): (Calls("children", "staff", "program"),),
    ("Program", "checklists"): (Calls("children", "checklist", "program"),),
    ("Program", "assessments"): (Calls("children", "assessment", "program"),),
    ("Program", "enrollment"): (Calls("children", "enrollment", "program"),),
    ("Program", "funding"): (Calls("children", "funding", "program"),),
    ("Program", "ratingHistory"): (Calls("children", "rating", "program"),),
    ("Program", "activity"): (Calls("children", "activity", "program"),),
    ("Program", "supportSummary"): (
        Calls("children", "funding", "program"),
        Calls("children", "activity", "program"),
        Calls("children", "checklist", "program"),
    ),
    ("Site", "rooms"): (Calls("children", "room", "site"),),
    ("Site", "staff"): (Calls("children", "staff", "site"),),
    ("Staff", "trainings"): (Calls("children", "training", "staff"),),
    ("Checklist", "responses"): (Calls("children", "checklist_response", "checklist"),),
    ("Checklist", "notMetCount"): (Calls("children", "checklist_response", "checklist"),),
    ("Assessment", "scores"): (Calls("children", "assessment_score", "assessment"),),
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


def _identifier_lookups(config: Config, entity: str) -> int:
    return sum(
        1
        for system in config.match_on(entity)
        for source in config.sources.values()
        if entity in source.entities and system in source.entities[entity].identifiers
    )


def _ancestors(config: Config, entity: str) -> set[str]:
    found: set[str] = set()
    todo = [entity]
    while todo:
        current = todo.pop()
        for source in config.sources.values():
            mapping = source.entities.get(current)
            parent = mapping.parent_entity if mapping else None
            if parent is not None and parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def calls_of(config: Config, calls: Calls) -> int:
    """The source calls ``calls`` stands for under ``config``."""
    if calls.kind == "children":
        return _sources_mapping(config, calls.entity, calls.parent)
    if calls.kind == "fetch":
        return _sources_mapping(config, calls.entity, None)
    if calls.kind == "resolve":
        return _sources_mapping(config, calls.entity, None) + _identifier_lookups(
            config, calls.entity
        )
    if calls.kind == "list":
        return _sources_mapping(config, calls.entity, None) + calls_of(
            config, Calls("resolve", calls.entity)
        )
    if calls.kind == "ancestors":
        return sum(_sources_mapping(config, e, None) for e in _ancestors(config, calls.entity))
    return len(config.sources)


def _coded(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


# -- measuring a document ------------------------------------------------------------------------


@dataclass
class Figures:
    """What a selection set asks for, every fragment spread counted in full."""

    selections: int = 0
    """Fields, fragment spreads and inline fragments."""
    depth: int = 0
    """As strawberry's QueryDepthLimiter counts it (introspection fields add nothing)."""
    aliases: int = 0
    cost: int = 0
    """Estimated source calls."""
    paged: dict[int, FieldNode] = field(default_factory=dict)
    """The distinct paged fields (``Query.programs``) it holds, by ``id()``."""

    def add(self, other: Figures) -> None:
        self.selections += other.selections
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.cost += other.cost
        self.paged.update(other.paged)


@dataclass
class OperationFigures:
    name: str | None
    figures: Figures


@dataclass
class DocumentFigures:
    """One document's measures: computed once per document text (see :class:`Measures`)."""

    cyclic: bool = False
    too_nested: bool = False
    operations: list[OperationFigures] = field(default_factory=list)
    repeats: int = 0
    """Pairs of fields with the same response path (what validation's field-merging check
    compares); only counted when the selections are within the limit."""
    valid_under: set[tuple[type[ASTValidationRule], ...]] = field(default_factory=set)
    """The sets of validation rules this document passed (see :class:`DocumentLimits`)."""

    @property
    def selections(self) -> int:
        return sum(o.figures.selections for o in self.operations)

    @property
    def aliases(self) -> int:
        return sum(o.figures.aliases for o in self.operations)

    def operation(self, name: str | None) -> OperationFigures | None:
        if name is not None:
            found = [o for o in self.operations if o.name == name]
        else:
            found = self.operations
        return found[0] if len(found) == 1 else None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Measure:
    """Figures of selection sets; each (fragment, parent type) is measured once and reused
    for every spread of it, so a fragment spread twice per level costs no more to measure
    than one spread once. The document must have no fragment cycle."""

    def __init__(
        self,
        schema: GraphQLSchema,
        config: Config,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.config = config
        self.fragments = fragments
        self.memo: dict[tuple[str, str | None], Figures] = {}
        self.field_cost: dict[tuple[str, str], int] = {}

    def selection_set(
        self, parent: GraphQLObjectType | None, node: SelectionSetNode | None
    ) -> Figures:
        out = Figures()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                out.add(self.field(parent, selection))
            elif isinstance(selection, InlineFragmentNode):
                out.add(
                    self.selection_set(
                        self._type(selection.type_condition, parent), selection.selection_set
                    )
                )
                out.selections += 1
            elif isinstance(selection, FragmentSpreadNode):
                out.add(self.fragment(selection.name.value, parent))
                out.selections += 1
        return out

    def fragment(self, name: str, parent: GraphQLObjectType | None) -> Figures:
        definition = self.fragments.get(name)
        if definition is None:  # validation refuses unknown fragments
            return Figures()
        kind = self._type(definition.type_condition, parent)
        key = (name, kind.name if kind else None)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self.selection_set(kind, definition.selection_set)
        return found

    def _type(
        self, condition: NamedTypeNode | None, parent: GraphQLObjectType | None
    ) -> GraphQLObjectType | None:
        named = self.schema.get_type(condition.name.value) if condition else None
        return named if isinstance(named, GraphQLObjectType) else parent

    def _cost(self, parent: str, name: str) -> int:
        key = (parent, name)
        cost = self.field_cost.get(key)
        if cost is None:
            cost = self.field_cost[key] = sum(
                calls_of(self.config, c) for c in SOURCE_FIELDS.get(key, ())
            )
        return cost

    def field(self, parent: GraphQLObjectType | None, node: FieldNode) -> Figures:
        name = node.name.value
        definition = parent.fields.get(name) if parent is not None else None
        child: GraphQLObjectType | None = None
        if definition is not None:
            named = get_named_type(definition.type)
            child = named if isinstance(named, GraphQLObjectType) else None
        inner = self.selection_set(child, node.selection_set)
        out = Figures(
            selections=1 + inner.selections,
            depth=0 if name.startswith("__") or node.selection_set is None else 1 + inner.depth,
            aliases=(1 if node.alias else 0) + inner.aliases,
            cost=inner.cost,
            paged=inner.paged,
        )
        if parent is not None and definition is not None:
            out.cost += self._cost(parent.name, name)
            if (parent.name, name) in PAGED_FIELDS:
                out.paged = {**out.paged, id(node): node}
        return out


def _repeats(document: DocumentNode, fragments: Mapping[str, FragmentDefinitionNode]) -> int:
    """Pairs of fields sharing a response path, over the expanded document (call only when
    its selections are bounded: this walk expands every spread)."""
    paths: Counter[tuple[str, ...]] = Counter()

    def walk(node: SelectionSetNode | None, path: tuple[str, ...]) -> None:
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                key = (*path, (selection.alias or selection.name).value)
                paths[key] += 1
                walk(selection.selection_set, key)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, path)
            elif isinstance(selection, FragmentSpreadNode):
                definition = fragments.get(selection.name.value)
                if definition is not None:
                    walk(definition.selection_set, path)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, ())
    return sum(n * (n - 1) // 2 for n in paths.values())


def _cyclic(schema: GraphQLSchema, document: DocumentNode) -> bool:
    return bool(validate(schema, document, [NoFragmentCyclesRule]))


def measure(schema: GraphQLSchema, config: Config, document: DocumentNode) -> DocumentFigures:
    """The figures of every operation of ``document``; fragments measured once each."""
    if _cyclic(schema, document):
        return DocumentFigures(cyclic=True)
    fragments = _fragments(document)
    walk = _Measure(schema, config, fragments)
    out = DocumentFigures()
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = schema.get_root_type(definition.operation)
                out.operations.append(
                    OperationFigures(
                        definition.name.value if definition.name else None,
                        walk.selection_set(root, definition.selection_set),
                    )
                )
        if out.selections <= config.server.max_selections:
            out.repeats = _repeats(document, fragments)
    except RecursionError:  # a chain of hundreds of nested fragments (max_tokens raised)
        return DocumentFigures(too_nested=True)
    return out


def estimate_cost(
    schema: GraphQLSchema,
    config: Config,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The estimated number of source calls of ``operation``."""
    root = schema.get_root_type(operation.operation)
    return _Measure(schema, config, fragments).selection_set(root, operation.selection_set).cost


PARSED_DOCUMENTS = 256
"""Parsed documents kept per schema (a bound, so unique texts cannot grow it)."""

REPEATS_PER_SELECTION = 5
"""A document may hold at most this many pairs of same-path fields per allowed selection:
graphql-core's field-merging check compares every such pair (quadratic)."""


class Measures:
    """An LRU cache of document figures by the sha256 of the query text: a document sent
    again is not measured again."""

    def __init__(self, schema_config: Config, maxsize: int = 256) -> None:
        self.config = schema_config
        self.maxsize = maxsize
        self._cache: OrderedDict[str, DocumentFigures] = OrderedDict()

    def get(
        self, schema: GraphQLSchema, query: str | None, document: DocumentNode
    ) -> DocumentFigures:
        if query is None:
            return measure(schema, self.config, document)
        key = query_hash(query)
        found = self._cache.get(key)
        if found is None:
            found = measure(schema, self.config, document)
            self._cache[key] = found
            if len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found


def document_errors(figures: DocumentFigures, server: ServerConfig) -> list[GraphQLError]:
    """The limit errors of a measured document, [] when it is within every limit."""
    limit = server.max_selections
    if figures.too_nested:
        return [
            _coded(
                "query too complex: fragments nested too deeply to measure",
                "QUERY_TOO_COMPLEX",
                maxSelections=limit,
            )
        ]
    if figures.selections > limit:
        return [
            _coded(
                f"query too complex: {figures.selections} selections once fragments are "
                f"expanded, at most {limit} allowed; spread fewer fragments",
                "QUERY_TOO_COMPLEX",
                selections=figures.selections,
                maxSelections=limit,
            )
        ]
    if figures.repeats > limit * REPEATS_PER_SELECTION:
        return [
            _coded(
                "query too complex: the same fields are asked for too many times at one "
                "place; ask for each field once",
                "QUERY_TOO_COMPLEX",
                selections=figures.selections,
                maxSelections=limit,
            )
        ]
    errors = [
        _coded(
            f"'{o.name or 'anonymous'}' exceeds maximum operation depth of {server.max_depth}",
            "QUERY_TOO_DEEP",
        )
        for o in figures.operations
        if o.figures.depth > server.max_depth
    ]
    if figures.aliases > server.max_aliases:
        errors.append(
            _coded(
                f"{figures.aliases} aliases found. Allowed: {server.max_aliases}",
                "TOO_MANY_ALIASES",
            )
        )
    return errors


class DocumentLimits(SchemaExtension):
    """Refuses, before graphql-core validates it, a document over ``max_selections``,
    ``max_depth`` or ``max_aliases`` (strawberry's QueryDepthLimiter and MaxAliasesLimiter
    count the same, but expand every fragment spread again). A document with a fragment
    cycle is refused with validation's own error; the rest is left to validation.

    A document text that validation found clean under the same rules (measured and
    remembered in :class:`Measures`, by the hash of its text) is not validated again: the
    limits above are still checked first, on every request, and a document with validation
    errors is validated again each time it is sent (its errors are never shared)."""

    def __init__(self, measures: Measures) -> None:
        self.measures = measures

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        clean: DocumentFigures | None = None
        if document is not None and ctx.pre_execution_errors is None:
            schema = ctx.schema._schema
            figures = self.measures.get(schema, ctx.query, document)
            if figures.cyclic:
                ctx.pre_execution_errors = validate(schema, document, [NoFragmentCyclesRule])
            else:
                errors = document_errors(figures, self.measures.config.server)
                if errors:
                    ctx.pre_execution_errors = errors
                elif tuple(ctx.validation_rules) in figures.valid_under:
                    ctx.pre_execution_errors = []  # validated before: strawberry skips it
                else:
                    clean = figures
        yield
        # Validation has run (strawberry sets [] when it finds nothing): remember a pass.
        if clean is not None and ctx.pre_execution_errors == []:
            clean.valid_under.add(tuple(ctx.validation_rules))


class ParsedDocuments(SchemaExtension):
    """Parses a query text once: the document is kept (LRU, :data:`PARSED_DOCUMENTS`, by text
    and parse options, so by ``max_tokens`` too) and shared by later requests (graphql-core's
    AST is immutable). Not strawberry's ParserCache: its ``on_parse`` raises a syntax error
    (or the token limit's) from the extension hook, outside the try that makes it a request
    error, so a bad query would be answered as a server fault (INTERNAL_SERVER_ERROR, HTTP
    200). Here a text that fails to parse is left to strawberry, which parses it again and
    reports the error as it always has (failures are not cached)."""

    def __init__(self, parse_cached: Callable[..., DocumentNode]) -> None:
        self.parse_cached = parse_cached

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query is not None:
            # A failure is left to strawberry's own parse, which reports it.
            with suppress(Exception):
                ctx.graphql_document = self.parse_cached(ctx.query, **ctx.parse_options)
        yield


def _page_errors(
    config: Config, paged: Mapping[int, FieldNode], variables: Mapping[str, Any]
) -> list[GraphQLError]:
    limit = config.server.max_page_size
    errors: list[GraphQLError] = []
    for node in paged.values():
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            value = value_from_ast_untyped(arg.value, dict(variables))
            if isinstance(value, int) and value > limit:
                errors.append(
                    _coded(
                        f"`first` must be between 1 and {limit}",
                        "BAD_USER_INPUT",
                        maxPageSize=limit,
                    )
                )
    return errors


class QueryCost(SchemaExtension):
    """Refuses, before execution, a query whose estimated source calls exceed the limit or
    that asks for a page over ``max_page_size``. Nothing has run, so no source is called."""

    def __init__(self, config: Config, measures: Measures | None = None) -> None:
        self.config = config
        self.measures = measures or Measures(config, maxsize=0)

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            figures = self.measures.get(ctx.schema._schema, ctx.query, document)
            operation = figures.operation(ctx.operation_name)
            if operation is not None:
                cost = operation.figures.cost
                limit = self.config.server.max_cost
                errors = _page_errors(self.config, operation.figures.paged, ctx.variables or {})
                if cost > limit:
                    errors.append(
                        _coded(
                            f"query too costly: about {cost} source calls, at most "
                            f"{limit} allowed; ask for fewer nested lists or aliases",
                            "QUERY_TOO_COSTLY",
                            cost=cost,
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
    from strawberry.extensions import DisableIntrospection, MaxTokensLimiter

    server: ServerConfig = config.server
    measures = Measures(config)
    parse_cached = lru_cache(maxsize=PARSED_DOCUMENTS)(parse)
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
        lambda: ParsedDocuments(parse_cached),
        lambda: DocumentLimits(measures),
        lambda: QueryCost(config, measures),
    ]
    if server.mode == "production":
        # MaskUnexpected must exit after ErrorCodes (listed later, so it exits first).
        out += [DisableIntrospection, MaskUnexpected]
    out.append(ErrorCodes)
    return out
