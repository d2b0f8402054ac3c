"""The hub store's repository: what the GraphQL layer reads and writes.

:class:`HubStore` is built from a URL (or a config) and returns frozen records
(:mod:`ecehub.hub.records`), never ORM rows. Conventions of every method:

- writes take the acting user's name first (``actor``), validate their input (raising
  :class:`~ecehub.errors.ValidationFailed` with one message per field), and write an audit
  entry in the same transaction;
- updates, deletes and restores take the ``version`` the client read; a stale one raises
  :class:`~ecehub.errors.VersionConflict` with the current version and changes nothing;
- deletes are soft: reads hide deleted objects unless ``include_deleted=True``, and
  ``restore_*`` brings them back;
- batched reads (``*_for_*``) take many parent IDs and make one query (one per 1,000 IDs),
  returning a dict with an entry, possibly empty, for every ID asked: made for DataLoaders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ecehub.config.model import Config
from ecehub.errors import NotFound, ValidationFailed
from ecehub.hub.engine import WRITE_OPTION, create_hub_engine, hub_url
from ecehub.hub.enums import (
    ActivityKind,
    AuditAction,
    FundingPurpose,
    NoteVisibility,
    ObjectType,
    SubjectType,
)
from ecehub.hub.models import (
    HUB_ID_LENGTH,
    ActivityRow,
    AuditRow,
    FileRow,
    FundingRow,
    GoalRow,
    NoteRow,
    PdPlanGoalRow,
    PdPlanRow,
    QipRow,
    TaskRow,
    TrainingRow,
)
from ecehub.hub.records import (
    ActivityEntry,
    AuditEntry,
    AuditPage,
    FileAttachment,
    FundingEntry,
    Note,
    PdPlan,
    PdTraining,
    Qip,
    QipGoal,
    QipTask,
    decode_cursor,
)
from ecehub.hub.transaction import (
    ACTIVITY,
    FILE,
    FUNDING,
    GOAL,
    NOTE,
    PD_PLAN,
    QIP,
    TASK,
    TRAINING,
    Kind,
    WriteTransaction,
    to_record,
)
from ecehub.hub.validation import Rules, validate

__all__ = ["DEFAULT_QIP_TITLE", "MAX_AUDIT_PAGE", "HubStore"]

R = TypeVar("R")

DEFAULT_QIP_TITLE = "Quality Improvement Plan"
MAX_AUDIT_PAGE = 500
_CHUNK = 1000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _chunks(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _name(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({field: "required"})
    if len(value.strip()) > HUB_ID_LENGTH:
        raise ValidationFailed({field: f"must be at most {HUB_ID_LENGTH} characters"})
    return value.strip()


class HubStore:
    """Repository over the hub store database at ``url`` (async SQLAlchemy).

    ``support_types`` are the codes inputs may use (the config's ``support_types``); ``None``
    accepts any UPPER_SNAKE code. ``clock`` gives the time writes are stamped with.
    Create it once per process; close it with :meth:`aclose` (or ``async with``).
    """

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

    @classmethod
    def from_config(cls, config: Config, **engine_options: Any) -> HubStore:
        """The store at the config's ``hub.url``, accepting the config's support types."""
        codes = [s.code for s in config.support_types]
        return cls(hub_url(config), support_types=codes, **engine_options)

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> HubStore:
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
    async def _writing(self, actor: str) -> AsyncIterator[WriteTransaction]:
        actor = _name(actor, "actor")
        async with self._writes() as session, session.begin():
            yield WriteTransaction(session, actor, self._clock())

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

    def _input(self, kind: Kind[Any], data: Mapping[str, Any]) -> dict[str, Any]:
        values = validate(kind.fields, data, self.rules, partial=False)
        errors = kind.check(values)
        if errors:
            raise ValidationFailed(errors)
        return values

    def _changes(self, kind: Kind[Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        if not changes:
            raise ValidationFailed({"changes": "give at least one field to change"})
        return validate(kind.update_fields, changes, self.rules, partial=True)

    async def _update(
        self, kind: Kind[R], actor: str, object_id: str, version: int, changes: Mapping[str, Any]
    ) -> R:
        values = self._changes(kind, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(kind, object_id)
            tx.checked(kind, row, values)
            return await tx.change(kind, row, version, values)

    async def _delete(self, kind: Kind[R], actor: str, object_id: str, version: int) -> R:
        async with self._writing(actor) as tx:
            row = await tx.live(kind, object_id)
            values = {"deleted_at": tx.now, "deleted_by": tx.actor}
            return await tx.change(kind, row, version, values, action=AuditAction.DELETE)

    async def _restore(self, kind: Kind[R], actor: str, object_id: str, version: int) -> R:
        async with self._writing(actor) as tx:
            row = await tx.load(kind, object_id)
            if row is None:
                raise NotFound(kind.object_type.name, object_id)
            if row.deleted_at is None:
                raise ValidationFailed({"id": f"{kind.object_type.name} is not deleted"})
            values = {"deleted_at": None, "deleted_by": None}
            return await tx.change(kind, row, version, values, action=AuditAction.RESTORE)

    # -- QIP -------------------------------------------------------------------------------------

    async def _ensure_qip(self, tx: WriteTransaction, program_id: str) -> Qip:
        by_program = select(QipRow).where(QipRow.program_id == program_id)
        row = await tx.session.scalar(by_program)
        if row is not None:
            return QIP.to_record(row)
        try:
            async with tx.session.begin_nested():
                values = {"program_id": program_id, "title": DEFAULT_QIP_TITLE}
                qip_id = await tx.add(QIP, values)
        except IntegrityError:  # another writer created it first: theirs is the plan
            row = await tx.session.scalar(by_program.execution_options(populate_existing=True))
            assert row is not None
            return QIP.to_record(row)
        return await tx.created(QIP, qip_id)

    async def get_or_create_qip(self, actor: str, program_id: str) -> Qip:
        program_id = _name(program_id, "program_id")
        async with self._writing(actor) as tx:
            return await self._ensure_qip(tx, program_id)

    async def get_qip(self, qip_id: str) -> Qip | None:
        return await self._get(QIP, qip_id, include_deleted=True)

    async def qip_for_programs(self, program_ids: Iterable[str]) -> dict[str, Qip | None]:
        """The QIP of each program (``None`` where a program has none yet)."""
        grouped = await self._grouped(
            QIP, QipRow.program_id, program_ids, include_deleted=True, order_by=[QipRow.id]
        )
        return {program: (rows[0] if rows else None) for program, rows in grouped.items()}

    async def update_qip(
        self, actor: str, qip_id: str, version: int, changes: Mapping[str, Any]
    ) -> Qip:
        values = self._changes(QIP, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(QIP, qip_id)
            return await tx.change(QIP, row, version, values)

    # -- goals -----------------------------------------------------------------------------------

    async def create_goal(self, actor: str, program_id: str, data: Mapping[str, Any]) -> QipGoal:
        """A goal in the program's QIP (created on first use). Without a ``position`` the goal
        goes after the last one."""
        program_id = _name(program_id, "program_id")
        values = self._input(GOAL, data)
        async with self._writing(actor) as tx:
            qip = await self._ensure_qip(tx, program_id)
            if values["position"] is None:
                last = select(func.max(GoalRow.position)).where(GoalRow.qip_id == qip.id)
                highest = await tx.session.scalar(last)
                values["position"] = 0 if highest is None else highest + 1
            return await tx.insert(GOAL, {**values, "qip_id": qip.id, "program_id": program_id})

    async def get_goal(self, goal_id: str, *, include_deleted: bool = False) -> QipGoal | None:
        return await self._get(GOAL, goal_id, include_deleted)

    async def goals_for_qips(
        self, qip_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[QipGoal]]:
        order = [GoalRow.position, GoalRow.created_at, GoalRow.id]
        return await self._grouped(
            GOAL, GoalRow.qip_id, qip_ids, include_deleted=include_deleted, order_by=order
        )

    async def update_goal(
        self, actor: str, goal_id: str, version: int, changes: Mapping[str, Any]
    ) -> QipGoal:
        return await self._update(GOAL, actor, goal_id, version, changes)

    async def delete_goal(self, actor: str, goal_id: str, version: int) -> QipGoal:
        """Soft delete; the goal's tasks stay but are hidden with it from ``tasks_for_programs``."""
        return await self._delete(GOAL, actor, goal_id, version)

    async def restore_goal(self, actor: str, goal_id: str, version: int) -> QipGoal:
        return await self._restore(GOAL, actor, goal_id, version)

    # -- tasks -----------------------------------------------------------------------------------

    async def create_task(self, actor: str, goal_id: str, data: Mapping[str, Any]) -> QipTask:
        values = self._input(TASK, data)
        async with self._writing(actor) as tx:
            goal = await tx.live(GOAL, goal_id)
            row = {**values, "goal_id": goal.id, "program_id": goal.program_id}
            return await tx.insert(TASK, row)

    async def get_task(self, task_id: str, *, include_deleted: bool = False) -> QipTask | None:
        return await self._get(TASK, task_id, include_deleted)

    async def tasks_for_goals(
        self, goal_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[QipTask]]:
        order = [TaskRow.created_at, TaskRow.id]
        return await self._grouped(
            TASK, TaskRow.goal_id, goal_ids, include_deleted=include_deleted, order_by=order
        )

    async def tasks_for_programs(self, program_ids: Iterable[str]) -> dict[str, list[QipTask]]:
        """The live tasks of each program's live goals (for support summaries)."""
        live_goals = select(GoalRow.id).where(GoalRow.deleted_at.is_(None))
        return await self._grouped(
            TASK,
            TaskRow.program_id,
            program_ids,
            include_deleted=False,
            order_by=[TaskRow.created_at, TaskRow.id],
            where=[TaskRow.goal_id.in_(live_goals)],
        )

    async def update_task(
        self, actor: str, task_id: str, version: int, changes: Mapping[str, Any]
    ) -> QipTask:
        """``changes`` may hold ``goal_id`` to move the task to another goal of the same QIP."""
        values = self._changes(TASK, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(TASK, task_id)
            if "goal_id" in values:
                goal = await tx.live(GOAL, values["goal_id"], field="goal_id")
                if goal.program_id != row.program_id:
                    raise ValidationFailed({"goal_id": "must be a goal of the same QIP"})
            tx.checked(TASK, row, values)
            return await tx.change(TASK, row, version, values)

    async def delete_task(self, actor: str, task_id: str, version: int) -> QipTask:
        return await self._delete(TASK, actor, task_id, version)

    async def restore_task(self, actor: str, task_id: str, version: int) -> QipTask:
        return await self._restore(TASK, actor, task_id, version)

    # -- professional-development plans and trainings --------------------------------------------

    async def _check_goals(
        self, tx: WriteTransaction, program_id: str, goal_ids: list[str]
    ) -> None:
        if not goal_ids:
            return
        found = set(
            await tx.session.scalars(
                select(GoalRow.id).where(
                    GoalRow.id.in_(goal_ids),
                    GoalRow.program_id == program_id,
                    GoalRow.deleted_at.is_(None),
                )
            )
        )
        missing = [g for g in goal_ids if g not in found]
        if missing:
            raise ValidationFailed({"goal_ids": f"not goals of this QIP: {', '.join(missing)}"})

    async def _link_goals(self, tx: WriteTransaction, plan_id: str, goal_ids: list[str]) -> None:
        await tx.session.execute(delete(PdPlanGoalRow).where(PdPlanGoalRow.pd_plan_id == plan_id))
        if goal_ids:
            await tx.session.execute(
                insert(PdPlanGoalRow), [{"pd_plan_id": plan_id, "goal_id": g} for g in goal_ids]
            )

    async def create_pd_plan(self, actor: str, program_id: str, data: Mapping[str, Any]) -> PdPlan:
        """A PD plan for one staff member (``staff_id``, a hub ID), linked to QIP goals by
        ``goal_ids``."""
        program_id = _name(program_id, "program_id")
        values = self._input(PD_PLAN, data)
        goal_ids: list[str] = values.pop("goal_ids")
        async with self._writing(actor) as tx:
            qip = await self._ensure_qip(tx, program_id)
            await self._check_goals(tx, program_id, goal_ids)
            plan_id = await tx.add(PD_PLAN, {**values, "qip_id": qip.id, "program_id": program_id})
            await self._link_goals(tx, plan_id, goal_ids)
            return await tx.created(PD_PLAN, plan_id)

    async def get_pd_plan(self, plan_id: str, *, include_deleted: bool = False) -> PdPlan | None:
        return await self._get(PD_PLAN, plan_id, include_deleted)

    async def pd_plans_for_qips(
        self, qip_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdPlan]]:
        order = [PdPlanRow.created_at, PdPlanRow.id]
        return await self._grouped(
            PD_PLAN, PdPlanRow.qip_id, qip_ids, include_deleted=include_deleted, order_by=order
        )

    async def pd_plans_for_staff(
        self, staff_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdPlan]]:
        order = [PdPlanRow.created_at, PdPlanRow.id]
        return await self._grouped(
            PD_PLAN, PdPlanRow.staff_id, staff_ids, include_deleted=include_deleted, order_by=order
        )

    async def update_pd_plan(
        self, actor: str, plan_id: str, version: int, changes: Mapping[str, Any]
    ) -> PdPlan:
        """``goal_ids`` in ``changes`` replaces the plan's goal links."""
        values = self._changes(PD_PLAN, changes)
        goal_ids: list[str] | None = values.pop("goal_ids", None)
        async with self._writing(actor) as tx:
            row = await tx.live(PD_PLAN, plan_id)
            if goal_ids is not None:
                await self._check_goals(tx, row.program_id, goal_ids)
            before = await tx.apply(PD_PLAN, row, version, values)
            if goal_ids is not None:
                await self._link_goals(tx, plan_id, goal_ids)
            return await tx.changed(PD_PLAN, before, AuditAction.UPDATE)

    async def delete_pd_plan(self, actor: str, plan_id: str, version: int) -> PdPlan:
        return await self._delete(PD_PLAN, actor, plan_id, version)

    async def restore_pd_plan(self, actor: str, plan_id: str, version: int) -> PdPlan:
        return await self._restore(PD_PLAN, actor, plan_id, version)

    async def create_training(
        self, actor: str, pd_plan_id: str, data: Mapping[str, Any]
    ) -> PdTraining:
        values = self._input(TRAINING, data)
        async with self._writing(actor) as tx:
            plan = await tx.live(PD_PLAN, pd_plan_id)
            row = {**values, "pd_plan_id": plan.id, "program_id": plan.program_id}
            return await tx.insert(TRAINING, row)

    async def get_training(
        self, training_id: str, *, include_deleted: bool = False
    ) -> PdTraining | None:
        return await self._get(TRAINING, training_id, include_deleted)

    async def trainings_for_pd_plans(
        self, plan_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdTraining]]:
        order = [TrainingRow.created_at, TrainingRow.id]
        return await self._grouped(
            TRAINING,
            TrainingRow.pd_plan_id,
            plan_ids,
            include_deleted=include_deleted,
            order_by=order,
        )

    async def update_training(
        self, actor: str, training_id: str, version: int, changes: Mapping[str, Any]
    ) -> PdTraining:
        return await self._update(TRAINING, actor, training_id, version, changes)

    async def delete_training(self, actor: str, training_id: str, version: int) -> PdTraining:
        return await self._delete(TRAINING, actor, training_id, version)

    async def restore_training(self, actor: str, training_id: str, version: int) -> PdTraining:
        return await self._restore(TRAINING, actor, training_id, version)

    # -- notes -----------------------------------------------------------------------------------

    async def _check_subject(
        self, tx: WriteTransaction, program_id: str, subject_type: SubjectType, subject_id: str
    ) -> None:
        """A note or file about a goal or task must name one of the program's; about the
        program, the program itself. Sites, rooms and staff are sector data: not checked here."""
        if subject_type is SubjectType.PROGRAM and subject_id != program_id:
            raise ValidationFailed({"subject_id": "must be the program's own ID"})
        kinds: dict[SubjectType, Kind[Any]] = {SubjectType.GOAL: GOAL, SubjectType.TASK: TASK}
        kind = kinds.get(subject_type)
        if kind is not None:
            row = await tx.live(kind, subject_id, field="subject_id")
            if row.program_id != program_id:
                raise ValidationFailed({"subject_id": "belongs to another program"})

    async def create_note(self, actor: str, program_id: str, data: Mapping[str, Any]) -> Note:
        """A note by ``actor`` (its author) on the program or one of its sites, rooms, staff,
        goals or tasks."""
        program_id = _name(program_id, "program_id")
        values = self._input(NOTE, data)
        async with self._writing(actor) as tx:
            await self._check_subject(tx, program_id, values["subject_type"], values["subject_id"])
            row = {**values, "program_id": program_id, "author": tx.actor}
            return await tx.insert(NOTE, row)

    async def get_note(self, note_id: str, *, include_deleted: bool = False) -> Note | None:
        return await self._get(NOTE, note_id, include_deleted)

    def _visible(self, viewer: str | None) -> list[ColumnElement[bool]]:
        if viewer is None:
            return []
        return [or_(NoteRow.visibility != NoteVisibility.PRIVATE, NoteRow.author == viewer)]

    async def notes_for(
        self,
        subject_type: SubjectType,
        subject_ids: Iterable[str],
        *,
        viewer: str | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[Note]]:
        """Notes on each subject, newest first. With a ``viewer``, other authors' PRIVATE
        notes are left out (TEAM/PROGRAM visibility is for the auth layer to apply)."""
        return await self._grouped(
            NOTE,
            NoteRow.subject_id,
            subject_ids,
            include_deleted=include_deleted,
            order_by=[NoteRow.created_at.desc(), NoteRow.id.desc()],
            where=[NoteRow.subject_type == subject_type, *self._visible(viewer)],
        )

    async def notes_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        viewer: str | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[Note]]:
        """Every note of each program, on any subject, newest first."""
        return await self._grouped(
            NOTE,
            NoteRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[NoteRow.created_at.desc(), NoteRow.id.desc()],
            where=self._visible(viewer),
        )

    async def update_note(
        self, actor: str, note_id: str, version: int, changes: Mapping[str, Any]
    ) -> Note:
        """``body``, ``visibility`` and ``support_type`` can change; the subject cannot."""
        return await self._update(NOTE, actor, note_id, version, changes)

    async def delete_note(self, actor: str, note_id: str, version: int) -> Note:
        return await self._delete(NOTE, actor, note_id, version)

    async def restore_note(self, actor: str, note_id: str, version: int) -> Note:
        return await self._restore(NOTE, actor, note_id, version)

    # -- activity log ----------------------------------------------------------------------------

    async def create_activity(
        self, actor: str, program_id: str, data: Mapping[str, Any]
    ) -> ActivityEntry:
        """An activity-log entry by ``actor`` (its author)."""
        program_id = _name(program_id, "program_id")
        values = self._input(ACTIVITY, data)
        async with self._writing(actor) as tx:
            row = {**values, "program_id": program_id, "author": tx.actor}
            return await tx.insert(ACTIVITY, row)

    async def get_activity(
        self, entry_id: str, *, include_deleted: bool = False
    ) -> ActivityEntry | None:
        return await self._get(ACTIVITY, entry_id, include_deleted)

    async def activity_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        kinds: Collection[ActivityKind] | None = None,
        support_types: Collection[str] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[ActivityEntry]]:
        """Each program's activity, newest first; ``since`` inclusive, ``until`` exclusive."""
        where: list[ColumnElement[bool]] = []
        if kinds is not None:
            where.append(ActivityRow.kind.in_(list(kinds)))
        if support_types is not None:
            where.append(ActivityRow.support_type.in_(list(support_types)))
        if since is not None:
            where.append(ActivityRow.occurred_at >= since)
        if until is not None:
            where.append(ActivityRow.occurred_at < until)
        return await self._grouped(
            ACTIVITY,
            ActivityRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[ActivityRow.occurred_at.desc(), ActivityRow.id.desc()],
            where=where,
        )

    async def update_activity(
        self, actor: str, entry_id: str, version: int, changes: Mapping[str, Any]
    ) -> ActivityEntry:
        return await self._update(ACTIVITY, actor, entry_id, version, changes)

    async def delete_activity(self, actor: str, entry_id: str, version: int) -> ActivityEntry:
        return await self._delete(ACTIVITY, actor, entry_id, version)

    async def restore_activity(self, actor: str, entry_id: str, version: int) -> ActivityEntry:
        return await self._restore(ACTIVITY, actor, entry_id, version)

    # -- funding ---------------------------------------------------------------------------------

    async def _check_task(self, tx: WriteTransaction, program_id: str, task_id: str) -> None:
        task = await tx.live(TASK, task_id, field="qip_task_id")
        if task.program_id != program_id:
            raise ValidationFailed({"qip_task_id": "is a task of another program"})

    async def create_funding(
        self, actor: str, program_id: str, data: Mapping[str, Any]
    ) -> FundingEntry:
        """A hub funding entry: ``amount`` (> 0, at most 2 decimals) over a period, for a
        purpose, by support type; optionally for one of the program's QIP tasks."""
        program_id = _name(program_id, "program_id")
        values = self._input(FUNDING, data)
        async with self._writing(actor) as tx:
            if values["qip_task_id"] is not None:
                await self._check_task(tx, program_id, values["qip_task_id"])
            return await tx.insert(FUNDING, {**values, "program_id": program_id})

    async def get_funding(
        self, entry_id: str, *, include_deleted: bool = False
    ) -> FundingEntry | None:
        return await self._get(FUNDING, entry_id, include_deleted)

    async def funding_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        support_types: Collection[str] | None = None,
        purposes: Collection[FundingPurpose] | None = None,
        period_from: dt.date | None = None,
        period_to: dt.date | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[FundingEntry]]:
        """Each program's funding entries, by period start. A period filter keeps entries whose
        period overlaps ``[period_from, period_to]`` (both inclusive). Sum the amounts in
        Python (``sum(..., Decimal(0))``): exact on every backend."""
        where: list[ColumnElement[bool]] = []
        if support_types is not None:
            where.append(FundingRow.support_type.in_(list(support_types)))
        if purposes is not None:
            where.append(FundingRow.purpose.in_(list(purposes)))
        if period_from is not None:
            where.append(FundingRow.period_end >= period_from)
        if period_to is not None:
            where.append(FundingRow.period_start <= period_to)
        return await self._grouped(
            FUNDING,
            FundingRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[FundingRow.period_start, FundingRow.created_at, FundingRow.id],
            where=where,
        )

    async def funding_for_tasks(
        self, task_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[FundingEntry]]:
        return await self._grouped(
            FUNDING,
            FundingRow.qip_task_id,
            task_ids,
            include_deleted=include_deleted,
            order_by=[FundingRow.period_start, FundingRow.created_at, FundingRow.id],
        )

    async def update_funding(
        self, actor: str, entry_id: str, version: int, changes: Mapping[str, Any]
    ) -> FundingEntry:
        values = self._changes(FUNDING, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(FUNDING, entry_id)
            if values.get("qip_task_id") is not None:
                await self._check_task(tx, row.program_id, values["qip_task_id"])
            tx.checked(FUNDING, row, values)
            return await tx.change(FUNDING, row, version, values)

    async def delete_funding(self, actor: str, entry_id: str, version: int) -> FundingEntry:
        return await self._delete(FUNDING, actor, entry_id, version)

    async def restore_funding(self, actor: str, entry_id: str, version: int) -> FundingEntry:
        return await self._restore(FUNDING, actor, entry_id, version)

    # -- file attachments (metadata; the bytes are the file storage's) ---------------------------

    async def create_file(
        self, actor: str, program_id: str, data: Mapping[str, Any]
    ) -> FileAttachment:
        """Record an uploaded file (after its bytes are stored under ``storage_key``)."""
        program_id = _name(program_id, "program_id")
        values = self._input(FILE, data)
        async with self._writing(actor) as tx:
            await self._check_subject(tx, program_id, values["subject_type"], values["subject_id"])
            return await tx.insert(FILE, {**values, "program_id": program_id})

    async def get_file(
        self, file_id: str, *, include_deleted: bool = False
    ) -> FileAttachment | None:
        return await self._get(FILE, file_id, include_deleted)

    async def files_for(
        self,
        subject_type: SubjectType,
        subject_ids: Iterable[str],
        *,
        include_deleted: bool = False,
    ) -> dict[str, list[FileAttachment]]:
        return await self._grouped(
            FILE,
            FileRow.subject_id,
            subject_ids,
            include_deleted=include_deleted,
            order_by=[FileRow.uploaded_at.desc(), FileRow.id.desc()],
            where=[FileRow.subject_type == subject_type],
        )

    async def files_for_programs(
        self, program_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[FileAttachment]]:
        return await self._grouped(
            FILE,
            FileRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[FileRow.uploaded_at.desc(), FileRow.id.desc()],
        )

    async def delete_file(self, actor: str, file_id: str, version: int) -> FileAttachment:
        """Soft delete: the bytes stay in storage, so a restore gets them back."""
        return await self._delete(FILE, actor, file_id, version)

    async def restore_file(self, actor: str, file_id: str, version: int) -> FileAttachment:
        return await self._restore(FILE, actor, file_id, version)

    # -- audit log -------------------------------------------------------------------------------

    async def audit_for_program(
        self, program_id: str, *, first: int = 50, after: str | None = None
    ) -> AuditPage:
        """A page of the program's audit log, newest first. ``after`` is the ``end_cursor`` of
        the previous page."""
        if not 1 <= first <= MAX_AUDIT_PAGE:
            raise ValidationFailed({"first": f"must be from 1 to {MAX_AUDIT_PAGE}"})
        stmt = select(AuditRow).where(AuditRow.program_id == program_id)
        if after is not None:
            try:
                at, entry_id = decode_cursor(after)
            except ValueError as exc:
                raise ValidationFailed({"after": str(exc)}) from None
            stmt = stmt.where(or_(AuditRow.at < at, (AuditRow.at == at) & (AuditRow.id < entry_id)))
        stmt = stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(first + 1)
        async with self._reading() as session:
            rows = list(await session.scalars(stmt))
        entries = tuple(to_record(AuditEntry, row) for row in rows[:first])
        return AuditPage(
            entries=entries,
            end_cursor=entries[-1].cursor if entries else None,
            has_next_page=len(rows) > first,
        )

    async def audit_for_object(self, object_type: ObjectType, object_id: str) -> list[AuditEntry]:
        """Every audited write of one object, oldest first."""
        stmt = (
            select(AuditRow)
            .where(AuditRow.object_type == object_type, AuditRow.object_id == object_id)
            .order_by(AuditRow.at, AuditRow.id)
        )
        async with self._reading() as session:
            return [to_record(AuditEntry, row) for row in await session.scalars(stmt)]
