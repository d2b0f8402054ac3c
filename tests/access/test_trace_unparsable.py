"""A traced request's ``extensions.sources[].unparsable`` (README "Configure a state's
sources"): per source, entity and field, how many records this request read with a value that
did not parse, read live or from the cache, each record once; the first such value as an
example only to a role that may read the field (the one access rule).

The demo graph with the demo config's access rules and real tokens; every licensing
facility's ``capacity`` is planted as ``NA`` (the canonical ``licensed_capacity``, an int,
shown as ``Program.license`` then ``License.capacity``: licensing data)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from ecehub.auth.devtokens import DevKey
from tests.graph_helpers import GraphClient, demo_graph

pytestmark = pytest.mark.asyncio(loop_scope="module")

PLANTED = "NA"
PROGRAM = "query($id: ID!) { program(id: $id) { name license { capacity } } }"
NAME_ONLY = "query($id: ID!) { program(id: $id) { name } }"


@dataclass
class World:
    client: GraphClient
    tokens: dict[str, str | None]
    program: str  # a program licensing knows

    async def traced(self, who: str, query: str, program: str | None = None) -> dict[str, Any]:
        return await self.client.query(
            query, {"id": program or self.program}, token=self.tokens[who]
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("trace-unparsable")
    key = DevKey.load_or_create(tmp / "keys")
    async with demo_graph(tmp, 20, dev_key=key) as (demo, client):
        path = demo.env["LICENSING_DB_URL"].removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            db.execute(f"UPDATE facility SET capacity = '{PLANTED}'")
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        listed = await client.query(
            "{ programs(first: 40) { nodes { id sources { source } } } }", token=admin
        )
        assert "errors" not in listed, listed
        programs = [
            n["id"]
            for n in listed["data"]["programs"]["nodes"]
            if {s["source"] for s in n["sources"]} == {"licensing"}
        ]
        tokens: dict[str, str | None] = {
            "admin": admin,
            "licensing_staff": key.mint(
                sub="consultant@licensing.example",
                roles=["sector_staff"],
                support_types=["LICENSING"],
            ),
            "anonymous": None,
        }
        yield World(client, tokens, programs[0])


def _unparsable(body: dict[str, Any], source: str) -> list[dict[str, Any]]:
    entry = next(s for s in body["extensions"]["sources"] if s["source"] == source)
    found: list[dict[str, Any]] = entry["unparsable"]
    return found


CAPACITY = {"entity": "program", "field": "licensed_capacity", "count": 1}


async def test_a_value_that_does_not_parse_is_null_and_in_the_trace(world: World) -> None:
    body = await world.traced("admin", PROGRAM)
    assert "errors" not in body, body
    assert body["data"]["program"]["license"]["capacity"] is None
    assert _unparsable(body, "licensing") == [{**CAPACITY, "example": repr(PLANTED)}]


async def test_the_count_is_this_requests_own_from_the_cache_too(world: World) -> None:
    first = await world.traced("admin", PROGRAM)
    again = await world.traced("admin", PROGRAM)
    calls = {s["source"]: s["calls"] for s in again["extensions"]["sources"]}
    # The second answer came from the cache: no licensing call, the same single record.
    assert calls["licensing"] == 0
    assert _unparsable(again, "licensing") == _unparsable(first, "licensing")


async def test_a_source_that_parses_everything_reports_nothing(world: World) -> None:
    body = await world.traced("admin", PROGRAM)
    assert all(
        s["unparsable"] == [] for s in body["extensions"]["sources"] if s["source"] != "licensing"
    )


@pytest.mark.parametrize("who", ["licensing_staff", "admin"])
async def test_a_reader_of_the_field_sees_the_example(world: World, who: str) -> None:
    body = await world.traced(who, PROGRAM)
    assert _unparsable(body, "licensing") == [{**CAPACITY, "example": repr(PLANTED)}]


async def test_a_reader_who_may_not_read_the_field_gets_the_count_only(world: World) -> None:
    # The public directory may not read Program.license: its trace names the field and the
    # count, never the source's value.
    body = await world.traced("anonymous", NAME_ONLY)
    assert "errors" not in body, body
    assert body["data"]["program"]["name"]
    assert _unparsable(body, "licensing") == [CAPACITY]
    assert PLANTED not in str(body["extensions"])
