"""What the hub store returns: frozen dataclasses, detached from any session.

The store never hands out ORM rows: a record is safe to keep, cache in a DataLoader or pass
between tasks, and cannot lazy-load or write by accident. Lists are tuples. ``version`` is what
a client sends back to update or delete the object. Times are UTC, money is ``Decimal``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from ecehub.hub.enums import (
    ActivityKind,
    AuditAction,
    FundingPurpose,
    GoalStatus,
    NoteVisibility,
    ObjectType,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.ids import encode_audit_cursor

__all__ = [
    "ActivityEntry",
    "AuditEntry",
    "AuditPage",
    "FileAttachment",
    "FundingEntry",
    "Note",
    "PdPlan",
    "PdTraining",
    "Qip",
    "QipGoal",
    "QipTask",
    "Versioned",
    "json_safe",
]


@dataclass(frozen=True)
class Versioned:
    """What every versioned, soft-deletable hub object carries (its fields come first)."""

    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    deleted_at: dt.datetime | None
    deleted_by: str | None


@dataclass(frozen=True)
class Qip:
    id: str
    program_id: str
    title: str
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True)
class QipGoal(Versioned):
    id: str
    qip_id: str
    program_id: str
    title: str
    description: str
    support_types: tuple[str, ...]
    target_date: dt.date | None
    status: GoalStatus
    position: int


@dataclass(frozen=True)
class QipTask(Versioned):
    id: str
    goal_id: str
    program_id: str
    title: str
    description: str
    support_type: str | None
    owner: str | None
    status: TaskStatus
    due_date: dt.date | None
    minutes_spent: int


@dataclass(frozen=True)
class PdPlan(Versioned):
    id: str
    qip_id: str
    program_id: str
    staff_id: str
    credential_target: str | None
    planned_hours: Decimal
    completed_hours: Decimal
    notes: str
    goal_ids: tuple[str, ...]


@dataclass(frozen=True)
class PdTraining(Versioned):
    id: str
    pd_plan_id: str
    program_id: str
    title: str
    topic: str
    planned_on: dt.date | None
    completed_on: dt.date | None
    hours: Decimal
    status: TrainingStatus


@dataclass(frozen=True)
class Note(Versioned):
    id: str
    program_id: str
    subject_type: SubjectType
    subject_id: str
    support_type: str | None
    author: str
    visibility: NoteVisibility
    body: str


@dataclass(frozen=True)
class ActivityEntry(Versioned):
    id: str
    program_id: str
    kind: ActivityKind
    support_type: str | None
    occurred_at: dt.datetime
    minutes: int
    staff_ids: tuple[str, ...]
    room_id: str | None
    summary: str
    author: str


@dataclass(frozen=True)
class FileAttachment:
    id: str
    program_id: str
    subject_type: SubjectType
    subject_id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_key: str
    uploaded_at: dt.datetime
    uploaded_by: str
    version: int
    deleted_at: dt.datetime | None
    deleted_by: str | None


@dataclass(frozen=True)
class FundingEntry(Versioned):
    id: str
    program_id: str
    amount: Decimal
    currency: str
    support_type: str
    purpose: FundingPurpose
    period_start: dt.date
    period_end: dt.date
    qip_task_id: str | None
    description: str


@dataclass(frozen=True)
class AuditEntry:
    """One audited write. ``before``/``after`` are the object as JSON-safe dicts (``None``
    before a create); Decimals are strings, dates and times ISO 8601."""

    id: int
    program_id: str
    actor: str
    at: dt.datetime
    action: AuditAction
    object_type: ObjectType
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def cursor(self) -> str:
        return encode_audit_cursor(self.at, self.id)

    def changed_fields(self) -> list[str]:
        """Fields whose value differs between before and after (all of them for a create)."""
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True)
class AuditPage:
    """A page of a program's audit log, newest first (Relay-style cursors)."""

    entries: tuple[AuditEntry, ...]
    end_cursor: str | None
    has_next_page: bool


def json_safe(value: Any) -> Any:
    """``value`` (a record, dict, list, ...) as JSON-ready data: Decimal -> str, dates and
    times -> ISO 8601, enums -> their names, tuples -> lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return value
