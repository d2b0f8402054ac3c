"""The ``graphql`` connector against a real GraphQL server on loopback
(:mod:`tests.connectors.graphql_upstream`): the conformance kit, one request per fetch,
variables never written into the document, paging styles, pushed-down filters, errors and
partial data, timeouts, verify()."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ecehub.connectors import Connector, FieldFilter
from ecehub.connectors.graphql import GraphqlConnector
from ecehub.errors import ConfigError, SourceTimeout, SourceUnavailable
from ecehub.ids import encode_source_cursor
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements, build_connector
from tests.connectors.graphql_upstream import (
    ENV,
    PROGRAM_FIELDS,
    TOKEN,
    Upstream,
    graphql_source,
    serving_upstream,
)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    async with serving_upstream() as state:
        yield state


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


class TestGraphqlNestedChildrenConformance(TestGraphqlConformance):
    """Children listed inside their parent: ``programs(keys) { program_key sites { ... } }``."""

    @pytest.fixture
    async def connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        source = graphql_source(f"{upstream.url}/graphql")
        source["entities"]["site"]["children"] = {
            "field": "programs",
            "argument": "keys",
            "records_path": "sites",
            "parent_key_path": "program_key",
        }
        async with build_connector("partner", source, env=ENV) as connector:
            yield connector


async def test_nested_children_need_no_parent_field_of_their_own(upstream: Upstream) -> None:
    source = graphql_source(f"{upstream.url}/graphql")
    site = source["entities"]["site"]
    site["parent"] = {"program": ""}  # the API's sites do not name their program
    site["fields"] = {"name": "name"}
    site["children"] = {
        "field": "programs",
        "argument": "keys",
        "records_path": "sites",
        "parent_key_path": "program_key",
    }
    async with build_connector("partner", source, env=ENV) as connector:
        grouped = await connector.children("site", "program", ["P1", "P4", "P8"])
        assert await connector.verify() == []
    assert {p: sorted(r.key for r in rs) for p, rs in grouped.items()} == {
        "P1": ["S1", "S2", "S3"],
        "P4": [],
        "P8": ["S12", "S13", "S14"],
    }
    sent = upstream.bodies[0]["query"]
    assert "programs(keys: $k0) { sites { site_key name } program_key }" in sent


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


async def test_without_fetch_keys_are_found_through_a_filter_argument(
    upstream: Upstream,
) -> None:
    source = graphql_source(f"{upstream.url}/graphql")
    program = source["entities"]["program"]
    del program["fetch"]
    program["identifiers"] = {"LICENSE_NUMBER": "license_number", "PARTNER_ID": "program_key"}
    program["filters"]["identifier:PARTNER_ID"] = {"argument": "keys", "op": "in", "type": "[ID!]"}
    async with build_connector("partner", source, env=ENV) as connector:
        records = await connector.fetch("program", ["P1", "P10", "NOPE", "P2"])
    assert sorted(records) == ["P1", "P10", "P2"]
    assert all(r.cursor is None for r in records.values())
    assert [b["variables"]["f0"] for b in upstream.bodies] == [["P1", "P10", "NOPE", "P2"]]
    del program["filters"]["identifier:PARTNER_ID"]
    with pytest.raises(ConfigError, match="without `fetch`, records are fetched by key"):
        build_connector("partner", source, env=ENV)


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
    keys = [p["program_key"] for p in CONFORMANCE_DATA["program"]]
    assert [r.key for r in rest.records] == keys[2:]
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
    low = [p["program_key"] for p in CONFORMANCE_DATA["program"] if (p["qris_level"] or 9) <= 2]
    assert sorted(r.key for r in page.records) == sorted(low)
    assert {"P10", "P2", "P5", "P7"} <= set(low)


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
        malformed = [
            encode_source_cursor("graphql", "e", "c1", 0),  # a connection's, not an offset's
            encode_source_cursor("graphql", "o", None, "3"),
            encode_source_cursor("graphql", "o", None, -1),
            encode_source_cursor("csv", "S7"),
        ]
        for bad in ("S7", after + "x", *malformed):
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
    upstream.introspection = False  # as in production mode: nothing can be told
    async with connect(f"{upstream.url}/graphql", fields={"name": "nom"}) as connector:
        assert await connector.verify() == []
    upstream.introspection = True
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


async def test_values_that_do_not_parse_are_null_and_counted(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.programs[0]["license_expires"] = "soon"
    upstream.programs[1]["license_expires"] = "06/30/2025"
    with caplog.at_level(logging.WARNING, logger="ecehub.connectors.graphql"):
        async with connect(f"{upstream.url}/graphql") as connector:
            records = await connector.fetch("program", ["P1", "P2", "P3"])
            await connector.find("program", first=1)
    assert records["P1"].fields["license_expires"] is None
    assert records["P3"].fields["license_expires"] is not None
    # Counted as read: the fetch's two, and the find's two (P2 read to tell has_next).
    assert connector.unreadable == {"program.license_expires": 4}
    logged = [r.getMessage() for r in caplog.records]
    expected = "program.license_expires: 2 value(s) are not a valid date (read as null)"
    assert logged == [f"source partner: {expected}"] * 2
    assert not any("soon" in m for m in logged)
