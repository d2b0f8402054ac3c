"""Apollo Federation v2 subgraph mode (``server.federation.enabled``): the same schema, built
with ``strawberry.federation.Schema``, where Program, Site and Staff are entities with
``@key(fields: "id")``, plus ``_service { sdl }`` and ``_entities``.

Why the keys are added only while the federation schema is built (:func:`_keyed`): strawberry
reads a type's directives from its class, so keys declared on the classes would also print
in the plain schema (and make strawberry warn there). Each entity class carries, for the
duration of the build, a copy of its definition with the key; the federation schema keeps
those copies (its printed SDL has the keys), the classes get their own definitions back,
and a plain schema built afterwards is exactly what it was. The copies say by ``is_type_of``
which Python objects are theirs, since an object's own definition is no longer the
schema's.

``_entities`` resolves each representation through :func:`~ecehub.schema.query.one_by_id`,
the lookup ``program(id:)``, ``site(id:)`` and ``staff(id:)`` use: batched per request (one
resolve per entity type, however many representations; strawberry would call
``resolve_reference`` once per entity, strawberry#4287) and under the same access rules (a
scoped role gets NOT_FOUND for an ID outside its programs, field rules apply to the fields
of the entities returned as they do anywhere else).
"""

import dataclasses
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.federation import Schema as FederationSchema
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.types import ExecutionContext
from strawberry.types import Info as StrawberryInfo

from ecehub.schema.arguments import user_error
from ecehub.schema.common import Info
from ecehub.schema.edge import log_errors
from ecehub.schema.fastpath import info_free
from ecehub.schema.graph import Program, Site, Staff
from ecehub.schema.query import one_by_id

__all__ = ["ENTITIES", "KEY_FIELDS", "EcehubFederatedSchema", "build_federated_schema"]

KEY_FIELDS = "id"
"""The key of every entity: its ecehub global ID."""

ENTITIES: dict[str, tuple[type[Program | Site | Staff], str]] = {
    "Program": (Program, "program"),
    "Site": (Site, "site"),
    "Staff": (Staff, "staff"),
}
"""The entity types by GraphQL name: their class and canonical entity."""


def _instance_test(cls: type) -> Any:
    @info_free
    def is_type_of(obj: Any, _info: GraphQLResolveInfo[Any]) -> bool:
        return isinstance(obj, cls)

    return is_type_of


@contextmanager
def _keyed(classes: Iterable[type]) -> Iterator[None]:
    """Each class's strawberry definition carries ``@key(fields: "id")`` inside the block
    only (the module docstring says why)."""
    originals = {cls: cls.__strawberry_definition__ for cls in classes}  # type: ignore[attr-defined]
    try:
        for cls, definition in originals.items():
            cls.__strawberry_definition__ = dataclasses.replace(  # type: ignore[attr-defined]
                definition,
                directives=[*(definition.directives or ()), Key(fields=FieldSet(KEY_FIELDS))],
                is_type_of=_instance_test(cls),
            )
        yield
    finally:
        for cls, definition in originals.items():
            cls.__strawberry_definition__ = definition  # type: ignore[attr-defined]


async def _resolve(info: Info, type_name: str, global_id: str) -> Program | Site | Staff | None:
    cls, entity = ENTITIES[type_name]
    merged = await one_by_id(info, entity, type_name, global_id)
    if merged is None:
        return None
    if cls is Site:
        return Site(merged=merged, site_link=info.context.site_link_of(merged))
    return cls(merged=merged)


def _entity(info: Info, representation: object) -> Awaitable[Any] | GraphQLError:
    """The entity a representation names, or the error that refuses it (BAD_USER_INPUT). An
    overlong ID never gets here: the input guard refuses any string over
    ``server.max_input_chars``, inside ``_Any`` values too."""
    if not isinstance(representation, dict):
        return user_error("a representation must be an object with __typename and id")
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in ENTITIES:
        return user_error(
            f"a representation's __typename must be one of {', '.join(ENTITIES)}"
            f" (got {str(type_name)[:60]!r})"
        )
    global_id = representation.get(KEY_FIELDS)
    if not isinstance(global_id, str):
        return user_error(f"a {type_name} representation needs its {KEY_FIELDS} (a string)")
    return _resolve(info, type_name, global_id)


class EcehubFederatedSchema(FederationSchema):
    """strawberry's federation Schema with ecehub's error logging and its own ``_entities``
    (batched, under the access rules: module docstring)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)

    def entities_resolver(
        self, info: StrawberryInfo, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # A failed item is that item's null and error; graphql-core raises a returned error.
        return [_entity(info, r) for r in representations]  # type: ignore[misc]


def build_federated_schema(**kwargs: Any) -> EcehubFederatedSchema:
    """The federation schema of ``strawberry.federation.Schema``'s arguments, entities keyed."""
    with _keyed(cls for cls, _ in ENTITIES.values()):
        return EcehubFederatedSchema(**kwargs)
