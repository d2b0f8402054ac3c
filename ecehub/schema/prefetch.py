"""Read a page's children before its resolvers ask: the read-ahead.

A nested page (``programs { nodes { sites { rooms { ... } } staff { ... } } }``) used to
complete one awaitable per parent and child list: every ``Program.sites`` of 1,128 programs
a coroutine, each batched by the DataLoaders into one source call per level, then woken one
by one. The source calls were few; the awaiting was most of the request's CPU.

The root field that makes the page (``programs``, ``program``, ...) now walks the query's
selection below it once, and for every child list the query asks for (a field registered
with :func:`child_list`) reads the children of *all* the page's records at once, level by
level, through the same per-request DataLoaders. When graphql-core then completes the page,
each child-list resolver finds its rows read (``RequestContext.children_soon``) and answers
synchronously; a parent outside the read-ahead (a field not walked, a failed read) takes the
awaitable path as before, so answers, errors and source calls are the same on both paths.

The walk follows what graphql-core executes: aliases (one read per field, whatever its
aliases), fragments and inline fragments whose type condition applies, ``@skip`` and
``@include``. A field the request's role may not read is not read ahead (its resolver would
be refused anyway: no source is asked for what nobody may see).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)
from strawberry.types import Info

from ecehub.connectors.base import Record

__all__ = ["ChildList", "child_list", "read_ahead", "selections_at", "then"]

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class ChildList:
    """A field whose value is the children ``entity`` (under ``parent_entity``) of its
    object's records, as objects of the GraphQL type ``item_type``."""

    entity: str
    parent_entity: str
    item_type: str
    also: Callable[[Any, Sequence[Record]], Awaitable[None]] | None = None
    """What else the field's resolver reads for the parents, read ahead with the children
    (``Program.sites``: the facilities the crosswalk linked as sites)."""


_CHILD_LISTS: dict[tuple[str, str], ChildList] = {}


def child_list(
    type_name: str,
    field_name: str,
    entity: str,
    parent_entity: str,
    item_type: str,
    also: Callable[[Any, Sequence[Record]], Awaitable[None]] | None = None,
) -> None:
    """Register ``type_name.field_name`` (GraphQL names) as a child list the read-ahead
    reads; its resolver should answer with ``RequestContext.children_soon`` (or
    ``merged_children_soon``) to take the synchronous path."""
    _CHILD_LISTS[(type_name, field_name)] = ChildList(entity, parent_entity, item_type, also)


def then(value: T | Awaitable[T], make: Callable[[T], U]) -> U | Awaitable[U]:
    """``make(value)``, now if ``value`` is one, else once it is awaited: what a resolver
    answering with ``RequestContext.children_soon`` returns."""
    if inspect.isawaitable(value):
        return _then(value, make)
    return make(value)


async def _then(value: Awaitable[T], make: Callable[[T], U]) -> U:
    return make(await value)


def _condition(info: GraphQLResolveInfo[Any], node: Any, directive: str) -> bool | None:
    """The ``if`` of ``@skip``/``@include`` on ``node``, literal or variable; ``None``
    without that directive (validation has made sure the argument is a Boolean)."""
    for applied in node.directives:
        if applied.name.value != directive:
            continue
        for argument in applied.arguments:
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode):
                return value.value
            if isinstance(value, VariableNode):
                # strawberry hands resolvers the coerced values as a plain dict
                given: Any = info.variable_values
                values: Mapping[str, Any] = getattr(given, "coerced", given)
                return bool(values.get(value.name.value))
    return None


def _included(info: GraphQLResolveInfo[Any], node: Any) -> bool:
    if not node.directives:
        return True
    return _condition(info, node, "skip") is not True and (
        _condition(info, node, "include") is not False
    )


def _applies(info: GraphQLResolveInfo[Any], condition: str | None, type_name: str) -> bool:
    if condition is None or condition == type_name:
        return True
    abstract = info.schema.get_type(condition)
    concrete = info.schema.get_type(type_name)
    if abstract is None or concrete is None or not is_abstract_type(abstract):
        return False
    return info.schema.is_sub_type(abstract, concrete)


def _fields(
    info: GraphQLResolveInfo[Any],
    type_name: str,
    selection_sets: Iterable[SelectionSetNode],
    into: dict[str, list[SelectionSetNode | None]],
    seen: set[str],
) -> None:
    for selection_set in selection_sets:
        for node in selection_set.selections:
            if not _included(info, node):
                continue
            if isinstance(node, FieldNode):
                into.setdefault(node.name.value, []).append(node.selection_set)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if _applies(info, condition, type_name):
                    _fields(info, type_name, [node.selection_set], into, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = info.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                if _applies(info, fragment.type_condition.name.value, type_name):
                    _fields(info, type_name, [fragment.selection_set], into, seen | {name})


def selections_at(
    info: GraphQLResolveInfo[Any], path: Sequence[tuple[str, str]]
) -> list[SelectionSetNode]:
    """The selection sets reached from the resolving field's own by following ``path``:
    ``(type name, field name)`` steps, e.g. ``[("ProgramConnection", "nodes")]``; every
    alias of a step is followed."""
    current = [n.selection_set for n in info.field_nodes if n.selection_set is not None]
    for type_name, field_name in path:
        fields: dict[str, list[SelectionSetNode | None]] = {}
        _fields(info, type_name, current, fields, set())
        current = [s for s in fields.get(field_name, []) if s is not None]
    return current


async def read_ahead(
    info: Info[Any, Any],
    type_name: str,
    records: Sequence[Record],
    *paths: Sequence[tuple[str, str]],
) -> None:
    """Read ahead for the objects of ``type_name`` (made of ``records``) that the resolving
    field answers: at the field's own selection, or at the end of each of ``paths``
    (:func:`selections_at`), e.g. a connection's ``nodes`` and ``edges.node``."""
    raw = info._raw_info
    selection_sets = [s for path in paths or [()] for s in selections_at(raw, path)]
    await _read(raw, type_name, records, selection_sets)


async def _read(
    info: GraphQLResolveInfo[Any],
    type_name: str,
    records: Sequence[Record],
    selection_sets: Sequence[SelectionSetNode],
) -> None:
    """Read the children of ``records`` (the records of objects of ``type_name``) for every
    registered child list ``selection_sets`` ask for, and theirs, level by level; the lists
    of one level concurrently. Reads go through the request's DataLoaders, which keep them
    for the resolvers; a failed read is left for the resolver to meet (no exception here)."""
    if not records or not selection_sets:
        return
    context = info.context
    access = context.access
    fields: dict[str, list[SelectionSetNode | None]] = {}
    _fields(info, type_name, selection_sets, fields, set())
    levels = []
    for field_name, below in fields.items():
        spec = _CHILD_LISTS.get((type_name, field_name))
        if spec is None:
            continue
        if access.enabled and access.field_denial(type_name, field_name) is not None:
            continue
        levels.append(_level(info, spec, records, [s for s in below if s is not None]))
    if levels:
        await asyncio.gather(*levels)


async def _level(
    info: GraphQLResolveInfo[Any],
    spec: ChildList,
    records: Sequence[Record],
    selection_sets: Sequence[SelectionSetNode],
) -> None:
    try:
        if spec.also is not None:
            children, _ = await asyncio.gather(
                info.context.children(records, spec.entity, spec.parent_entity),
                spec.also(info.context, records),
            )
        else:
            children = await info.context.children(records, spec.entity, spec.parent_entity)
    except Exception:
        return  # the resolver meets the same failure and reports it
    await _read(info, spec.item_type, children, selection_sets)
