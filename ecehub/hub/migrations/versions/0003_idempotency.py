"""Idempotency keys of creates: per actor, the object the first call with a key created and a
fingerprint of its input, kept until ``expires_at``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HUB_ID = 200
KEY = 200


# The object types a key may name: those a create makes (a VARCHAR(32) without a CHECK, as
# every enum of the hub store).
CREATED_TYPES = (
    "QIP_GOAL",
    "QIP_TASK",
    "PD_PLAN",
    "PD_TRAINING",
    "NOTE",
    "ACTIVITY_ENTRY",
    "FILE_ATTACHMENT",
    "FUNDING_ENTRY",
)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("actor", sa.String(length=HUB_ID), nullable=False),
        sa.Column("key", sa.String(length=KEY), nullable=False),
        sa.Column(
            "object_type", sa.Enum(*CREATED_TYPES, native_enum=False, length=32), nullable=False
        ),
        sa.Column("object_id", sa.String(length=36), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_idempotency_key")),
    )
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_key_expires_at", table_name="idempotency_key")
    op.drop_table("idempotency_key")
