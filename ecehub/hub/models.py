"""The hub store's tables (SQLAlchemy 2 declarative), the same on SQLite and PostgreSQL.

Hub rows point at programs, sites, rooms and staff by hub ID (``LICENSE_NUMBER:CCL-104233``,
``@head_start:12``), a string of up to 200 characters, never by a sector's key. Every row that
belongs to a program carries its ``program_id`` (goals, tasks, PD plans and trainings too), so
audit entries, authorisation and per-program summaries need no joins.

Portability choices:
- primary keys are UUIDs as 36-character strings (the audit log has an integer sequence);
- enums are stored as their names in ``VARCHAR(32)``, never as native enum types;
- money is ``NUMERIC(14, 2)``: exact on PostgreSQL; SQLite keeps it as a REAL, which holds every
  value of 14 significant digits, and SQLAlchemy reads it back rounded to 2 places, so the
  Decimal that was written is the Decimal read back. Sum money in Python, not with SQL ``SUM``;
- timestamps are timezone-aware UTC (:class:`UTCDateTime`), also on SQLite.

The identity crosswalk (revision 0002) has three tables: ``crosswalk_hub_id`` (hub IDs the
crosswalk knows of, and which one each was merged into), ``crosswalk_link`` (hub ID ->
source record, confirmed / suggested / rejected) and ``crosswalk_state`` (one row: the
generation, bumped by every crosswalk write, that tells readers their cached index is stale).

Alembic revisions in ``ecehub/hub/migrations/versions`` must create exactly these tables
(``tests/hub/test_migrations.py`` compares them).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ecehub.hub.enums import (
    ActivityKind,
    AuditAction,
    FundingPurpose,
    GoalStatus,
    LinkKind,
    LinkStatus,
    NoteVisibility,
    ObjectType,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)

__all__ = [
    "HUB_ID_LENGTH",
    "IDEMPOTENCY_KEY_LENGTH",
    "ActivityRow",
    "AuditRow",
    "Base",
    "CrosswalkStateRow",
    "FileRow",
    "FundingRow",
    "GoalRow",
    "HubIdRow",
    "IdempotencyKeyRow",
    "LinkRow",
    "PdPlanGoalRow",
    "PdPlanRow",
    "QipRow",
    "TaskRow",
    "TrainingRow",
    "UTCDateTime",
    "new_id",
]

HUB_ID_LENGTH = 200
"""Longest hub ID (and actor name) the store keeps."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend. Naive datetimes are refused: a hub
    timestamp without a zone is a bug, not a value to guess about. SQLite stores the UTC wall
    time as text (which sorts in time order); PostgreSQL a ``TIMESTAMP WITH TIME ZONE``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give it a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


def _hub_id() -> String:
    return String(HUB_ID_LENGTH)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _Tracked:
    """Who created and last changed a row, when, and its optimistic-concurrency version."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(_hub_id())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(_hub_id())
    version: Mapped[int] = mapped_column(Integer, default=1)


class _SoftDeleted:
    """Deleted rows stay (history matters); reads hide them unless asked."""

    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[str | None] = mapped_column(_hub_id())


class QipRow(_Tracked, Base):
    """The Quality Improvement Plan: one per program."""

    __tablename__ = "qip"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(_hub_id(), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))


class GoalRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "qip_goal"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    qip_id: Mapped[str] = mapped_column(ForeignKey("qip.id"), index=True)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    support_types: Mapped[list[str]] = mapped_column(JSON)
    target_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(_enum(GoalStatus))
    position: Mapped[int] = mapped_column(Integer)


class TaskRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "qip_task"
    __table_args__ = (CheckConstraint("minutes_spent >= 0", name="minutes_spent_not_negative"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    goal_id: Mapped[str] = mapped_column(ForeignKey("qip_goal.id"), index=True)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    support_type: Mapped[str | None] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    minutes_spent: Mapped[int] = mapped_column(Integer)


class PdPlanRow(_Tracked, _SoftDeleted, Base):
    """A professional-development plan for one staff member, under the program's QIP."""

    __tablename__ = "pd_plan"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    qip_id: Mapped[str] = mapped_column(ForeignKey("qip.id"), index=True)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    staff_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    credential_target: Mapped[str | None] = mapped_column(String(200))
    planned_hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    completed_hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    notes: Mapped[str] = mapped_column(Text)

    goal_links: Mapped[list[PdPlanGoalRow]] = relationship(
        lazy="selectin", order_by="PdPlanGoalRow.goal_id", viewonly=True
    )

    @property
    def goal_ids(self) -> list[str]:
        return [link.goal_id for link in self.goal_links]


class PdPlanGoalRow(Base):
    """Which QIP goals a PD plan serves."""

    __tablename__ = "pd_plan_goal"

    pd_plan_id: Mapped[str] = mapped_column(ForeignKey("pd_plan.id"), primary_key=True)
    goal_id: Mapped[str] = mapped_column(ForeignKey("qip_goal.id"), primary_key=True, index=True)


class TrainingRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "pd_training"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pd_plan_id: Mapped[str] = mapped_column(ForeignKey("pd_plan.id"), index=True)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    status: Mapped[TrainingStatus] = mapped_column(_enum(TrainingStatus))


class NoteRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "note"
    __table_args__ = (Index("ix_note_subject", "subject_type", "subject_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(_enum(SubjectType))
    subject_id: Mapped[str] = mapped_column(_hub_id())
    support_type: Mapped[str | None] = mapped_column(String(40))
    author: Mapped[str] = mapped_column(_hub_id())
    visibility: Mapped[NoteVisibility] = mapped_column(_enum(NoteVisibility))
    body: Mapped[str] = mapped_column(Text)


class ActivityRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "activity_entry"
    __table_args__ = (
        Index("ix_activity_entry_program_occurred", "program_id", "occurred_at"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(_hub_id())
    kind: Mapped[ActivityKind] = mapped_column(_enum(ActivityKind))
    support_type: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    staff_ids: Mapped[list[str]] = mapped_column(JSON)
    room_id: Mapped[str | None] = mapped_column(_hub_id())
    summary: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(_hub_id())


class FileRow(_SoftDeleted, Base):
    """Metadata of an uploaded file; the bytes live in file storage under ``storage_key``."""

    __tablename__ = "file_attachment"
    __table_args__ = (
        Index("ix_file_attachment_subject", "subject_type", "subject_id"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(_enum(SubjectType))
    subject_id: Mapped[str] = mapped_column(_hub_id())
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(_hub_id())
    version: Mapped[int] = mapped_column(Integer, default=1)


class FundingRow(_Tracked, _SoftDeleted, Base):
    __tablename__ = "funding_entry"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(_hub_id(), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    support_type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[FundingPurpose] = mapped_column(_enum(FundingPurpose))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    qip_task_id: Mapped[str | None] = mapped_column(ForeignKey("qip_task.id"), index=True)
    description: Mapped[str] = mapped_column(Text)


class AuditRow(Base):
    """Who did what to which hub object, when, with the object before and after (JSON)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_program_at", "program_id", "at"),
        Index("ix_audit_entry_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    program_id: Mapped[str] = mapped_column(_hub_id())
    actor: Mapped[str] = mapped_column(_hub_id())
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction))
    object_type: Mapped[ObjectType] = mapped_column(_enum(ObjectType))
    object_id: Mapped[str] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


CONFIRMED_LIVE = "status = 'CONFIRMED' AND deleted_at IS NULL"
"""The links that merge data; a source record has at most one (a partial unique index)."""


class HubIdRow(_Tracked, Base):
    """A hub ID of a program, site or staff member that the crosswalk has written about.
    ``merged_into`` is the hub ID it was merged into: its records now belong there, and the
    old ID still resolves (hub rows that point at it stay valid)."""

    __tablename__ = "crosswalk_hub_id"
    __table_args__ = (
        UniqueConstraint("entity", "hub_id", name="uq_crosswalk_hub_id_entity_hub_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[str] = mapped_column(_hub_id())
    merged_into: Mapped[str | None] = mapped_column(_hub_id())


class LinkRow(_Tracked, _SoftDeleted, Base):
    """A link from a hub ID to one source record (``source``, ``entity``, ``source_key``), of
    one ``kind`` (the same object, or a site of the program). One row per pair and kind, ever
    (a record confirmed as one program may also be confirmed a site of another): a decision
    is changed in place, an unlinked pair is soft-deleted (and restored by linking it again),
    so a re-run of the matcher finds every past decision."""

    __tablename__ = "crosswalk_link"
    __table_args__ = (
        UniqueConstraint(
            "entity", "kind", "source", "source_key", "hub_id", name="uq_crosswalk_link_pair"
        ),
        Index("ix_crosswalk_link_hub", "entity", "hub_id"),
        Index("ix_crosswalk_link_review", "entity", "status", "score"),
        Index(
            "uq_crosswalk_link_confirmed",
            "entity",
            "kind",
            "source",
            "source_key",
            unique=True,
            sqlite_where=text(CONFIRMED_LIVE),
            postgresql_where=text(CONFIRMED_LIVE),
        ),
        CheckConstraint("score >= 0 AND score <= 1", name="score_in_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(40))
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind), server_default=LinkKind.SAME.value)
    """``SAME``: the record is the object; ``SITE``: the record is a site of the program."""
    hub_id: Mapped[str] = mapped_column(_hub_id())
    source: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(_hub_id())
    status: Mapped[LinkStatus] = mapped_column(_enum(LinkStatus))
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    auto: Mapped[bool] = mapped_column(Boolean)
    """The matcher judged the link safe to confirm without review (``status`` says whether
    anyone did)."""
    decided_by: Mapped[str | None] = mapped_column(_hub_id())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    """Why the person decided as they did (a rejection's reason), as they wrote it."""


class CrosswalkStateRow(Base):
    """One row (``id`` 1): the crosswalk's generation, bumped in the same transaction as every
    crosswalk write, so a reader knows with one cheap SELECT whether its index is current."""

    __tablename__ = "crosswalk_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


IDEMPOTENCY_KEY_LENGTH = 200


class IdempotencyKeyRow(Base):
    """A create's idempotency key (revision 0003): per actor, the object the first call with
    the key created and a fingerprint (SHA-256) of that call's normalised input. The primary
    key (actor, key) is what makes two concurrent calls with one key create one object: the
    second INSERT waits for the first transaction and fails, and the loser reads the winner's
    row. ``object_id`` is set before the creating transaction commits, so every committed row
    has one. Rows past ``expires_at`` are ignored and pruned."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)

    actor: Mapped[str] = mapped_column(_hub_id(), primary_key=True)
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), primary_key=True)
    object_type: Mapped[ObjectType] = mapped_column(_enum(ObjectType))
    object_id: Mapped[str | None] = mapped_column(String(36))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
