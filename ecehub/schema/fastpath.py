"""Plain resolvers for the plainest fields.

A resolver method that takes nothing but ``self`` (``Program.name`` returns
``self.merged.value("name")``) needs none of what strawberry wraps around each field it
resolves: an ``Info`` object, argument conversion, the field-extension chain. On a page of 100
programs that wrapping was about an eighth of the request's CPU. Such fields get a resolver
that calls the method directly; everything around it stays: graphql-core completes and
serialises the value as before, and schema extensions' middleware (the access rules) still
wraps it, since graphql-core applies middleware to whatever resolver a field has.

Only fields with no arguments, no field extensions (permission classes are extensions) and a
resolver whose only parameter is ``self`` are changed; any other keeps strawberry's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

__all__ = ["plain_resolvers"]


def _plain(method: Callable[[Any], Any]) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return method(source)

    return resolve


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
            if resolver is None or definition.extensions or definition.is_subscription:
                continue
            if list(resolver.signature.parameters) != ["self"]:
                continue
            method = resolver.wrapped_func
            if not callable(method):
                continue
            field.resolve = _plain(method)
            changed += 1
    return changed
