"""idempotencyKey through GraphQL, in the demo with real bearer tokens (jwt auth and the demo's
access rules): a retried create answers the first call's object and writes nothing, the same
key with another input is VALIDATION_FAILED, keys are per user, and a two-field mutation whose
second field failed can be sent again without duplicating the first field's object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ecehub.auth.devtokens import DevKey
from ecehub.demo.hub_seed import DEFAULT_HUB_PROGRAMS
from tests.graph_helpers import GraphClient, demo_graph
from tests.schema.test_files import PDF, files_graph, on_disk

READ = """{ programs(first: 1, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4}) {
  nodes { id qip { goals { id tasks { id } } } } } }"""
CREATE_TASK = """mutation($g: ID!, $in: QipTaskInput!, $key: String) {
  createQipTask(goalId: $g, input: $in, idempotencyKey: $key) { id version title } }"""
TASKS = """query($id: ID!) { program(id: $id) { qip { goals { id tasks { id title } } } } }"""
AUDIT = """query($p: ID!) { audit(programId: $p, first: 200) {
  entries { action objectType actor } } }"""
LOG = """mutation($p: ID!, $key: String) {
  logActivity(programId: $p, idempotencyKey: $key,
              input: {kind: SITE_VISIT, occurredAt: "2026-11-02T09:00:00Z", minutes: 60}) {
    id minutes } }"""


def _tokens(tmp_path: Path) -> tuple[DevKey, str, str]:
    key = DevKey.load_or_create(tmp_path / "keys")
    admin = key.mint(sub="state.admin@clearwater.example", roles=["state_admin"])
    other = key.mint(sub="second.admin@clearwater.example", roles=["state_admin"])
    return key, admin, other


async def _ok(client: GraphClient, query: str, variables: dict[str, Any], token: str) -> Any:
    body = await client.query(query, variables, token=token)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def _first_goal(client: GraphClient, token: str) -> tuple[str, str]:
    [program] = (await _ok(client, READ, {}, token))["programs"]["nodes"]
    return program["id"], program["qip"]["goals"][0]["id"]


async def _tasks_of(client: GraphClient, program: str, goal: str, token: str) -> list[str]:
    data = await _ok(client, TASKS, {"id": program}, token)
    [found] = [g for g in data["program"]["qip"]["goals"] if g["id"] == goal]
    return [t["title"] for t in found["tasks"]]


async def _task_creates(client: GraphClient, program: str, token: str) -> list[str]:
    entries = (await _ok(client, AUDIT, {"p": program}, token))["audit"]["entries"]
    return [e["actor"] for e in entries if (e["action"], e["objectType"]) == ("CREATE", "QIP_TASK")]


async def test_a_retried_create_answers_the_first_object(tmp_path: Path, hub_db_url: str) -> None:
    key, admin, other = _tokens(tmp_path)
    async with demo_graph(
        tmp_path, programs=60, dev_key=key, hub_programs=DEFAULT_HUB_PROGRAMS, hub_url=hub_db_url
    ) as (_, client):
        program, goal = await _first_goal(client, admin)
        before = await _tasks_of(client, program, goal, admin)
        audited = await _task_creates(client, program, admin)
        task = {"title": "Coach lead teachers", "supportType": "QRIS", "dueDate": "2027-01-31"}
        variables = {"g": goal, "in": task, "key": "walkthrough-task-1"}

        first = (await _ok(client, CREATE_TASK, variables, admin))["createQipTask"]
        again = (await _ok(client, CREATE_TASK, variables, admin))["createQipTask"]
        assert again == first and first["version"] == 1
        assert await _tasks_of(client, program, goal, admin) == [*before, task["title"]]
        creates = await _task_creates(client, program, admin)
        assert len(creates) == len(audited) + 1

        # The same key with other input: refused, coded, nothing written.
        changed = {**variables, "in": {**task, "title": "Something else"}}
        body = await client.query(CREATE_TASK, changed, token=admin)
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "VALIDATION_FAILED"
        assert set(error["extensions"]["fields"]) == {"idempotency_key"}
        assert await _tasks_of(client, program, goal, admin) == [*before, task["title"]]

        # Another user's same key is theirs: a task of their own.
        theirs = (await _ok(client, CREATE_TASK, changed, other))["createQipTask"]
        assert theirs["id"] != first["id"] and theirs["title"] == "Something else"

        # Without a key every call creates, as before.
        plain = {"g": goal, "in": {"title": "No key"}}
        one = (await _ok(client, CREATE_TASK, plain, admin))["createQipTask"]
        two = (await _ok(client, CREATE_TASK, plain, admin))["createQipTask"]
        assert one["id"] != two["id"]

        # logActivity too (every create takes the argument).
        logged = (await _ok(client, LOG, {"p": program, "key": "visit-1"}, admin))["logActivity"]
        relogged = await _ok(client, LOG, {"p": program, "key": "visit-1"}, admin)
        assert relogged["logActivity"] == logged


async def test_a_two_field_mutation_sent_again_makes_no_duplicate(tmp_path: Path) -> None:
    """The user's report: the second field failed (data null), the first had saved; the
    client sends the whole mutation again. With keys, the first field's task is not made
    twice."""
    key, admin, _ = _tokens(tmp_path)
    async with demo_graph(
        tmp_path, programs=60, dev_key=key, hub_programs=DEFAULT_HUB_PROGRAMS
    ) as (_, client):
        program, goal = await _first_goal(client, admin)
        before = await _tasks_of(client, program, goal, admin)
        mutation = f"""mutation {{
          a: createQipTask(goalId: "{goal}", input: {{title: "Plan family night"}},
                           idempotencyKey: "req-7-a") {{ id }}
          b: createQipTask(goalId: "{goal}", input: {{title: "Bad", minutesSpent: -5}},
                           idempotencyKey: "req-7-b") {{ id }}
        }}"""
        for _ in range(3):
            body = await client.query(mutation, token=admin)
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
        assert await _tasks_of(client, program, goal, admin) == [*before, "Plan family night"]


UPLOAD = """mutation($p: ID!, $t: SubjectType!, $s: ID!, $file: Upload!, $key: String) {
  uploadFile(programId: $p, subjectType: $t, subjectId: $s, file: $file, idempotencyKey: $key)
  { id filename sha256 version } }"""


async def _upload(client: GraphClient, variables: dict[str, Any], content: bytes) -> Any:
    operations = {"query": UPLOAD, "variables": {**variables, "file": None}}
    response = await client.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("plan.pdf", content, "application/pdf")},
        headers={"X-Ecehub-User": "coach@qris.example"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_retried_upload_keeps_one_file(tmp_path: Path, hub_db_url: str) -> None:
    async with files_graph(tmp_path, hub_db_url) as (client, files_dir):
        body = await client.query("{ programs(first: 1) { nodes { id } } }")
        pid = body["data"]["programs"]["nodes"][0]["id"]
        target = {"p": pid, "t": "PROGRAM", "s": pid, "key": "upload-1"}
        first = await _upload(client, target, PDF)
        assert "errors" not in first, first
        again = await _upload(client, target, PDF)
        assert again["data"] == first["data"]
        assert len(on_disk(files_dir)) == 1  # the retry's bytes were removed
        other = await _upload(client, target, PDF + b"%changed")
        assert other["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
        assert len(on_disk(files_dir)) == 1
