"""Documents whose size explodes once fragments are expanded are refused before validation,
at once, and do not hold up other requests; the limits count each fragment once. Every root
field's cost estimate covers the source calls it really makes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import CacheConfig, Config, load_config
from ecehub.demo import DemoSystems
from ecehub.ids import encode_global_id
from ecehub.resolvers.runtime import Runtime
from ecehub.schema.measure import measure
from ecehub.schema.schema import build_schema
from tests.graph_helpers import NESTED, GraphClient
from tests.schema.test_limits import PROGRAMS, limited_graph, refused

SMALL = "{ supportTypes { code } }"
DEMO_CONFIG = Path(__file__).parents[2] / "config" / "demo.yaml"


def fragment_bomb(levels: int, leaf: str = "supportTypes { code }") -> str:
    """``{ ...F0 }``, each fragment spreading the next twice: 2**levels leaves."""
    parts = ["{ ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels - 1)]
    parts.append(f"fragment F{levels - 1} on Query {{ {leaf} }}")
    return " ".join(parts)


async def small_answers(client: GraphClient) -> None:
    body = await client.query(SMALL)
    assert "errors" not in body, body
    assert {t["code"] for t in body["data"]["supportTypes"]} == {"LICENSING", "HEAD_START", "QRIS"}


def test_the_bomb_of_the_issue_is_749_bytes() -> None:
    assert len(fragment_bomb(19).encode()) == 749


async def test_a_fragment_bomb_is_refused_at_once(tmp_path: Path) -> None:
    async with limited_graph(tmp_path) as (_, client, _config):
        started = time.perf_counter()
        response = await client.post(fragment_bomb(20))
        elapsed = time.perf_counter() - started
        await small_answers(client)
    assert response.status_code == 200
    error = refused(response, "QUERY_TOO_COMPLEX")
    # 2**20 fields, 2**20 - 2 spreads: never expanded, only multiplied
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "selections": 2**21 - 2 + 1,
        "maxSelections": 2000,
    }
    assert elapsed < 2.0  # about 5 ms; it held the event loop for 25-35 s


async def test_a_small_query_is_answered_while_ten_bombs_arrive(tmp_path: Path) -> None:
    async with limited_graph(tmp_path) as (_, client, _config):
        started = time.perf_counter()
        bombs = asyncio.gather(*(client.post(fragment_bomb(20 + i % 3)) for i in range(10)))
        answers, small = await asyncio.gather(bombs, client.query(SMALL))
        elapsed = time.perf_counter() - started
    # a generous bound: each bomb alone used to hold the event loop 25 s or more
    assert elapsed < 10.0
    assert len(answers) == 10
    for response in answers:
        refused(response, "QUERY_TOO_COMPLEX")
    assert "errors" not in small, small
    assert {t["code"] for t in small["data"]["supportTypes"]} == {
        "LICENSING",
        "HEAD_START",
        "QRIS",
    }


async def test_the_same_field_many_times_at_one_place_is_refused(tmp_path: Path) -> None:
    # 401 fields, within the token limit: validation's field-merging check compares every
    # pair of them (0.7 s); a handful of repeats is fine.
    many = "{ " + "supportTypes { code } " * 400 + "}"
    few = "{ " + "supportTypes { code } " * 5 + "}"
    async with limited_graph(tmp_path) as (_, client, _config):
        started = time.perf_counter()
        response = await client.post(many)
        elapsed = time.perf_counter() - started
        body = await client.query(few)
    error = refused(response, "QUERY_TOO_COMPLEX")
    assert "too many times" in error["message"]
    assert elapsed < 2.0
    assert "errors" not in body and len(body["data"]["supportTypes"]) == 3


async def test_max_selections_is_configurable(tmp_path: Path) -> None:
    query = "{ ...P } fragment P on Query { a: supportTypes { code } b: supportTypes { code } }"
    async with limited_graph(tmp_path, max_selections=4) as (_, client, _config):
        error = refused(await client.post(query), "QUERY_TOO_COMPLEX")
        body = await client.query("{ ...P } fragment P on Query { supportTypes { code } }")
    # the spread, the fragment's two fields and each one's `code`
    assert error["extensions"]["selections"] == 5
    assert error["extensions"]["maxSelections"] == 4
    assert "at most 4 allowed" in error["message"]
    assert "errors" not in body, body


async def test_depth_and_aliases_count_every_fragment_use(tmp_path: Path) -> None:
    aliased = "{ ...A ...A } fragment A on Query { x: supportTypes { c: code } }"
    deep = (
        "{ programs(first: 1) { ...C } } fragment C on ProgramConnection "
        "{ nodes { sites { rooms { name } } } }"
    )
    async with limited_graph(tmp_path, max_aliases=3, max_depth=3) as (_, client, _config):
        aliases = refused(await client.post(aliased), "TOO_MANY_ALIASES")
        depth = refused(await client.post(deep), "QUERY_TOO_DEEP")
        ok = await client.query(deep.replace("rooms { name }", "name"))
    assert aliases["message"] == "4 aliases found. Allowed: 3"
    assert depth["message"] == "'anonymous' exceeds maximum operation depth of 3"
    assert "errors" not in ok, ok


async def test_a_fragment_cycle_gets_the_validation_error(tmp_path: Path) -> None:
    cycle = (
        "{ ...A } fragment A on Query { supportTypes { code } ...B } "
        "fragment B on Query { ...A ...A }"
    )
    async with limited_graph(tmp_path) as (_, client, _config):
        response = await client.post(cycle)
        await small_answers(client)
    error = refused(response, "GRAPHQL_VALIDATION_FAILED")
    assert "Cannot spread fragment 'A' within itself" in error["message"]


def demo_config() -> Config:
    env = {
        "LICENSING_DB_URL": "sqlite+aiosqlite:///licensing.db",
        "HEADSTART_DB_URL": "sqlite+aiosqlite:///head_start.db",
        "QRIS_API_URL": "http://127.0.0.1:9",
        "QRIS_API_KEY": "not-a-real-key",
    }
    return load_config(DEMO_CONFIG, env=env)


async def test_fragments_nested_hundreds_deep_are_refused(tmp_path: Path) -> None:
    levels = 600  # only with max_tokens raised: 10 tokens a level
    chain = " ".join(
        f"fragment F{i} on Query {{ supportTypes {{ ...F{i + 1} }} }}" for i in range(levels)
    )
    query = f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ supportTypes {{ code }} }}"
    async with limited_graph(tmp_path, max_tokens=20_000, max_depth=1000) as (_, client, _c):
        response = await client.post(query)
        await small_answers(client)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} <= {
        "QUERY_TOO_COMPLEX",
        "GRAPHQL_VALIDATION_FAILED",
    }, body


def test_each_fragment_is_measured_once_and_multiplied() -> None:
    config = demo_config()
    schema = build_schema(config)._schema
    leaf = "programs(first: 1) { nodes { sites { name } } }"
    one = measure(schema, config, parse("{ " + leaf + " }")).operations[0].figures
    started = time.perf_counter()
    bomb = measure(schema, config, parse(fragment_bomb(60, leaf))).operations[0].figures
    elapsed = time.perf_counter() - started
    assert bomb.cost == 2**59 * one.cost > 0
    assert bomb.selections == 2**59 * one.selections + 2**60 - 1
    assert bomb.depth == one.depth == 3
    assert elapsed < 1.0  # about 1 ms: 60 fragments, each measured once


def test_introspection_and_the_nested_query_are_well_within_the_limits() -> None:
    config = Config()
    schema = build_schema(config)._schema
    for query in (get_introspection_query(descriptions=True), NESTED):
        figures = measure(schema, config, parse(query))
        assert not figures.cyclic
        assert figures.selections <= config.server.max_selections // 4
        assert figures.repeats == 0


# -- every root field's estimate against the trace ------------------------------------------------


def _root_queries(ids: dict[str, str]) -> dict[str, tuple[str, dict[str, Any]]]:
    program_fields = """name sites { name rooms { name } staff { name } }
      staff { name trainings { title } } checklists { name responses { item } notMetCount }
      assessments { score scores { score } } enrollment { total } funding { amount }
      ratingHistory { level } activity { kind } supportSummary { total { visits } }"""
    link = f"id source record {{ {program_fields} }} program {{ {program_fields} }}"
    return {
        "programs": (f"{{ programs(first: 5) {{ nodes {{ {program_fields} }} }} }}", {}),
        "program": (f"query($id: ID!) {{ program(id: $id) {{ {program_fields} }} }}", ids),
        "site": (
            "query($site: ID!) { site(id: $site) { name rooms { name } staff { name } } }",
            ids,
        ),
        "staff": ("query($staff: ID!) { staff(id: $staff) { name trainings { title } } }", ids),
        "sources": ("{ sources { name status } }", {}),
        "audit": ("query($id: ID!) { audit(programId: $id) { entries { actor } } }", ids),
        "supportTypes": (SMALL, {}),
        "fundingReport": (
            "{ fundingReport { programCount lines { amount } totals { overall { amount } } } }",
            {},
        ),
        "supportSummary": (
            "{ supportSummary { programCount programs { program { "
            + program_fields
            + " } summary { total { visits } } } total { total { visits } } } }",
            {},
        ),
        "enrollmentReport": ("{ enrollmentReport { programCount cells { count } total } }", {}),
        "crosswalkSuggestions": (
            f"{{ crosswalkSuggestions(first: 10) {{ links {{ {link} }} }} }}",
            {},
        ),
        "crosswalk": (
            "query($linked: ID!) { crosswalk(programId: $linked) { version links { "
            + link
            + " } } }",
            ids,
        ),
    }


REPORTS = {
    "enrollmentReport": "enrollmentReport { total }",
    "fundingReport": "fundingReport { programCount }",
    "supportSummary": "supportSummary { programCount }",
    "crosswalkSuggestions": "crosswalkSuggestions { links { record { sites { name } } "
    "program { sites { name } } } }",
}


@pytest.mark.parametrize("root", sorted(REPORTS))
async def test_thirty_aliased_reports_are_too_costly(tmp_path: Path, root: str) -> None:
    # The issue: 30 aliases of enrollmentReport were estimated at 0 calls and made 7 each.
    query = "{ " + " ".join(f"r{i}: {REPORTS[root]}" for i in range(30)) + " }"
    async with limited_graph(tmp_path) as (_, client, _config):
        error = refused(await client.post(query), "QUERY_TOO_COSTLY")
        one = await client.query("{ " + REPORTS[root] + " }")
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 200
    assert "errors" not in one, one


@contextlib.asynccontextmanager
async def graph_as(
    tmp_path: Path, role: str
) -> AsyncIterator[tuple[DemoSystems, GraphClient, Config, str | None]]:
    """The demo behind an in-process hub, read by ``role``: ``everyone`` (no access rules),
    or a signed-in ``state_admin`` or ``ta_staff`` (scoped to the first licensed program)
    under the demo's access rules."""
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        token: str | None = None
        if role == "everyone":
            config = config.model_copy(update={"access": None})
        else:
            key = DevKey.load_or_create(tmp_path / "keys")
            config = config.model_copy(update={"auth": dev_auth_config(key)})
            truth = next(t for t in demo.world.truth if t.license_no is not None)
            pid = encode_global_id("Program", f"LICENSE_NUMBER:{truth.license_no}")
            token = key.mint(sub=f"{role}@state.example", roles=[role], programs=[pid])
        # Every query reads its sources: a warm source cache would answer a later root
        # field's reads with no call, hiding what its estimate must cover.
        config = config.model_copy(update={"cache": CacheConfig(backend="none")})
        hub = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, hub))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield demo, GraphClient(client), config, token
        finally:
            await hub.aclose()


@pytest.mark.parametrize("role", ["everyone", "state_admin", "ta_staff"])
async def test_every_root_fields_estimate_covers_the_calls_it_makes(
    tmp_path: Path, role: str
) -> None:
    """Each root field, with every source-reading field below it: the server's estimate is
    at least the calls the trace shows, for a reader that sees everything and for a role
    scoped to one program (its scope checks make calls too)."""
    from ecehub.crosswalk.records import LinkProposal
    from ecehub.crosswalk.store import CrosswalkStore

    async with graph_as(tmp_path, role) as (demo, client, config, token):
        # A suggestion (whether right or not does not matter here) for the review queue.
        truth = next(t for t in demo.world.truth if t.license_no is not None)
        provider = demo.world.qris.providers[-1]
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            await store.add_proposals(
                "matcher@ecehub",
                "program",
                [
                    LinkProposal(
                        f"LICENSE_NUMBER:{truth.license_no}",
                        "qris",
                        provider.provider_id,
                        0.9,
                        ("same phone",),
                    )
                ],
            )
        listed = await client.query(
            "{ programs(first: 8) { nodes { id sites { id } staff { id } } } }", token=token
        )
        nodes = listed["data"]["programs"]["nodes"]
        ids = {
            "id": nodes[0]["id"],
            "site": next(s["id"] for n in nodes for s in n["sites"]),
            "staff": next(s["id"] for n in nodes for s in n["staff"]),
            "linked": encode_global_id("Program", f"LICENSE_NUMBER:{truth.license_no}"),
        }
        queries = _root_queries(ids)
        schema = build_schema(config)._schema
        assert schema.query_type is not None
        assert set(queries) == set(schema.query_type.fields)
        seen: dict[str, tuple[int, int]] = {}
        for root, (query, variables) in queries.items():
            wanted = {k: v for k, v in variables.items() if f"${k}" in query}
            body = await client.query(query, wanted, token=token)
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            # refused fields: the TA may not read the crosswalk nor other programs' data
            assert codes <= ({"FORBIDDEN"} if role != "everyone" else set()), (root, body)
            calls = sum(s["calls"] for s in body["extensions"]["sources"])
            operation = measure(schema, config, parse(query)).operation(None)
            assert operation is not None
            seen[root] = (operation.figures.cost, calls)
    under = {root: pair for root, pair in seen.items() if pair[0] < pair[1]}
    assert not under, f"estimate below the calls made (estimate, calls): {under}; all: {seen}"
    assert all(calls > 0 for root, (_, calls) in seen.items() if root.endswith("Report"))
