"""Mutations of what the hub keeps: the QIP (goals, tasks, PD plans, trainings), notes, the
activity log and hub funding. Every write names its actor, is validated and audited by the
store, and updates carry the ``version`` the client read: a stale one is refused with
VERSION_CONFLICT and the current version, and nothing is overwritten."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from ecehub.hub.enums import ObjectType
from ecehub.schema.arguments import (
    IdempotencyKey,
    acting_user,
    call_store,
    decode_id,
    program_hub_id,
    sector_ids,
    subject_hub_id,
    write_right,
)
from ecehub.schema.common import Info
from ecehub.schema.qip import (
    ActivityKind,
    GoalStatus,
    Note,
    NoteVisibility,
    PdTraining,
    ProfessionalDevelopmentPlan,
    QipGoal,
    QipTask,
    QualityImprovementPlan,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.schema.support import ActivityEntry, Funding, FundingPurpose

__all__ = ["HubMutations"]


def _values(obj: Any, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of an input that were given (UNSET skipped), enums as their values and
    ecehub IDs as hub IDs (``ids``: field -> GraphQL type name)."""
    ids = ids or {}
    out: dict[str, Any] = {}
    for name, value in vars(obj).items():
        if value is strawberry.UNSET:
            continue
        if isinstance(value, Enum):
            value = value.value
        if name in ids and value is not None:
            if isinstance(value, list):
                value = [decode_id(v, ids[name], name) for v in value]
            else:
                value = decode_id(value, ids[name], name)
        out[name] = value
    return out


# -- inputs -------------------------------------------------------------------------------


@strawberry.input
class QipGoalInput:
    title: str
    description: str = ""
    support_types: list[str] = strawberry.field(default_factory=list)
    target_date: dt.date | None = None
    status: GoalStatus = GoalStatus.NOT_STARTED
    position: int | None = strawberry.UNSET


@strawberry.input(description="Only the fields given change")
class QipGoalPatch:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    support_types: list[str] | None = strawberry.UNSET
    target_date: dt.date | None = strawberry.UNSET
    status: GoalStatus | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
class QipTaskInput:
    title: str
    description: str = ""
    support_type: str | None = None
    owner: str | None = None
    status: TaskStatus = TaskStatus.NOT_STARTED
    due_date: dt.date | None = None
    minutes_spent: int = 0


@strawberry.input(description="Only the fields given change; goalId moves the task")
class QipTaskPatch:
    goal_id: strawberry.ID | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    support_type: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    status: TaskStatus | None = strawberry.UNSET
    due_date: dt.date | None = strawberry.UNSET
    minutes_spent: int | None = strawberry.UNSET


@strawberry.input
class PdPlanInput:
    staff_id: strawberry.ID
    credential_target: str | None = None
    planned_hours: Decimal = Decimal(0)
    completed_hours: Decimal = Decimal(0)
    notes: str = ""
    goal_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class PdPlanPatch:
    credential_target: str | None = strawberry.UNSET
    planned_hours: Decimal | None = strawberry.UNSET
    completed_hours: Decimal | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    goal_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class PdTrainingInput:
    title: str
    topic: str = ""
    planned_on: dt.date | None = None
    completed_on: dt.date | None = None
    hours: Decimal = Decimal(0)
    status: TrainingStatus = TrainingStatus.PLANNED


@strawberry.input
class PdTrainingPatch:
    title: str | None = strawberry.UNSET
    topic: str | None = strawberry.UNSET
    planned_on: dt.date | None = strawberry.UNSET
    completed_on: dt.date | None = strawberry.UNSET
    hours: Decimal | None = strawberry.UNSET
    status: TrainingStatus | None = strawberry.UNSET


@strawberry.input
class NoteInput:
    subject_type: SubjectType
    subject_id: strawberry.ID = strawberry.field(description="The ID of what the note is about")
    body: str
    support_type: str | None = None
    visibility: NoteVisibility = NoteVisibility.TEAM


@strawberry.input
class NotePatch:
    body: str | None = strawberry.UNSET
    support_type: str | None = strawberry.UNSET
    visibility: NoteVisibility | None = strawberry.UNSET


@strawberry.input
class ActivityInput:
    kind: ActivityKind
    occurred_at: dt.datetime
    minutes: int
    support_type: str | None = None
    staff_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    room_id: strawberry.ID | None = None
    summary: str = ""


@strawberry.input
class ActivityPatch:
    kind: ActivityKind | None = strawberry.UNSET
    occurred_at: dt.datetime | None = strawberry.UNSET
    minutes: int | None = strawberry.UNSET
    support_type: str | None = strawberry.UNSET
    staff_ids: list[strawberry.ID] | None = strawberry.UNSET
    room_id: strawberry.ID | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET


@strawberry.input
class FundingInput:
    amount: Decimal = strawberry.field(description='Exact decimal as a string, e.g. "2500.00"')
    support_type: str
    purpose: FundingPurpose
    period_start: dt.date
    period_end: dt.date
    currency: str = "USD"
    qip_task_id: strawberry.ID | None = None
    description: str = ""


@strawberry.input
class FundingPatch:
    amount: Decimal | None = strawberry.UNSET
    support_type: str | None = strawberry.UNSET
    purpose: FundingPurpose | None = strawberry.UNSET
    period_start: dt.date | None = strawberry.UNSET
    period_end: dt.date | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    qip_task_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


_ACTIVITY_IDS = {"staff_ids": "Staff", "room_id": "Room"}


async def _activity_refs(info: Info, program: str, data: dict[str, Any]) -> dict[str, Any]:
    """An activity's input with the staff and room it names as canonical hub IDs, each
    checked to be the program's (FORBIDDEN / VALIDATION_FAILED otherwise)."""
    if data.get("staff_ids"):
        data["staff_ids"] = await sector_ids(info, program, "Staff", data["staff_ids"], "staff_ids")
    if data.get("room_id") is not None:
        [data["room_id"]] = await sector_ids(info, program, "Room", [data["room_id"]], "room_id")
    return data


@strawberry.type
class HubMutations:
    """Writes of hub data (composed into ``Mutation`` in ecehub.schema.schema)."""

    # -- QIP ----------------------------------------------------------------------------
    @strawberry.mutation(description="Rename a program's QIP")
    async def update_qip(
        self, info: Info, id: strawberry.ID, version: int, title: str
    ) -> QualityImprovementPlan:
        actor, qip_id, store = (
            await acting_user(info),
            decode_id(id, "QualityImprovementPlan"),
            info.context.runtime.store,
        )
        return QualityImprovementPlan(
            qip=await call_store(lambda: store.update_qip(actor, qip_id, version, {"title": title}))
        )

    @strawberry.mutation(description="Add a goal to a program's QIP (the QIP is made if needed)")
    async def create_qip_goal(
        self,
        info: Info,
        program_id: strawberry.ID,
        input: QipGoalInput,
        idempotency_key: IdempotencyKey = None,
    ) -> QipGoal:
        actor, program, store = (
            await acting_user(info),
            await program_hub_id(info, program_id),
            info.context.runtime.store,
        )
        return QipGoal(
            goal=await call_store(
                lambda: store.create_goal(
                    actor, program, _values(input), idempotency_key=idempotency_key
                )
            )
        )

    @strawberry.mutation
    async def update_qip_goal(
        self, info: Info, id: strawberry.ID, version: int, patch: QipGoalPatch
    ) -> QipGoal:
        actor, goal, store = (
            await acting_user(info),
            decode_id(id, "QipGoal"),
            info.context.runtime.store,
        )
        return QipGoal(
            goal=await call_store(lambda: store.update_goal(actor, goal, version, _values(patch)))
        )

    @strawberry.mutation(description="Soft delete: history stays, restoreQipGoal brings it back")
    async def delete_qip_goal(self, info: Info, id: strawberry.ID, version: int) -> QipGoal:
        actor, goal, store = (
            await acting_user(info),
            decode_id(id, "QipGoal"),
            info.context.runtime.store,
        )
        return QipGoal(goal=await call_store(lambda: store.delete_goal(actor, goal, version)))

    @strawberry.mutation
    async def restore_qip_goal(self, info: Info, id: strawberry.ID, version: int) -> QipGoal:
        actor, goal, store = (
            await acting_user(info),
            decode_id(id, "QipGoal"),
            info.context.runtime.store,
        )
        return QipGoal(goal=await call_store(lambda: store.restore_goal(actor, goal, version)))

    @strawberry.mutation
    async def create_qip_task(
        self,
        info: Info,
        goal_id: strawberry.ID,
        input: QipTaskInput,
        idempotency_key: IdempotencyKey = None,
    ) -> QipTask:
        actor, goal, store = (
            await acting_user(info),
            decode_id(goal_id, "QipGoal", "goalId"),
            info.context.runtime.store,
        )
        return QipTask(
            task=await call_store(
                lambda: store.create_task(
                    actor, goal, _values(input), idempotency_key=idempotency_key
                )
            )
        )

    @strawberry.mutation
    async def update_qip_task(
        self, info: Info, id: strawberry.ID, version: int, patch: QipTaskPatch
    ) -> QipTask:
        actor, task, store = (
            await acting_user(info),
            decode_id(id, "QipTask"),
            info.context.runtime.store,
        )
        changes = _values(patch, {"goal_id": "QipGoal"})
        return QipTask(
            task=await call_store(lambda: store.update_task(actor, task, version, changes))
        )

    @strawberry.mutation
    async def delete_qip_task(self, info: Info, id: strawberry.ID, version: int) -> QipTask:
        actor, task, store = (
            await acting_user(info),
            decode_id(id, "QipTask"),
            info.context.runtime.store,
        )
        return QipTask(task=await call_store(lambda: store.delete_task(actor, task, version)))

    @strawberry.mutation
    async def restore_qip_task(self, info: Info, id: strawberry.ID, version: int) -> QipTask:
        actor, task, store = (
            await acting_user(info),
            decode_id(id, "QipTask"),
            info.context.runtime.store,
        )
        return QipTask(task=await call_store(lambda: store.restore_task(actor, task, version)))

    # -- PD plans -------------------------------------------------------------------------
    @strawberry.mutation
    async def create_pd_plan(
        self,
        info: Info,
        program_id: strawberry.ID,
        input: PdPlanInput,
        idempotency_key: IdempotencyKey = None,
    ) -> ProfessionalDevelopmentPlan:
        actor, program, store = (
            await acting_user(info),
            await program_hub_id(info, program_id),
            info.context.runtime.store,
        )
        await write_right(info, ObjectType.PD_PLAN, program)
        data = _values(input, {"staff_id": "Staff", "goal_ids": "QipGoal"})
        [data["staff_id"]] = await sector_ids(
            info, program, "Staff", [data["staff_id"]], "staff_id"
        )
        return ProfessionalDevelopmentPlan(
            plan=await call_store(
                lambda: store.create_pd_plan(actor, program, data, idempotency_key=idempotency_key)
            )
        )

    @strawberry.mutation
    async def update_pd_plan(
        self, info: Info, id: strawberry.ID, version: int, patch: PdPlanPatch
    ) -> ProfessionalDevelopmentPlan:
        actor, plan = await acting_user(info), decode_id(id, "ProfessionalDevelopmentPlan")
        store, changes = info.context.runtime.store, _values(patch, {"goal_ids": "QipGoal"})
        return ProfessionalDevelopmentPlan(
            plan=await call_store(lambda: store.update_pd_plan(actor, plan, version, changes))
        )

    @strawberry.mutation
    async def delete_pd_plan(
        self, info: Info, id: strawberry.ID, version: int
    ) -> ProfessionalDevelopmentPlan:
        actor, plan = await acting_user(info), decode_id(id, "ProfessionalDevelopmentPlan")
        store = info.context.runtime.store
        return ProfessionalDevelopmentPlan(
            plan=await call_store(lambda: store.delete_pd_plan(actor, plan, version))
        )

    @strawberry.mutation
    async def create_pd_training(
        self,
        info: Info,
        pd_plan_id: strawberry.ID,
        input: PdTrainingInput,
        idempotency_key: IdempotencyKey = None,
    ) -> PdTraining:
        actor = await acting_user(info)
        plan = decode_id(pd_plan_id, "ProfessionalDevelopmentPlan", "pdPlanId")
        store = info.context.runtime.store
        return PdTraining(
            training=await call_store(
                lambda: store.create_training(
                    actor, plan, _values(input), idempotency_key=idempotency_key
                )
            )
        )

    @strawberry.mutation
    async def update_pd_training(
        self, info: Info, id: strawberry.ID, version: int, patch: PdTrainingPatch
    ) -> PdTraining:
        actor, training, store = (
            await acting_user(info),
            decode_id(id, "PdTraining"),
            info.context.runtime.store,
        )
        return PdTraining(
            training=await call_store(
                lambda: store.update_training(actor, training, version, _values(patch))
            )
        )

    @strawberry.mutation
    async def delete_pd_training(self, info: Info, id: strawberry.ID, version: int) -> PdTraining:
        actor, training, store = (
            await acting_user(info),
            decode_id(id, "PdTraining"),
            info.context.runtime.store,
        )
        return PdTraining(
            training=await call_store(lambda: store.delete_training(actor, training, version))
        )

    # -- notes ----------------------------------------------------------------------------
    @strawberry.mutation(
        description="Note on the program, or on one of its sites, rooms, staff, goals or tasks"
    )
    async def create_note(
        self,
        info: Info,
        program_id: strawberry.ID,
        input: NoteInput,
        idempotency_key: IdempotencyKey = None,
    ) -> Note:
        actor, program, store = (
            await acting_user(info),
            await program_hub_id(info, program_id),
            info.context.runtime.store,
        )
        await write_right(info, ObjectType.NOTE, program)
        data = _values(input)
        subject = SubjectType(data["subject_type"])
        data["subject_id"] = await subject_hub_id(info, program, subject, input.subject_id)
        return Note(
            note=await call_store(
                lambda: store.create_note(actor, program, data, idempotency_key=idempotency_key)
            )
        )

    @strawberry.mutation
    async def update_note(
        self, info: Info, id: strawberry.ID, version: int, patch: NotePatch
    ) -> Note:
        actor, note, store = (
            await acting_user(info),
            decode_id(id, "Note"),
            info.context.runtime.store,
        )
        return Note(
            note=await call_store(lambda: store.update_note(actor, note, version, _values(patch)))
        )

    @strawberry.mutation
    async def delete_note(self, info: Info, id: strawberry.ID, version: int) -> Note:
        actor, note, store = (
            await acting_user(info),
            decode_id(id, "Note"),
            info.context.runtime.store,
        )
        return Note(note=await call_store(lambda: store.delete_note(actor, note, version)))

    @strawberry.mutation
    async def restore_note(self, info: Info, id: strawberry.ID, version: int) -> Note:
        actor, note, store = (
            await acting_user(info),
            decode_id(id, "Note"),
            info.context.runtime.store,
        )
        return Note(note=await call_store(lambda: store.restore_note(actor, note, version)))

    # -- activity log ---------------------------------------------------------------------
    @strawberry.mutation(description="Log support given: a visit, coaching, a training, a call")
    async def log_activity(
        self,
        info: Info,
        program_id: strawberry.ID,
        input: ActivityInput,
        idempotency_key: IdempotencyKey = None,
    ) -> ActivityEntry:
        actor, program, store = (
            await acting_user(info),
            await program_hub_id(info, program_id),
            info.context.runtime.store,
        )
        await write_right(info, ObjectType.ACTIVITY_ENTRY, program)
        data = await _activity_refs(info, program, _values(input, _ACTIVITY_IDS))
        return ActivityEntry.from_hub(
            await call_store(
                lambda: store.create_activity(actor, program, data, idempotency_key=idempotency_key)
            )
        )

    @strawberry.mutation
    async def update_activity(
        self, info: Info, id: strawberry.ID, version: int, patch: ActivityPatch
    ) -> ActivityEntry:
        actor, entry, store = (
            await acting_user(info),
            decode_id(id, "ActivityEntry"),
            info.context.runtime.store,
        )
        changes = _values(patch, _ACTIVITY_IDS)
        if changes.get("staff_ids") or changes.get("room_id") is not None:
            # The staff and room must be the entry's program's (an unknown entry: NOT_FOUND
            # from the store below).
            found = await store.get_activity(entry)
            if found is not None:
                await write_right(info, ObjectType.ACTIVITY_ENTRY, found.program_id)
                changes = await _activity_refs(info, found.program_id, changes)
        return ActivityEntry.from_hub(
            await call_store(lambda: store.update_activity(actor, entry, version, changes))
        )

    @strawberry.mutation
    async def delete_activity(self, info: Info, id: strawberry.ID, version: int) -> ActivityEntry:
        actor, entry, store = (
            await acting_user(info),
            decode_id(id, "ActivityEntry"),
            info.context.runtime.store,
        )
        return ActivityEntry.from_hub(
            await call_store(lambda: store.delete_activity(actor, entry, version))
        )

    # -- funding --------------------------------------------------------------------------
    @strawberry.mutation(description="Record money given to a program (optionally to a QIP task)")
    async def create_funding(
        self,
        info: Info,
        program_id: strawberry.ID,
        input: FundingInput,
        idempotency_key: IdempotencyKey = None,
    ) -> Funding:
        actor, program, store = (
            await acting_user(info),
            await program_hub_id(info, program_id),
            info.context.runtime.store,
        )
        data = _values(input, {"qip_task_id": "QipTask"})
        return Funding.from_hub(
            await call_store(
                lambda: store.create_funding(actor, program, data, idempotency_key=idempotency_key)
            )
        )

    @strawberry.mutation
    async def update_funding(
        self, info: Info, id: strawberry.ID, version: int, patch: FundingPatch
    ) -> Funding:
        actor, entry, store = (
            await acting_user(info),
            decode_id(id, "Funding"),
            info.context.runtime.store,
        )
        changes = _values(patch, {"qip_task_id": "QipTask"})
        return Funding.from_hub(
            await call_store(lambda: store.update_funding(actor, entry, version, changes))
        )

    @strawberry.mutation
    async def delete_funding(self, info: Info, id: strawberry.ID, version: int) -> Funding:
        actor, entry, store = (
            await acting_user(info),
            decode_id(id, "Funding"),
            info.context.runtime.store,
        )
        return Funding.from_hub(
            await call_store(lambda: store.delete_funding(actor, entry, version))
        )
