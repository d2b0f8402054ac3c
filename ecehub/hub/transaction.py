"""One audited write transaction of the hub store, and the kinds of object it writes.

Every write goes through :class:`WriteTransaction`, so every write is validated, stamped
(who, when), versioned and audited in the same transaction as the change itself.

Optimistic concurrency is decided by the database, atomically::

    UPDATE t SET ..., version = version + 1
     WHERE id = :id AND version = :expected AND deleted_at IS NULL

One row changed: the write applies. None: the current version is read and
:class:`~ecehub.errors.VersionConflict` raised; the transaction rolls back, nothing is
overwritten. The row read before the UPDATE (for the audit's ``before``) is exactly the row
that was updated: had anyone committed in between, its version would differ and the UPDATE
would have matched nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ecehub.errors import NotFound, ValidationFailed, VersionConflict
from ecehub.hub.enums import AuditAction, ObjectType
from ecehub.hub.models import (
    ActivityRow,
    AuditRow,
    FileRow,
    FundingRow,
    GoalRow,
    IdempotencyKeyRow,
    NoteRow,
    PdPlanRow,
    QipRow,
    TaskRow,
    TrainingRow,
    new_id,
)
from ecehub.hub.records import (
    ActivityEntry,
    FileAttachment,
    FundingEntry,
    Note,
    PdPlan,
    PdTraining,
    Qip,
    QipGoal,
    QipTask,
    json_safe,
)
from ecehub.hub.validation import (
    ActivityInput,
    FileInput,
    FundingInput,
    GoalInput,
    Input,
    NoInput,
    NoteChanges,
    NoteInput,
    PdPlanInput,
    QipInput,
    TaskChanges,
    TaskInput,
    TrainingInput,
    changes_model,
    check_funding,
    check_training,
)

__all__ = [
    "ACTIVITY",
    "FILE",
    "FUNDING",
    "GOAL",
    "NOTE",
    "PD_PLAN",
    "QIP",
    "TASK",
    "TRAINING",
    "Acting",
    "Actor",
    "Kind",
    "WriteCheck",
    "WriteGuard",
    "WriteTransaction",
    "fingerprint",
    "to_record",
]

R = TypeVar("R")


def _no_check(_state: Mapping[str, Any]) -> dict[str, str]:
    return {}


def to_record(cls: type[R], row: Any) -> R:
    """The frozen record of an ORM row: same field names; lists become tuples."""
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = getattr(row, f.name)
        values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def fingerprint(operation: str, values: Mapping[str, Any]) -> str:
    """SHA-256 of a create's normalised input (its validated values and the parent it names),
    as canonical JSON: the same request gives the same fingerprint."""
    canonical = json.dumps(
        {"operation": operation, "input": json_safe(dict(values))},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Kind(Generic[R]):
    """A kind of hub object: its table, its record, its input (``fields``; ``update_fields``:
    those an update may change) and cross-field rules. ``tracked`` rows have created/updated
    stamps; others (files) have uploaded stamps only."""

    object_type: ObjectType
    row: type[Any]
    record: type[R]
    fields: type[Input] = NoInput
    update_fields: type[Input] = NoInput
    check: Callable[[Mapping[str, Any]], dict[str, str]] = _no_check
    tracked: bool = True
    soft_delete: bool = True

    @property
    def table(self) -> Table:
        table: Table = self.row.__table__
        return table

    def to_record(self, row: Any) -> R:
        return to_record(self.record, row)

    @property
    def changes(self) -> type[Input]:
        """What an update may name: ``update_fields``, and the other input fields, refused."""
        return changes_model(self.fields, self.update_fields)


QIP: Kind[Qip] = Kind(ObjectType.QIP, QipRow, Qip, QipInput, QipInput, soft_delete=False)
GOAL: Kind[QipGoal] = Kind(ObjectType.QIP_GOAL, GoalRow, QipGoal, GoalInput, GoalInput)
TASK: Kind[QipTask] = Kind(ObjectType.QIP_TASK, TaskRow, QipTask, TaskInput, TaskChanges)
PD_PLAN: Kind[PdPlan] = Kind(ObjectType.PD_PLAN, PdPlanRow, PdPlan, PdPlanInput, PdPlanInput)
TRAINING: Kind[PdTraining] = Kind(
    ObjectType.PD_TRAINING,
    TrainingRow,
    PdTraining,
    TrainingInput,
    TrainingInput,
    check=check_training,
)
NOTE: Kind[Note] = Kind(ObjectType.NOTE, NoteRow, Note, NoteInput, NoteChanges)
ACTIVITY: Kind[ActivityEntry] = Kind(
    ObjectType.ACTIVITY_ENTRY, ActivityRow, ActivityEntry, ActivityInput, ActivityInput
)
FILE: Kind[FileAttachment] = Kind(
    ObjectType.FILE_ATTACHMENT, FileRow, FileAttachment, FileInput, tracked=False
)
FUNDING: Kind[FundingEntry] = Kind(
    ObjectType.FUNDING_ENTRY,
    FundingRow,
    FundingEntry,
    FundingInput,
    FundingInput,
    check=check_funding,
)


@dataclass(frozen=True)
class WriteCheck:
    """One write about to be audited: what a :data:`WriteGuard` decides on."""

    actor: str
    action: AuditAction
    object_type: ObjectType
    program_id: str
    before: Any
    after: Any


WriteGuard = Callable[[WriteCheck], None]
"""Raises :class:`~ecehub.errors.Forbidden` for a write the actor may not make."""


@dataclass(frozen=True)
class Acting:
    """An actor whose every write is first put to ``guard`` (the access rules of their
    role), inside the write's transaction: a refused write rolls back whole."""

    name: str
    guard: WriteGuard


Actor = str | Acting
"""Who writes: a name (trusted callers: the CLI, the demo seed) or an :class:`Acting`."""


class WriteTransaction:
    """The writes of one store call, by one actor, at one instant, in one DB transaction."""

    def __init__(
        self, session: AsyncSession, actor: str, now: dt.datetime, guard: WriteGuard | None = None
    ) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.guard = guard

    async def load(self, kind: Kind[Any], object_id: str) -> Any:
        """The row as the database has it now (refreshing any copy this session holds)."""
        stmt = (
            select(kind.row)
            .where(kind.row.id == object_id)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def live(self, kind: Kind[Any], object_id: str, *, field: str | None = None) -> Any:
        """The row if it exists and is not deleted; else NotFound, or a field error on
        ``field`` when the ID came in as an input field."""
        row = await self.load(kind, object_id)
        if row is None or (kind.soft_delete and row.deleted_at is not None):
            if field is not None:
                raise ValidationFailed({field: f"no {kind.object_type.name} with this ID"})
            raise NotFound(kind.object_type.name, object_id)
        return row

    async def insert(self, kind: Kind[R], values: Mapping[str, Any]) -> R:
        return await self.created(kind, await self.add(kind, values))

    async def add(self, kind: Kind[Any], values: Mapping[str, Any]) -> str:
        """Insert a row at version 1 (not yet audited: call :meth:`created` when done)."""
        stamps: dict[str, Any]
        if kind.tracked:
            stamps = {
                "created_at": self.now,
                "created_by": self.actor,
                "updated_at": self.now,
                "updated_by": self.actor,
            }
        else:
            stamps = {"uploaded_at": self.now, "uploaded_by": self.actor}
        object_id = new_id()
        self.session.add(kind.row(id=object_id, version=1, **stamps, **values))
        await self.session.flush()
        return object_id

    async def created(self, kind: Kind[R], object_id: str) -> R:
        after = kind.to_record(await self.load(kind, object_id))
        await self.audit(kind, AuditAction.CREATE, None, after)
        return after

    async def change(
        self,
        kind: Kind[R],
        row: Any,
        expected_version: int,
        values: Mapping[str, Any],
        *,
        action: AuditAction = AuditAction.UPDATE,
    ) -> R:
        """Apply ``values`` to the loaded ``row`` if it is still at ``expected_version``,
        audit it and return the object as it is now."""
        before = await self.apply(kind, row, expected_version, values, action=action)
        return await self.changed(kind, before, action)

    async def apply(
        self,
        kind: Kind[R],
        row: Any,
        expected_version: int,
        values: Mapping[str, Any],
        *,
        action: AuditAction = AuditAction.UPDATE,
    ) -> R:
        """The guarded UPDATE (not yet audited: call :meth:`changed` when done). Returns the
        object as it was before."""
        before = kind.to_record(row)
        table = kind.table
        stamps: dict[str, Any] = {}
        if kind.tracked and action is AuditAction.UPDATE:
            stamps = {"updated_at": self.now, "updated_by": self.actor}
        stmt = (
            update(table)
            .where(table.c.id == row.id, table.c.version == expected_version)
            .values(**values, **stamps, version=table.c.version + 1)
        )
        if kind.soft_delete:
            deleted = table.c.deleted_at
            stmt = stmt.where(
                deleted.is_not(None) if action is AuditAction.RESTORE else deleted.is_(None)
            )
        connection = await self.session.connection()
        result = await connection.execute(stmt)
        if result.rowcount != 1:
            current = await connection.scalar(select(table.c.version).where(table.c.id == row.id))
            if current is None:
                raise NotFound(kind.object_type.name, row.id)
            raise VersionConflict(kind.object_type.name, row.id, int(current))
        return before

    async def changed(self, kind: Kind[R], before: Any, action: AuditAction) -> R:
        after = kind.to_record(await self.load(kind, before.id))
        await self.audit(kind, action, before, after)
        return after

    def checked(self, kind: Kind[Any], row: Any, values: Mapping[str, Any]) -> None:
        """Cross-field rules on the object as it would be after writing ``values``."""
        state = {**{c.key: getattr(row, c.key) for c in kind.table.columns}, **values}
        errors = kind.check(state)
        if errors:
            raise ValidationFailed(errors)

    async def audit(self, kind: Kind[Any], action: AuditAction, before: Any, after: Any) -> None:
        subject = after if after is not None else before
        if self.guard is not None:
            self.guard(
                WriteCheck(self.actor, action, kind.object_type, subject.program_id, before, after)
            )
        self.session.add(
            AuditRow(
                program_id=subject.program_id,
                actor=self.actor,
                at=self.now,
                action=action,
                object_type=kind.object_type,
                object_id=subject.id,
                before=None if before is None else json_safe(before),
                after=None if after is None else json_safe(after),
            )
        )
        await self.session.flush()

    # -- idempotency keys ------------------------------------------------------------------

    async def claim(self, kind: Kind[R], key: str, print_: str, keep_for: dt.timedelta) -> R | None:
        """Claim the actor's idempotency ``key`` for a create of ``kind`` whose input has the
        fingerprint ``print_``, in this transaction. ``None``: the key is new (or expired), it
        is now this transaction's, and :meth:`claimed` must name the object created. Else the
        object an earlier call with the key created (nothing is to be written). The same key
        with another input (or for another kind of object) is refused with VALIDATION_FAILED
        on ``idempotency_key``.

        Two concurrent calls with one key: the second INSERT of (actor, key) waits for the
        first transaction; once it commits, the INSERT fails on the primary key and this call
        reads the first one's row (a new statement sees the commit). On SQLite writes are
        serialised by the write lock, so the second call simply finds the row."""
        table = IdempotencyKeyRow
        await self.session.execute(
            delete(table).where(table.actor == self.actor, table.expires_at <= self.now)
        )
        stmt = (
            select(table)
            .where(table.actor == self.actor, table.key == key)
            .execution_options(populate_existing=True)
        )
        row = await self.session.scalar(stmt)
        if row is None:
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        table(
                            actor=self.actor,
                            key=key,
                            object_type=kind.object_type,
                            object_id=None,
                            fingerprint=print_,
                            created_at=self.now,
                            expires_at=self.now + keep_for,
                        )
                    )
                    await self.session.flush()
                return None
            except IntegrityError:  # a concurrent call with this key committed first
                row = await self.session.scalar(stmt)
                if row is None:  # pragma: no cover - it committed, so its row is there
                    raise
        if row.object_type != kind.object_type or row.fingerprint != print_:
            raise ValidationFailed(
                {
                    "idempotency_key": "already used for a different request: "
                    "send a new key for a new request"
                }
            )
        found = None if row.object_id is None else await self.load(kind, row.object_id)
        if found is None:  # pragma: no cover - a committed key names its object, never deleted
            raise NotFound(kind.object_type.name, str(row.object_id))
        return kind.to_record(found)

    async def claimed(self, key: str, object_id: str) -> None:
        """Name the object this transaction created under its claimed ``key``."""
        table = IdempotencyKeyRow
        await self.session.execute(
            update(table)
            .where(table.actor == self.actor, table.key == key)
            .values(object_id=object_id)
        )
