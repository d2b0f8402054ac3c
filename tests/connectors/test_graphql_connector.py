"""The ``graphql`` connector against a real GraphQL server on loopback (graphql-core on
aiohttp.web): the conformance kit, one request per fetch, variables never written into the
document, paging styles, pushed-down filters, errors and partial data, timeouts, verify()."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from graphql import GraphQLError, GraphQLResolveInfo, build_schema, graphql

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.connectors import Connector, FieldFilter
from ecehub.connectors.graphql import GraphqlConnector
from ecehub.errors import ConfigError, SourceTimeout, SourceUnavailable
from ecehub.resolvers.runtime import Runtime
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements, build_connector
from tests.graph_helpers import GraphClient, calls_by_source

TOKEN = "gql-sekret-9876"

Info = GraphQLResolveInfo[Any]

SDL = """
type Query {
  programs(keys: [ID!]!): [Program!]!
  program(key: ID!): Program
  programPage(
    first: Int, after: String, city: String, levelAtLeast: Int, licenses: [String!]
  ): ProgramConnection!
  programNodes(first: Int, after: String): ProgramNodes!
  sites(keys: [ID!]!): [Site!]!
  sitesOf(programKeys: [ID!]!): [Site!]!
  siteList(offset: Int, limit: Int): [Site!]!
  allSites: [Site!]!
  broken(keys: [ID!]!): [Program!]!
  partlyBroken(keys: [ID!]!): [Program!]!
}
type Program {
  program_key: ID!
  name: String
  address: Address
  qris_level: Int
  license_expires: String
  license_number: String
  secret_note: String
}
type Address { city: String county: String }
type ProgramConnection { edges: [ProgramEdge!]! pageInfo: PageInfo! }
type ProgramEdge { cursor: String! node: Program! }
type ProgramNodes { nodes: [Program!]! pageInfo: PageInfo! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Site {
  site_key: ID! program_key: ID! owner: ID name: String city: String capacity: Int
}
"""


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def _program(row: dict[str, Any]) -> dict[str, Any]:
    out = _as_json(row)
    out["address"] = {"city": out.pop("city"), "county": out.pop("county")}
    return out


@dataclass
class Upstream:
    """The fake partner API: what it saw, and knobs a test turns."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    programs: list[dict[str, Any]] = field(
        default_factory=lambda: [_program(r) for r in CONFORMANCE_DATA["program"]]
    )
    sites: list[dict[str, Any]] = field(
        default_factory=lambda: [_as_json(r) for r in CONFORMANCE_DATA["site"]]
    )

    @property
    def requests(self) -> int:
        return len(self.bodies)


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def _page(rows: list[dict[str, Any]], first: int | None, after: str | None) -> dict[str, Any]:
    start = 0 if after is None else int(after.removeprefix("c")) + 1
    size = len(rows) if first is None else first
    chunk = rows[start : start + size]
    return {
        "edges": [{"cursor": f"c{start + i}", "node": row} for i, row in enumerate(chunk)],
        "nodes": chunk,
        "pageInfo": {
            "hasNextPage": start + size < len(rows),
            "endCursor": f"c{start + len(chunk) - 1}" if chunk else None,
        },
    }


def build_app(state: Upstream) -> web.Application:
    schema = build_schema(SDL)

    def programs(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        wanted = set(keys)
        return [p for p in state.programs if p["program_key"] in wanted]

    def program(info: Info, key: str) -> dict[str, Any] | None:
        return next((p for p in state.programs if p["program_key"] == key), None)

    def program_page(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        city: str | None = None,
        levelAtLeast: int | None = None,
        licenses: list[str] | None = None,
    ) -> dict[str, Any]:
        rows = state.programs
        if licenses is not None:
            wanted = {_fold(v) for v in licenses}
            rows = [p for p in rows if p["license_number"] and _fold(p["license_number"]) in wanted]
        if city is not None:
            rows = [p for p in rows if _fold(p["address"]["city"]) == _fold(city)]
        if levelAtLeast is not None:
            rows = [p for p in rows if (p["qris_level"] or 0) >= levelAtLeast]
        return _page(rows, first, after)

    def program_nodes(
        info: Info, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        return _page(state.programs, first, after)

    def sites(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        return [s for s in state.sites if s["site_key"] in set(keys)]

    def sites_of(info: Info, programKeys: list[str]) -> list[dict[str, Any]]:
        return [s for s in state.sites if s["program_key"] in set(programKeys)]

    def site_list(info: Info, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return state.sites[offset : offset + limit]

    def all_sites(info: Info) -> list[dict[str, Any]]:
        return state.sites

    def broken(info: Info, keys: list[str]) -> None:
        raise GraphQLError(f"registry offline for {TOKEN}; try later")

    def partly_broken(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        return [{**p, "secret_note": None} for p in programs(info, keys)]

    root = {
        "programs": programs,
        "program": program,
        "programPage": program_page,
        "programNodes": program_nodes,
        "sites": sites,
        "sitesOf": sites_of,
        "siteList": site_list,
        "allSites": all_sites,
        "broken": broken,
        "partlyBroken": partly_broken,
    }

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.json()
        state.bodies.append(body)
        state.headers.append(dict(request.headers))
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        result = await graphql(
            schema,
            body["query"],
            root_value=root,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        if body["query"].find("partlyBroken") >= 0 and result.data:
            # A nested error, as a server reports one that nulled a single field.
            answer["errors"] = [{"message": "note withheld", "path": ["r0", 0, "secret_note"]}]
        return web.json_response(answer)

    async def down(request: web.Request) -> web.Response:
        return web.json_response({"error": "maintenance"}, status=503)

    app = web.Application()
    app.router.add_post("/graphql", endpoint)
    app.router.add_post("/down", down)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    runner = web.AppRunner(build_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    yield state
    await runner.cleanup()


PROGRAM_FIELDS = {
    "name": "name",
    "city": "address.city",
    "county": "address.county",
    "qris_level": "qris_level",
    "license_expires": "license_expires",
}


def graphql_source(url: str, **program: Any) -> dict[str, Any]:
    return {
        "kind": "graphql",
        "url": url,
        "support_types": ["QRIS"],
        "timeout_s": 2,
        "headers": {"Authorization": "Bearer ${PARTNER_TOKEN}"},
        "entities": {
            "program": {
                "key": "program_key",
                "fields": PROGRAM_FIELDS,
                "identifiers": {"LICENSE_NUMBER": "license_number"},
                "fetch": {"field": "programs", "argument": "keys", "max": 5},
                "find": {"field": "programPage", "page_size": 4},
                "filters": {
                    "city": {"argument": "city"},
                    "qris_level": {"argument": "levelAtLeast", "op": "gte", "type": "Int"},
                    "identifier:LICENSE_NUMBER": {
                        "argument": "licenses",
                        "op": "in",
                        "type": "[String!]",
                    },
                },
                **program,
            },
            "site": {
                "key": "site_key",
                "parent": {"program": "program_key"},
                "fields": {"name": "name", "city": "city", "capacity": "capacity"},
                "fetch": {"field": "sites", "argument": "keys"},
                "children": {"field": "sitesOf", "argument": "programKeys", "max": 3},
                "find": {"field": "siteList", "paging": "offset", "page_size": 6},
            },
        },
    }


ENV = {"PARTNER_TOKEN": TOKEN}


def connect(url: str, **program: Any) -> GraphqlConnector:
    connector = build_connector("partner", graphql_source(url, **program), env=ENV)
    assert isinstance(connector, GraphqlConnector)
    return connector


class TestGraphqlConformance(ConnectorConformance):
    requirements = Requirements()

    @pytest.fixture
    async def connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        connector = connect(f"{upstream.url}/graphql")
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        connector = connect(f"{upstream.url}/down")
        yield connector
        await connector.aclose()


class TestGraphqlNodesPagingConformance(TestGraphqlConformance):
    """Connection paging without edge cursors (``nodes``): cursors hold the page's ``after``
    and the index in it."""

    @pytest.fixture
    async def connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        connector = connect(
            f"{upstream.url}/graphql",
            find={"field": "programNodes", "records_path": "nodes", "page_size": 5},
            filters={},
            fetch={"field": "program", "argument": "key", "type": "ID!"},
        )
        yield connector
        await connector.aclose()


# -- batching, variables, paging --------------------------------------------------------------


def _many_programs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "program_key": f"K{i}",
            "name": f"Program {i}",
            "address": {"city": "Springfield", "county": None},
            "qris_level": i % 5 + 1,
            "license_expires": None,
            "license_number": f"L-{i}",
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "fetch",
    [
        pytest.param({"field": "programs", "argument": "keys", "max": 30}, id="list-argument"),
        pytest.param({"field": "program", "argument": "key", "type": "ID!"}, id="one-key-field"),
    ],
)
async def test_a_fetch_of_100_keys_is_one_request(
    upstream: Upstream, fetch: dict[str, Any]
) -> None:
    upstream.programs = _many_programs(150)
    keys = [f"K{i}" for i in range(99)] + ['NOPE") { x } #']  # 100 keys, one not there
    async with connect(f"{upstream.url}/graphql", fetch=fetch) as connector:
        records = await connector.fetch("program", keys)
    assert sorted(records) == sorted(keys[:99])
    assert upstream.requests == 1
    body = upstream.bodies[0]
    # Keys travel as variables only, never in the document.
    assert "K1" not in body["query"] and "NOPE" not in body["query"]
    sent = json.dumps(body["variables"])
    assert all(f'"K{i}"' in sent for i in range(99)) and "NOPE" in sent
    assert upstream.headers[0]["Authorization"] == f"Bearer {TOKEN}"


async def test_more_calls_than_max_aliases_take_more_requests(upstream: Upstream) -> None:
    upstream.programs = _many_programs(30)
    source = graphql_source(f"{upstream.url}/graphql")
    source["max_aliases"] = 10
    source["entities"]["program"]["fetch"] = {"field": "program", "argument": "key", "type": "ID!"}
    async with build_connector("partner", source, env=ENV) as connector:
        records = await connector.fetch("program", [f"K{i}" for i in range(25)])
    assert len(records) == 25
    assert sorted(len(b["variables"]) for b in upstream.bodies) == [5, 10, 10]


async def test_children_without_a_parent_are_counted(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    # `owner` is the parent key, and S1 has none (its program_key still lets sitesOf list it).
    upstream.sites = [{**site, "owner": site["program_key"]} for site in upstream.sites]
    upstream.sites[0]["owner"] = None
    source = graphql_source(f"{upstream.url}/graphql")
    source["entities"]["site"]["parent"] = {"program": "owner"}
    with caplog.at_level(logging.WARNING, logger="ecehub.connectors.graphql"):
        async with build_connector("partner", source, env=ENV) as connector:
            grouped = await connector.children("site", "program", ["P1"])
    assert sorted(r.key for r in grouped["P1"]) == ["S2", "S3"]
    assert any(
        "1 site record(s) without a value at the parent path 'owner'" in r.getMessage()
        for r in caplog.records
    )


async def test_children_are_one_request_grouped_by_parent(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/graphql") as connector:
        grouped = await connector.children("site", "program", ["P1", "P3", "P4", "P8", "X"])
    assert {p: sorted(r.key for r in rs) for p, rs in grouped.items()} == {
        "P1": ["S1", "S2", "S3"],
        "P3": ["S5", "S6"],
        "P4": [],
        "P8": ["S12", "S13", "S14"],
        "X": [],
    }
    assert upstream.requests == 1  # two aliased calls of max 3 keys, one request


async def test_paging_asks_only_for_what_it_needs(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/graphql") as connector:
        page = await connector.find("program", first=2)
        assert [r.key for r in page.records] == ["P1", "P2"] and page.has_next
        assert upstream.requests == 1
        assert upstream.bodies[0]["variables"] == {"first": 3, "after": None}
        rest = await connector.find("program", first=20, after=page.records[-1].cursor)
    assert [r.key for r in rest.records] == [f"P{i}" for i in range(3, 13)]
    assert not rest.has_next
    assert upstream.bodies[1]["variables"]["after"] == "c1"  # the edge's own cursor


async def test_filters_are_pushed_down_as_variables_or_checked_here(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/graphql") as connector:
        pushed = await connector.find(
            "program",
            [FieldFilter("city", "eq", "SPRINGFIELD"), FieldFilter("qris_level", "gte", "3")],
        )
        assert sorted(r.key for r in pushed.records) == ["P1", "P11"]
        assert upstream.bodies[-1]["variables"] == {
            "first": 4,
            "after": None,
            "f0": "SPRINGFIELD",
            "f1": 3,
        }
        local = await connector.find("program", [FieldFilter("name", "contains", "ACORN")])
        assert sorted(r.key for r in local.records) == ["P2", "P4", "P7"]
        assert set(upstream.bodies[-1]["variables"]) == {"first", "after"}


async def test_an_api_looser_than_the_filter_costs_rows_not_correctness(
    upstream: Upstream,
) -> None:
    # levelAtLeast ignores nulls as 0; say it were `eq` on text with other rules: the hub
    # checks every record it gets back, so only what matches() selects is returned.
    async with connect(f"{upstream.url}/graphql") as connector:
        page = await connector.find("program", [FieldFilter("qris_level", "lte", 2)])
    assert sorted(r.key for r in page.records) == ["P10", "P2", "P5", "P7"]


async def test_offset_paging_and_a_bad_cursor(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/graphql") as connector:
        first = await connector.find("site", first=7)
        assert len(first.records) == 7 and first.has_next
        after = first.records[-1].cursor
        assert after is not None
        rest = await connector.find("site", after=after)
        assert [r.key for r in rest.records] == [f"S{i}" for i in range(8, 21)]
        offsets = [b["variables"]["offset"] for b in upstream.bodies[-3:]]
        assert offsets == [7, 13, 19]  # resumed where the cursor pointed, not from the start
        for bad in ("S7", "WyJjc3YiLCJTNyJd", after + "x"):
            with pytest.raises(ValueError, match="invalid `after` cursor"):
                await connector.find("site", after=bad)


# -- errors ---------------------------------------------------------------------------------------


async def test_a_graphql_error_is_source_unavailable_with_its_message(upstream: Upstream) -> None:
    async with connect(
        f"{upstream.url}/graphql", fetch={"field": "broken", "argument": "keys"}
    ) as connector:
        with pytest.raises(SourceUnavailable) as caught:
            await connector.fetch("program", ["P1"])
    message = str(caught.value)
    assert "GraphQL error from POST /graphql: registry offline for ***; try later" in message
    assert TOKEN not in message and upstream.url not in message


async def test_an_error_inside_the_data_keeps_the_data_and_is_counted(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    fetch = {"field": "partlyBroken", "argument": "keys"}
    with caplog.at_level(logging.WARNING, logger="ecehub.connectors.graphql"):
        async with connect(f"{upstream.url}/graphql", fetch=fetch) as connector:
            records = await connector.fetch("program", ["P1", "P2"])
            assert connector.transport.partial_errors == 1
    assert sorted(records) == ["P1", "P2"]
    assert any("1 GraphQL error(s) inside the answer" in r.getMessage() for r in caplog.records)


async def test_http_errors_and_timeouts(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/down") as connector:
        with pytest.raises(SourceUnavailable, match=r"HTTP 503 from POST /down"):
            await connector.fetch("program", ["P1"])
        health = await connector.health()
        assert not health.ok and "HTTP 503" in health.detail
    upstream.delay_s = 2
    source = {**graphql_source(f"{upstream.url}/graphql"), "timeout_s": 0.2}
    async with build_connector("partner", source, env=ENV) as slow:
        with pytest.raises(SourceTimeout, match=r"no answer within 0.2 s to POST /graphql"):
            await slow.fetch("program", ["P1"])


async def test_verify_checks_every_query_against_the_apis_schema(upstream: Upstream) -> None:
    async with connect(f"{upstream.url}/graphql") as connector:
        assert await connector.verify() == []
    wrong = {**PROGRAM_FIELDS, "city": "address.town"}
    async with connect(
        f"{upstream.url}/graphql",
        fields=wrong,
        find={"field": "programList"},
        fetch={"field": "programs", "argument": "ids"},
    ) as connector:
        problems = await connector.verify()
    assert any("fetch" in p and "'town'" in p for p in problems), problems
    assert any("fetch" in p and "'ids'" in p for p in problems), problems
    assert any("find" in p and "'programList'" in p for p in problems), problems


@pytest.mark.parametrize(
    ("program", "path", "message"),
    [
        (
            {"fetch": {"field": "programs(keys: $x) { id } #", "argument": "keys"}},
            "sources.partner.entities.program.fetch.field",
            "not a GraphQL name",
        ),
        (
            {"fetch": {"field": "programs", "argument": "keys", "type": "[ID!"}},
            "sources.partner.entities.program.fetch.type",
            "not a GraphQL input type",
        ),
        (
            {"fields": {"name": "name { x }"}},
            "sources.partner.entities.program",
            "not a path of GraphQL field names",
        ),
        (
            {"fetch": None, "find": None, "filters": {}},
            "sources.partner.entities.program",
            "give `fetch`",
        ),
        (
            {"children": {"field": "x", "argument": "y"}},
            "sources.partner.entities.program",
            "`children` needs `parent",
        ),
    ],
)
def test_settings_are_checked_when_the_config_loads(
    program: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build_connector("partner", graphql_source("http://127.0.0.1:9/graphql", **program), env=ENV)
    assert any(p == path and message in m for p, m in caught.value.problems), caught.value.problems


def test_the_url_must_be_http_and_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        build_connector("partner", graphql_source(f"ftp://user:{TOKEN}@host/graphql"), env=ENV)
    assert TOKEN not in str(caught.value)
    assert (
        "sources.partner.url",
        "Value error, url must be an absolute http:// or https:// URL",
    ) in (caught.value.problems)


# -- through the hub ------------------------------------------------------------------------------

GRAPH = """
{ programs(first: 20) { nodes { name license { number status } qrisRating { level source }
    sites { name } } } }
"""


async def test_a_graphql_source_merges_with_sql_through_the_api(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "licensing.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE facility (license_no TEXT PRIMARY KEY, status TEXT)")
        conn.executemany(
            "INSERT INTO facility VALUES (?, ?)", [("LIC-100", "Licensed"), ("LIC-800", "Closed")]
        )
    partner = graphql_source(f"{upstream.url}/graphql")
    config = parse_config(
        {
            "sources": {
                "licensing": {
                    "kind": "sql",
                    "url": f"sqlite+aiosqlite:///{db}",
                    "support_types": ["LICENSING"],
                    "entities": {
                        "program": {
                            "table": "facility",
                            "key": "license_no",
                            "fields": {"license_status": "status"},
                            "identifiers": {"LICENSE_NUMBER": "license_no"},
                        }
                    },
                },
                "partner": partner,
            },
            "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        },
        env=ENV,
    )
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            body = await GraphClient(client).query(GRAPH)
    finally:
        await hub.aclose()
    assert "errors" not in body, body
    programs = {p["name"]: p for p in body["data"]["programs"]["nodes"]}
    assert len(programs) == 12
    sunshine = programs["Sunshine Kids"]
    assert sunshine["license"] == {"number": "LIC-100", "status": "Licensed"}
    assert sunshine["qrisRating"] == {"level": 3, "source": "partner"}
    assert sorted(s["name"] for s in sunshine["sites"]) == [
        "Sunshine Main",
        "Sunshine North Room",
        "sunshine annex",
    ]
    assert programs["Stepping Stones"]["license"]["status"] == "Closed"
    # The sites of 12 programs: one request (sitesOf, aliased by 3 keys), not one per program.
    children = [b for b in upstream.bodies if b.get("operationName") == "EcehubChildren"]
    assert len(children) == 1
    # The listing (3 pages of 4), finding by license number, the children: a handful of
    # requests whatever the number of programs.
    assert calls_by_source(body)["partner"] <= 4 and upstream.requests <= 8
