"""Records with a period (issue 11, item 3): a table with one row per program per year is one
record per program, the row of its latest year, whoever keeps it: the ``sql`` connector in its
query (on SQLite, PostgreSQL and MariaDB), or the hub for a connector that cannot (``csv``,
here with a two-column key); children keep every year (history)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ecehub.config.loader import parse_config
from ecehub.connectors.base import Connector, FieldFilter, Record
from ecehub.resolvers.runtime import build_connectors
from ecehub.sources.gateway import SourceGateway
from tests.period_rows import (
    ENROLLMENT,
    PROGRAM_YEARS,
    REST_ENTITIES,
    SQL_ENTITIES,
    latest_years,
    rest_rows,
    write_csv,
    write_sql,
)
from tests.serving import loopback


def _connector(kind: str, settings: dict[str, Any]) -> Connector:
    config = parse_config(
        {"sources": {"pir": {"kind": kind, "support_types": ["HEAD_START"], **settings}}}
    )
    return build_connectors(config)["pir"]


async def _sql_gateway(url: str) -> SourceGateway:
    await write_sql(url)
    return SourceGateway({"pir": _connector("sql", {"url": url, "entities": SQL_ENTITIES})})


_URLS = {"sqlite": "sqlite_url", "postgresql": "postgres_url", "mariadb": "mariadb_url"}


@pytest.fixture(params=[*_URLS, "csv", "rest"])
def report_source(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Any]:
    """Where the report is: a database URL on each SQL backend, CSV entities, or a REST
    API."""
    if request.param == "csv":
        return "csv", write_csv(tmp_path)
    if request.param == "rest":
        return "rest", None
    return "sql", str(request.getfixturevalue(_URLS[request.param]))


async def _programs(request: web.Request) -> web.Response:
    request.app[CALLS].append(request.path_qs)
    return web.json_response({"items": rest_rows()})


CALLS = web.AppKey("calls", list[str])


@pytest.fixture
async def gateway(report_source: tuple[str, Any]) -> AsyncIterator[SourceGateway]:
    """The report behind the gateway: from SQL (the connector keeps each key's latest row in
    its query), from CSV with a two-column key (its index keeps them), and from a REST API
    (the hub keeps them: the connector declares no ``supports_periods``)."""
    kind, where = report_source
    async with contextlib.AsyncExitStack() as stack:
        if kind == "sql":
            found = await _sql_gateway(where)
        elif kind == "csv":
            found = SourceGateway({"pir": _connector("csv", {"entities": where})})
        else:
            app = web.Application()
            app[CALLS] = []
            app.router.add_get("/pir/programs", _programs)
            base = await stack.enter_async_context(loopback(app))
            rest = _connector(
                "rest",
                {"base_url": base, "entities": REST_ENTITIES, "pagination": {"style": "none"}},
            )
            assert not rest.capabilities.supports_periods
            found = SourceGateway({"pir": rest})
        try:
            yield found
        finally:
            await found.connector("pir").aclose()


@pytest.fixture
async def sql_gateway(db_url: str) -> AsyncIterator[SourceGateway]:
    found = await _sql_gateway(db_url)
    try:
        yield found
    finally:
        await found.connector("pir").aclose()


def _grant(record: Record) -> str:
    return str(record.identifiers["HEAD_START_GRANT"])


def _is_latest(record: Record) -> bool:
    want = latest_years()[_grant(record)]
    year = None if want.year is None else str(want.year)
    return (record.fields["name"], record.fields["period"]) == (want.name, year)


async def _walk(gateway: SourceGateway, first: int, filters: list[FieldFilter]) -> list[Record]:
    out: list[Record] = []
    after = None
    while True:
        page = await gateway.find("pir", "program", filters, first=first, after=after)
        out += page.records
        if not page.has_next:
            return out
        after = page.records[-1].cursor


async def test_listing_gives_one_record_per_program_at_its_latest_year(
    gateway: SourceGateway,
) -> None:
    records = await _walk(gateway, 100, [])
    assert sorted(_grant(r) for r in records) == sorted(latest_years())
    assert len(records) < len(PROGRAM_YEARS)  # rows, not programs, would be more
    assert all(_is_latest(r) for r in records), [(r.key, r.fields) for r in records]


@pytest.mark.parametrize("first", [1, 2, 3])
async def test_pages_count_programs_not_rows(gateway: SourceGateway, first: int) -> None:
    records = await _walk(gateway, first, [])
    grants = [_grant(r) for r in records]
    assert len(grants) == len(set(grants)) == len(latest_years())


async def test_filters_see_the_latest_year_only(gateway: SourceGateway) -> None:
    springfield = [FieldFilter("city", "eq", "springfield")]
    found = {_grant(r) for r in await _walk(gateway, 2, springfield)}
    # Alpha was in Springfield in 2021 and 2022, but is in Shelbyville now: not listed.
    assert found == {g for g, p in latest_years().items() if p.city == "Springfield"}
    assert any(p.city == "Springfield" for p in PROGRAM_YEARS if p.grant not in found)


async def test_lookups_by_key_and_identifier_give_one_record(gateway: SourceGateway) -> None:
    every = await _walk(gateway, 100, [])
    keys = [r.key for r in every]
    fetched = await gateway.fetch("pir", "program", [*keys, "no such key"])
    assert sorted(fetched) == sorted(keys)
    assert all(_is_latest(r) for r in fetched.values())
    for grant in latest_years():
        page = await gateway.find(
            "pir", "program", [FieldFilter("identifier:HEAD_START_GRANT", "eq", grant)]
        )
        [record] = page.records
        assert _is_latest(record)


async def test_children_keep_every_year(sql_gateway: SourceGateway) -> None:
    grants = sorted(latest_years())
    found = await sql_gateway.children("pir", "enrollment", "program", grants)
    got = sorted(
        (r.parent_key, r.fields["period"], r.fields["count"]) for v in found.values() for r in v
    )
    want = sorted((e.grant, str(e.year), e.count) for e in ENROLLMENT)
    assert got == want
    assert len({p for _, p, _ in got}) == 3


async def test_a_period_that_does_not_read_is_null_and_counted(tmp_path: Path) -> None:
    entities = write_csv(tmp_path, [["05CH0005", "001", "sometime", "Epsilon", "Springfield"]])
    conn = _connector("csv", {"entities": entities})
    try:
        gateway = SourceGateway({"pir": conn})
        [record] = (
            await gateway.find(
                "pir", "program", [FieldFilter("identifier:HEAD_START_GRANT", "eq", "05CH0005")]
            )
        ).records
        assert record.fields["period"] is None
        bad = conn.unparsable()[("program", "period")]
        assert bad.count == 1 and "sometime" in bad.examples[0]
    finally:
        await conn.aclose()


async def test_the_hub_reads_a_source_without_periods_once_per_request() -> None:
    """The cost of keeping periods in the hub: one read of the whole answer per request
    (gateway), shared by every page, lookup and filter."""
    app = web.Application()
    app[CALLS] = []
    app.router.add_get("/pir/programs", _programs)
    async with loopback(app) as base:
        settings = {"base_url": base, "entities": REST_ENTITIES, "pagination": {"style": "none"}}
        rest = _connector("rest", settings)
        try:
            request = SourceGateway({"pir": rest})
            records = await _walk(request, 1, [])
            await request.fetch("pir", "program", [r.key for r in records])
            await _walk(request, 2, [FieldFilter("city", "eq", "Ogdenville")])
            assert len(app[CALLS]) == 1
            await _walk(SourceGateway({"pir": rest}), 3, [])  # another request reads again
            assert len(app[CALLS]) == 2
        finally:
            await rest.aclose()
