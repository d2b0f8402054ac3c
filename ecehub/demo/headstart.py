"""The Head Start data system's database: grantees, centers, classrooms, staff, PIR
enrollment counts, monitoring reviews with findings, CLASS observations and grant funding.
Its own naming (``*_nm``, ``address1``, ``grant_number`` like ``05CH010234``) and the view
``center_program`` (each center with its grantee), which ecehub maps as the program.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    select,
)

from ecehub.demo.seeding import ExactDecimal, score_type, seed_database
from ecehub.demo.world import World

__all__ = [
    "CENTER_PROGRAM_VIEW",
    "HEADSTART_METADATA",
    "center",
    "center_program_select",
    "class_domain_score",
    "class_observation",
    "classroom",
    "grant_funding",
    "grantee",
    "monitoring_review",
    "pir_enrollment",
    "review_finding",
    "seed_headstart",
    "staff_member",
]

HEADSTART_METADATA = MetaData()
CENTER_PROGRAM_VIEW = "center_program"


def _id(name: str) -> Column[int]:
    return Column(name, Integer, primary_key=True, autoincrement=False)


def _fk(name: str, target: str, *, nullable: bool = False) -> Column[Any]:
    kind = String(12) if target.endswith("grant_number") else Integer
    return Column(name, kind, ForeignKey(target), nullable=nullable, index=True)


grantee = Table(
    "grantee",
    HEADSTART_METADATA,
    Column("grant_number", String(12), primary_key=True),
    Column("grantee_name", String(200), nullable=False),
    Column("region", Integer, nullable=False),
    Column("agency_type", String(60)),
    Column("address1", String(200)),
    Column("city", String(80)),
    Column("state", String(2)),
    Column("zip", String(10)),
    Column("phone", String(20)),
    Column("executive_director", String(100)),
)

center = Table(
    "center",
    HEADSTART_METADATA,
    _id("center_id"),
    _fk("grant_number", "grantee.grant_number"),
    Column("center_name", String(200), nullable=False),
    Column("address1", String(200)),
    Column("city", String(80)),
    Column("county", String(80)),
    Column("state", String(2)),
    Column("zip", String(10)),
    Column("phone", String(20)),
    Column("state_license_no", String(20), index=True),
    Column("program_type", String(20)),
    Column("program_option", String(30)),
    Column("setting", String(30)),
)

classroom = Table(
    "classroom",
    HEADSTART_METADATA,
    _id("classroom_id"),
    _fk("center_id", "center.center_id"),
    Column("classroom_name", String(100)),
    Column("age_group", String(20)),
    Column("max_children", Integer),
    Column("youngest_months", Integer),
    Column("oldest_months", Integer),
)

staff_member = Table(
    "staff_member",
    HEADSTART_METADATA,
    _id("staff_id"),
    _fk("center_id", "center.center_id"),
    _fk("classroom_id", "classroom.classroom_id", nullable=True),
    Column("first_nm", String(60), nullable=False),
    Column("last_nm", String(60), nullable=False),
    Column("position_title", String(60)),
    Column("highest_degree", String(40)),
    Column("credential_list", String(200)),
    Column("registry_id", String(12), index=True),
    Column("hire_date", Date),
    Column("birth_year", Integer),
)

pir_enrollment = Table(
    "pir_enrollment",
    HEADSTART_METADATA,
    _id("pir_id"),
    _fk("center_id", "center.center_id"),
    Column("program_year", String(9), nullable=False),
    Column("age_group", String(20), nullable=False),
    Column("program_type", String(4), nullable=False),
    Column("cumulative_enrollment", Integer, nullable=False),
    Column("funded_slots", Integer, nullable=False),
)

monitoring_review = Table(
    "monitoring_review",
    HEADSTART_METADATA,
    _id("review_id"),
    _fk("center_id", "center.center_id"),
    Column("review_date", Date, nullable=False),
    Column("review_type", String(20)),
    Column("review_status", String(20)),
    Column("reviewer", String(100)),
)

review_finding = Table(
    "review_finding",
    HEADSTART_METADATA,
    _id("finding_id"),
    _fk("review_id", "monitoring_review.review_id"),
    Column("standard_citation", String(30), nullable=False),
    Column("finding_text", Text),
    Column("finding_status", String(20), nullable=False),
)

class_observation = Table(
    "class_observation",
    HEADSTART_METADATA,
    _id("obs_id"),
    _fk("center_id", "center.center_id"),
    _fk("classroom_id", "classroom.classroom_id"),
    Column("observed_on", Date, nullable=False),
    Column("observer", String(100)),
    Column("instrument", String(20), nullable=False),
    Column("total_score", score_type()),
)

class_domain_score = Table(
    "class_domain_score",
    HEADSTART_METADATA,
    _id("id"),
    _fk("obs_id", "class_observation.obs_id"),
    Column("domain", String(60), nullable=False),
    Column("score", score_type()),
)

grant_funding = Table(
    "grant_funding",
    HEADSTART_METADATA,
    _id("funding_id"),
    _fk("grant_number", "grantee.grant_number"),
    _fk("center_id", "center.center_id"),
    Column("budget_period_start", Date, nullable=False),
    Column("budget_period_end", Date, nullable=False),
    Column("amount", ExactDecimal(14, 2), nullable=False),
    Column("funding_type", String(20), nullable=False),
    Column("budget_category", String(20), nullable=False),
)


def center_program_select() -> Select[Any]:
    """The body of the ``center_program`` view: each center with its grantee."""
    return select(
        center.c.center_id,
        center.c.center_name,
        grantee.c.grantee_name,
        center.c.grant_number,
        grantee.c.region,
        center.c.address1,
        center.c.city,
        center.c.county,
        center.c.state,
        center.c.zip,
        center.c.phone,
        center.c.state_license_no,
        center.c.program_type,
        center.c.program_option,
        center.c.setting,
    ).select_from(center.join(grantee, center.c.grant_number == grantee.c.grant_number))


async def seed_headstart(url: str, world: World) -> None:
    """(Re)create the Head Start database at ``url`` (a SQLAlchemy async URL) from ``world``,
    with the ``center_program`` view."""
    hs = world.head_start
    await seed_database(
        url,
        HEADSTART_METADATA,
        {
            "grantee": hs.grantees,
            "center": hs.centers,
            "classroom": hs.classrooms,
            "staff_member": hs.staff,
            "pir_enrollment": hs.enrollment,
            "monitoring_review": hs.reviews,
            "review_finding": hs.findings,
            "class_observation": hs.observations,
            "class_domain_score": hs.domain_scores,
            "grant_funding": hs.funding,
        },
        views={CENTER_PROGRAM_VIEW: center_program_select()},
    )
