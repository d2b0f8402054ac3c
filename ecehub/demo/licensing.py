"""The state child-care licensing agency's database: facilities, inspections and the rules
checked at each inspection, each facility's licensed places per age group and its assigned
licensing consultant. Its own naming: ``license_no`` keys, ``*_dt`` dates, UPPER_SNAKE
codes (``CENTER``/``FCC``, ``COMPLIANT``/``NON_COMPLIANT``/``NOT_APPLICABLE``) next to
CEDS licensing statuses (``Licensed``, ``Probation``, ``Suspended``, ``Expired``) and CEDS
monitoring visit purposes (``HealthSafety``, ``LicensingVisits``, ``Renewal``, ``Review``,
``Other``).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, MetaData, String, Table, Text

from ecehub.demo.seeding import score_type, seed_database
from ecehub.demo.world import World

__all__ = [
    "LICENSING_METADATA",
    "facility",
    "facility_capacity",
    "facility_contact",
    "inspection",
    "seed_licensing",
    "violation",
]

LICENSING_METADATA = MetaData()

facility = Table(
    "facility",
    LICENSING_METADATA,
    Column("license_no", String(20), primary_key=True),
    Column("facility_name", String(200), nullable=False),
    Column("street_addr", String(200), nullable=False),
    Column("city", String(80), nullable=False),
    Column("county_name", String(80), nullable=False),
    Column("state_cd", String(2), nullable=False),
    Column("zip_code", String(10), nullable=False),
    Column("phone_no", String(20)),
    Column("email_addr", String(200)),
    Column("license_type", String(10), nullable=False),
    Column("license_status", String(20), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("ages_served", String(100)),
    Column("issue_dt", Date),
    Column("expiry_dt", Date),
)

inspection = Table(
    "inspection",
    LICENSING_METADATA,
    Column("inspection_id", Integer, primary_key=True, autoincrement=False),
    Column("license_no", String(20), ForeignKey("facility.license_no"), nullable=False, index=True),
    Column("inspection_date", Date, nullable=False),
    Column("inspection_type", String(30), nullable=False),
    Column("announced", Boolean, nullable=False),
    Column("form_name", String(80), nullable=False),
    Column("inspector_name", String(100)),
    Column("outcome", String(30)),
)

violation = Table(
    "violation",
    LICENSING_METADATA,
    Column("violation_id", Integer, primary_key=True, autoincrement=False),
    Column(
        "inspection_id",
        Integer,
        ForeignKey("inspection.inspection_id"),
        nullable=False,
        index=True,
    ),
    Column("rule_citation", String(30), nullable=False),
    Column("rule_text", Text, nullable=False),
    Column("finding", String(20), nullable=False),
    Column("risk_weight", score_type(3, 1)),
    Column("corrective_due", Date),
    Column("comments", Text),
)

facility_capacity = Table(
    "facility_capacity",
    LICENSING_METADATA,
    Column("capacity_id", Integer, primary_key=True, autoincrement=False),
    Column("license_no", String(20), ForeignKey("facility.license_no"), nullable=False, index=True),
    Column("age_group", String(20), nullable=False),
    Column("places", Integer, nullable=False),
)

facility_contact = Table(
    "facility_contact",
    LICENSING_METADATA,
    Column("contact_id", Integer, primary_key=True, autoincrement=False),
    Column("license_no", String(20), ForeignKey("facility.license_no"), nullable=False, index=True),
    Column("contact_role", String(40), nullable=False),
    Column("contact_name", String(100), nullable=False),
    Column("phone_no", String(20)),
    Column("email_addr", String(200)),
)


async def seed_licensing(url: str, world: World) -> None:
    """(Re)create the licensing database at ``url`` (a SQLAlchemy async URL) from ``world``."""
    records = world.licensing
    await seed_database(
        url,
        LICENSING_METADATA,
        {
            "facility": records.facilities,
            "inspection": records.inspections,
            "violation": records.violations,
            "facility_capacity": records.capacities,
            "facility_contact": records.contacts,
        },
    )
