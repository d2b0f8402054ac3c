"""The conformance kit (``ecehub.testing``) run against the built-in connectors, as a partner
runs it: ``sql`` on SQLite, PostgreSQL and MariaDB, ``rest`` against a loopback API."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ecehub.connectors import Connector, FieldFilter
from ecehub.testing import (
    CONFORMANCE_DATA,
    FILTER_CASES,
    ConnectorConformance,
    Requirements,
    build_connector,
    entity_mapping,
)
from tests.serving import loopback

pytest_plugins = ["pytester"]

# -- sql: the dataset in two tables -------------------------------------------------------

metadata = MetaData()
Table(
    "ece_program",
    metadata,
    Column("program_key", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("city", String(50)),
    Column("county", String(50)),
    Column("qris_level", Integer),
    Column("license_expires", Date),
    Column("license_number", String(20)),
)
Table(
    "ece_site",
    metadata,
    Column("site_key", String(10), primary_key=True),
    Column("program_key", String(10), ForeignKey("ece_program.program_key"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("city", String(50)),
    Column("capacity", Integer),
)
Table(
    "ece_staff",
    metadata,
    Column("staff_key", String(10), primary_key=True),
    Column("program_key", String(10), ForeignKey("ece_program.program_key"), nullable=False),
    Column("first_name", String(50)),
    Column("last_name", String(50)),
    Column("role_code", String(10)),
    Column("credentials", String(100)),
    Column("pd_hours", Float),
    Column("hire_date", Date),
)
Table(
    "ece_funding",
    metadata,
    Column("funding_key", String(10), primary_key=True),
    Column("program_key", String(10), ForeignKey("ece_program.program_key"), nullable=False),
    Column("amount", Numeric(12, 2)),
    Column("type_code", String(5)),
    Column("purpose", String(100)),
    Column("period_start", Date),
)
TABLES = {
    "program": "ece_program",
    "site": "ece_site",
    "staff": "ece_staff",
    "funding": "ece_funding",
}


def sql_source(url: str) -> dict[str, Any]:
    return {
        "kind": "sql",
        "url": url,
        "support_types": ["LICENSING"],
        "entities": {
            entity: {"table": table, **entity_mapping(entity)} for entity, table in TABLES.items()
        },
    }


async def seed(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            for entity, table in TABLES.items():
                rows = [
                    {k: Decimal(v) if k == "amount" else v for k, v in row.items()}
                    for row in CONFORMANCE_DATA[entity]
                ]
                await conn.execute(insert(metadata.tables[table]), rows)
    finally:
        await engine.dispose()


class TestSqlConformance(ConnectorConformance):
    requirements = Requirements()

    @pytest.fixture
    async def connector(self, db_url: str) -> AsyncIterator[Connector]:
        await seed(db_url)
        connector = build_connector(
            "conformance_sql", sql_source("${DB_URL}"), env={"DB_URL": db_url}
        )
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, db_url: str) -> AsyncIterator[Connector]:
        url = make_url(db_url)
        if url.get_backend_name() == "sqlite":
            url = url.set(database=f"{url.database}.missing/source.db")  # no such directory
        else:
            url = url.set(database=f"{url.database}_missing")
        connector = build_connector(
            "conformance_sql", sql_source("${DB_URL}"), env={"DB_URL": url.render_as_string(False)}
        )
        threads = set(threading.enumerate())
        yield connector
        await connector.aclose()
        # aiosqlite (0.22) does not wait for its worker thread to stop when a database fails
        # to open; a thread still stopping after the loop closes raises "Event loop is closed"
        # (omnilib/aiosqlite#389). Let those threads finish while the loop runs.
        for thread in set(threading.enumerate()) - threads:
            if "_connection_worker_thread" in thread.name:
                await asyncio.to_thread(thread.join, 5)


# -- rest: the dataset behind a loopback API ----------------------------------------------

PAGE_SIZE = 4


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


@dataclass
class Upstream:
    url: str = ""
    queries: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _fold(value: str | None) -> str | None:
    return None if value is None else value.strip().casefold()


def build_app(state: Upstream) -> web.Application:
    rows_of = {entity: [_as_json(r) for r in rows] for entity, rows in CONFORMANCE_DATA.items()}

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state.queries.append((request.path, dict(request.query)))
        return await handler(request)

    def listing(request: web.Request, rows: list[dict[str, Any]], key: str) -> web.Response:
        """One page of ``rows``; ``keys``/``program_keys`` select by comma-separated keys."""
        q = request.query
        for param, column in (("keys", key), ("program_keys", "program_key")):
            if param in q:
                wanted = set(q[param].split(","))
                rows = [r for r in rows if r[column] in wanted]
        if "city" in q:  # this API's own filter: the same meaning as ecehub's `eq`
            rows = [r for r in rows if _fold(r["city"]) == _fold(q["city"])]
        page, size = int(q.get("page", "1")), int(q.get("per_page", str(PAGE_SIZE)))
        start = (page - 1) * size
        return web.json_response({"data": rows[start : start + size], "total": len(rows)})

    def lister(entity: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def list_rows(request: web.Request) -> web.Response:
            return listing(request, rows_of[entity], f"{entity}_key")

        return list_rows

    async def down(request: web.Request) -> web.Response:
        return web.json_response({"error": "maintenance"}, status=503)

    app = web.Application(middlewares=[record])
    for entity in rows_of:
        app.router.add_get(f"/api/{entity}", lister(entity))
    app.router.add_get("/down/{tail:.*}", down)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    async with loopback(build_app(state)) as state.url:
        yield state


def rest_source(base_url: str) -> dict[str, Any]:
    return {
        "kind": "rest",
        "base_url": base_url,
        "support_types": ["QRIS"],
        "timeout_s": 2,
        "records_path": "data",
        "pagination": {
            "style": "page",
            "page_param": "page",
            "size_param": "per_page",
            "page_size": PAGE_SIZE,
        },
        "entities": {
            "program": {
                "path": "/program",
                **entity_mapping("program"),
                "batch": {"param": "keys", "max": 5},
                # Pushed down: `city` eq. Every other filter is applied by the connector.
                "filters": {"city": {"param": "city", "op": "eq"}},
            },
            **{
                entity: {
                    "path": f"/{entity}",
                    **entity_mapping(entity),
                    "batch": {"param": "keys", "max": 5},
                    "parent_batch": {"param": "program_keys", "max": 3},
                }
                for entity in ("site", "staff", "funding")
            },
        },
    }


class TestRestConformance(ConnectorConformance):
    requirements = Requirements()

    @pytest.fixture
    async def connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        connector = build_connector("conformance_rest", rest_source(f"{upstream.url}/api"))
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, upstream: Upstream) -> AsyncIterator[Connector]:
        connector = build_connector("conformance_rest", rest_source(f"{upstream.url}/down"))
        yield connector
        await connector.aclose()

    async def test_the_city_filter_is_pushed_down_and_others_are_not(
        self, connector: Connector, upstream: Upstream
    ) -> None:
        await connector.find("program", [FieldFilter("city", "eq", "springfield")])
        await connector.find("program", [FieldFilter("city", "in", ["springfield"])])
        sent = [q for path, q in upstream.queries if path == "/api/program"]
        assert [q.get("city") for q in sent if "page" in q and q["page"] == "1"] == [
            "springfield",
            None,
        ]


# -- the kit itself ------------------------------------------------------------------------

# What a partner writes: a connector of their own, registered, and the kit in three steps.
# Run in a fresh pytest process with pytest-asyncio in strict mode, as a partner might.
PARTNER_TESTS = """
import pytest_asyncio

from ecehub.config import SourceConfig
from ecehub.connectors import Capabilities, Connector, Health, Page, matches, register
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, build_connector, entity_mapping


class MemoryConnector(Connector[SourceConfig]):
    kind = "memory"
    capabilities = Capabilities(supports_paging=False, filter_ops={"eq", "in"})

    def _records(self, entity):
        ent = self.settings.entities[entity]
        for row in CONFORMANCE_DATA[entity]:
            yield self.make_record(
                entity,
                row[ent.key],
                {name: row[column] for name, column in ent.fields.items()},
                {system: row[column] for system, column in ent.identifiers.items()},
                row[ent.parent_column] if ent.parent_column else None,
            )

    async def fetch(self, entity, keys):
        return {r.key: r for r in self._records(entity) if r.key in keys}

    async def children(self, entity, parent_entity, parent_keys):
        if self.entities[entity].parent_entity != parent_entity:
            raise ValueError(f"{entity} does not hang under {parent_entity}")
        grouped = {key: [] for key in parent_keys}
        for record in self._records(entity):
            grouped.get(record.parent_key, []).append(record)
        return grouped

    async def find(self, entity, filters=(), *, first=None, after=None):
        return Page([r for r in self._records(entity) if matches(r, filters)], False)

    async def health(self):
        return Health(self.name, True, 0.0)

    async def aclose(self):
        pass


register("memory", MemoryConnector)


class TestMemoryConnector(ConnectorConformance):
    @pytest_asyncio.fixture
    async def connector(self):
        entities = {entity: entity_mapping(entity) for entity in CONFORMANCE_DATA}
        connector = build_connector("memory", {"kind": "memory", "entities": entities})
        yield connector
        await connector.aclose()
"""


def test_a_partner_runs_the_kit_through_the_pytest_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_memory=PARTNER_TESTS)
    result = pytester.runpytest_subprocess(
        "--strict-markers",
        "-W",
        "error",
        "-o",
        "asyncio_mode=strict",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-p",
        "no:cacheprovider",
        "-m",
        "conformance",  # the plugin registered the marker, so --strict-markers accepts it
        "-rs",
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    assert outcomes["passed"] >= 10 and "failed" not in outcomes and "errors" not in outcomes
    result.stdout.fnmatch_lines(
        [
            "*MemoryConnector.capabilities declare no paging: the hub pages for it*",
            "*no `unavailable_connector` fixture*",
        ]
    )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FILTER_CASES])
def test_every_filter_case_selects_some_rows_but_not_all(case: Any) -> None:
    total = len(CONFORMANCE_DATA[case.entity])
    if case.id in {
        "in-empty",
        "eq-int-unreadable-value",
        "contains-dotless-i-is-not-i",
        "funding-other-constant",
    }:
        assert case.expected == ()
    elif case.id == "funding-eq-constant":
        assert len(case.expected) == total
    else:
        assert 0 < len(case.expected) < total


def test_the_dataset_has_the_documented_shape() -> None:
    programs, sites = CONFORMANCE_DATA["program"], CONFORMANCE_DATA["site"]
    keys = [p["program_key"] for p in programs]
    assert len(keys) == len(set(keys)) >= 12 and {"P1", "P10"} <= set(keys)
    assert sum(p["license_number"] is None for p in programs) == 1
    assert any("%" in p["name"] for p in programs) and any("_" in p["name"] for p in programs)
    assert len(sites) >= 20 and {s["program_key"] for s in sites} <= set(keys)
    assert len(set(keys) - {s["program_key"] for s in sites}) >= 2


def test_requirements_must_be_a_requirements_instance() -> None:
    with pytest.raises(TypeError, match=r"must be an ecehub\.testing\.Requirements"):

        class TestBroken(ConnectorConformance):  # pragma: no cover - never collected
            requirements = {"supports_paging": False}  # type: ignore[assignment]


def test_requirements_refuse_an_unknown_filter_operator() -> None:
    with pytest.raises(ValueError, match="unknown operators \\['like'\\]"):
        Requirements(filter_ops={"eq", "like"})  # type: ignore[arg-type]
