"""The findings of issue 14 ("Every path obeys the same rule"), one test each: values a role may
not read came back through provenance and conflicts (2), the audit log's before/after (3) and a
report's program filter (5). The world and its planted values: tests/access/gate_world.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from ecehub.hub import HubStore
from tests.access.gate_world import (
    AUDIT,
    BIRTH_YEAR,
    NOTE_MARK,
    REPORTS,
    World,
    errors,
    open_world,
    text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with open_world(tmp_path_factory) as w:
        yield w


# -- finding 2: provenance and conflicts ------------------------------------------------------

STAFF_PROVENANCE = """query($id: ID!) { program(id: $id) { staff {
  asked: provenance(fields: ["birth_year", "first_name"]) { field value }
  every: provenance { field value }
  conflicts(fields: ["birth_year"]) { field values { field value } } } } }"""


@pytest.mark.parametrize("who", ["ta", "head_start_staff"])
async def test_provenance_and_conflicts_do_not_give_a_denied_field(world: World, who: str) -> None:
    body = await world.run(who, STAFF_PROVENANCE, {"id": world.program})
    staff = body["data"]["program"]["staff"]
    assert staff, body
    for s in staff:
        assert all(e["field"] != "birth_year" for e in s["asked"] + s["every"]), s
        assert s["conflicts"] == []
    assert str(BIRTH_YEAR) not in text(body)
    # The rest answers: first names come back, asked for or not.
    assert any(e["field"] == "first_name" for s in staff for e in s["asked"])
    assert any(e["field"] == "first_name" for s in staff for e in s["every"])
    # Asking for it by name is refused like the field itself, and audited.
    refused = [e for e in errors(body) if e["extensions"]["code"] == "FORBIDDEN"]
    assert refused and all("Staff.birthYear" in e["message"] for e in refused), body
    async with HubStore(world.demo.env["ECEHUB_HUB_URL"]) as store:
        logged = await store.audit_for_program("*", first=500)
    sub = world.readers[who].sub
    assert any(
        e.action.value == "DENY" and e.actor == sub and e.object_id == "Staff.birthYear"
        for e in logged.entries
    )


async def test_provenance_still_gives_an_allowed_reader_every_field(world: World) -> None:
    body = await world.run("admin", STAFF_PROVENANCE, {"id": world.program})
    assert not errors(body), body
    staff = body["data"]["program"]["staff"]
    years = [e["value"] for s in staff for e in s["asked"] if e["field"] == "birth_year"]
    assert str(BIRTH_YEAR) in years
    assert str(BIRTH_YEAR) in {e["value"] for s in staff for e in s["every"]}


# -- finding 3: the audit log's before and after ----------------------------------------------


def _audit_bodies(body: dict[str, Any]) -> set[str]:
    found = set()
    for entry in body["data"]["audit"]["entries"]:
        for side in (entry["before"], entry["after"]):
            if side and isinstance(side.get("body"), str):
                found.add(side["body"].removesuffix("-edited"))
    return found


def _readable(reader: str, author: str, visibility: str) -> bool:
    if reader == author:
        return True
    if visibility == "PRIVATE":
        return False
    return reader != "provider" or visibility == "PROGRAM"


@pytest.mark.parametrize("who", ["ta", "provider", "admin"])
async def test_the_audit_log_shows_only_the_note_bodies_the_reader_may_read(
    world: World, who: str
) -> None:
    body = await world.run(who, AUDIT, {"id": world.program})
    assert not errors(body), body
    seen = {b for b in _audit_bodies(body) if b.startswith(NOTE_MARK)}
    expected = {
        b
        for b, author in world.notes.items()
        if _readable(who, author, b.rsplit("-", 1)[1].upper())
    }
    assert seen == expected


# -- finding 5: filters on fields a role may not read ------------------------------------------


@pytest.mark.parametrize("report", sorted(REPORTS))
async def test_an_analyst_cannot_filter_a_report_by_program_name(world: World, report: str) -> None:
    name = (
        await world.run(
            "admin", "query($id: ID!) { program(id: $id) { name } }", {"id": world.program}
        )
    )["data"]["program"]["name"]
    body = await world.run("analyst", REPORTS[report], {"f": {"name": name}})
    assert (body.get("data") or {}).get(report) is None, body
    assert {e["extensions"]["code"] for e in errors(body)} == {"FORBIDDEN"}
    assert all(name not in e["message"] for e in errors(body))
    # Without the filter the analyst still gets the aggregate.
    whole = await world.run("analyst", REPORTS[report], {"f": None})
    assert not errors(whole) and whole["data"][report]["programCount"] > 1, whole
