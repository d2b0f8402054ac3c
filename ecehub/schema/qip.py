"""The hub's own types: the shared QIP (goals, tasks, PD plans), notes, files and the audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from ecehub import hub
from ecehub.hub.enums import (
    ActivityKind,
    GoalStatus,
    NoteVisibility,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.ids import encode_global_id
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


def gid(type_name: str, object_id: str) -> strawberry.ID:
    return strawberry.ID(encode_global_id(type_name, object_id))


def _live(items: Any) -> list[Any]:
    return [i for i in items if i.deleted_at is None]


@strawberry.type(description="A note on a program, site, room, staff member, goal or task.")
class Note:
    n: strawberry.Private[hub.Note]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("Note", self.n.id)

    @strawberry.field
    def subject_type(self) -> SubjectType:
        return self.n.subject_type

    @strawberry.field
    def body(self) -> str:
        return self.n.body

    @strawberry.field
    def support_type(self) -> str | None:
        return self.n.support_type

    @strawberry.field
    def author(self) -> str:
        return self.n.author

    @strawberry.field
    def visibility(self) -> NoteVisibility:
        return self.n.visibility

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.n.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.n.updated_at

    @strawberry.field
    def version(self) -> int:
        return self.n.version


@strawberry.type(description="An uploaded file (its bytes download from /files/{id}).")
class FileAttachment:
    f: strawberry.Private[hub.FileAttachment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("FileAttachment", self.f.id)

    @strawberry.field
    def filename(self) -> str:
        return self.f.filename

    @strawberry.field
    def content_type(self) -> str:
        return self.f.content_type

    @strawberry.field
    def size_bytes(self) -> int:
        return self.f.size_bytes

    @strawberry.field
    def sha256(self) -> str:
        return self.f.sha256

    @strawberry.field
    def uploaded_by(self) -> str:
        return self.f.uploaded_by

    @strawberry.field
    def uploaded_at(self) -> dt.datetime:
        return self.f.uploaded_at

    @strawberry.field
    def version(self) -> int:
        return self.f.version


async def _notes(info: Info, subject: hub.SubjectType, subject_id: str) -> list[Note]:
    loader = info.context.hub_loaders.notes(
        subject, info.context.actor, info.context.access.note_visibility
    )
    return [Note(n=n) for n in await loader.load(subject_id)]


async def _files(info: Info, subject: hub.SubjectType, subject_id: str) -> list[FileAttachment]:
    return [
        FileAttachment(f=f) for f in await info.context.hub_loaders.files(subject).load(subject_id)
    ]


@strawberry.type(description="A task under a QIP goal.")
class QipTask:
    t: strawberry.Private[hub.QipTask]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("QipTask", self.t.id)

    @strawberry.field
    def goal_id(self) -> strawberry.ID:
        return gid("QipGoal", self.t.goal_id)

    @strawberry.field
    def title(self) -> str:
        return self.t.title

    @strawberry.field
    def description(self) -> str:
        return self.t.description

    @strawberry.field
    def support_type(self) -> str | None:
        return self.t.support_type

    @strawberry.field
    def owner(self) -> str | None:
        return self.t.owner

    @strawberry.field
    def status(self) -> TaskStatus:
        return self.t.status

    @strawberry.field
    def due_date(self) -> dt.date | None:
        return self.t.due_date

    @strawberry.field(description="Time spent on the task, in minutes")
    def minutes_spent(self) -> int:
        return self.t.minutes_spent

    @strawberry.field(description="Send back with an update: a stale version is refused")
    def version(self) -> int:
        return self.t.version

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.t.updated_at

    @strawberry.field
    def updated_by(self) -> str:
        return self.t.updated_by

    @strawberry.field(description="Funding assigned to this task")
    async def funding(self, info: Info) -> list[Funding]:
        entries = await info.context.hub_loaders.task_funding().load(self.t.id)
        return [Funding.from_hub(f) for f in entries]

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        return await _notes(info, hub.SubjectType.TASK, self.t.id)

    @strawberry.field
    async def files(self, info: Info) -> list[FileAttachment]:
        return await _files(info, hub.SubjectType.TASK, self.t.id)


@strawberry.type(description="A goal of a QIP, with its tasks.")
class QipGoal:
    g: strawberry.Private[hub.QipGoal]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("QipGoal", self.g.id)

    @strawberry.field
    def title(self) -> str:
        return self.g.title

    @strawberry.field
    def description(self) -> str:
        return self.g.description

    @strawberry.field
    def support_types(self) -> list[str]:
        return list(self.g.support_types)

    @strawberry.field
    def target_date(self) -> dt.date | None:
        return self.g.target_date

    @strawberry.field
    def status(self) -> GoalStatus:
        return self.g.status

    @strawberry.field
    def position(self) -> int:
        return self.g.position

    @strawberry.field
    def version(self) -> int:
        return self.g.version

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.g.updated_at

    @strawberry.field
    def updated_by(self) -> str:
        return self.g.updated_by

    @strawberry.field
    async def tasks(self, info: Info) -> list[QipTask]:
        return [QipTask(t=t) for t in await info.context.hub_loaders.tasks().load(self.g.id)]

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        return await _notes(info, hub.SubjectType.GOAL, self.g.id)

    @strawberry.field
    async def files(self, info: Info) -> list[FileAttachment]:
        return await _files(info, hub.SubjectType.GOAL, self.g.id)


@strawberry.type(description="A training planned or completed under a PD plan.")
class PdTraining:
    t: strawberry.Private[hub.PdTraining]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("PdTraining", self.t.id)

    @strawberry.field
    def title(self) -> str:
        return self.t.title

    @strawberry.field
    def topic(self) -> str:
        return self.t.topic

    @strawberry.field
    def planned_on(self) -> dt.date | None:
        return self.t.planned_on

    @strawberry.field
    def completed_on(self) -> dt.date | None:
        return self.t.completed_on

    @strawberry.field
    def hours(self) -> Decimal:
        return self.t.hours

    @strawberry.field
    def status(self) -> TrainingStatus:
        return self.t.status

    @strawberry.field
    def version(self) -> int:
        return self.t.version


@strawberry.type(description="A staff member's professional-development plan.")
class ProfessionalDevelopmentPlan:
    p: strawberry.Private[hub.PdPlan]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("ProfessionalDevelopmentPlan", self.p.id)

    @strawberry.field(description="The staff member's ecehub ID")
    def staff_id(self) -> strawberry.ID:
        return gid("Staff", self.p.staff_id)

    @strawberry.field
    def credential_target(self) -> str | None:
        return self.p.credential_target

    @strawberry.field
    def planned_hours(self) -> Decimal:
        return self.p.planned_hours

    @strawberry.field
    def completed_hours(self) -> Decimal:
        return self.p.completed_hours

    @strawberry.field
    def notes(self) -> str:
        return self.p.notes

    @strawberry.field(description="QIP goals this plan serves")
    def goal_ids(self) -> list[strawberry.ID]:
        return [gid("QipGoal", g) for g in self.p.goal_ids]

    @strawberry.field
    def version(self) -> int:
        return self.p.version

    @strawberry.field
    async def trainings(self, info: Info) -> list[PdTraining]:
        rows = await info.context.hub_loaders.trainings().load(self.p.id)
        return [PdTraining(t=t) for t in rows]


@strawberry.type(description="A program's Quality Improvement Plan, shared by every sector.")
class QualityImprovementPlan:
    q: strawberry.Private[hub.Qip]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid("QualityImprovementPlan", self.q.id)

    @strawberry.field
    def title(self) -> str:
        return self.q.title

    @strawberry.field
    def version(self) -> int:
        return self.q.version

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.q.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.q.updated_at

    @strawberry.field
    async def goals(self, info: Info) -> list[QipGoal]:
        return [QipGoal(g=g) for g in await info.context.hub_loaders.goals().load(self.q.id)]

    @strawberry.field(description="Professional-development plans of the program's staff")
    async def pd_plans(self, info: Info) -> list[ProfessionalDevelopmentPlan]:
        rows = await info.context.hub_loaders.pd_plans().load(self.q.id)
        return [ProfessionalDevelopmentPlan(p=p) for p in rows]


@strawberry.type(description="One audited write: who, when, what changed.")
class AuditEntry:
    a: strawberry.Private[hub.AuditEntry]

    @strawberry.field
    def actor(self) -> str:
        return self.a.actor

    @strawberry.field
    def at(self) -> dt.datetime:
        return self.a.at

    @strawberry.field(description="CREATE, UPDATE, DELETE or RESTORE")
    def action(self) -> str:
        return self.a.action.value

    @strawberry.field(description="e.g. QIP_TASK")
    def object_type(self) -> str:
        return self.a.object_type.value

    @strawberry.field
    def object_id(self) -> str:
        return self.a.object_id

    @strawberry.field
    def changed_fields(self) -> list[str]:
        return self.a.changed_fields()

    @strawberry.field
    def before(self) -> JSON | None:
        return cast(JSON, self.a.before)

    @strawberry.field
    def after(self) -> JSON | None:
        return cast(JSON, self.a.after)


@strawberry.type(description="A page of a program's audit log, newest first.")
class AuditPage:
    entries: list[AuditEntry]
    end_cursor: str | None
    has_next_page: bool
