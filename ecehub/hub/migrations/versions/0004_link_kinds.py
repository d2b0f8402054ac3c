"""Crosswalk links of two kinds (``SAME``: the record is the object; ``SITE``: the record, a
licensed facility, is a site of the program) and the reason a person gave for a decision.
One row per pair and kind; a record has at most one confirmed live link of each kind.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIRMED_LIVE = "status = 'CONFIRMED' AND deleted_at IS NULL"


def _confirmed_index(columns: list[str]) -> None:
    op.create_index(
        "uq_crosswalk_link_confirmed",
        "crosswalk_link",
        columns,
        unique=True,
        sqlite_where=sa.text(CONFIRMED_LIVE),
        postgresql_where=sa.text(CONFIRMED_LIVE),
    )


def upgrade() -> None:
    op.drop_index("uq_crosswalk_link_confirmed", table_name="crosswalk_link")
    # SQLite cannot alter a constraint: batch mode copies the table (PostgreSQL alters it).
    with op.batch_alter_table("crosswalk_link") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=32), server_default="SAME", nullable=False)
        )
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch.drop_constraint("uq_crosswalk_link_pair", type_="unique")
        batch.create_unique_constraint(
            "uq_crosswalk_link_pair", ["entity", "kind", "source", "source_key", "hub_id"]
        )
    _confirmed_index(["entity", "kind", "source", "source_key"])


def downgrade() -> None:
    # Site links have no place in the older store: they go (their audit entries stay).
    link = sa.table("crosswalk_link", sa.column("kind", sa.String(32)))
    op.execute(link.delete().where(link.c.kind != "SAME"))
    op.drop_index("uq_crosswalk_link_confirmed", table_name="crosswalk_link")
    with op.batch_alter_table("crosswalk_link") as batch:
        batch.drop_constraint("uq_crosswalk_link_pair", type_="unique")
        batch.create_unique_constraint(
            "uq_crosswalk_link_pair", ["entity", "source", "source_key", "hub_id"]
        )
        batch.drop_column("decision_reason")
        batch.drop_column("kind")
    _confirmed_index(["entity", "source", "source_key"])
