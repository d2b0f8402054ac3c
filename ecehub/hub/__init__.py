"""The hub store: what no sector owns (QIPs, PD plans, notes, activity, funding, files, audit,
the identity crosswalk).

Use :class:`HubStore` (repository API, returns frozen records) and :func:`upgrade` (Alembic
migrations shipped in the package).
"""

from ecehub.hub.engine import create_hub_engine, hub_url
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
from ecehub.hub.migrate import current, downgrade, head, upgrade
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
)
from ecehub.hub.store import HubStore

__all__ = [
    "ActivityEntry",
    "ActivityKind",
    "AuditAction",
    "AuditEntry",
    "AuditPage",
    "FileAttachment",
    "FundingEntry",
    "FundingPurpose",
    "GoalStatus",
    "HubStore",
    "LinkStatus",
    "Note",
    "NoteVisibility",
    "ObjectType",
    "PdPlan",
    "PdTraining",
    "Qip",
    "QipGoal",
    "QipTask",
    "SubjectType",
    "TaskStatus",
    "TrainingStatus",
    "create_hub_engine",
    "current",
    "downgrade",
    "head",
    "hub_url",
    "upgrade",
]
