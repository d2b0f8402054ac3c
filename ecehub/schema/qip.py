"""The hub's own types: the shared QIP (goals, tasks, PD plans), notes, files and the audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from ecehub.access.policy import Access
from ecehub.hub import records as hub_records
from ecehub.hub.enums import (
    ActivityKind,
    GoalStatus,
    NoteVisibility,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.schema.arguments import global_id
from ecehub.schema.common import Info
from ecehub.schema.support import Funding

__all__ = [
    "ActivityKind",
    "AuditEntry",
    "AuditPage",
    "FileAttachment",
    "GoalStatus",
    "Note",
    "NoteVisibility",
    "PdTraining",
    "ProfessionalDevelopmentPlan",
    "QipGoal",
    "QipTask",
    "QualityImprovementPlan",
    "SubjectType",
    "TaskStatus",
    "TrainingStatus",
]

# The GraphQL enums are the hub's own classes: strawberry.enum registers each one as it is.
strawberry.enum(GoalStatus)
strawberry.enum(TaskStatus)
strawberry.enum(TrainingStatus)
strawberry.enum(SubjectType, description="What a note or file is about")
strawberry.enum(NoteVisibility)
strawberry.enum(ActivityKind)


def _live(items: Any) -> list[Any]:
    return [i for i in items if i.deleted_at is None]


@strawberry.type(description="A note on a program, site, room, staff member, goal or task.")
class Note:
    note: strawberry.Private[hub_records.Note]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Note", self.note.id)

    @strawberry.field
    def subject_type(self) -> SubjectType:
        return self.note.subject_type

    @strawberry.field
    def body(self) -> str:
        return self.note.body

    @strawberry.field
    def support_type(self) -> str | None:
        return self.note.support_type

    @strawberry.field
    def author(self) -> str:
        return self.note.author

    @strawberry.field
    def visibility(self) -> NoteVisibility:
        return self.note.visibility

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.note.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.note.updated_at

    @strawberry.field
    def version(self) -> int:
        return self.note.version


@strawberry.type(description="An uploaded file (its bytes download from /files/{id}).")
class FileAttachment:
    file: strawberry.Private[hub_records.FileAttachment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("FileAttachment", self.file.id)

    @strawberry.field
    def filename(self) -> str:
        return self.file.filename

    @strawberry.field
    def content_type(self) -> str:
        return self.file.content_type

    @strawberry.field
    def size_bytes(self) -> int:
        return self.file.size_bytes

    @strawberry.field
    def sha256(self) -> str:
        return self.file.sha256

    @strawberry.field
    def uploaded_by(self) -> str:
        return self.file.uploaded_by

    @strawberry.field
    def uploaded_at(self) -> dt.datetime:
        return self.file.uploaded_at

    @strawberry.field
    def version(self) -> int:
        return self.file.version


async def _notes(info: Info, subject: SubjectType, subject_id: str) -> list[Note]:
    loader = info.context.hub_loaders.notes(
        subject, info.context.actor, info.context.access.note_visibility
    )
    return [Note(note=n) for n in await loader.load(subject_id)]


async def _files(info: Info, subject: SubjectType, subject_id: str) -> list[FileAttachment]:
    return [
        FileAttachment(file=f)
        for f in await info.context.hub_loaders.files(subject).load(subject_id)
    ]


@strawberry.type(description="A task under a QIP goal.")
class QipTask:
    task: strawberry.Private[hub_records.QipTask]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("QipTask", self.task.id)

    @strawberry.field
    def goal_id(self) -> strawberry.ID:
        return global_id("QipGoal", self.task.goal_id)

    @strawberry.field
    def title(self) -> str:
        return self.task.title

    @strawberry.field
    def description(self) -> str:
        return self.task.description

    @strawberry.field
    def support_type(self) -> str | None:
        return self.task.support_type

    @strawberry.field
    def owner(self) -> str | None:
        return self.task.owner

    @strawberry.field
    def status(self) -> TaskStatus:
        return self.task.status

    @strawberry.field
    def due_date(self) -> dt.date | None:
        return self.task.due_date

    @strawberry.field(description="Time spent on the task, in minutes")
    def minutes_spent(self) -> int:
        return self.task.minutes_spent

    @strawberry.field(description="Send back with an update: a stale version is refused")
    def version(self) -> int:
        return self.task.version

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.task.updated_at

    @strawberry.field
    def updated_by(self) -> str:
        return self.task.updated_by

    @strawberry.field(description="Funding assigned to this task")
    async def funding(self, info: Info) -> list[Funding]:
        entries = await info.context.hub_loaders.task_funding().load(self.task.id)
        return [Funding.from_hub(f) for f in entries]

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        return await _notes(info, SubjectType.TASK, self.task.id)

    @strawberry.field
    async def files(self, info: Info) -> list[FileAttachment]:
        return await _files(info, SubjectType.TASK, self.task.id)


@strawberry.type(description="A goal of a QIP, with its tasks.")
class QipGoal:
    goal: strawberry.Private[hub_records.QipGoal]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("QipGoal", self.goal.id)

    @strawberry.field
    def title(self) -> str:
        return self.goal.title

    @strawberry.field
    def description(self) -> str:
        return self.goal.description

    @strawberry.field
    def support_types(self) -> list[str]:
        return list(self.goal.support_types)

    @strawberry.field
    def target_date(self) -> dt.date | None:
        return self.goal.target_date

    @strawberry.field
    def status(self) -> GoalStatus:
        return self.goal.status

    @strawberry.field
    def position(self) -> int:
        return self.goal.position

    @strawberry.field
    def version(self) -> int:
        return self.goal.version

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.goal.updated_at

    @strawberry.field
    def updated_by(self) -> str:
        return self.goal.updated_by

    @strawberry.field
    async def tasks(self, info: Info) -> list[QipTask]:
        return [QipTask(task=t) for t in await info.context.hub_loaders.tasks().load(self.goal.id)]

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        return await _notes(info, SubjectType.GOAL, self.goal.id)

    @strawberry.field
    async def files(self, info: Info) -> list[FileAttachment]:
        return await _files(info, SubjectType.GOAL, self.goal.id)


@strawberry.type(description="A training planned or completed under a PD plan.")
class PdTraining:
    training: strawberry.Private[hub_records.PdTraining]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("PdTraining", self.training.id)

    @strawberry.field
    def title(self) -> str:
        return self.training.title

    @strawberry.field
    def topic(self) -> str:
        return self.training.topic

    @strawberry.field
    def planned_on(self) -> dt.date | None:
        return self.training.planned_on

    @strawberry.field
    def completed_on(self) -> dt.date | None:
        return self.training.completed_on

    @strawberry.field
    def hours(self) -> Decimal:
        return self.training.hours

    @strawberry.field
    def status(self) -> TrainingStatus:
        return self.training.status

    @strawberry.field
    def version(self) -> int:
        return self.training.version


@strawberry.type(description="A staff member's professional-development plan.")
class ProfessionalDevelopmentPlan:
    plan: strawberry.Private[hub_records.PdPlan]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ProfessionalDevelopmentPlan", self.plan.id)

    @strawberry.field(description="The staff member's ecehub ID")
    def staff_id(self) -> strawberry.ID:
        return global_id("Staff", self.plan.staff_id)

    @strawberry.field
    def credential_target(self) -> str | None:
        return self.plan.credential_target

    @strawberry.field
    def planned_hours(self) -> Decimal:
        return self.plan.planned_hours

    @strawberry.field
    def completed_hours(self) -> Decimal:
        return self.plan.completed_hours

    @strawberry.field
    def notes(self) -> str:
        return self.plan.notes

    @strawberry.field(description="QIP goals this plan serves")
    def goal_ids(self) -> list[strawberry.ID]:
        return [global_id("QipGoal", g) for g in self.plan.goal_ids]

    @strawberry.field
    def version(self) -> int:
        return self.plan.version

    @strawberry.field
    async def trainings(self, info: Info) -> list[PdTraining]:
        rows = await info.context.hub_loaders.trainings().load(self.plan.id)
        return [PdTraining(training=t) for t in rows]


@strawberry.type(description="A program's Quality Improvement Plan, shared by every sector.")
class QualityImprovementPlan:
    qip: strawberry.Private[hub_records.Qip]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("QualityImprovementPlan", self.qip.id)

    @strawberry.field
    def title(self) -> str:
        return self.qip.title

    @strawberry.field
    def version(self) -> int:
        return self.qip.version

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.qip.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.qip.updated_at

    @strawberry.field
    async def goals(self, info: Info) -> list[QipGoal]:
        return [QipGoal(goal=g) for g in await info.context.hub_loaders.goals().load(self.qip.id)]

    @strawberry.field(description="Professional-development plans of the program's staff")
    async def pd_plans(self, info: Info) -> list[ProfessionalDevelopmentPlan]:
        rows = await info.context.hub_loaders.pd_plans().load(self.qip.id)
        return [ProfessionalDevelopmentPlan(plan=p) for p in rows]


@strawberry.type(description="One audited write: who, when, what changed.")
class AuditEntry:
    entry: strawberry.Private[hub_records.AuditEntry]
    shown_before: strawberry.Private[dict[str, Any] | None]
    shown_after: strawberry.Private[dict[str, Any] | None]

    @classmethod
    def seen_by(cls, entry: hub_records.AuditEntry, access: Access) -> AuditEntry:
        """The entry as ``access`` may see it: before/after without what it may not read."""
        kind = entry.object_type.value
        return cls(
            entry=entry,
            shown_before=access.audit_view(kind, entry.before),
            shown_after=access.audit_view(kind, entry.after),
        )

    @strawberry.field
    def actor(self) -> str:
        return self.entry.actor

    @strawberry.field
    def at(self) -> dt.datetime:
        return self.entry.at

    @strawberry.field(description="CREATE, UPDATE, DELETE or RESTORE")
    def action(self) -> str:
        return self.entry.action.value

    @strawberry.field(description="e.g. QIP_TASK")
    def object_type(self) -> str:
        return self.entry.object_type.value

    @strawberry.field
    def object_id(self) -> str:
        return self.entry.object_id

    @strawberry.field
    def changed_fields(self) -> list[str]:
        return self.entry.changed_fields()

    @strawberry.field(
        description="The object before the write; a field the role may not read (as its own "
        "field, e.g. Note.body) is null, and so is the body of a note the role does not read"
    )
    def before(self) -> JSON | None:
        return cast(JSON, self.shown_before)

    @strawberry.field(description="The object after the write; null fields as in before")
    def after(self) -> JSON | None:
        return cast(JSON, self.shown_after)


@strawberry.type(description="A page of a program's audit log, newest first.")
class AuditPage:
    entries: list[AuditEntry]
    end_cursor: str | None
    has_next_page: bool
