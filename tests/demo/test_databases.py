"""Seeding the Licensing and Head Start databases on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ecehub.config.canonical import coerce
from ecehub.demo import (
    HEADSTART_METADATA,
    LICENSING_METADATA,
    World,
    generate_world,
    seed_headstart,
    seed_licensing,
)
from ecehub.demo.headstart import CENTER_PROGRAM_VIEW, grant_funding

pytestmark = pytest.mark.services


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _counts(engine: AsyncEngine, tables: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    async with engine.connect() as conn:
        for name in tables:
            out[name] = (await conn.execute(text(f"SELECT COUNT(*) FROM {name}"))).scalar_one()
    return out


async def _names(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        views = await conn.run_sync(lambda c: set(inspect(c).get_view_names()))
    return tables, views


async def test_licensing_tables_hold_the_world(
    db_url: str, engine: AsyncEngine, world: World
) -> None:
    await seed_licensing(db_url, world)
    tables, _ = await _names(engine)
    assert set(LICENSING_METADATA.tables) <= tables
    counts = await _counts(engine, ["facility", "inspection", "violation"])
    lic = world.licensing
    assert counts == {
        "facility": len(lic.facilities),
        "inspection": len(lic.inspections),
        "violation": len(lic.violations),
    }
    first = lic.facilities[0]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT facility_name, issue_dt, capacity FROM facility WHERE license_no = :k"
                ),
                {"k": first.license_no},
            )
        ).one()
        weights = (await conn.execute(text("SELECT DISTINCT risk_weight FROM violation"))).all()
    assert row[0] == first.facility_name
    assert coerce("date", row[1]) == first.issue_dt
    assert row[2] == first.capacity
    assert {float(w) for (w,) in weights} == {v.risk_weight for v in lic.violations}


async def test_headstart_tables_and_view(db_url: str, engine: AsyncEngine, world: World) -> None:
    await seed_headstart(db_url, world)
    tables, views = await _names(engine)
    assert set(HEADSTART_METADATA.tables) <= tables
    assert CENTER_PROGRAM_VIEW in views
    hs = world.head_start
    expected = {
        "grantee": len(hs.grantees),
        "center": len(hs.centers),
        "classroom": len(hs.classrooms),
        "staff_member": len(hs.staff),
        "pir_enrollment": len(hs.enrollment),
        "monitoring_review": len(hs.reviews),
        "review_finding": len(hs.findings),
        "class_observation": len(hs.observations),
        "class_domain_score": len(hs.domain_scores),
        "grant_funding": len(hs.funding),
        CENTER_PROGRAM_VIEW: len(hs.centers),
    }
    assert await _counts(engine, list(expected)) == expected
    grantees = {g.grant_number: g.grantee_name for g in hs.grantees}
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT center_id, center_name, grantee_name, grant_number, "
                    "state_license_no FROM center_program ORDER BY center_id"
                )
            )
        ).all()
    assert [
        (r.center_id, r.center_name, r.grantee_name, r.grant_number, r.state_license_no)
        for r in rows
    ] == [
        (c.center_id, c.center_name, grantees[c.grant_number], c.grant_number, c.state_license_no)
        for c in hs.centers
    ]


async def test_money_round_trips_exactly(db_url: str, engine: AsyncEngine, world: World) -> None:
    await seed_headstart(db_url, world)
    expected = [f.amount for f in world.head_start.funding]
    async with engine.connect() as conn:
        # As a connector reads it (raw driver values, coerced the canonical way) ...
        raw = await conn.execute(text("SELECT amount FROM grant_funding ORDER BY funding_id"))
        as_read = [coerce("decimal", v) for (v,) in raw]
        # ... and through the typed table.
        typed = (
            await conn.execute(select(grant_funding.c.amount).order_by(grant_funding.c.funding_id))
        ).scalars()
        total = (await conn.execute(select(func.count()).select_from(grant_funding))).scalar_one()
    assert as_read == expected
    assert [str(a) for a in as_read] == [str(a) for a in expected]
    assert list(typed) == expected
    assert all(isinstance(a, Decimal) for a in expected)
    assert total == len(expected)


async def test_seeding_again_replaces_the_data(
    db_url: str, engine: AsyncEngine, world: World
) -> None:
    small = generate_world(20, seed=1)
    await seed_headstart(db_url, small)
    await seed_licensing(db_url, small)
    for _ in range(2):
        await seed_headstart(db_url, world)
        await seed_licensing(db_url, world)
        counts = await _counts(engine, ["facility", "violation", "staff_member", "center_program"])
        assert counts == {
            "facility": len(world.licensing.facilities),
            "violation": len(world.licensing.violations),
            "staff_member": len(world.head_start.staff),
            "center_program": len(world.head_start.centers),
        }
