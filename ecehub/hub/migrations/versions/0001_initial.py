"""The hub store: QIPs, goals, tasks, PD plans and trainings, notes, activity, files, funding,
and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HUB_ID = 200  # hub IDs and actor names


def _enum(*names: str) -> sa.Enum:
    """Stored as the member name in VARCHAR(32), never a native enum type."""
    return sa.Enum(*names, native_enum=False, length=32)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _hub_id(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=HUB_ID), nullable=nullable)


def _tracked() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("created_by", sa.String(length=HUB_ID), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("updated_by", sa.String(length=HUB_ID), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def _soft_deleted() -> list[sa.Column[Any]]:
    return [
        sa.Column("deleted_at", _when(), nullable=True),
        sa.Column("deleted_by", sa.String(length=HUB_ID), nullable=True),
    ]


WORK_STATUS = ("NOT_STARTED", "IN_PROGRESS", "DONE", "DROPPED")
SUBJECT_TYPE = ("PROGRAM", "SITE", "ROOM", "STAFF", "GOAL", "TASK")


def upgrade() -> None:
    op.create_table(
        "qip",
        _id(),
        _hub_id("program_id"),
        sa.Column("title", sa.String(length=200), nullable=False),
        *_tracked(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qip")),
    )
    op.create_index(op.f("ix_qip_program_id"), "qip", ["program_id"], unique=True)

    op.create_table(
        "qip_goal",
        _id(),
        sa.Column("qip_id", sa.String(length=36), nullable=False),
        _hub_id("program_id"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("support_types", sa.JSON(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("status", _enum(*WORK_STATUS), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.ForeignKeyConstraint(["qip_id"], ["qip.id"], name=op.f("fk_qip_goal_qip_id_qip")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qip_goal")),
    )
    op.create_index(op.f("ix_qip_goal_qip_id"), "qip_goal", ["qip_id"])
    op.create_index(op.f("ix_qip_goal_program_id"), "qip_goal", ["program_id"])

    op.create_table(
        "qip_task",
        _id(),
        sa.Column("goal_id", sa.String(length=36), nullable=False),
        _hub_id("program_id"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("support_type", sa.String(length=40), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("status", _enum(*WORK_STATUS), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("minutes_spent", sa.Integer(), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.CheckConstraint(
            "minutes_spent >= 0", name=op.f("ck_qip_task_minutes_spent_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["qip_goal.id"], name=op.f("fk_qip_task_goal_id_qip_goal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qip_task")),
    )
    op.create_index(op.f("ix_qip_task_goal_id"), "qip_task", ["goal_id"])
    op.create_index(op.f("ix_qip_task_program_id"), "qip_task", ["program_id"])

    op.create_table(
        "pd_plan",
        _id(),
        sa.Column("qip_id", sa.String(length=36), nullable=False),
        _hub_id("program_id"),
        _hub_id("staff_id"),
        sa.Column("credential_target", sa.String(length=200), nullable=True),
        sa.Column("planned_hours", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("completed_hours", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.ForeignKeyConstraint(["qip_id"], ["qip.id"], name=op.f("fk_pd_plan_qip_id_qip")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pd_plan")),
    )
    op.create_index(op.f("ix_pd_plan_qip_id"), "pd_plan", ["qip_id"])
    op.create_index(op.f("ix_pd_plan_program_id"), "pd_plan", ["program_id"])
    op.create_index(op.f("ix_pd_plan_staff_id"), "pd_plan", ["staff_id"])

    op.create_table(
        "pd_plan_goal",
        sa.Column("pd_plan_id", sa.String(length=36), nullable=False),
        sa.Column("goal_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["pd_plan_id"], ["pd_plan.id"], name=op.f("fk_pd_plan_goal_pd_plan_id_pd_plan")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["qip_goal.id"], name=op.f("fk_pd_plan_goal_goal_id_qip_goal")
        ),
        sa.PrimaryKeyConstraint("pd_plan_id", "goal_id", name=op.f("pk_pd_plan_goal")),
    )
    op.create_index(op.f("ix_pd_plan_goal_goal_id"), "pd_plan_goal", ["goal_id"])

    op.create_table(
        "pd_training",
        _id(),
        sa.Column("pd_plan_id", sa.String(length=36), nullable=False),
        _hub_id("program_id"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("status", _enum("PLANNED", "COMPLETED", "CANCELLED"), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.ForeignKeyConstraint(
            ["pd_plan_id"], ["pd_plan.id"], name=op.f("fk_pd_training_pd_plan_id_pd_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pd_training")),
    )
    op.create_index(op.f("ix_pd_training_pd_plan_id"), "pd_training", ["pd_plan_id"])
    op.create_index(op.f("ix_pd_training_program_id"), "pd_training", ["program_id"])

    op.create_table(
        "note",
        _id(),
        _hub_id("program_id"),
        sa.Column("subject_type", _enum(*SUBJECT_TYPE), nullable=False),
        _hub_id("subject_id"),
        sa.Column("support_type", sa.String(length=40), nullable=True),
        _hub_id("author"),
        sa.Column("visibility", _enum("PRIVATE", "TEAM", "PROGRAM"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    op.create_index(op.f("ix_note_program_id"), "note", ["program_id"])
    op.create_index("ix_note_subject", "note", ["subject_type", "subject_id"])

    op.create_table(
        "activity_entry",
        _id(),
        _hub_id("program_id"),
        sa.Column(
            "kind",
            _enum("SITE_VISIT", "COACHING", "TRAINING", "PHONE_VIRTUAL", "OTHER"),
            nullable=False,
        ),
        sa.Column("support_type", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", _when(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("staff_ids", sa.JSON(), nullable=False),
        _hub_id("room_id", nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        _hub_id("author"),
        *_tracked(),
        *_soft_deleted(),
        sa.CheckConstraint("minutes >= 0", name=op.f("ck_activity_entry_minutes_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_entry")),
    )
    op.create_index(
        "ix_activity_entry_program_occurred", "activity_entry", ["program_id", "occurred_at"]
    )

    op.create_table(
        "file_attachment",
        _id(),
        _hub_id("program_id"),
        sa.Column("subject_type", _enum(*SUBJECT_TYPE), nullable=False),
        _hub_id("subject_id"),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("uploaded_at", _when(), nullable=False),
        _hub_id("uploaded_by"),
        sa.Column("version", sa.Integer(), nullable=False),
        *_soft_deleted(),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_file_attachment_size_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_file_attachment_storage_key")),
    )
    op.create_index(op.f("ix_file_attachment_program_id"), "file_attachment", ["program_id"])
    op.create_index("ix_file_attachment_subject", "file_attachment", ["subject_type", "subject_id"])

    op.create_table(
        "funding_entry",
        _id(),
        _hub_id("program_id"),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("support_type", sa.String(length=40), nullable=False),
        sa.Column(
            "purpose",
            _enum(
                "PROFESSIONAL_DEVELOPMENT",
                "PROGRAM_SUPPORT",
                "MATERIALS",
                "QIP_TASK",
                "SCHOLARSHIP",
                "WAGE_INCENTIVE",
                "OTHER",
            ),
            nullable=False,
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("qip_task_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        *_tracked(),
        *_soft_deleted(),
        sa.CheckConstraint("amount > 0", name=op.f("ck_funding_entry_amount_positive")),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_funding_entry_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["qip_task_id"], ["qip_task.id"], name=op.f("fk_funding_entry_qip_task_id_qip_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_entry")),
    )
    op.create_index(op.f("ix_funding_entry_program_id"), "funding_entry", ["program_id"])
    op.create_index(op.f("ix_funding_entry_qip_task_id"), "funding_entry", ["qip_task_id"])

    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # SQLite: INTEGER PRIMARY KEY
            autoincrement=True,
            nullable=False,
        ),
        _hub_id("program_id"),
        _hub_id("actor"),
        sa.Column("at", _when(), nullable=False),
        sa.Column("action", _enum("CREATE", "UPDATE", "DELETE", "RESTORE"), nullable=False),
        sa.Column(
            "object_type",
            _enum(
                "QIP",
                "QIP_GOAL",
                "QIP_TASK",
                "PD_PLAN",
                "PD_TRAINING",
                "NOTE",
                "ACTIVITY_ENTRY",
                "FILE_ATTACHMENT",
                "FUNDING_ENTRY",
            ),
            nullable=False,
        ),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index("ix_audit_entry_program_at", "audit_entry", ["program_id", "at"])
    op.create_index("ix_audit_entry_object", "audit_entry", ["object_type", "object_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents for the foreign keys.
    for table in (
        "audit_entry",
        "funding_entry",
        "file_attachment",
        "activity_entry",
        "note",
        "pd_training",
        "pd_plan_goal",
        "pd_plan",
        "qip_task",
        "qip_goal",
        "qip",
    ):
        op.drop_table(table)
