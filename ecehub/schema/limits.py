"""Query limits that refuse a query before any source is called.

- :class:`DocumentLimits` measures a document once (:mod:`ecehub.schema.measure`; cached by
  the hash of its text), before graphql-core validates it: selections, depth and aliases
  with every fragment spread counted, and each fragment measured once and multiplied by its
  uses, never expanded per spread. Over ``server.max_selections`` (or asking for one field so
  often at one place that validation's field-merging check would take long) is refused with
  ``QUERY_TOO_COMPLEX``, over ``max_depth`` with ``QUERY_TOO_DEEP``, over ``max_aliases``
  with ``TOO_MANY_ALIASES``; a refused document is not validated; a document text found
  valid before (under the same rules) is not validated again. Parsed documents are cached by
  text (:class:`ParsedDocuments`).
- :class:`QueryCost` estimates the source calls a query makes from its selection set and the
  config, and refuses one over ``server.max_cost`` (code ``QUERY_TOO_COSTLY``) or asking for a
  page over ``server.max_page_size`` (``BAD_USER_INPUT``), after validation and before
  execution.
- :class:`~ecehub.schema.persisted.PersistedQueries` runs only allow-listed queries
  (``PERSISTED_QUERY_NOT_ALLOWED``).
- :class:`ErrorCodes` gives strawberry's limit and validation errors a code clients can test.
- :class:`MaskUnexpected` (production) hides the message of any error without a code.

The estimate does not multiply by page size: every key asked for at one nesting level becomes
one call per source (DataLoaders), so a field costs the calls its resolver makes for one batch
(see :data:`ecehub.schema.cost.SOURCE_FIELDS`), counted again for each alias, fragment use and
nesting level it appears at. Reports cover up to 500 programs per listing round; a report over
more makes its calls again per 500.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NoFragmentCyclesRule,
    parse,
    validate,
    value_from_ast_untyped,
)
from strawberry.extensions import MaskErrors, SchemaExtension

from ecehub.config.model import Config, ServerConfig
from ecehub.errors import ConfigError
from ecehub.schema.codes import coded
from ecehub.schema.measure import DocumentFigures, measure
from ecehub.schema.persisted import PersistedQueries, load_allow_list, query_hash

__all__ = [
    "DocumentLimits",
    "ErrorCodes",
    "MaskUnexpected",
    "ParsedDocuments",
    "QueryCost",
    "code_for",
    "document_errors",
    "is_unexpected",
    "limit_extensions",
]


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
            coded(
                "query too complex: fragments nested too deeply to measure",
                "QUERY_TOO_COMPLEX",
                maxSelections=limit,
            )
        ]
    if figures.selections > limit:
        return [
            coded(
                f"query too complex: {figures.selections} selections once fragments are "
                f"expanded, at most {limit} allowed; spread fewer fragments",
                "QUERY_TOO_COMPLEX",
                selections=figures.selections,
                maxSelections=limit,
            )
        ]
    if figures.repeats > limit * REPEATS_PER_SELECTION:
        return [
            coded(
                "query too complex: the same fields are asked for too many times at one "
                "place; ask for each field once",
                "QUERY_TOO_COMPLEX",
                selections=figures.selections,
                maxSelections=limit,
            )
        ]
    errors = [
        coded(
            f"'{o.name or 'anonymous'}' exceeds maximum operation depth of {server.max_depth}",
            "QUERY_TOO_DEEP",
        )
        for o in figures.operations
        if o.figures.depth > server.max_depth
    ]
    if figures.aliases > server.max_aliases:
        errors.append(
            coded(
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
                    coded(
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
                        coded(
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


def limit_extensions(
    config: Config, base_dir: Path | None = None, also_allowed: Mapping[str, str] | None = None
) -> list[Any]:
    """The schema extensions for ``config.server``'s limits, in the order they must run.
    ``also_allowed`` (``{sha256: text}``) joins the allow list in allow-list mode: the
    operations of the front end the server itself ships (``/app``)."""
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
        allowed = {**(also_allowed or {}), **load_allow_list(path)}
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
