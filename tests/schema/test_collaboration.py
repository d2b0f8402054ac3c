"""The shared QIP, notes, activity and hub funding through GraphQL, next to sector data."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from tests.graph_helpers import GraphClient, demo_graph

COACH = "coach@qris.example"
PROVIDER = "director@abc.example"

PROGRAM_IN_ALL = """{ programs(first: 1, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4})
  { nodes { id staff { id name } } } }"""


async def _program(client: GraphClient) -> dict[str, Any]:
    body = await client.query(PROGRAM_IN_ALL)
    node: dict[str, Any] = body["data"]["programs"]["nodes"][0]
    return node


async def _ok(client: GraphClient, query: str, variables: dict[str, Any], user: str = COACH) -> Any:
    body = await client.query(query, variables, user=user)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def _error(
    client: GraphClient, query: str, variables: dict[str, Any], user: str | None = COACH
) -> dict[str, Any]:
    body = await client.query(query, variables, user=user)
    assert body["errors"], body
    ext: dict[str, Any] = body["errors"][0]["extensions"]
    return ext


CREATE_GOAL = """mutation($p: ID!, $in: QipGoalInput!) { createQipGoal(programId: $p, input: $in)
  { id title version status supportTypes } }"""
CREATE_TASK = """mutation($g: ID!, $in: QipTaskInput!) { createQipTask(goalId: $g, input: $in)
  { id title version status minutesSpent } }"""
UPDATE_TASK = """mutation($id: ID!, $v: Int!, $patch: QipTaskPatch!) {
  updateQipTask(id: $id, version: $v, patch: $patch) { id version status minutesSpent } }"""
PROGRAM_VIEW = """query($id: ID!) { program(id: $id) {
  name license { status } qrisRating { level }
  qip { title goals { title status tasks { title status minutesSpent version
        funding { amount purpose source } notes { body author } } } pdPlans { staffId
        credentialTarget trainings { title status hours } } }
  notes { body author visibility }
  activity { source kind minutes author }
  funding { amount source purpose qipTaskId }
} }"""


async def test_the_qip_life_cycle(tmp_path: Path, hub_db_url: str) -> None:
    async with demo_graph(tmp_path, programs=60, hub_url=hub_db_url) as (_, client):
        program = await _program(client)
        pid = program["id"]
        goal = (
            await _ok(
                client,
                CREATE_GOAL,
                {
                    "p": pid,
                    "in": {
                        "title": "Strengthen infant-toddler interactions",
                        "supportTypes": ["QRIS", "HEAD_START"],
                        "targetDate": "2027-06-30",
                    },
                },
            )
        )["createQipGoal"]
        assert goal["version"] == 1 and goal["status"] == "NOT_STARTED"
        task = (
            await _ok(
                client,
                CREATE_TASK,
                {
                    "g": goal["id"],
                    "in": {
                        "title": "Coach lead teachers on ITERS-3 interactions",
                        "supportType": "QRIS",
                        "owner": COACH,
                        "dueDate": "2027-01-31",
                    },
                },
                user=PROVIDER,
            )
        )["createQipTask"]
        started = (
            await _ok(
                client,
                UPDATE_TASK,
                {
                    "id": task["id"],
                    "v": task["version"],
                    "patch": {"status": "IN_PROGRESS", "minutesSpent": 90},
                },
            )
        )["updateQipTask"]
        assert started["version"] == 2 and started["minutesSpent"] == 90
        stale = await _error(
            client,
            UPDATE_TASK,
            {"id": task["id"], "v": 1, "patch": {"status": "DONE"}},
            user=PROVIDER,
        )
        assert stale["code"] == "VERSION_CONFLICT" and stale["currentVersion"] == 2
        done = (
            await _ok(
                client,
                UPDATE_TASK,
                {"id": task["id"], "v": 2, "patch": {"status": "DONE", "minutesSpent": 150}},
                user=PROVIDER,
            )
        )["updateQipTask"]
        assert done["status"] == "DONE" and done["version"] == 3
        funding = await _ok(
            client,
            """mutation($p: ID!, $in: FundingInput!) {
            createFunding(programId: $p, input: $in) { amount source version } }""",
            {
                "p": pid,
                "in": {
                    "amount": "1250.10",
                    "supportType": "QRIS",
                    "purpose": "QIP_TASK",
                    "periodStart": "2026-07-01",
                    "periodEnd": "2027-06-30",
                    "qipTaskId": task["id"],
                },
            },
        )
        assert funding["createFunding"] == {"amount": "1250.10", "source": "hub", "version": 1}
        await _ok(
            client,
            """mutation($p: ID!, $in: NoteInput!) { createNote(programId: $p,
            input: $in) { id } }""",
            {
                "p": pid,
                "in": {
                    "subjectType": "TASK",
                    "subjectId": task["id"],
                    "body": "Modelled serve-and-return in Room 2.",
                },
            },
        )
        await _ok(
            client,
            """mutation($p: ID!, $in: NoteInput!) { createNote(programId: $p,
            input: $in) { id } }""",
            {
                "p": pid,
                "in": {
                    "subjectType": "PROGRAM",
                    "subjectId": pid,
                    "body": "Director asked for ECERS-3 prep.",
                    "visibility": "PROGRAM",
                },
            },
        )
        await _ok(
            client,
            """mutation($p: ID!, $in: ActivityInput!) { logActivity(programId: $p,
            input: $in) { source kind } }""",
            {
                "p": pid,
                "in": {
                    "kind": "COACHING",
                    "occurredAt": "2026-11-03T14:00:00Z",
                    "minutes": 90,
                    "supportType": "QRIS",
                    "staffIds": [program["staff"][0]["id"]],
                    "summary": "Coaching on interactions",
                },
            },
        )
        plan = (
            await _ok(
                client,
                """mutation($p: ID!, $in: PdPlanInput!) { createPdPlan(
            programId: $p, input: $in) { id version } }""",
                {
                    "p": pid,
                    "in": {
                        "staffId": program["staff"][0]["id"],
                        "credentialTarget": "CDA",
                        "plannedHours": "45",
                        "goalIds": [goal["id"]],
                    },
                },
            )
        )["createPdPlan"]
        await _ok(
            client,
            """mutation($p: ID!, $in: PdTrainingInput!) { createPdTraining(
            pdPlanId: $p, input: $in) { id } }""",
            {"p": plan["id"], "in": {"title": "Responsive caregiving", "hours": "6"}},
        )
        view = (await _ok(client, PROGRAM_VIEW, {"id": pid}))["program"]
        deleted = await _ok(
            client,
            """mutation($id: ID!, $v: Int!) { deleteQipTask(id: $id,
            version: $v) { version } }""",
            {"id": task["id"], "v": 3},
        )
        after_delete = (await _ok(client, PROGRAM_VIEW, {"id": pid}))["program"]
        await _ok(
            client,
            """mutation($id: ID!, $v: Int!) { restoreQipTask(id: $id,
            version: $v) { version } }""",
            {"id": task["id"], "v": deleted["deleteQipTask"]["version"]},
        )
        audit = (
            await _ok(
                client,
                """query($p: ID!) { audit(programId: $p, first: 50) {
            entries { actor action objectType changedFields before after } hasNextPage } }""",
                {"p": pid},
            )
        )["audit"]

    # Sector data and hub data side by side.
    assert view["license"]["status"] and view["qrisRating"]["level"] >= 4
    [g] = view["qip"]["goals"]
    [t] = g["tasks"]
    assert t["status"] == "DONE" and t["minutesSpent"] == 150
    assert t["funding"] == [{"amount": "1250.10", "purpose": "QIP_TASK", "source": "hub"}]
    assert t["notes"] == [{"body": "Modelled serve-and-return in Room 2.", "author": COACH}]
    assert view["notes"][0]["visibility"] == "PROGRAM"
    assert {"source": "hub", "kind": "COACHING", "minutes": 90, "author": COACH} in view["activity"]
    assert any(a["source"] == "qris" for a in view["activity"])
    sources = {f["source"] for f in view["funding"]}
    assert "hub" in sources and sources - {"hub"}
    [p] = view["qip"]["pdPlans"]
    assert p["credentialTarget"] == "CDA" and p["trainings"][0]["hours"] == "6.00"
    assert after_delete["qip"]["goals"][0]["tasks"] == []
    # Every mutation is audited with who and what changed.
    kinds = [(e["action"], e["objectType"]) for e in audit["entries"]]
    for expected in [
        ("CREATE", "QIP_GOAL"),
        ("CREATE", "QIP_TASK"),
        ("UPDATE", "QIP_TASK"),
        ("DELETE", "QIP_TASK"),
        ("RESTORE", "QIP_TASK"),
        ("CREATE", "NOTE"),
        ("CREATE", "ACTIVITY_ENTRY"),
        ("CREATE", "FUNDING_ENTRY"),
        ("CREATE", "PD_PLAN"),
        ("CREATE", "PD_TRAINING"),
    ]:
        assert expected in kinds, expected
    updates = [e for e in audit["entries"] if e["action"] == "UPDATE"]
    assert len(updates) == 2  # the stale write left no trace and changed nothing
    last = updates[0]
    assert last["actor"] == PROVIDER and set(last["changedFields"]) >= {"status", "minutes_spent"}
    assert last["before"]["status"] == "IN_PROGRESS" and last["after"]["status"] == "DONE"


async def test_writes_need_an_actor_valid_input_and_a_known_program(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=20) as (_, client):
        program = await _program(client)
        anonymous = await _error(
            client, CREATE_GOAL, {"p": program["id"], "in": {"title": "x"}}, user=None
        )
        invalid = await _error(
            client,
            CREATE_GOAL,
            {"p": program["id"], "in": {"title": " ", "supportTypes": ["NOT_A_SECTOR"]}},
        )
        unknown = await _error(
            client, CREATE_GOAL, {"p": "UHJvZ3JhbTpMSUNFTlNFX05VTUJFUjpOT1BF", "in": {"title": "x"}}
        )
        audit = await _ok(
            client,
            "query($p: ID!) { audit(programId: $p) { entries { action } } }",
            {"p": program["id"]},
        )
    assert anonymous["code"] == "UNAUTHENTICATED"
    assert invalid["code"] == "VALIDATION_FAILED"
    assert {"title", "support_types"} <= set(invalid["fields"])
    assert unknown["code"] == "NOT_FOUND"
    assert audit["audit"]["entries"] == []


async def test_200_concurrent_updates_of_one_task_lose_nothing(
    tmp_path: Path, hub_db_url: str
) -> None:
    async with demo_graph(tmp_path, programs=10, hub_url=hub_db_url) as (_, client):
        program = await _program(client)
        goal = await _ok(client, CREATE_GOAL, {"p": program["id"], "in": {"title": "G"}})
        task = (
            await _ok(client, CREATE_TASK, {"g": goal["createQipGoal"]["id"], "in": {"title": "T"}})
        )["createQipTask"]
        read = (
            "query($id: ID!) { program(id: $id) "
            "{ qip { goals { tasks { id version minutesSpent } } } } }"
        )
        rng = random.Random(3)

        async def client_writes(delta: int) -> bool:
            await asyncio.sleep(rng.random() * 0.5)
            data = await _ok(client, read, {"id": program["id"]})
            current = data["program"]["qip"]["goals"][0]["tasks"][0]
            body = await client.query(
                UPDATE_TASK,
                {
                    "id": task["id"],
                    "v": current["version"],
                    "patch": {"minutesSpent": current["minutesSpent"] + delta},
                },
                user=f"c{delta}",
            )
            if "errors" in body:
                assert body["errors"][0]["extensions"]["code"] == "VERSION_CONFLICT", body
                return False
            return True

        deltas = list(range(1, 201))
        applied = await asyncio.gather(*(client_writes(d) for d in deltas))
        final = (await _ok(client, read, {"id": program["id"]}))["program"]["qip"]["goals"][0]
    won = [d for d, ok in zip(deltas, applied, strict=True) if ok]
    assert won, "no write applied"
    final_task = final["tasks"][0]
    assert final_task["minutesSpent"] == sum(won)
    assert final_task["version"] == 1 + len(won)
