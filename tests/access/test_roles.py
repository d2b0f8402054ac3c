"""Role x query/mutation x outcome, on the demo graph with the demo config's access rules and
real ES256 tokens (README "Roles and access").

One demo (SQLite sector systems, QRIS over loopback HTTP, SQLite hub) serves the whole module.
Each row of :data:`TABLE` names a role, an operation and the outcome: ``data`` (no error),
``forbidden`` (the field at ``path`` is null with an error coded FORBIDDEN), ``not found``
(null with NOT_FOUND: what a scoped role gets for an ID outside its programs, the same as for
an ID that does not exist) or ``unauthenticated``. Scoped listing with pagination, small-cell
suppression, the note author rule and the audit of refusals have their own tests below the
table.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ecehub.auth.devtokens import DevKey
from ecehub.demo import DemoSystems
from ecehub.hub import HubStore
from ecehub.ids import decode_global_id
from tests.graph_helpers import GraphClient, demo_graph

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROLES = (
    "admin",
    "licensing_staff",
    "head_start_staff",
    "ta",
    "provider",
    "analyst",
    "anonymous",
    "stranger",
)


@dataclass
class World:
    demo: DemoSystems
    client: GraphClient
    tokens: dict[str, str | None]
    inside: list[str]  # the TA's programs (global IDs); the provider has inside[0]
    outside: str  # a program in nobody's scope
    key: DevKey
    outside_site: str = ""
    inside_site: str = ""
    tasks: dict[str, tuple[str, int]] = field(default_factory=dict)  # program -> task id, version

    async def run(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.client.query(query, variables, token=self.tokens[role])


PROGRAMS_WITH_SOURCES = """{ programs(first: 60) { nodes { id sources { source }
  staff { birthYear } } } }"""
GOAL = (
    """mutation($p: ID!, $t: String!) { createQipGoal(programId: $p, input: {title: $t}) { id } }"""
)
TASK = """mutation($g: ID!) { createQipTask(goalId: $g, input: {title: "Task"}) { id version } }"""


async def _data(world: World, role: str, query: str, variables: dict[str, Any]) -> Any:
    body = await world.run(role, query, variables)
    assert "errors" not in body, body
    return body["data"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("access")
    key = DevKey.load_or_create(tmp / "keys")
    async with demo_graph(tmp, 40, dev_key=key) as (demo, client):
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        listed = await client.query(PROGRAMS_WITH_SOURCES, token=admin)
        assert "errors" not in listed, listed
        nodes = listed["data"]["programs"]["nodes"]

        def rich(n: dict[str, Any]) -> bool:
            sources = {s["source"] for s in n["sources"]}
            return {"licensing", "qris", "head_start"} <= sources and any(
                s["birthYear"] for s in n["staff"]
            )

        inside = [n["id"] for n in sorted(nodes, key=lambda n: not rich(n))[:3]]
        assert rich(next(n for n in nodes if n["id"] == inside[0]))
        outside = next(n["id"] for n in nodes if n["id"] not in inside)
        tokens: dict[str, str | None] = {
            "admin": admin,
            "licensing_staff": key.mint(
                sub="consultant@licensing.example",
                roles=["sector_staff"],
                support_types=["LICENSING"],
            ),
            "head_start_staff": key.mint(
                sub="monitor@headstart.example",
                roles=["sector_staff"],
                support_types=["HEAD_START"],
            ),
            "ta": key.mint(sub="coach@qris.example", roles=["ta_staff"], programs=inside),
            "provider": key.mint(
                sub="director@abc.example", roles=["provider"], programs=inside[:1]
            ),
            "analyst": key.mint(sub="analyst@state.example", roles=["analyst"]),
            "anonymous": None,
            "stranger": key.mint(sub="someone@example.com", roles=["visitor"]),
        }
        w = World(demo, client, tokens, inside, outside, key)
        sites = "query($id: ID!) { program(id: $id) { sites { id } } }"
        for attr, program in (("outside_site", outside), ("inside_site", inside[0])):
            found = await _data(w, "admin", sites, {"id": program})
            setattr(w, attr, found["program"]["sites"][0]["id"])
        for program in (inside[0], outside):
            goal = await _data(w, "admin", GOAL, {"p": program, "t": "Goal"})
            task = await _data(w, "admin", TASK, {"g": goal["createQipGoal"]["id"]})
            w.tasks[program] = (task["createQipTask"]["id"], task["createQipTask"]["version"])
        yield w


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    role: str
    case: str
    expect: str  # data | forbidden | unauthenticated
    path: tuple[str | int, ...] = ()
    check: Callable[[World, Any], bool] | None = None


def _ids(data: Any) -> list[str]:
    return [e["node"]["id"] for e in data["programs"]["edges"]]


def _sources(data: Any) -> set[str]:
    return {s["source"] for s in data["program"]["sources"]}


def _contact_sources(data: Any) -> set[str]:
    return {c["source"] for c in data["program"]["contacts"]}


def _full_contacts(data: Any) -> bool:
    """The rich program's licensing consultant and QRIS coach, with email and phone."""
    contacts = data["program"]["contacts"]
    return _contact_sources(data) == {"licensing", "qris"} and all(
        c["email"] and c["phone"] for c in contacts
    )


CASES: dict[str, tuple[str, Callable[[World], dict[str, Any]]]] = {
    "list programs": (
        "{ programs(first: 2) { edges { node { id name } } pageInfo { hasNextPage } } }",
        lambda w: {},
    ),
    "a program outside the scope": (
        "query($id: ID!) { program(id: $id) { id name } }",
        lambda w: {"id": w.outside},
    ),
    "a program in scope": (
        "query($id: ID!) { program(id: $id) { id name } }",
        lambda w: {"id": w.inside[0]},
    ),
    "a site of a program outside the scope": (
        "query($id: ID!) { site(id: $id) { id name } }",
        lambda w: {"id": w.outside_site},
    ),
    "a site of a program in scope": (
        "query($id: ID!) { site(id: $id) { id name } }",
        lambda w: {"id": w.inside_site},
    ),
    "QRIS rating (QRIS data)": (
        "query($id: ID!) { program(id: $id) { qrisRating { level } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "license (licensing data)": (
        "query($id: ID!) { program(id: $id) { license { status } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "which sources answer": (
        "query($id: ID!) { program(id: $id) { sources { source } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "staff names": (
        "query($id: ID!) { program(id: $id) { staff { name } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "staff birth year (personal)": (
        "query($id: ID!) { program(id: $id) { staff { birthYear } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "staff email (personal)": (
        "query($id: ID!) { program(id: $id) { staff { email } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "contacts (who)": (
        "query($id: ID!) { program(id: $id) { contacts { role name source } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "contacts (email and phone)": (
        "query($id: ID!) { program(id: $id) { contacts { role name email phone source } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "contacts through an alias and a fragment": (
        "query($id: ID!) { program(id: $id) { c: contacts { ...C } } } "
        "fragment C on ProgramContact { who: name mail: email }",
        lambda w: {"id": w.inside[0]},
    ),
    "contacts of a program outside the scope": (
        "query($id: ID!) { program(id: $id) { contacts { name email } } }",
        lambda w: {"id": w.outside},
    ),
    "contacts of every program listed": (
        "{ programs(first: 50) { nodes { id contacts { name email } } } }",
        lambda w: {},
    ),
    "capacity by age": (
        "query($id: ID!) { program(id: $id) { capacityByAge { ageGroup capacity } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "accreditations": (
        "query($id: ID!) { program(id: $id) { accreditations { body beginsOn endsOn } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "the program's audit log": (
        "query($id: ID!) { audit(programId: $id) { entries { action } } }",
        lambda w: {"id": w.inside[0]},
    ),
    "another program's audit log": (
        "query($id: ID!) { audit(programId: $id) { entries { action } } }",
        lambda w: {"id": w.outside},
    ),
    "funding report totals": (
        "{ fundingReport { programCount totals { overall { amount } } } }",
        lambda w: {},
    ),
    "funding report lines": (
        "{ fundingReport { lines { programId amount } } }",
        lambda w: {},
    ),
    "filter on QRIS level": (
        "{ programs(first: 2, filter: {qrisLevelMin: 3}) { edges { node { id } } } }",
        lambda w: {},
    ),
    "add a QIP goal in scope": (
        'mutation($id: ID!) { createQipGoal(programId: $id, input: {title: "G"}) { id } }',
        lambda w: {"id": w.inside[0]},
    ),
    "add a QIP goal outside the scope": (
        'mutation($id: ID!) { createQipGoal(programId: $id, input: {title: "G"}) { id } }',
        lambda w: {"id": w.outside},
    ),
    "add a note": (
        "mutation($id: ID!) { createNote(programId: $id, input: {subjectType: PROGRAM, "
        'subjectId: $id, body: "Visited", visibility: TEAM}) { id } }',
        lambda w: {"id": w.inside[1]},
    ),
}

D, F, N, U = "data", "forbidden", "not found", "unauthenticated"
TABLE: list[Row] = [
    # list scoping (pagination: test_scoped_lists_page_through_exactly_the_scope)
    Row("admin", "list programs", D, check=lambda w, d: len(_ids(d)) == 2),
    Row("licensing_staff", "list programs", D, check=lambda w, d: len(_ids(d)) == 2),
    Row("ta", "list programs", D, check=lambda w, d: set(_ids(d)) <= set(w.inside)),
    Row("provider", "list programs", D, check=lambda w, d: _ids(d) == w.inside[:1]),
    Row("analyst", "list programs", F, ("programs",)),
    Row("anonymous", "list programs", D, check=lambda w, d: len(_ids(d)) == 2),
    Row("stranger", "list programs", F, ("programs",)),
    Row("admin", "a program outside the scope", D),
    Row("licensing_staff", "a program outside the scope", D),
    Row("ta", "a program outside the scope", N, ("program",)),
    Row("provider", "a program outside the scope", N, ("program",)),
    Row("analyst", "a program outside the scope", F, ("program",)),
    Row("anonymous", "a program outside the scope", D),  # the public directory
    Row("ta", "a program in scope", D, check=lambda w, d: d["program"]["id"] == w.inside[0]),
    Row("provider", "a program in scope", D),
    Row("ta", "a site of a program outside the scope", N, ("site",)),
    Row("admin", "a site of a program outside the scope", D, check=lambda w, d: d["site"]),
    Row("ta", "a site of a program in scope", D, check=lambda w, d: d["site"]["id"]),
    # field rules: sector-owned fields
    Row("admin", "QRIS rating (QRIS data)", D, check=lambda w, d: d["program"]["qrisRating"]),
    Row("ta", "QRIS rating (QRIS data)", D),
    Row("licensing_staff", "QRIS rating (QRIS data)", F, ("program", "qrisRating")),
    Row("anonymous", "QRIS rating (QRIS data)", F, ("program", "qrisRating")),
    Row(
        "licensing_staff", "license (licensing data)", D, check=lambda w, d: d["program"]["license"]
    ),
    Row("anonymous", "license (licensing data)", F, ("program", "license")),
    # sector staff see their sector's records only (the rest is not fetched at all)
    Row(
        "licensing_staff",
        "which sources answer",
        D,
        check=lambda w, d: _sources(d) == {"licensing"},
    ),
    Row(
        "admin",
        "which sources answer",
        D,
        check=lambda w, d: {"licensing", "qris", "head_start"} <= _sources(d),
    ),
    # staff personal data
    Row("ta", "staff names", D, check=lambda w, d: any(s["name"] for s in d["program"]["staff"])),
    Row(
        "admin",
        "staff birth year (personal)",
        D,
        check=lambda w, d: any(s["birthYear"] for s in d["program"]["staff"]),
    ),
    Row("provider", "staff birth year (personal)", D),
    Row("ta", "staff birth year (personal)", F, ("program", "staff", 0, "birthYear")),
    Row("head_start_staff", "staff email (personal)", F, ("program", "staff", 0, "email")),
    Row("head_start_staff", "staff names", D, check=lambda w, d: d["program"]["staff"]),
    # Licensing holds no staff: a licensing consultant sees none (not another sector's).
    Row("licensing_staff", "staff names", D, check=lambda w, d: d["program"]["staff"] == []),
    Row("head_start_staff", "license (licensing data)", F, ("program", "license")),
    Row("anonymous", "staff names", F, ("program", "staff")),
    # program contacts: personal data (README "Roles and access")
    Row("admin", "contacts (email and phone)", D, check=lambda w, d: _full_contacts(d)),
    Row("ta", "contacts (email and phone)", D, check=lambda w, d: _full_contacts(d)),
    Row("provider", "contacts (email and phone)", D, check=lambda w, d: _full_contacts(d)),
    Row("provider", "contacts of a program outside the scope", N, ("program",)),
    Row("ta", "contacts of a program outside the scope", N, ("program",)),
    Row(
        "provider",
        "contacts of every program listed",
        D,
        check=lambda w, d: (
            [n["id"] for n in d["programs"]["nodes"]] == w.inside[:1]
            and bool(d["programs"]["nodes"][0]["contacts"])
        ),
    ),
    Row(
        "licensing_staff",
        "contacts (who)",
        D,
        check=lambda w, d: (
            _contact_sources(d) == {"licensing"}
            and all(c["name"] for c in d["program"]["contacts"])
        ),
    ),
    Row("licensing_staff", "contacts (email and phone)", F, ("program", "contacts", 0, "email")),
    Row("licensing_staff", "contacts (email and phone)", F, ("program", "contacts", 0, "phone")),
    Row(
        "licensing_staff",
        "contacts through an alias and a fragment",
        F,
        ("program", "c", 0, "mail"),
    ),
    Row("head_start_staff", "contacts (who)", D, check=lambda w, d: d["program"]["contacts"] == []),
    Row("analyst", "contacts (who)", F, ("program",)),
    Row("anonymous", "contacts (who)", F, ("program", "contacts")),
    Row("anonymous", "contacts through an alias and a fragment", F, ("program", "c")),
    Row("stranger", "contacts (who)", F, ("program",)),
    Row(
        "admin",
        "capacity by age",
        D,
        check=lambda w, d: sum(c["capacity"] for c in d["program"]["capacityByAge"]) > 0,
    ),
    Row("ta", "accreditations", D),
    Row("anonymous", "capacity by age", F, ("program", "capacityByAge")),
    Row("anonymous", "accreditations", F, ("program", "accreditations")),
    # hub reads
    Row("ta", "the program's audit log", D, check=lambda w, d: d["audit"]["entries"]),
    Row("ta", "another program's audit log", F, ("audit",)),
    Row("admin", "another program's audit log", D),
    Row("analyst", "the program's audit log", F, ("audit",)),
    # aggregates
    Row(
        "analyst",
        "funding report totals",
        D,
        check=lambda w, d: d["fundingReport"]["programCount"] > 0,
    ),
    Row("analyst", "funding report lines", F, ("fundingReport", "lines")),
    Row(
        "ta",
        "funding report totals",
        D,
        check=lambda w, d: d["fundingReport"]["programCount"] <= len(w.inside),
    ),
    Row("anonymous", "funding report totals", F, ("fundingReport",)),
    # filters on what a role may not read
    Row("licensing_staff", "filter on QRIS level", F, ("programs",)),
    Row("admin", "filter on QRIS level", D),
    # writes
    Row("ta", "add a QIP goal in scope", D),
    Row("admin", "add a QIP goal outside the scope", D),
    Row("ta", "add a QIP goal outside the scope", N, ("createQipGoal",)),
    Row("provider", "add a QIP goal in scope", F, ("createQipGoal",)),
    Row("licensing_staff", "add a QIP goal in scope", F, ("createQipGoal",)),
    Row("analyst", "add a QIP goal in scope", F, ("createQipGoal",)),
    Row("anonymous", "add a QIP goal in scope", U, ("createQipGoal",)),
    Row("stranger", "add a QIP goal in scope", F, ("createQipGoal",)),
    Row("licensing_staff", "add a note", D),
    Row("ta", "add a note", D),
    Row("provider", "add a note", N, ("createNote",)),  # inside[1] is not the provider's
]


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if data is None:
            return None
        data = data[step]
    return data


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r.role}: {r.case}")
async def test_role_table(world: World, row: Row) -> None:
    query, variables = CASES[row.case]
    body = await world.run(row.role, query, variables(world))
    errors = body.get("errors") or []
    if row.expect == D:
        assert not errors, errors
        assert row.check is None or row.check(world, body["data"]), body["data"]
        return
    codes = {e["extensions"]["code"] for e in errors}
    expected = {F: "FORBIDDEN", N: "NOT_FOUND", U: "UNAUTHENTICATED"}[row.expect]
    assert codes == {expected}, errors
    assert any(tuple(e["path"]) == row.path for e in errors), (row.path, errors)
    assert _at(body.get("data"), row.path) is None


async def test_every_role_has_rows() -> None:
    assert {r.role for r in TABLE} == set(ROLES)


# -- scoped lists, suppression, note authors, audit ------------------------------------------

PAGE = """query($after: String) { programs(first: 2, after: $after) {
  edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""


async def _all_pages(world: World, role: str) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    for _ in range(50):
        data = await _data(world, role, PAGE, {"after": after})
        ids += _ids(data)
        if not data["programs"]["pageInfo"]["hasNextPage"]:
            return ids
        after = data["programs"]["pageInfo"]["endCursor"]
    raise AssertionError("never ended")


async def test_scoped_lists_page_through_exactly_the_scope(world: World) -> None:
    ta = await _all_pages(world, "ta")
    assert sorted(ta) == sorted(world.inside) and len(ta) == len(set(ta)) == 3
    assert await _all_pages(world, "provider") == world.inside[:1]
    # A filter narrows within the scope, never beyond it.
    name = (
        await _data(
            world, "admin", "query($id: ID!) { program(id: $id) { name } }", {"id": world.outside}
        )
    )["program"]["name"]
    filtered = await _data(
        world,
        "ta",
        "query($n: String!) { programs(filter: {name: $n}) { edges { node { id } } } }",
        {"n": name},
    )
    assert set(_ids(filtered)) <= set(world.inside)
    assert world.outside not in _ids(filtered)


ENROLLMENT = """query($ids: [ID!], $period: String) {
  enrollmentReport(programIds: $ids, period: $period) { programCount total
  totalSuppressed cells { supportType ageGroup period count suppressed } } }"""


def _cell(c: dict[str, Any]) -> tuple[str, str, str]:
    return (c["supportType"], c["ageGroup"], c["period"])


async def _small_program(world: World) -> tuple[str, str]:
    """A program whose enrollment has a count under 10 in some reporting period, and the
    period (a program shows one period's counts at a time)."""
    listed = await _data(world, "admin", "{ programs(first: 60) { nodes { periods } } }", {})
    periods = sorted({p for n in listed["programs"]["nodes"] for p in n["periods"]})
    for period in periods:
        found = await _data(
            world,
            "admin",
            """query($p: String) { programs(first: 60) {
                 nodes { id enrollment(period: $p) { counts { count } } } } }""",
            {"p": period},
        )
        small = [
            n["id"]
            for n in found["programs"]["nodes"]
            if any(0 < (c["count"] or 0) < 10 for c in n["enrollment"]["counts"])
        ]
        if small:
            return str(small[0]), period
    raise AssertionError("the demo should have a program with a small enrollment count")


async def test_small_cells_are_suppressed_with_their_complements(world: World) -> None:
    program, period = await _small_program(world)
    asked = {"ids": [program], "period": period}
    full = (await _data(world, "admin", ENROLLMENT, asked))["enrollmentReport"]
    seen = (await _data(world, "analyst", ENROLLMENT, asked))["enrollmentReport"]
    assert not any(c["suppressed"] for c in full["cells"])
    counts = {_cell(c): c["count"] for c in full["cells"]}
    hidden = [c for c in seen["cells"] if c["suppressed"]]
    shown = [c for c in seen["cells"] if not c["suppressed"]]
    # Every small count is hidden, nothing hidden is shown as a number ...
    assert all(c["count"] is None for c in hidden)
    assert all(not 0 < c["count"] < 10 for c in shown)
    # ... and the hidden ones cannot be derived from the total: two or more, summing >= 10.
    hidden_values = [counts[_cell(c)] for c in hidden]
    assert len(hidden_values) >= 2 and sum(hidden_values) >= 10
    assert seen["total"] == full["total"] and not seen["totalSuppressed"]


async def test_a_provider_with_detail_sees_its_own_small_counts(world: World) -> None:
    program, period = await _small_program(world)
    query = """query($id: ID!, $p: String) { program(id: $id) {
      enrollment(period: $p) { total counts { count suppressed } } } }"""
    world.tokens["own provider"] = world.key.mint(
        sub="p@x.example", roles=["provider"], programs=[program]
    )
    asked = {"id": program, "p": period}
    mine = (await _data(world, "own provider", query, asked))["program"]["enrollment"]
    full = (await _data(world, "admin", query, asked))["program"]["enrollment"]
    assert mine == full and any(0 < c["count"] < 10 for c in mine["counts"])


NOTE = """mutation($id: ID!) { createNote(programId: $id, input: {subjectType: PROGRAM,
  subjectId: $id, body: "By the TA", visibility: TEAM}) { id version } }"""
EDIT = """mutation($id: ID!, $v: Int!) { updateNote(id: $id, version: $v, patch: {body: "Edited"})
  { version body } }"""


async def test_only_the_author_or_an_admin_edits_a_note(world: World) -> None:
    note = (await _data(world, "ta", NOTE, {"id": world.inside[0]}))["createNote"]
    refused = await world.run("provider", EDIT, {"id": note["id"], "v": note["version"]})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "author" in refused["errors"][0]["message"]
    edited = await _data(world, "admin", EDIT, {"id": note["id"], "v": note["version"]})
    assert edited["updateNote"] == {"version": note["version"] + 1, "body": "Edited"}
    again = await _data(world, "ta", EDIT, {"id": note["id"], "v": note["version"] + 1})
    assert again["updateNote"]["body"] == "Edited"


TASK_EDIT = """mutation($id: ID!, $v: Int!) { updateQipTask(id: $id, version: $v,
  patch: {status: IN_PROGRESS}) { status version } }"""


async def test_a_provider_edits_its_own_qip_tasks_only(world: World) -> None:
    own_id, own_version = world.tasks[world.inside[0]]
    done = await _data(world, "provider", TASK_EDIT, {"id": own_id, "v": own_version})
    assert done["updateQipTask"]["status"] == "IN_PROGRESS"
    other_id, other_version = world.tasks[world.outside]
    refused = await world.run("provider", TASK_EDIT, {"id": other_id, "v": other_version})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nothing changed: the admin still sees the task at its old version.
    view = await _data(
        world,
        "admin",
        "query($id: ID!) { program(id: $id) { qip { goals { tasks { id status version } } } } }",
        {"id": world.outside},
    )
    tasks = list(itertools.chain.from_iterable(g["tasks"] for g in view["program"]["qip"]["goals"]))
    assert {"id": other_id, "status": "NOT_STARTED", "version": other_version} in tasks


async def test_denied_access_is_audited_with_the_actor(world: World) -> None:
    await world.run("ta", "query($id: ID!) { program(id: $id) { id } }", {"id": world.outside})
    await world.run("ta", CASES["add a QIP goal outside the scope"][0], {"id": world.outside})
    await world.run("analyst", "{ programs { edges { node { id } } } }")
    async with HubStore(world.demo.env["ECEHUB_HUB_URL"]) as store:
        outside = await store.audit_for_program(decode_global_id(world.outside, "Program"))
        anywhere = await store.audit_for_program("*", first=200)
    denied = [
        (e.actor, e.object_type.value, (e.after or {}).get("operation", "").split(" ")[0])
        for e in outside.entries
        if e.action.value == "DENY"
    ]
    assert ("coach@qris.example", "PROGRAM", "query") in denied
    assert ("coach@qris.example", "PROGRAM", "mutation") in denied
    fields = {(e.actor, e.object_id) for e in anywhere.entries if e.action.value == "DENY"}
    assert ("analyst@state.example", "Query.programs") in fields
    # A refused write wrote nothing but its audit entry.
    assert all(e.action.value == "DENY" or e.actor != "coach@qris.example" for e in outside.entries)


async def test_a_file_of_another_program_is_not_downloadable(world: World, tmp_path: Path) -> None:
    # Upload as admin to the outside program, then try to fetch it as the TA.
    import json

    operations = {
        "query": "mutation($f: Upload!, $p: ID!) { uploadFile(programId: $p, subjectType: PROGRAM, "
        "subjectId: $p, file: $f) { id } }",
        "variables": {"f": None, "p": world.outside},
    }
    response = await world.client.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("plan.txt", b"a plan\n", "text/plain")},
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    body = response.json()
    assert "errors" not in body, body
    file_id = body["data"]["uploadFile"]["id"]
    for role, status in (("ta", 403), ("admin", 200), ("anonymous", 401)):
        token = world.tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        got = await world.client.client.get(f"/files/{file_id}", headers=headers)
        assert got.status_code == status, (role, got.text)


NOTES = "query($id: ID!) { program(id: $id) { notes { body visibility author } } }"
PROGRAM_NOTE = """mutation($id: ID!, $v: NoteVisibility!) { createNote(programId: $id,
  input: {subjectType: PROGRAM, subjectId: $id, body: "For everyone", visibility: $v}) { id } }"""


async def test_a_provider_reads_program_notes_but_not_the_ta_teams(world: World) -> None:
    program = world.inside[0]
    for visibility in ("TEAM", "PROGRAM", "PRIVATE"):
        await _data(world, "ta", PROGRAM_NOTE, {"id": program, "v": visibility})
    ta = {
        n["visibility"]
        for n in (await _data(world, "ta", NOTES, {"id": program}))["program"]["notes"]
    }
    mine = (await _data(world, "provider", NOTES, {"id": program}))["program"]["notes"]
    admin = (await _data(world, "admin", NOTES, {"id": program}))["program"]["notes"]
    assert ta >= {"TEAM", "PROGRAM", "PRIVATE"}  # the author reads their own private note
    assert {n["visibility"] for n in mine} == {"PROGRAM"}
    assert "PRIVATE" not in {n["visibility"] for n in admin} and "TEAM" in {
        n["visibility"] for n in admin
    }
