"""Writes that name a site, room or staff member only name ones of the program written for
(README "Roles and access", Writes), on the demo graph with the demo config's access rules
and real ES256 tokens.

One demo serves the module. The TA's token names programs ``mine`` and ``also_mine``;
``theirs`` is in nobody's scope but the state administrator's. Every refused write is checked
to have written nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ecehub.auth.devtokens import DevKey
from ecehub.demo import DemoSystems
from ecehub.hub import HubStore
from ecehub.hub.enums import ObjectType, SubjectType
from ecehub.ids import decode_global_id
from tests.graph_helpers import GraphClient, demo_graph

pytestmark = pytest.mark.asyncio(loop_scope="module")

TA = "coach@qris.example"
ADMIN = "admin@state.example"

PROGRAMS = """{ programs(first: 60) { nodes { id
  sites { id rooms { id } } staff { id } } } }"""
NOTE = """mutation($p: ID!, $t: SubjectType!, $s: ID!, $b: String!) {
  createNote(programId: $p, input: {subjectType: $t, subjectId: $s, body: $b}) { id } }"""
ACTIVITY = """mutation($p: ID!, $staff: [ID!]!, $room: ID, $s: String!) {
  logActivity(programId: $p, input: {kind: COACHING, occurredAt: "2026-10-01T10:00:00Z",
    minutes: 45, staffIds: $staff, roomId: $room, summary: $s}) { id } }"""
UPDATE_ACTIVITY = """mutation($id: ID!, $v: Int!, $staff: [ID!]) {
  updateActivity(id: $id, version: $v, patch: {staffIds: $staff}) { id version } }"""
PD_PLAN = """mutation($p: ID!, $staff: ID!) {
  createPdPlan(programId: $p, input: {staffId: $staff, credentialTarget: "CDA"}) { id } }"""
UPLOAD = """mutation($p: ID!, $t: SubjectType!, $s: ID!, $f: Upload!) {
  uploadFile(programId: $p, subjectType: $t, subjectId: $s, file: $f) { id } }"""


@dataclass
class Program:
    id: str  # the ecehub ID
    site: str
    room: str
    staff: str

    @property
    def hub_id(self) -> str:
        return decode_global_id(self.id, "Program")


@dataclass
class World:
    demo: DemoSystems
    client: GraphClient
    tokens: dict[str, str | None]
    mine: Program
    also_mine: Program
    theirs: Program

    async def run(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.client.query(query, variables, token=self.tokens[role])

    async def upload(self, role: str, variables: dict[str, Any]) -> Any:
        operations = {"query": UPLOAD, "variables": {**variables, "f": None}}
        token = self.tokens[role]
        response = await self.client.client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": ("visit.txt", b"a visit report\n", "text/plain")},
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def store(self) -> HubStore:
        return HubStore(self.demo.env["ECEHUB_HUB_URL"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("write_scope")
    key = DevKey.load_or_create(tmp / "keys")
    async with demo_graph(tmp, 40, dev_key=key) as (demo, client):
        admin = key.mint(sub=ADMIN, roles=["state_admin"])
        body = await client.query(PROGRAMS, token=admin)
        assert "errors" not in body, body
        found = [
            Program(n["id"], site["id"], site["rooms"][0]["id"], n["staff"][0]["id"])
            for n in body["data"]["programs"]["nodes"]
            for site in n["sites"][:1]
            if site["rooms"] and n["staff"]
        ]
        assert len(found) >= 3, "the demo has programs with sites, rooms and staff"
        mine, also_mine, theirs = found[:3]
        tokens: dict[str, str | None] = {
            "admin": admin,
            "ta": key.mint(sub=TA, roles=["ta_staff"], programs=[mine.id, also_mine.id]),
            "anonymous": None,
        }
        yield World(demo, client, tokens, mine, also_mine, theirs)


def _code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"]


async def _notes_with(world: World, body: str) -> list[Any]:
    """Every note (on any subject of the three programs) with this body."""
    programs = [world.mine.hub_id, world.also_mine.hub_id, world.theirs.hub_id]
    async with world.store() as store:
        found = await store.notes_for_programs(programs)
    return [n for notes in found.values() for n in notes if n.body == body]


async def _denied(world: World, object_type: ObjectType, object_id: str) -> set[tuple[str, str]]:
    """Who was refused what on this site or staff member: (actor, operation kind)."""
    async with world.store() as store:
        entries = await store.audit_for_object(object_type, object_id)
    return {
        (e.actor, (e.after or {}).get("operation", "").split(" ")[0])
        for e in entries
        if e.action.value == "DENY"
    }


def _as_unknown(body: dict[str, Any], field: str) -> None:
    """Refused exactly as an ID no source knows is (a scoped role learns nothing of what
    exists outside its programs): VALIDATION_FAILED on ``field``, nothing returned."""
    assert _code(body) == "VALIDATION_FAILED" and body["data"] is None, body
    [message] = body["errors"][0]["extensions"]["fields"].values()
    assert set(body["errors"][0]["extensions"]["fields"]) == {field}
    assert message.startswith("no ") and " with ID " in message, message


def _subject(program: Program, subject: str) -> tuple[str, str]:
    """The (type name, hub ID) of a program's ``subject`` (``site``, ``room``, ``staff``)."""
    type_name = {"site": "Site", "room": "Room", "staff": "Staff"}[subject]
    return type_name, decode_global_id(getattr(program, subject), type_name)


# -- notes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["staff", "site", "room"])
async def test_a_note_on_another_programs_site_room_or_staff_is_refused_as_unknown(
    world: World, subject: str
) -> None:
    marker = f"TA note on their {subject}"
    variables = {
        "p": world.mine.id,
        "t": subject.upper(),
        "s": getattr(world.theirs, subject),
        "b": marker,
    }
    body = await world.run("ta", NOTE, variables)
    _as_unknown(body, "subject_id")
    assert await _notes_with(world, marker) == []
    # Refused like any other write: audited with the actor.
    _, hub_id = _subject(world.theirs, subject)
    denied_as = ObjectType.STAFF if subject == "staff" else ObjectType.SITE  # rooms: SITE
    assert (TA, "mutation") in await _denied(world, denied_as, hub_id)


@pytest.mark.parametrize("subject", ["staff", "site", "room"])
async def test_a_note_on_a_subject_of_another_program_in_scope_is_invalid(
    world: World, subject: str
) -> None:
    # The TA may see also_mine's staff, but a note for `mine` is not about them.
    marker = f"TA note on also_mine's {subject}"
    variables = {
        "p": world.mine.id,
        "t": subject.upper(),
        "s": getattr(world.also_mine, subject),
        "b": marker,
    }
    body = await world.run("ta", NOTE, variables)
    assert _code(body) == "VALIDATION_FAILED"
    assert body["errors"][0]["extensions"]["fields"] == {"subject_id": "belongs to another program"}
    assert await _notes_with(world, marker) == []


async def test_a_note_on_an_unknown_staff_member_is_invalid(world: World) -> None:
    from ecehub.ids import encode_global_id

    nobody = encode_global_id("Staff", "@head_start:no-such-staff")
    body = await world.run(
        "ta", NOTE, {"p": world.mine.id, "t": "STAFF", "s": nobody, "b": "Nobody"}
    )
    assert _code(body) == "VALIDATION_FAILED"
    assert set(body["errors"][0]["extensions"]["fields"]) == {"subject_id"}


@pytest.mark.parametrize("subject", ["staff", "site", "room"])
async def test_notes_on_the_programs_own_site_room_and_staff_are_written(
    world: World, subject: str
) -> None:
    for role, program in (("ta", world.mine), ("admin", world.theirs)):
        marker = f"{role} note on own {subject}"
        variables = {"p": program.id, "t": subject.upper(), "s": getattr(program, subject)}
        _data(await world.run(role, NOTE, {**variables, "b": marker}))
        [note] = await _notes_with(world, marker)
        type_name, hub_id = _subject(program, subject)
        assert (note.program_id, note.subject_type.value) == (program.hub_id, type_name.upper())
        assert note.subject_id == hub_id  # the canonical ID, as the graph gives it
        async with world.store() as store:
            on_subject = await store.notes_for(SubjectType(subject.upper()), [note.subject_id])
        assert marker in {n.body for n in on_subject.get(note.subject_id, [])}


async def test_an_admin_names_no_subject_of_another_program_either(world: World) -> None:
    marker = "admin note on theirs' staff for mine"
    variables = {"p": world.mine.id, "t": "STAFF", "s": world.theirs.staff, "b": marker}
    body = await world.run("admin", NOTE, variables)
    assert _code(body) == "VALIDATION_FAILED"
    assert await _notes_with(world, marker) == []


GOAL = """mutation($p: ID!) { createQipGoal(programId: $p, input: {title: "Theirs"}) { id } }"""
TASK = """mutation($g: ID!) { createQipTask(goalId: $g, input: {title: "Theirs"}) { id } }"""


async def test_a_note_on_another_programs_goal_or_task_is_invalid(world: World) -> None:
    # Hub-only subjects carry their program: the hub store holds them to this one (as before).
    goal = _data(await world.run("admin", GOAL, {"p": world.theirs.id}))["createQipGoal"]["id"]
    task = _data(await world.run("admin", TASK, {"g": goal}))["createQipTask"]["id"]
    for subject_type, subject in (("GOAL", goal), ("TASK", task)):
        marker = f"TA note on their {subject_type}"
        variables = {"p": world.mine.id, "t": subject_type, "s": subject, "b": marker}
        body = await world.run("ta", NOTE, variables)
        assert _code(body) == "VALIDATION_FAILED"
        assert body["errors"][0]["extensions"]["fields"] == {
            "subject_id": "belongs to another program"
        }
        assert await _notes_with(world, marker) == []


# -- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["site", "staff", "room"])
async def test_a_file_on_another_programs_site_or_staff_is_refused_as_unknown(
    world: World, subject: str
) -> None:
    variables = {"p": world.mine.id, "t": subject.upper(), "s": getattr(world.theirs, subject)}
    body = await world.upload("ta", variables)
    _as_unknown(body, "subject_id")
    _, hub_id = _subject(world.theirs, subject)
    async with world.store() as store:
        on_subject = await store.files_for(SubjectType(subject.upper()), [hub_id])
        of_mine = await store.files_for_programs([world.mine.hub_id])
    assert on_subject.get(hub_id, []) == []
    assert [f for f in of_mine.get(world.mine.hub_id, []) if f.subject_id == hub_id] == []


@pytest.mark.parametrize("subject", ["site", "staff", "room"])
async def test_files_on_the_programs_own_site_room_and_staff_are_written(
    world: World, subject: str
) -> None:
    variables = {"p": world.mine.id, "t": subject.upper(), "s": getattr(world.mine, subject)}
    file_id = _data(await world.upload("ta", variables))["uploadFile"]["id"]
    async with world.store() as store:
        row = await store.get_file(decode_global_id(file_id, "FileAttachment"))
    assert row is not None and row.program_id == world.mine.hub_id


# -- activity ------------------------------------------------------------------------------


async def _activity_with(world: World, summary: str) -> list[Any]:
    programs = [world.mine.hub_id, world.also_mine.hub_id, world.theirs.hub_id]
    async with world.store() as store:
        found = await store.activity_for_programs(programs)
    return [a for entries in found.values() for a in entries if a.summary == summary]


async def test_activity_naming_another_programs_staff_or_room_is_refused_as_unknown(
    world: World,
) -> None:
    mine, theirs = world.mine, world.theirs
    for staff, room in (([mine.staff, theirs.staff], None), ([mine.staff], theirs.room)):
        summary = f"visit with {staff} in {room}"
        variables = {"p": mine.id, "staff": staff, "room": room, "s": summary}
        body = await world.run("ta", ACTIVITY, variables)
        _as_unknown(body, "staff_ids" if room is None else "room_id")
        assert await _activity_with(world, summary) == []
    _, staff_hub_id = _subject(theirs, "staff")
    assert (TA, "mutation") in await _denied(world, ObjectType.STAFF, staff_hub_id)


async def test_activity_naming_another_programs_staff_in_scope_is_invalid(world: World) -> None:
    summary = "visit naming also_mine's staff"
    variables = {"p": world.mine.id, "staff": [world.also_mine.staff], "s": summary}
    body = await world.run("ta", ACTIVITY, variables)
    assert _code(body) == "VALIDATION_FAILED"
    assert set(body["errors"][0]["extensions"]["fields"]) == {"staff_ids"}
    assert await _activity_with(world, summary) == []


async def test_activity_with_the_programs_own_staff_and_room_is_written(world: World) -> None:
    for role, program in (("ta", world.mine), ("admin", world.theirs)):
        summary = f"{role}'s visit with own staff"
        variables = {"p": program.id, "staff": [program.staff], "room": program.room}
        entry = _data(await world.run(role, ACTIVITY, {**variables, "s": summary}))
        [stored] = await _activity_with(world, summary)
        assert stored.program_id == program.hub_id
        assert entry["logActivity"]["id"]


async def test_an_activity_update_names_only_its_programs_staff(world: World) -> None:
    summary = "visit to update"
    variables = {"p": world.mine.id, "staff": [world.mine.staff], "s": summary}
    entry = _data(await world.run("ta", ACTIVITY, variables))["logActivity"]["id"]
    moved = {"id": entry, "v": 1, "staff": [world.theirs.staff]}
    _as_unknown(await world.run("ta", UPDATE_ACTIVITY, moved), "staff_ids")
    kept = {"id": entry, "v": 1, "staff": [world.mine.staff, world.mine.staff]}
    assert _data(await world.run("ta", UPDATE_ACTIVITY, kept))["updateActivity"]["version"] == 2


# -- PD plans ------------------------------------------------------------------------------


async def test_a_pd_plan_for_another_programs_staff_is_refused(world: World) -> None:
    body = await world.run("ta", PD_PLAN, {"p": world.mine.id, "staff": world.theirs.staff})
    _as_unknown(body, "staff_id")
    body = await world.run("ta", PD_PLAN, {"p": world.mine.id, "staff": world.also_mine.staff})
    assert _code(body) == "VALIDATION_FAILED"
    _data(await world.run("ta", PD_PLAN, {"p": world.mine.id, "staff": world.mine.staff}))


# -- the crosswalk: permission before validation --------------------------------------------

SPLIT = """mutation($p: ID!, $links: [ID!]!) {
  splitProgram(programId: $p, linkIds: $links, version: 0) { moved { id } } }"""


async def test_split_program_checks_the_write_right_before_the_input(world: World) -> None:
    from ecehub.ids import encode_global_id

    for links in ([], [encode_global_id("CrosswalkLink", "no-such-link")]):
        body = await world.run("ta", SPLIT, {"p": world.mine.id, "links": links})
        assert _code(body) == "FORBIDDEN", body
        assert "fields" not in body["errors"][0]["extensions"]
    # The state administrator holds the right: then the input is checked.
    body = await world.run("admin", SPLIT, {"p": world.mine.id, "links": []})
    assert _code(body) == "VALIDATION_FAILED"


# -- anonymous writes ----------------------------------------------------------------------

ANONYMOUS_WRITES = {
    "createQipGoal": 'createQipGoal(programId: "$P", input: {title: "G"}) { id }',
    "createNote": 'createNote(programId: "$P", input: {subjectType: PROGRAM, subjectId: "$P",'
    ' body: "B"}) { id }',
    "logActivity": 'logActivity(programId: "$P", input: {kind: OTHER, occurredAt: '
    '"2026-10-01T10:00:00Z", minutes: 5}) { id }',
    "createFunding": 'createFunding(programId: "$P", input: {amount: "1.00", supportType: '
    '"QRIS", purpose: OTHER, periodStart: "2026-01-01", periodEnd: "2026-02-01"}) { id }',
    "deleteFile": 'deleteFile(id: "RmlsZUF0dGFjaG1lbnQ6eA==", version: 1) { id }',
    "confirmLink": 'confirmLink(id: "Q3Jvc3N3YWxrTGluazp4", version: 1) { id }',
    "splitProgram": 'splitProgram(programId: "$P", linkIds: [], version: 0) { moved { id } }',
    "linkRecord": 'linkRecord(programId: "$P", source: "qris", key: "Q-1") { id }',
}


@pytest.mark.parametrize("field", sorted(ANONYMOUS_WRITES))
async def test_an_anonymous_write_is_unauthenticated(world: World, field: str) -> None:
    mutation = "mutation { " + ANONYMOUS_WRITES[field].replace("$P", world.mine.id) + " }"
    body = await world.run("anonymous", mutation)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert body["data"] is None


async def test_an_anonymous_upload_is_unauthenticated(world: World) -> None:
    variables = {"p": world.mine.id, "t": "PROGRAM", "s": world.mine.id}
    body = await world.upload("anonymous", variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body


async def test_anonymous_reads_are_as_before(world: World, tmp_path: Path) -> None:
    body = await world.run("anonymous", "{ programs(first: 2) { nodes { id name } } }")
    assert "errors" not in body, body
