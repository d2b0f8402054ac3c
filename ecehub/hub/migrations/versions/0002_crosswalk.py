"""The identity crosswalk: hub IDs, links from hub IDs to source records, and the generation
counter readers check; audit entries may be about crosswalk links and hub IDs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HUB_ID = 200
CONFIRMED_LIVE = "status = 'CONFIRMED' AND deleted_at IS NULL"

# audit_entry.object_type gains CROSSWALK_LINK and HUB_ID. It is a VARCHAR(32) without a CHECK
# (non-native enums are created without one), so the database needs no change for that; on
# downgrade, entries with those types go, since revision 0001 cannot read them.
NEW_OBJECT_TYPES = ("CROSSWALK_LINK", "HUB_ID")


def _enum(*names: str) -> sa.Enum:
    return sa.Enum(*names, native_enum=False, length=32)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _tracked() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("created_by", sa.String(length=HUB_ID), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("updated_by", sa.String(length=HUB_ID), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "crosswalk_hub_id",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("hub_id", sa.String(length=HUB_ID), nullable=False),
        sa.Column("merged_into", sa.String(length=HUB_ID), nullable=True),
        *_tracked(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crosswalk_hub_id")),
        sa.UniqueConstraint("entity", "hub_id", name="uq_crosswalk_hub_id_entity_hub_id"),
    )
    op.create_table(
        "crosswalk_link",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("hub_id", sa.String(length=HUB_ID), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_key", sa.String(length=HUB_ID), nullable=False),
        sa.Column("status", _enum("CONFIRMED", "SUGGESTED", "REJECTED"), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=HUB_ID), nullable=True),
        sa.Column("decided_at", _when(), nullable=True),
        *_tracked(),
        sa.Column("deleted_at", _when(), nullable=True),
        sa.Column("deleted_by", sa.String(length=HUB_ID), nullable=True),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_crosswalk_link_score_in_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crosswalk_link")),
        sa.UniqueConstraint(
            "entity", "source", "source_key", "hub_id", name="uq_crosswalk_link_pair"
        ),
    )
    op.create_index("ix_crosswalk_link_hub", "crosswalk_link", ["entity", "hub_id"])
    op.create_index("ix_crosswalk_link_review", "crosswalk_link", ["entity", "status", "score"])
    op.create_index(
        "uq_crosswalk_link_confirmed",
        "crosswalk_link",
        ["entity", "source", "source_key"],
        unique=True,
        sqlite_where=sa.text(CONFIRMED_LIVE),
        postgresql_where=sa.text(CONFIRMED_LIVE),
    )
    state = op.create_table(
        "crosswalk_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crosswalk_state")),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    audit = sa.table("audit_entry", sa.column("object_type", sa.String(32)))
    op.execute(audit.delete().where(audit.c.object_type.in_(NEW_OBJECT_TYPES)))
    op.drop_table("crosswalk_state")
    op.drop_table("crosswalk_link")
    op.drop_table("crosswalk_hub_id")
