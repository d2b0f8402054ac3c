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

The same holds one level up: a plain field whose value is an object or a list of objects
(``Program.sites``, ``ProgramConnection.nodes``) is completed by :class:`FastExecution`
when its resolver answers at once (the read-ahead makes child lists do so): the objects'
fields are executed directly, with the paths and error handling graphql-core gives them
(an error in an item nulls the item or the list exactly as ``complete_list_item_value``
would). A resolver that takes ``info`` is given one that holds the context at once (what
nearly every resolver reads) and builds strawberry's full ``Info`` the first time anything
else is asked of it (also later, from a coroutine the resolver returned), so a resolver sees
what the full path would give it. A resolver that answers with an awaitable has it
completed by graphql-core (with a full resolve info); an object type with an
``is_type_of`` that needs the resolve info, ``@defer`` and ``@stream`` take the full path.

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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.field import StrawberryField

__all__ = ["FastExecution", "info_free", "plain_resolvers"]


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


@dataclass(frozen=True, slots=True)
class _Objects:
    """How :class:`FastExecution` completes a plain field whose value is an object or a list
    of objects: ``call(source, context)``, then the objects' own fields; ``type_test`` is
    the object type's ``is_type_of`` where it has one (one that needs no resolve info)."""

    call: _Call
    field_type: GraphQLOutputType
    item_type: GraphQLOutputType
    object_type: GraphQLObjectType
    non_null: bool
    is_list: bool
    items_non_null: bool
    type_test: Callable[[Any], bool] | None


class _LazyInfo:
    """The ``info`` a fast-path resolver gets: the request context at once; anything else
    asked of it builds strawberry's full ``Info`` (over graphql-core's resolve info) on
    first use and answers from it."""

    __slots__ = ("_definition", "_full", "_raw", "context")

    def __init__(
        self,
        context: Any,
        raw: Callable[[], GraphQLResolveInfo[Any]],
        definition: StrawberryField,
    ) -> None:
        self.context = context
        self._raw = raw
        self._definition = definition
        self._full: Info | None = None

    def __getattr__(self, name: str) -> Any:
        full = self._full
        if full is None:
            full = self._full = Info(_raw_info=self._raw(), _field=self._definition)
        return getattr(full, name)


def info_free(is_type_of: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Mark an ``is_type_of`` that never reads its resolve info, so that the fast path may
    call it without one."""
    is_type_of.info_free = True  # type: ignore[attr-defined]
    return is_type_of


_STRAWBERRY_TYPE_TEST = "_get_is_type_of.<locals>.is_type_of"
"""strawberry's own ``is_type_of`` for types with interfaces ignores its info argument."""


def _type_test(object_type: GraphQLObjectType) -> tuple[bool, Callable[[Any], bool] | None]:
    """(usable on the fast path, the test to apply)."""
    test = object_type.is_type_of
    if test is None:
        return True, None
    if getattr(test, "info_free", False) or getattr(test, "__qualname__", "").endswith(
        _STRAWBERRY_TYPE_TEST
    ):
        return True, lambda value: bool(test(value, cast(Any, None)))
    return False, None


@dataclass(frozen=True, slots=True)
class _Shape:
    """A field type taken apart: ``[named!]!`` and its variants."""

    non_null: bool
    is_list: bool
    items_non_null: bool
    item_type: GraphQLOutputType
    named: Any


def _shape(return_type: GraphQLOutputType) -> _Shape:
    non_null = isinstance(return_type, GraphQLNonNull)
    inner: Any = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    is_list = isinstance(inner, GraphQLList)
    items_non_null = False
    item_type: GraphQLOutputType = inner
    if isinstance(inner, GraphQLList):
        item_type = inner = inner.of_type
        items_non_null = isinstance(inner, GraphQLNonNull)
        if isinstance(inner, GraphQLNonNull):
            inner = inner.of_type
    return _Shape(non_null, is_list, items_non_null, item_type, inner)


def _objects(call: _Call, return_type: GraphQLOutputType) -> _Objects | None:
    shape = _shape(return_type)
    if not isinstance(shape.named, GraphQLObjectType):
        return None  # a scalar (a leaf), an interface or a union (resolve_type): full path
    usable, test = _type_test(shape.named)
    if not usable:
        return None
    return _Objects(
        call,
        return_type,
        shape.item_type,
        shape.named,
        shape.non_null,
        shape.is_list,
        shape.items_non_null,
        test,
    )


_SLOW = object()
"""What :func:`_complete` answers when the field must take graphql-core's full path."""

_DONE = (dict, list, type(None))
"""Types of a value that is never awaitable: checked before asking ``is_awaitable``."""

_LEAF_STEP = "leaf"
_OBJECTS_STEP = "objects"
_SLOW_STEP = "slow"


@dataclass(frozen=True, slots=True)
class _Step:
    """One field of a selection set in :meth:`FastExecution._plan`: completed as a leaf
    (``how`` a :class:`_Leaf`), as objects (``how`` an :class:`_Objects`, with the field and
    the objects' own selection) or by graphql-core."""

    response_name: str
    details: FieldDetailsList
    kind: str
    how: Any
    field: GraphQLField | None
    subfields: GroupedFieldSet | None


def _leaf(method: Callable[[Any], Any], return_type: GraphQLOutputType) -> _Leaf | None:
    shape = _shape(return_type)
    if not isinstance(shape.named, GraphQLScalarType | GraphQLEnumType):
        return None
    return _Leaf(
        method, shape.named.coerce_output_value, shape.non_null, shape.is_list, shape.items_non_null
    )


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


_Call = Callable[[Any, Any, Callable[[], GraphQLResolveInfo[Any]]], Any]
"""``call(source, context, raw_info)`` of :class:`_Objects` (``raw_info`` builds the
resolve info, only if the resolver asks for more than the context)."""


def _source_only(method: Callable[[Any], Any]) -> _Call:
    def call(source: Any, context: Any, raw: Callable[[], GraphQLResolveInfo[Any]]) -> Any:
        return method(source)

    return call


def _lazy_info(method: Callable[[Any, Any], Any], definition: StrawberryField) -> _Call:
    def call(source: Any, context: Any, raw: Callable[[], GraphQLResolveInfo[Any]]) -> Any:
        return method(source, _LazyInfo(context, raw, definition))

    return call


def _with_info(
    method: Callable[[Any, Info], Any], definition: StrawberryField
) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return method(source, Info(_raw_info=info, _field=definition))

    return resolve


class FastExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, completing plain fields directly (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = self.middleware_manager.middlewares if self.middleware_manager else ()
        self._fast = all(getattr(m, "field_denial_only", False) for m in middlewares)
        self._plans: dict[tuple[str, int], tuple[GroupedFieldSet, list[_Step]]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> list[_Step]:
        """How each field of ``grouped`` is completed on ``parent_type``: decided once per
        selection set and request (graphql-core memoizes a selection's field set, so its
        identity is the key; the set is kept alive with the plan so the id stays its own)."""
        key = (parent_type.name, id(grouped))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        access: Any = getattr(self.context_value, "access", None)
        checked = access is not None and access.enabled
        steps: list[_Step] = []
        for response_name, details in grouped.items():
            name = details[0].node.name.value
            field = parent_type.fields.get(name)
            resolve = field.resolve if field is not None else None
            step = _Step(response_name, details, _SLOW_STEP, None, None, None)
            if (
                field is not None
                and resolve is not None
                and all(not d.node.arguments for d in details)
                and not (checked and access.field_denial(parent_type.name, name) is not None)
            ):
                leaf = getattr(resolve, "leaf", None)
                objects = getattr(resolve, "objects", None)
                if leaf is not None:
                    step = _Step(response_name, details, _LEAF_STEP, leaf, None, None)
                elif objects is not None and not any(d.node.directives for d in details):
                    # @stream (and @skip/@include, already applied) take the full path
                    collected = self.collect_subfields(objects.object_type, details)
                    if not collected.new_defer_usages:  # @defer: incremental delivery
                        step = _Step(
                            response_name,
                            details,
                            _OBJECTS_STEP,
                            objects,
                            field,
                            collected.grouped_field_set,
                        )
            steps.append(step)
        self._plans[key] = (grouped, steps)
        return steps

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
        return self._execute_planned(
            self._plan(parent_type, grouped_field_set),
            parent_type,
            source_value,
            path,
            grouped_field_set,
            position_context,
        )

    def _execute_planned(
        self,
        plan: list[_Step],
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """:meth:`execute_fields` with the selection's plan in hand (a list's objects share
        one)."""
        # objects only outside deferred delivery groups (whose bookkeeping graphql-core keeps)
        objects_ok = position_context is None and path is not None
        fast: dict[str, Any] = {}
        pending: list[str] = []
        slow: dict[str, Any] = {}
        try:
            for step in plan:
                kind = step.kind
                value: Any = _SLOW
                if kind is _LEAF_STEP:
                    value = _complete(step.how, source_value)
                elif kind is _OBJECTS_STEP and objects_ok:
                    value = self._complete_objects(step, parent_type, source_value, path)
                    if type(value) not in _DONE and value is not _SLOW and self.is_awaitable(value):
                        pending.append(step.response_name)
                if value is _SLOW:
                    slow[step.response_name] = step.details
                else:
                    fast[step.response_name] = value
            rest: Any = (
                super().execute_fields(parent_type, source_value, path, slow, position_context)
                if slow
                else None
            )
        except Exception:
            if pending:
                self.settle_in_background([fast[n] for n in pending])
            raise
        if rest is None and not pending:
            return fast  # in the query's order already
        if not pending and not self.is_awaitable(rest):
            return _in_order(grouped_field_set, fast, rest)

        async def in_order() -> dict[str, Any]:
            waits: list[Awaitable[Any]] = [fast[n] for n in pending]
            if self.is_awaitable(rest):
                waits.append(rest)
            done = await gather_with_cancel(*waits)
            fast.update(zip(pending, done, strict=False))
            slow_done = done[-1] if self.is_awaitable(rest) else rest
            return _in_order(grouped_field_set, fast, slow_done or {})

        return in_order()

    def _complete_objects(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """The completed value of an object field, an awaitable of it, or ``_SLOW`` before
        anything was completed (graphql-core then resolves the field again)."""
        objects: _Objects = step.how
        details = step.details
        field = step.field
        assert field is not None
        field_path = Path(path, step.response_name, parent_type.name)

        def raw_info() -> GraphQLResolveInfo[Any]:
            return self.build_resolve_info(
                field, [d.node for d in details], parent_type, field_path
            )

        try:
            result = objects.call(source, self.context_value, raw_info)
        except Exception:
            return _SLOW  # graphql-core calls it again and reports the error at its path
        if type(result) not in _DONE and self.is_awaitable(result):
            # completed as graphql-core completes any awaitable
            return self.complete_awaitable_value(
                objects.field_type, details, raw_info(), field_path, result, None
            )
        if result is None:
            return _SLOW if objects.non_null else None
        object_type = objects.object_type
        test = objects.type_test
        if objects.is_list:
            if type(result) is list:
                items = result
            elif isinstance(result, str | bytes | Mapping) or not hasattr(result, "__iter__"):
                return _SLOW
            else:
                items = list(result)
            for item in items:
                if item is None:
                    if objects.items_non_null:
                        return _SLOW
                elif test is not None and not test(item):
                    return _SLOW
        elif test is not None and not test(result):
            return _SLOW
        grouped = step.subfields
        assert grouped is not None
        if not objects.is_list:
            try:
                one = self.execute_fields(object_type, result, field_path, grouped, None)
            except Exception as error:
                self.handle_field_error(error, objects.field_type, details, field_path)
                return None
            if type(one) is not dict and self.is_awaitable(one):
                return self._caught(one, objects.field_type, details, field_path)
            return one
        plan = self._plan(object_type, grouped)
        completed: list[Any] = []
        waiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = field_path.add_key(index, None)
                try:
                    value = self._execute_planned(plan, object_type, item, item_path, grouped, None)
                except Exception as error:
                    self.handle_field_error(error, objects.item_type, details, item_path)
                    value = None
                if type(value) is not dict and self.is_awaitable(value):
                    value = self._caught(value, objects.item_type, details, item_path)
                    waiting.append(index)
                completed.append(value)
        except Exception as error:
            if waiting:
                self.settle_in_background([completed[i] for i in waiting])
            self.handle_field_error(error, objects.field_type, details, field_path)
            return None
        if not waiting:
            return completed

        async def gathered() -> list[Any] | None:
            try:
                done = await gather_with_cancel(*(completed[i] for i in waiting))
            except Exception as error:
                self.handle_field_error(error, objects.field_type, details, field_path)
                return None
            for index, value in zip(waiting, done, strict=True):
                completed[index] = value
            return completed

        return gathered()

    async def _caught(
        self,
        value: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        """``value`` awaited, an error in it handled as graphql-core handles a field's."""
        try:
            return await value
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None


def _in_order(
    grouped: GroupedFieldSet, fast: dict[str, Any], slow: dict[str, Any]
) -> dict[str, Any]:
    """The fields' results in the query's order (graphql-core's answer is ordered so)."""
    return {n: fast[n] if n in fast else slow[n] for n in grouped if n in fast or n in slow}


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
                if schema.config.default_resolver is getattr and field.resolve is not None:
                    get = operator.attrgetter(definition.python_name)
                    leaf = _leaf(get, field.type)
                    if leaf is not None:
                        field.resolve.leaf = leaf
                    else:
                        field.resolve.objects = _objects(_source_only(get), field.type)
                continue
            method = resolver.wrapped_func
            if not callable(method):
                continue
            parameters = list(resolver.signature.parameters)
            info = resolver.info_parameter
            if parameters == ["self"]:
                field.resolve = _plain(method)
                field.resolve.leaf = _leaf(method, field.type)
                if field.resolve.leaf is None:
                    field.resolve.objects = _objects(_source_only(method), field.type)
            elif info is not None and parameters == ["self", info.name]:
                field.resolve = _with_info(method, definition)
                field.resolve.objects = _objects(_lazy_info(method, definition), field.type)
            else:
                continue
            changed += 1
    return changed
