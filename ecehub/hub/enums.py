"""The option sets of the hub store. Stored as their names (strings), never as native enums, so
SQLite and PostgreSQL hold the same text and adding a member needs no ``ALTER TYPE``."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ActivityKind",
    "AuditAction",
    "FundingPurpose",
    "GoalStatus",
    "LinkKind",
    "LinkStatus",
    "NoteVisibility",
    "ObjectType",
    "SubjectType",
    "TaskStatus",
    "TrainingStatus",
]


class GoalStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    DROPPED = "DROPPED"


class TaskStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    DROPPED = "DROPPED"


class TrainingStatus(StrEnum):
    PLANNED = "PLANNED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class SubjectType(StrEnum):
    """What a note or a file is about."""

    PROGRAM = "PROGRAM"
    SITE = "SITE"
    ROOM = "ROOM"
    STAFF = "STAFF"
    GOAL = "GOAL"
    TASK = "TASK"


class NoteVisibility(StrEnum):
    """Who may read a note: its author only, the author's team, or the program's own staff too.
    The store hides other authors' PRIVATE notes from a named viewer; the rest is for auth."""

    PRIVATE = "PRIVATE"
    TEAM = "TEAM"
    PROGRAM = "PROGRAM"


class ActivityKind(StrEnum):
    SITE_VISIT = "SITE_VISIT"
    COACHING = "COACHING"
    TRAINING = "TRAINING"
    PHONE_VIRTUAL = "PHONE_VIRTUAL"
    OTHER = "OTHER"


class FundingPurpose(StrEnum):
    PROFESSIONAL_DEVELOPMENT = "PROFESSIONAL_DEVELOPMENT"
    PROGRAM_SUPPORT = "PROGRAM_SUPPORT"
    MATERIALS = "MATERIALS"
    QIP_TASK = "QIP_TASK"
    SCHOLARSHIP = "SCHOLARSHIP"
    WAGE_INCENTIVE = "WAGE_INCENTIVE"
    OTHER = "OTHER"


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"
    DENY = "DENY"
    """A refused read or write (nothing changed); ``after`` says what was asked and why."""
    PRUNE = "PRUNE"
    """Audit entries older than the retention deleted; ``after`` says before when and how many."""


class ObjectType(StrEnum):
    """The kind of hub object an audit entry is about."""

    QIP = "QIP"
    QIP_GOAL = "QIP_GOAL"
    QIP_TASK = "QIP_TASK"
    PD_PLAN = "PD_PLAN"
    PD_TRAINING = "PD_TRAINING"
    NOTE = "NOTE"
    ACTIVITY_ENTRY = "ACTIVITY_ENTRY"
    FILE_ATTACHMENT = "FILE_ATTACHMENT"
    FUNDING_ENTRY = "FUNDING_ENTRY"
    PROGRAM = "PROGRAM"
    SITE = "SITE"
    STAFF = "STAFF"
    FIELD = "FIELD"
    CROSSWALK_LINK = "CROSSWALK_LINK"
    HUB_ID = "HUB_ID"
    AUDIT_LOG = "AUDIT_LOG"


class LinkKind(StrEnum):
    """What a crosswalk link says: the record IS the program (``SAME``: only confirmed ones
    merge data), or the record (a licensed facility) is a SITE of the program (a confirmed
    one shows it among the program's sites; the facility stays its own program)."""

    SAME = "SAME"
    SITE = "SITE"


class LinkStatus(StrEnum):
    """A crosswalk link's decision: only CONFIRMED links merge data."""

    CONFIRMED = "CONFIRMED"
    SUGGESTED = "SUGGESTED"
    REJECTED = "REJECTED"
