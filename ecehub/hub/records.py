"""What the hub store returns: frozen dataclasses, detached from any session.

The store never hands out ORM rows: a record is safe to keep, cache in a DataLoader or pass
between tasks, and cannot lazy-load or write by accident. Lists are tuples. ``version`` is what
a client sends back to update or delete the object. Times are UTC, money is ``Decimal``.
"""

from __future__ import annotations

import base64
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
    LinkStatus,
    NoteVisibility,
    ObjectType,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)

__all__ = [
    "ActivityEntry",
    "AuditEntry",
    "AuditPage",
    "CrosswalkLink",
    "CrosswalkSnapshot",
    "FileAttachment",
    "FundingEntry",
    "HubId",
    "HubIdChange",
    "LinkProposal",
    "Note",
    "PdPlan",
    "PdTraining",
    "ProposalSummary",
    "Qip",
    "QipGoal",
    "QipTask",
    "SuggestionPage",
    "decode_cursor",
    "encode_cursor",
    "json_safe",
]


@dataclass(frozen=True)
class _Versioned:
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
class QipGoal(_Versioned):
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
class QipTask(_Versioned):
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
class PdPlan(_Versioned):
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
class PdTraining(_Versioned):
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
class Note(_Versioned):
    id: str
    program_id: str
    subject_type: SubjectType
    subject_id: str
    support_type: str | None
    author: str
    visibility: NoteVisibility
    body: str


@dataclass(frozen=True)
class ActivityEntry(_Versioned):
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
class FundingEntry(_Versioned):
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
class CrosswalkLink(_Versioned):
    """A link from a hub ID to one source record. ``deleted_at`` is set once it is unlinked."""

    id: str
    entity: str
    hub_id: str
    source: str
    source_key: str
    status: LinkStatus
    score: float | None
    reasons: tuple[str, ...]
    auto: bool
    decided_by: str | None
    decided_at: dt.datetime | None

    @property
    def program_id(self) -> str:
        """Audit entries of a link are filed under its hub ID (for a site or staff link, the
        site's or staff member's hub ID)."""
        return self.hub_id


@dataclass(frozen=True)
class HubId:
    """A hub ID the crosswalk has written about; ``merged_into`` when it was merged away."""

    id: str
    entity: str
    hub_id: str
    merged_into: str | None
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str

    @property
    def program_id(self) -> str:
        return self.hub_id


@dataclass(frozen=True)
class HubIdChange:
    """What a merge or split wrote: the hub IDs as they are now, and the links it moved."""

    hub_ids: tuple[HubId, ...]
    links: tuple[CrosswalkLink, ...]


@dataclass(frozen=True)
class LinkProposal:
    """A link the matcher proposes: ``source``'s record ``key`` is the object ``hub_id``.
    ``auto`` when the matcher would confirm it without review."""

    hub_id: str
    source: str
    key: str
    score: float
    reasons: tuple[str, ...] = ()
    auto: bool = False


@dataclass(frozen=True)
class ProposalSummary:
    """What adding proposals did: ``added`` new suggestions, ``updated`` suggestions whose
    score or reasons changed, ``unchanged`` ones, ``decided`` pairs a person already confirmed,
    rejected or unlinked (left alone), ``linked_elsewhere`` records already confirmed to
    another hub ID (left alone)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    decided: int = 0
    linked_elsewhere: int = 0

    def __add__(self, other: ProposalSummary) -> ProposalSummary:
        return ProposalSummary(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )


@dataclass(frozen=True)
class SuggestionPage:
    """Suggested links, highest score first."""

    links: tuple[CrosswalkLink, ...]
    end_cursor: str | None
    has_next_page: bool


@dataclass(frozen=True)
class CrosswalkSnapshot:
    """What identity resolution needs from the crosswalk, as of ``generation``: every
    confirmed link ``(entity, source, key) -> hub ID`` and every merged-away hub ID
    ``(entity, hub ID) -> the hub ID it was merged into``."""

    generation: int
    confirmed: dict[tuple[str, str, str], str]
    merged_into: dict[tuple[str, str], str]


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
        return encode_cursor(self.at, self.id)

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


def encode_cursor(at: dt.datetime, entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{entry_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """Raises ``ValueError`` for anything :func:`encode_cursor` did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        at_text, _, id_text = text.partition("|")
        at = dt.datetime.fromisoformat(at_text)
        entry_id = int(id_text)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("not a cursor of this list") from exc
    if at.tzinfo is None:
        raise ValueError("not a cursor of this list")
    return at, entry_id


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
