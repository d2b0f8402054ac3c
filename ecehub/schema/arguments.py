"""The GraphQL boundary every root field and mutation shares: IDs in and out, the acting
user, and hub-store, access and input errors as GraphQL errors with a ``code``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError

from ecehub.errors import Forbidden, HubStoreError, NotFound, ValidationFailed, VersionConflict
from ecehub.hub.enums import ObjectType, SubjectType
from ecehub.hub.transaction import Actor
from ecehub.ids import InvalidId, decode_global_id, encode_global_id
from ecehub.schema.common import Info
from ecehub.schema.extensions import unauthenticated

IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Your key for this create (at most 200 characters, kept 24 hours by "
        "default): a retry with it returns the object the first call created and writes "
        "nothing; the same key with other input is refused with VALIDATION_FAILED"
    ),
]
"""A create's optional ``idempotencyKey`` argument."""

Period = Annotated[
    str | None,
    strawberry.argument(
        description="A reporting period, as in Program.periods (e.g. 2023 or 2022-2023); "
        "null: each program's latest per source"
    ),
]
"""The optional ``period`` argument of the fields that show one reporting period."""

__all__ = [
    "SUBJECT_TYPE_NAMES",
    "IdempotencyKey",
    "Period",
    "acting_user",
    "call_store",
    "decode_id",
    "forbidden",
    "global_id",
    "not_found",
    "program_hub_id",
    "sector_ids",
    "store_error",
    "subject_hub_id",
    "user_error",
    "write_right",
]

T = TypeVar("T")

SUBJECT_TYPE_NAMES = {
    SubjectType.PROGRAM: "Program",
    SubjectType.SITE: "Site",
    SubjectType.ROOM: "Room",
    SubjectType.STAFF: "Staff",
    SubjectType.GOAL: "QipGoal",
    SubjectType.TASK: "QipTask",
}
"""The GraphQL type whose ID names a note's or file's subject."""

SECTOR_ENTITIES = {"Site": "site", "Room": "room", "Staff": "staff"}
"""The sector objects a write may name, by GraphQL type: each must be its program's."""


def global_id(type_name: str, hub_id: str) -> strawberry.ID:
    """The ID a client sees for the ``type_name`` object with this hub ID."""
    return strawberry.ID(encode_global_id(type_name, hub_id))


def user_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "NOT_FOUND"})


def forbidden(exc: Forbidden) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": "FORBIDDEN"})


def store_error(exc: HubStoreError) -> GraphQLError:
    """A hub-store error with its code and what the client needs to act on it (the fields
    that failed, the current version, the object type)."""
    extensions: dict[str, Any] = {"code": exc.code}
    if isinstance(exc, ValidationFailed):
        extensions["fields"] = exc.field_errors
    if isinstance(exc, VersionConflict):
        extensions["currentVersion"] = exc.current_version
    if isinstance(exc, VersionConflict | NotFound):
        extensions["objectType"] = exc.object_type
    return GraphQLError(exc.message, extensions=extensions)


async def acting_user(info: Info) -> Actor:
    """The acting user, carrying the request's write rules (checked by the store inside each
    write's transaction: a refused write is FORBIDDEN and changes nothing)."""
    if info.context.actor is None:
        raise unauthenticated()
    return await info.context.acting()


def decode_id(given: str, type_name: str, field: str = "id") -> str:
    """The hub ID in a ``type_name`` ID an argument gave; BAD_USER_INPUT naming ``field``."""
    try:
        return decode_global_id(given, type_name)
    except InvalidId as exc:
        raise GraphQLError(
            str(exc), extensions={"code": "BAD_USER_INPUT", "field": field}
        ) from None


async def call_store(call: Callable[[], Awaitable[T]]) -> T:
    """``call()``, its hub-store errors as GraphQL errors."""
    try:
        return await call()
    except HubStoreError as exc:
        raise store_error(exc) from None


async def program_hub_id(info: Info, given: str) -> str:
    """The canonical hub ID of a program this request sees; NOT_FOUND otherwise (the same
    for a program outside a scoped role's programs as for one no source knows)."""
    hub_id = decode_id(given, "Program", "programId")
    found = await call_store(lambda: info.context.program(hub_id))
    if found is None:
        raise not_found(f"no program {given!r} among the programs this request sees")
    return found.hub_id


async def write_right(info: Info, object_type: ObjectType, program_id: str | None = None) -> None:
    """FORBIDDEN (audited) unless the acting user's role may write ``object_type`` at all
    (and, given ``program_id``, in that program): asked before a write's input is looked at,
    so a caller without the right learns nothing about it. The store checks the write itself
    again, whole, in its transaction."""
    await call_store(lambda: info.context.check_write_right(object_type, program_id))


async def sector_ids(
    info: Info, program: str, type_name: str, hub_ids: Sequence[str], field: str
) -> list[str]:
    """The canonical hub IDs of the sites, rooms or staff (``type_name``) a write for the
    program ``program`` names in its input ``field``, each checked to belong to that program
    (:meth:`~ecehub.resolvers.context.RequestContext.check_in_program`): VALIDATION_FAILED on
    ``field`` for one unknown, one of another program, or one outside the request's scope
    (answered as unknown; the refusal audited); nothing is written."""
    entity = SECTOR_ENTITIES[type_name]
    return await call_store(lambda: info.context.check_in_program(entity, hub_ids, program, field))


async def subject_hub_id(info: Info, program: str, subject: SubjectType, given: str) -> str:
    """The hub ID a note or file of ``program`` about ``given`` (a ``subject`` ID) is stored
    under: the program's canonical ID; a site's, room's or staff member's canonical ID once it
    is known to be the program's (:func:`sector_ids`); a QIP goal's or task's ID as given (the
    hub store checks it is the program's)."""
    type_name = SUBJECT_TYPE_NAMES[subject]
    hub_id = decode_id(given, type_name, "subjectId")
    if subject is SubjectType.PROGRAM:
        # The subject may be any ID of the program; store its canonical one.
        return await program_hub_id(info, given)
    if type_name in SECTOR_ENTITIES:
        [found] = await sector_ids(info, program, type_name, [hub_id], "subject_id")
        return found
    return hub_id
