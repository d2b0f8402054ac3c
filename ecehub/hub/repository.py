"""The plumbing the hub store's repositories share: engine and sessions, input rules, batched
reads and the generic audited update / soft delete / restore.

Reads run in plain sessions; writes in sessions whose transactions begin with the write lock on
SQLite (see :mod:`ecehub.hub.engine`) and go through one
:class:`~ecehub.hub.transaction.WriteTransaction` each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ecehub.errors import NotFound, ValidationFailed
from ecehub.hub.engine import WRITE_OPTION, create_hub_engine
from ecehub.hub.enums import AuditAction
from ecehub.hub.models import HUB_ID_LENGTH, IDEMPOTENCY_KEY_LENGTH
from ecehub.hub.transaction import Acting, Actor, Kind, WriteTransaction, fingerprint
from ecehub.hub.validation import Rules, validate

__all__ = ["DEFAULT_IDEMPOTENCY_WINDOW", "Repository", "idempotency_key", "required_name"]

R = TypeVar("R")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


C = TypeVar("C", bound=_Identified)

DEFAULT_IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)

_CHUNK = 1000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _chunks(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def required_name(value: str, field: str) -> str:
    """A program ID or actor name: required, at most 200 characters, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({field: "required"})
    if len(value.strip()) > HUB_ID_LENGTH:
        raise ValidationFailed({field: f"must be at most {HUB_ID_LENGTH} characters"})
    return value.strip()


def idempotency_key(value: str | None) -> str | None:
    """A create's idempotency key: none, or 1 to 200 characters (kept as given)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({"idempotency_key": "must not be empty"})
    if len(value) > IDEMPOTENCY_KEY_LENGTH:
        raise ValidationFailed(
            {"idempotency_key": f"must be at most {IDEMPOTENCY_KEY_LENGTH} characters"}
        )
    return value


class Repository:
    """Base of the hub store's repositories (see :class:`ecehub.hub.store.HubStore`)."""

    def __init__(
        self,
        url: str,
        *,
        support_types: Iterable[str] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        **engine_options: Any,
    ) -> None:
        self.engine: AsyncEngine = create_hub_engine(url, **engine_options)
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writes = async_sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        codes = None if support_types is None else frozenset(support_types)
        self.rules = Rules(support_types=codes)
        self._clock = clock
        self.idempotency_window = DEFAULT_IDEMPOTENCY_WINDOW
        """How long a create's idempotency key is kept (a retry within it gets the object)."""

    @classmethod
    def beside(cls: type[Self], other: Repository) -> Self:
        """A repository of this kind on ``other``'s engine, sessions, input rules and clock
        (one connection pool); closing either closes the engine."""
        repository = cls.__new__(cls)
        repository.engine, repository.rules, repository._clock = (
            other.engine,
            other.rules,
            other._clock,
        )
        repository._reads, repository._writes = other._reads, other._writes
        repository.idempotency_window = other.idempotency_window
        return repository

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- sessions ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def _writing(self, actor: Actor) -> AsyncIterator[WriteTransaction]:
        guard = actor.guard if isinstance(actor, Acting) else None
        name = required_name(actor.name if isinstance(actor, Acting) else actor, "actor")
        async with self._writes() as session, session.begin():
            yield WriteTransaction(session, name, self._clock(), guard)

    # -- generic reads and writes ----------------------------------------------------------------

    async def _get(self, kind: Kind[R], object_id: str, include_deleted: bool) -> R | None:
        async with self._reading() as session:
            row = await session.get(kind.row, object_id)
            hidden = kind.soft_delete and not include_deleted and row is not None
            if row is None or (hidden and row.deleted_at is not None):
                return None
            return kind.to_record(row)

    async def _grouped(
        self,
        kind: Kind[R],
        key: Any,
        keys: Iterable[str],
        *,
        include_deleted: bool,
        order_by: Sequence[Any],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> dict[str, list[R]]:
        wanted = list(dict.fromkeys(keys))
        out: dict[str, list[R]] = {k: [] for k in wanted}
        if not wanted:
            return out
        async with self._reading() as session:
            for chunk in _chunks(wanted):
                stmt = select(kind.row).where(key.in_(chunk), *where).order_by(*order_by)
                if kind.soft_delete and not include_deleted:
                    stmt = stmt.where(kind.row.deleted_at.is_(None))
                for row in await session.scalars(stmt):
                    out[getattr(row, key.key)].append(kind.to_record(row))
        return out

    async def _create(
        self,
        kind: Kind[C],
        actor: Actor,
        key: str | None,
        request: Mapping[str, Any],
        make: Callable[[WriteTransaction], Awaitable[C]],
    ) -> C:
        """One create in one transaction: ``make`` writes it. With an idempotency ``key`` the
        key is claimed first, in the same transaction, for the fingerprint of ``request``
        (the validated input and the parent it names): a key already used by this actor
        returns the object that call created and writes nothing (see
        :meth:`WriteTransaction.claim`)."""
        key = idempotency_key(key)
        async with self._writing(actor) as tx:
            if key is None:
                return await make(tx)
            print_ = fingerprint(kind.object_type.name, request)
            done = await tx.claim(kind, key, print_, self.idempotency_window)
            if done is not None:
                return done
            made = await make(tx)
            await tx.claimed(key, made.id)
            return made

    def _input(self, kind: Kind[Any], data: Mapping[str, Any]) -> dict[str, Any]:
        values = validate(kind.fields, data, self.rules, partial=False)
        errors = kind.check(values)
        if errors:
            raise ValidationFailed(errors)
        return values

    def _changes(self, kind: Kind[Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        if not changes:
            raise ValidationFailed({"changes": "give at least one field to change"})
        return validate(kind.changes, changes, self.rules, partial=True)

    async def _update(
        self, kind: Kind[R], actor: Actor, object_id: str, version: int, changes: Mapping[str, Any]
    ) -> R:
        values = self._changes(kind, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(kind, object_id)
            tx.checked(kind, row, values)
            return await tx.change(kind, row, version, values)

    async def _delete(self, kind: Kind[R], actor: Actor, object_id: str, version: int) -> R:
        async with self._writing(actor) as tx:
            row = await tx.live(kind, object_id)
            values = {"deleted_at": tx.now, "deleted_by": tx.actor}
            return await tx.change(kind, row, version, values, action=AuditAction.DELETE)

    async def _restore(self, kind: Kind[R], actor: Actor, object_id: str, version: int) -> R:
        async with self._writing(actor) as tx:
            row = await tx.load(kind, object_id)
            if row is None:
                raise NotFound(kind.object_type.name, object_id)
            if row.deleted_at is None:
                raise ValidationFailed({"id": f"{kind.object_type.name} is not deleted"})
            values = {"deleted_at": None, "deleted_by": None}
            return await tx.change(kind, row, version, values, action=AuditAction.RESTORE)
