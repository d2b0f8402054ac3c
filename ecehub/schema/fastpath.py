"""Plain resolvers for the plainest fields.

A resolver method that takes nothing but ``self`` (``Program.name`` returns
``self.merged.value("name")``) needs none of what strawberry wraps around each field it
resolves: an ``Info`` object, argument conversion, the field-extension chain; one that takes
``self`` and ``info`` (``Program.sites``) needs the ``Info`` only. On a page of 100
programs that wrapping was about an eighth of the request's CPU. Such fields get a resolver
that calls the method directly; everything around it stays: graphql-core completes and
serialises the value as before, and schema extensions' middleware (the access rules) still
wraps it, since graphql-core applies middleware to whatever resolver a field has.

Only fields with no arguments, no field extensions (permission classes are extensions) and a
resolver whose parameters are ``self`` (and ``info``) are changed; any other keeps
strawberry's path.

Those of them whose value is a scalar or an enum (or a list of them), the bulk of a page's
fields, are completed by :class:`FastExecution` without graphql-core's per-field machinery
(a resolve-info object, a path, the middleware chain, the generic completion): the method is
called and its value serialised by the type, in the same order, giving the same value. The
access rule is asked first, the same question the ``AccessRules`` middleware asks
(``Access.field_denial``); a field it refuses, a value the fast completion cannot give (a
null in a non-null field, an exception, a value the type won't serialise) and any field
with arguments or aliases into other types take graphql-core's full path, which reports it
exactly as before. The only middleware the schema has is ``AccessRules``, which declares
``field_denial_only`` (it lets a field through exactly when ``field_denial`` finds nothing):
a schema with any other middleware is executed the ordinary way throughout.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.field import StrawberryField

__all__ = ["FastExecution", "plain_resolvers"]


@dataclass(frozen=True, slots=True)
class _Leaf:
    """How :class:`FastExecution` completes a plain field: ``method(source)``, serialised
    by the type's ``coerce_output_value`` as graphql-core does (each item for a list), a
    null refused where ``non_null``."""

    method: Callable[[Any], Any]
    serialize: Callable[[Any], Any]
    non_null: bool
    is_list: bool
    items_non_null: bool


_SLOW = object()
"""What :func:`_complete` answers when the field must take graphql-core's full path."""


def _leaf(method: Callable[[Any], Any], return_type: GraphQLOutputType) -> _Leaf | None:
    non_null = isinstance(return_type, GraphQLNonNull)
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    is_list = isinstance(inner, GraphQLList)
    items_non_null = False
    if isinstance(inner, GraphQLList):
        inner = inner.of_type
        items_non_null = isinstance(inner, GraphQLNonNull)
        if isinstance(inner, GraphQLNonNull):
            inner = inner.of_type
    if not isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        return None
    return _Leaf(method, inner.coerce_output_value, non_null, is_list, items_non_null)


def _complete(leaf: _Leaf, source: Any) -> Any:
    try:
        value = leaf.method(source)
    except Exception:
        return _SLOW  # graphql-core calls it again and reports the error at its path
    if value is None:
        return _SLOW if leaf.non_null else None
    try:
        if not leaf.is_list:
            out = leaf.serialize(value)
            return _SLOW if out is None or out is Undefined else out
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            return _SLOW
        items: list[Any] = []
        for item in value:
            if item is None:
                if leaf.items_non_null:
                    return _SLOW
                items.append(None)
                continue
            out = leaf.serialize(item)
            if out is None or out is Undefined:
                return _SLOW
            items.append(out)
        return items
    except Exception:
        return _SLOW


def _plain(method: Callable[[Any], Any]) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return method(source)

    return resolve


def _with_info(
    method: Callable[[Any, Info], Any], definition: StrawberryField
) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return method(source, Info(_raw_info=info, _field=definition))

    return resolve


class FastExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, completing plain leaf fields directly (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = self.middleware_manager.middlewares if self.middleware_manager else ()
        self._fast = all(getattr(m, "field_denial_only", False) for m in middlewares)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        fields = parent_type.fields
        access: Any = getattr(self.context_value, "access", None)
        checked = access is not None and access.enabled
        fast: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        order: list[str] = []
        for response_name, details in grouped_field_set.items():
            order.append(response_name)
            node = details[0].node
            name = node.name.value
            field = fields.get(name)
            leaf = getattr(field.resolve, "leaf", None) if field is not None else None
            if (
                leaf is not None
                and len(details) == 1
                and not node.arguments
                and not (checked and access.field_denial(parent_type.name, name) is not None)
            ):
                value = _complete(leaf, source_value)
                if value is not _SLOW:
                    fast[response_name] = value
                    continue
            slow[response_name] = details
        if not slow:
            return fast
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if isinstance(rest, dict):
            return _in_order(order, fast, rest)

        async def in_order() -> dict[str, Any]:
            return _in_order(order, fast, await rest)

        return in_order()


def _in_order(order: list[str], fast: dict[str, Any], slow: dict[str, Any]) -> dict[str, Any]:
    """The fields' results in the query's order (graphql-core's answer is ordered so)."""
    return {n: fast[n] if n in fast else slow[n] for n in order if n in fast or n in slow}


def plain_resolvers(schema: strawberry.Schema) -> int:
    """Give every field of ``schema`` that qualifies (module docstring) a plain resolver;
    how many did."""
    changed = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField) or field.args:
                continue
            resolver = definition.base_resolver
            if definition.extensions or definition.is_subscription:
                continue
            if resolver is None:
                # an attribute (strawberry's "basic" field): its resolver stays, and
                # FastExecution completes it when it is a leaf
                if schema.config.default_resolver is getattr:
                    leaf = _leaf(operator.attrgetter(definition.python_name), field.type)
                    if leaf is not None and field.resolve is not None:
                        field.resolve.leaf = leaf
                continue
            method = resolver.wrapped_func
            if not callable(method):
                continue
            parameters = list(resolver.signature.parameters)
            info = resolver.info_parameter
            if parameters == ["self"]:
                field.resolve = _plain(method)
                field.resolve.leaf = _leaf(method, field.type)
            elif info is not None and parameters == ["self", info.name]:
                field.resolve = _with_info(method, definition)
            else:
                continue
            changed += 1
    return changed
