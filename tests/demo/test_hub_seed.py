"""The demo's seeded hub data: the sample query shows sector and hub data side by side; the
seed is audited, deterministic and idempotent."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.cli.demo import SAMPLE_QUERY
from ecehub.config import load_config
from ecehub.demo import DemoSystems, World, generate_world
from ecehub.demo.hub_seed import COACH, choose_programs, director_of, seed_hub
from ecehub.hub import HubStore
from ecehub.hub.migrate import upgrade
from ecehub.ids import decode_global_id
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient

PROGRAMS = 60
SAMPLE_IDS = """{ programs(first: 3, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4})
  { nodes { id } } }"""
PROGRAM_VIEW = """query($id: ID!) { program(id: $id) {
  staff { id }
  qip { goals { title supportTypes status version tasks { title status owner dueDate
        minutesSpent version funding { amount purpose source } notes { body author } } }
        pdPlans { staffId credentialTarget trainings { title status hours } } }
  notes { body author visibility }
  activity { source kind minutes author staffSupported }
  funding { amount purpose source qipTaskId }
} }"""
AUDIT = """query($p: ID!) { audit(programId: $p, first: 500) {
  entries { actor action objectType changedFields before after } } }"""


@contextlib.asynccontextmanager
async def seeded_graph(tmp_path: Path) -> AsyncIterator[tuple[DemoSystems, GraphClient]]:
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path, hub_programs=12) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env}).model_copy(
            update={"access": None}  # read as in development: no roles
        )
        hub = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, hub))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield demo, GraphClient(client)
        finally:
            await hub.aclose()


async def _data(client: GraphClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await client.query(query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_the_sample_query_shows_sector_and_hub_data_side_by_side(tmp_path: Path) -> None:
    async with seeded_graph(tmp_path) as (demo, client):
        sample = (await _data(client, SAMPLE_QUERY))["programs"]["nodes"]
        ids = [n["id"] for n in (await _data(client, SAMPLE_IDS))["programs"]["nodes"]]
        view = (await _data(client, PROGRAM_VIEW, {"id": ids[0]}))["program"]
        audit = (await _data(client, AUDIT, {"p": ids[0]}))["audit"]["entries"]
        async with HubStore(demo.env["ECEHUB_HUB_URL"]) as store:
            stored = await store.notes_for_programs([decode_global_id(ids[0], "Program")])
        private_visibilities = {n.visibility.value for notes in stored.values() for n in notes}
    seeded = demo.hub_seed
    assert seeded is not None and len(seeded.programs) == 12
    # The programs the sample query lists first are the ones seeded first.
    hub_ids = [decode_global_id(i, "Program") for i in ids]
    assert hub_ids == seeded.programs[: len(hub_ids)] and len(hub_ids) == 3
    for node in sample:
        # Sector data ...
        assert node["license"]["number"] and node["qrisRating"]["level"] >= 4
        assert node["sites"] and {"HEAD_START", "QRIS"} <= {s["code"] for s in node["supportTypes"]}
        # ... and hub data, side by side.
        goals = node["qip"]["goals"]
        assert 2 <= len(goals) <= 3 and all(2 <= len(g["tasks"]) <= 4 for g in goals)
        statuses = {t["status"] for g in goals for t in g["tasks"]}
        assert {"DONE", "IN_PROGRESS", "NOT_STARTED"} <= statuses
        assert node["notes"] and all(n["body"] for n in node["notes"])
        kinds = {(a["source"], a["kind"]) for a in node["activity"]}
        assert {("hub", "COACHING"), ("hub", "SITE_VISIT")} <= kinds
        assert any(a["source"] == "hub" and a["minutes"] > 0 for a in node["activity"])

    tasks = [t for g in view["qip"]["goals"] for t in g["tasks"]]
    assert any(t["version"] == 3 and t["status"] == "DONE" for t in tasks)
    assert any(g["version"] == 2 for g in view["qip"]["goals"])
    assert all(t["owner"] and t["dueDate"] for t in tasks)
    assert all(t["minutesSpent"] > 0 for t in tasks if t["status"] != "NOT_STARTED")
    task_funding = [f for t in tasks for f in t["funding"]]
    assert {"purpose": "QIP_TASK", "source": "hub"}.items() <= task_funding[0].items()
    assert Decimal(task_funding[0]["amount"]) > 0
    assert any(n for t in tasks for n in t["notes"])
    # Asked without an acting user: PROGRAM and TEAM notes, never anyone's PRIVATE ones.
    assert {n["visibility"] for n in view["notes"]} == {"PROGRAM", "TEAM"}
    assert "PRIVATE" in private_visibilities
    hub_funding = [f for f in view["funding"] if f["source"] == "hub"]
    assert {"QIP_TASK", "PROFESSIONAL_DEVELOPMENT"} <= {f["purpose"] for f in hub_funding}
    assert any(f["source"] != "hub" for f in view["funding"])  # sector grants and awards too
    # The PD plan and the activity name real staff of the program (their hub IDs resolve).
    staff = {s["id"] for s in view["staff"]}
    [plan] = view["qip"]["pdPlans"]
    assert plan["staffId"] in staff and plan["credentialTarget"] == "CDA"
    assert decode_global_id(plan["staffId"], "Staff").startswith("REGISTRY_ID:")
    assert {t["status"] for t in plan["trainings"]} == {"COMPLETED", "PLANNED"}
    supported = {s for a in view["activity"] for s in a["staffSupported"]}
    assert supported and supported <= staff
    # Every seeded write is audited: who, and before/after of the updates.
    assert audit
    actors = {e["actor"] for e in audit}
    assert COACH in actors and any(a.startswith("director@") for a in actors)
    moves = [e for e in audit if e["action"] == "UPDATE" and e["objectType"] == "QIP_TASK"]
    assert moves and all("status" in e["changedFields"] for e in moves)
    assert any(
        e["before"]["status"] == "IN_PROGRESS" and e["after"]["status"] == "DONE" for e in moves
    )
    created = {e["objectType"] for e in audit if e["action"] == "CREATE"}
    assert {"QIP", "QIP_GOAL", "QIP_TASK", "PD_PLAN", "PD_TRAINING", "NOTE"} <= created
    assert {"ACTIVITY_ENTRY", "FUNDING_ENTRY"} <= created


async def _snapshot(url: str, program_ids: list[str]) -> list[Any]:
    """Everything seeded for the programs, without generated IDs and timestamps."""
    async with HubStore(url) as store:
        qips = await store.qip_for_programs(program_ids)
        qip_ids = [q.id for q in qips.values() if q is not None]
        goals = await store.goals_for_qips(qip_ids)
        tasks = await store.tasks_for_programs(program_ids)
        plans = await store.pd_plans_for_qips(qip_ids)
        trainings = await store.trainings_for_pd_plans(p.id for ps in plans.values() for p in ps)
        notes = await store.notes_for_programs(program_ids)
        activity = await store.activity_for_programs(program_ids)
        funding = await store.funding_for_programs(program_ids)
    return [
        [(g.title, g.status, g.target_date, g.version) for gs in goals.values() for g in gs],
        [
            (t.title, t.owner, t.status, t.due_date, t.minutes_spent)
            for ts in tasks.values()
            for t in ts
        ],
        [(p.staff_id, p.planned_hours) for ps in plans.values() for p in ps],
        sorted((t.title, t.hours, t.status) for ts in trainings.values() for t in ts),
        sorted((n.author, n.subject_type, n.body) for ns in notes.values() for n in ns),
        sorted(
            (a.kind, a.occurred_at, a.minutes, a.staff_ids) for es in activity.values() for a in es
        ),
        sorted((f.amount, f.purpose, f.period_start) for fs in funding.values() for f in fs),
    ]


async def _seeded_store(path: Path, world: World) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    await seed_hub(url, world)
    return url


async def test_seeding_twice_or_restarting_the_demo_adds_nothing(tmp_path: Path) -> None:
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path, hub_programs=12) as demo:
        first = demo.hub_seed
        url = demo.env["ECEHUB_HUB_URL"]
        before = await _snapshot(url, first.programs if first else [])
        again = await seed_hub(url, demo.world)
    # The demo restarted on the same data directory: the hub store is kept, not re-seeded.
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path, hub_programs=12) as restarted:
        assert restarted.env["ECEHUB_HUB_URL"] == url
        after = await _snapshot(url, first.programs if first else [])
    assert first is not None and first.tasks > 0
    assert again.programs == [] and again.skipped == first.programs and again.tasks == 0
    assert restarted.hub_seed is not None and restarted.hub_seed.programs == []
    assert after == before
    # A program is counted once however often it is asked for.
    assert len(set(first.programs)) == len(first.programs)


async def test_the_seed_is_deterministic_and_dated_from_the_world(tmp_path: Path) -> None:
    world = generate_world(PROGRAMS, seed=7)
    ids = [p.hub_id for p in choose_programs(world)]
    one = await _snapshot(await _seeded_store(tmp_path / "one.db", world), ids)
    two = await _snapshot(await _seeded_store(tmp_path / "two.db", world), ids)
    assert one == two
    later = generate_world(PROGRAMS, seed=7, as_of=world.as_of + dt.timedelta(days=365))
    shifted = await _snapshot(await _seeded_store(tmp_path / "later.db", later), ids)
    due = sorted(t[3] for t in one[1])
    assert sorted(t[3] for t in shifted[1]) == [d + dt.timedelta(days=365) for d in due]
    assert world.as_of - dt.timedelta(days=120) <= due[0] and due[-1] <= world.as_of + dt.timedelta(
        days=366
    )


def test_the_choice_mixes_sectors_and_starts_with_the_sample_query() -> None:
    world = generate_world(200, seed=7)
    chosen = choose_programs(world, 12)
    assert len(chosen) == 12 and len({p.hub_id for p in chosen}) == 12
    kinds = [p.kind for p in chosen]
    assert kinds[:6] == ["HEAD_START"] * 6
    assert {"LICENSING", "QRIS"} <= set(kinds[6:])
    assert any(p.hub_id.startswith("@qris:") for p in chosen)  # a license-exempt provider
    assert all(p.hub_id.startswith(("LICENSE_NUMBER:", "@qris:")) for p in chosen)
    assert director_of(chosen[0]).startswith("director@") and " " not in director_of(chosen[0])
    assert choose_programs(world, 12) == chosen
    assert choose_programs(world, 0) == []
    tiny = choose_programs(generate_world(10, seed=7), 12)
    assert 0 < len(tiny) <= 12 and len({p.hub_id for p in tiny}) == len(tiny)
