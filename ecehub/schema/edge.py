"""The schema's side of the edge: string inputs checked before anything runs, a code for every
error raised on purpose, and one log line for client errors.

- :class:`InputGuard` refuses, before execution (so before any source is asked), a string
  argument or variable holding a NUL character or a lone surrogate, or longer than
  ``server.max_input_chars`` (every string of a query; in a mutation the IDs, since free text
  such as a note's body keeps the hub store's own limits): ``BAD_USER_INPUT`` naming it.
- :class:`ErrorCodesOfExceptions` gives the errors of ecehub's own exceptions their code
  (a bad ID or cursor ``BAD_USER_INPUT``, a hub-store or source error its ``code``) and
  graphql-core's request errors (coercing variables) ``GRAPHQL_VALIDATION_FAILED``, before
  production masks whatever is left without a code.
- :class:`EcehubSchema` logs client errors (any error with a code, or caused by the request)
  as one INFO line per request, and only server faults with their traceback (the same fault
  once per request).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    Visitor,
    get_named_type,
    type_from_ast,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ecehub.errors import HubStoreError, SourceError
from ecehub.ids import InvalidId
from ecehub.schema.limits import code_for

__all__ = [
    "INTERNAL_SERVER_ERROR",
    "UNEXPECTED_MESSAGE",
    "CleanLiterals",
    "EcehubSchema",
    "ErrorCodesOfExceptions",
    "InputGuard",
    "check_inputs",
    "code_of",
    "is_request_error",
    "strip_suggestions",
]

log = logging.getLogger("ecehub.graphql")

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
UNEXPECTED_MESSAGE = "Unexpected error; it has been logged on the server."
MAX_INPUT_ERRORS = 10
"""At most this many refused inputs are reported for one request."""

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def strip_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" (which lists schema names)."""
    return _SUGGESTION.sub("", message)


# -- codes -------------------------------------------------------------------------------------


def code_of(error: GraphQLError) -> str | None:
    """The code ``error`` leaves with: its own, its ecehub exception's, a request error's
    (parse, validation, limits, variable coercion), or ``None`` for a server fault."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code:
        return code
    original = error.original_error
    if isinstance(original, InvalidId):
        return "BAD_USER_INPUT"
    if isinstance(original, HubStoreError | SourceError):
        return original.code
    if is_request_error(error):
        return code_for(error) or "GRAPHQL_VALIDATION_FAILED"
    return None


def is_request_error(error: GraphQLError) -> bool:
    """Whether ``error`` is about the request rather than a field: graphql-core's parse and
    validation errors and the limits' refusals carry no field path and no exception; coercing
    a variable keeps the scalar's exception but points at the variable (locations). An
    exception raised outside any field (a server fault) has neither path nor locations."""
    return error.path is None and (error.original_error is None or bool(error.locations))


class ErrorCodesOfExceptions(SchemaExtension):
    """Codes the errors that :func:`code_of` knows and that have none yet (listed after the
    limit extensions, so it runs before production masks codeless errors)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if not (error.extensions or {}).get("code"):
                code = code_of(error)
                if code is not None:
                    error.extensions = {**(error.extensions or {}), "code": code}


# -- logging -----------------------------------------------------------------------------------


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Client errors: one INFO line (how many of each code, the first message). Server
    faults: ERROR with the traceback, once per distinct fault."""
    try:
        operation = (execution_context.operation_name if execution_context else None) or "-"
    except Exception:
        operation = "-"
    client: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        code = code_of(error)
        if code is not None and code != INTERNAL_SERVER_ERROR:
            client.append((code, error.message))
            continue
        original = error.original_error
        key = (type(original).__name__, str(original) if original else error.message)
        if key in seen:
            continue
        seen.add(key)
        where = ".".join(str(p) for p in error.path) if error.path else "-"
        log.error(
            "unexpected error in operation %s at %s: %s",
            operation,
            where,
            _short(error.message, 500),
            exc_info=original if isinstance(original, BaseException) else None,
        )
    if client:
        counts = Counter(code for code, _ in client)
        log.info(
            "client error%s in operation %s: %s; first: %s",
            "s" if len(client) > 1 else "",
            operation,
            ", ".join(f"{code} x{n}" if n > 1 else code for code, n in counts.items()),
            _short(client[0][1]),
        )


class EcehubSchema(strawberry.Schema):
    """strawberry's Schema, logging errors with :func:`log_errors` instead of a traceback
    for each."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


# -- string inputs -----------------------------------------------------------------------------


def _problem(value: str, limited: bool, max_chars: int) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it holds a lone surrogate)"
    if limited and len(value) > max_chars:
        return f"too long: {len(value)} characters, at most {max_chars}"
    return None


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_id(type_: Any) -> bool:
    return type_ is not None and get_named_type(type_).name == "ID"


class _Checker:
    def __init__(self, mutation: bool, max_chars: int) -> None:
        self.mutation = mutation
        self.max_chars = max_chars
        self.errors: list[GraphQLError] = []

    def full(self) -> bool:
        return len(self.errors) >= MAX_INPUT_ERRORS

    def string(self, value: str, type_: Any, argument: str, where: str) -> None:
        limited = not self.mutation or type_ is None or _is_id(type_)
        problem = _problem(value, limited, self.max_chars)
        if problem is not None and not self.full():
            self.errors.append(
                GraphQLError(
                    f"{where}: {problem}",
                    extensions={"code": "BAD_USER_INPUT", "argument": argument},
                )
            )

    def value(self, value: object, type_: Any, argument: str) -> None:
        """A variable's JSON value, walked along its GraphQL type (``None``: unknown)."""
        stack: list[tuple[object, Any, str]] = [(value, type_, argument)]
        while stack and not self.full():
            item, item_type, path = stack.pop()
            nullable = _nullable(item_type)
            if isinstance(item, str):
                self.string(item, item_type, path, f"variable `{path}`")
            elif isinstance(item, list):
                inner = nullable.of_type if isinstance(nullable, GraphQLList) else None
                stack.extend((v, inner, f"{path}.{i}") for i, v in enumerate(item))
            elif isinstance(item, dict):
                fields = nullable.fields if isinstance(nullable, GraphQLInputObjectType) else {}
                stack.extend(
                    (v, fields[k].type if k in fields else None, f"{path}.{k}")
                    for k, v in item.items()
                )

    def literal(self, node: ValueNode, type_: Any, argument: str, where: str) -> None:
        """An argument's literal value, walked along its GraphQL type."""
        stack: list[tuple[ValueNode, Any, str]] = [(node, type_, argument)]
        while stack and not self.full():
            item, item_type, path = stack.pop()
            nullable = _nullable(item_type)
            if isinstance(item, StringValueNode):
                self.string(item.value, item_type, path, f"argument `{path}` of {where}")
            elif isinstance(item, ListValueNode):
                inner = nullable.of_type if isinstance(nullable, GraphQLList) else None
                stack.extend((v, inner, f"{path}.{i}") for i, v in enumerate(item.values))
            elif isinstance(item, ObjectValueNode):
                fields = nullable.fields if isinstance(nullable, GraphQLInputObjectType) else {}
                for field in item.fields:
                    name = field.name.value
                    field_type = fields[name].type if name in fields else None
                    stack.append((field.value, field_type, f"{path}.{name}"))


class _Literals(Visitor):
    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo, checker: _Checker) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.checker = checker

    def enter_argument(self, node: ArgumentNode, *args: Any) -> None:
        ancestors = args[3] if len(args) > 3 else []
        owner = next(
            (a for a in reversed(list(ancestors)) if isinstance(a, FieldNode | DirectiveNode)),
            None,
        )
        where = f"`{owner.name.value}`" if owner is not None else "the query"
        argument = self.type_info.get_argument()
        arg_type = argument.type if argument is not None else None
        self.checker.literal(node.value, arg_type, node.name.value, where)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        if node.default_value is not None:
            type_ = type_from_ast(self.schema, node.type)
            name = f"${node.variable.name.value}"
            self.checker.literal(node.default_value, type_, name, "the query (its default)")


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name and o.name.value == name]
    return operations[0] if len(operations) == 1 else None


CleanLiterals = MutableMapping[DocumentNode, set[tuple[str | None, int]]]
"""Documents whose literals were checked and found clean, by operation name and limit: a
document is shared by every request that sends the same text (``ParsedDocuments``), so its
literals need walking once; the variables are checked on every request."""


def check_inputs(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_chars: int,
    clean: CleanLiterals | None = None,
) -> list[GraphQLError]:
    """The refused string inputs of the operation (see :class:`InputGuard`); ``clean``
    remembers documents whose literals passed (:data:`CleanLiterals`)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return []
    checker = _Checker(operation.operation == OperationType.MUTATION, max_chars)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in variables:
            checker.value(variables[name], type_from_ast(schema, definition.type), f"${name}")
    key = (operation_name, max_chars)
    if clean is not None and key in clean.get(document, ()):
        return checker.errors
    if checker.full():
        return checker.errors
    found = len(checker.errors)
    type_info = TypeInfo(schema)
    parts: list[Node] = [operation]
    parts += [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for part in parts:
        if not checker.full():
            visit(part, TypeInfoVisitor(type_info, _Literals(schema, type_info, checker)))
    if clean is not None and len(checker.errors) == found:
        clean.setdefault(document, set()).add(key)
    return checker.errors


class InputGuard(SchemaExtension):
    """Refuses the operation before execution when :func:`check_inputs` finds a bad string."""

    def __init__(self, max_chars: int, clean: CleanLiterals | None = None) -> None:
        self.max_chars = max_chars
        self.clean = clean

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.result is None and ctx.graphql_document is not None:
            errors = check_inputs(
                ctx.schema._schema,
                ctx.graphql_document,
                ctx.operation_name,
                ctx.variables or {},
                self.max_chars,
                self.clean,
            )
            if errors:
                ctx.result = ExecutionResult(data=None, errors=errors)
        yield
