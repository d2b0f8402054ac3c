"""Figures for the ecehub program graph over the demo sector systems (not a timed test).

Two parts, both over real HTTP (the hub served by uvicorn on 127.0.0.1, queried with aiohttp):

1. Scale: for each N in ``--sizes`` the demo is seeded with N licensed programs and the nested
   query (programs -> sites -> rooms, programs -> staff; every program) is sent ``--repeat``
   times. Next to it the same data is read directly: plain SQL through SQLAlchemy async for
   Licensing and Head Start, batched HTTP calls for QRIS, merged on the same identifiers.
   Printed: programs returned, source calls per request, p50/p95 latency of both and their
   ratio (p50).
2. Fan-out: every connector of the hub is wrapped so that each call sleeps first (default:
   licensing 50 ms, head_start 100 ms, qris 200 ms); ``program(id)``, ``programs(first: 20)``
   and the nested query are timed against the slowest delay, the sum of the delays and the
   dependent rounds of source calls actually observed.

Numbers are meant to be compared as ratios within one run. Run from the repository root::

    .venv/bin/python benchmarks/bench_graph.py            # sizes 10,100,1000, repeat 30
    .venv/bin/python benchmarks/bench_graph.py --quick    # sizes 10,100, repeat 5
    .venv/bin/python benchmarks/bench_graph.py \\
        --headstart-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --licensing-url mysql+aiomysql://root@127.0.0.1:3306/test --json figures.json

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import logging
import math
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import uvicorn
from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette

from ecehub.app import create_app
from ecehub.cli.common import settle_heap
from ecehub.config import CacheConfig, Config, load_config
from ecehub.connectors.base import Connector, FieldFilter, Health, Page, Record
from ecehub.demo import DemoSystems, World
from ecehub.ids import encode_global_id
from ecehub.resolvers.runtime import Runtime, build_connectors
from ecehub.sources.loaders import normalize_identifier

T = TypeVar("T")

SOURCES = ("licensing", "head_start", "qris")
SHORT = {"licensing": "lic", "head_start": "hs", "qris": "qris"}

NESTED = """
query Nested($first: Int!) {
  programs(first: $first) {
    nodes {
      id
      name
      sites { id name rooms { id name ageGroup } }
      staff { id name credentials }
    }
  }
}
"""
NESTED_DEPTH = 3
"""Levels of the nested query that need source calls: programs, sites/staff, rooms."""

ONE_PROGRAM = "query One($id: ID!) { program(id: $id) { id name } }"
FIRST_20 = "query Page { programs(first: 20) { nodes { id name } } }"

QRIS_PAGE = 500
"""The QRIS API's largest page and longest comma list."""


# -- small helpers ------------------------------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 30 samples is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class GcClock:
    """Time spent in garbage collection (every generation) while it is installed."""

    def __init__(self) -> None:
        self.ms = 0.0
        self.full = 0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.ms += (time.perf_counter() - self._started) * 1000
        self.full += info["generation"] == 2

    def reset(self) -> None:
        self.ms, self.full = 0.0, 0

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)
    """Of each sample, the time spent in garbage collection."""

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    def summary(self) -> dict[str, Any]:
        return {
            "p50_ms": round(self.p50, 2),
            "p95_ms": round(self.p95, 2),
            "min_ms": round(min(self.samples_ms), 2),
            "max_ms": round(max(self.samples_ms), 2),
            "gc_p50_ms": round(statistics.median(self.gc_ms), 2) if self.gc_ms else None,
            "samples_ms": [round(s, 2) for s in self.samples_ms],
            "gc_ms": [round(s, 2) for s in self.gc_ms],
        }


def span(values: Iterable[int]) -> str:
    """``5`` when every request made the same number of calls, else ``4-5``."""
    found = sorted(set(values))
    if not found:
        return "-"
    return str(found[0]) if len(found) == 1 else f"{found[0]}-{found[-1]}"


def chunks(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], left: Sequence[int] = (0,)
) -> str:
    """Plain-text columns; those in ``left`` left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- databases ----------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def fresh_database(url: str | None, label: str) -> AsyncIterator[str | None]:
    """A new, empty database on the server of ``url`` (PostgreSQL or MySQL/MariaDB), dropped
    afterwards, as tests/conftest.py does. ``None`` (SQLite files in a temporary directory,
    made by DemoSystems) and SQLite URLs pass through unchanged."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        yield url
        return
    server = make_url(url)
    backend = server.get_backend_name()
    name = f"ecehub_bench_{label}_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        create = f'CREATE DATABASE "{name}"'
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    elif backend in ("mysql", "mariadb"):
        create = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
        drop = f"DROP DATABASE IF EXISTS `{name}`"
    else:
        raise SystemExit(f"--{label}-url: only PostgreSQL, MySQL/MariaDB or SQLite URLs")
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(create))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(drop))
    finally:
        await admin.dispose()


async def backend_of(url: str | None) -> str:
    """``SQLite 3.40.1``, ``PostgreSQL 15.2``, ``MariaDB 10.11.6``, ..."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            version = str((await conn.execute(text("SELECT version()"))).scalar())
    finally:
        await engine.dispose()
    if version.startswith("PostgreSQL"):
        return " ".join(version.split()[:2])
    number, _, rest = version.partition("-")
    return f"{'MariaDB' if 'MariaDB' in rest else 'MySQL'} {number}"


# -- serving the hub over HTTP ------------------------------------------------------------
@contextlib.asynccontextmanager
async def serve_http(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields the /graphql URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


def hub_config(demo: DemoSystems, first: int) -> Config:
    """The demo config, with ``max_page_size`` raised so one page can hold every program,
    and no source cache: every request reads the sources, as the direct read does (a warm
    cache is bench_cache.py's to measure)."""
    config = load_config(demo.config_path, env={**os.environ, **demo.env}).model_copy(
        update={"access": None, "cache": CacheConfig(backend="none")}  # no roles, no cache
    )
    if config.server.max_page_size >= first:
        return config
    server = config.server.model_copy(update={"max_page_size": first})
    return config.model_copy(update={"server": server})


@dataclass
class Reply:
    ms: float
    body: dict[str, Any]

    def summary(self) -> Summary:
        """What the tables need (the body itself is let go: it would pile up as live
        objects and make every later garbage collection slower)."""
        return Summary(self.ms, self.calls, self.errors)

    @property
    def calls(self) -> dict[str, int]:
        sources = self.body.get("extensions", {}).get("sources", [])
        return {s["source"]: int(s["calls"]) for s in sources}

    @property
    def errors(self) -> list[str]:
        out = []
        for err in self.body.get("errors") or []:
            ext = err.get("extensions") or {}
            out.append(f"{ext.get('source', '?')}:{ext.get('code', err.get('message', '?'))}")
        return sorted(set(out))


@dataclass(frozen=True)
class Summary:
    ms: float
    calls: dict[str, int]
    errors: list[str]


async def graphql(
    session: aiohttp.ClientSession, url: str, query: str, variables: dict[str, Any] | None = None
) -> Reply:
    """POST one query with the trace header; the time includes reading and parsing the body."""
    payload = {"query": query, "variables": variables or {}}
    started = time.perf_counter()
    async with session.post(url, json=payload, headers={"X-Ecehub-Trace": "1"}) as resp:
        raw = await resp.read()
        status = resp.status
    body = json.loads(raw)
    ms = (time.perf_counter() - started) * 1000
    if status != 200 or not isinstance(body, dict) or body.get("data") is None:
        raise RuntimeError(f"HTTP {status} from the hub: {raw[:500]!r}")
    return Reply(ms, body)


# -- what a merged answer holds -----------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    programs: int
    sites: int
    rooms: int
    staff: int


def counts_of(body: dict[str, Any]) -> Counts:
    nodes = body["data"]["programs"]["nodes"]
    return Counts(
        programs=len(nodes),
        sites=sum(len(n["sites"]) for n in nodes),
        rooms=sum(len(s["rooms"]) for n in nodes for s in n["sites"]),
        staff=sum(len(n["staff"]) for n in nodes),
    )


def merge_id(source: str, key: object, identifier: object) -> str:
    """The hub's identity rule: a shared identifier (trimmed, upper-cased) or source + key."""
    value = "" if identifier is None else str(identifier).strip()
    return f"ID:{normalize_identifier(value)}" if value else f"@{source}:{key}"


# -- reading the same data directly -------------------------------------------------------
@dataclass
class DirectData:
    facilities: list[tuple[Any, ...]] = field(default_factory=list)
    hs_programs: list[tuple[Any, ...]] = field(default_factory=list)
    hs_centers: list[tuple[Any, ...]] = field(default_factory=list)
    classrooms: list[tuple[Any, ...]] = field(default_factory=list)
    hs_staff: list[tuple[Any, ...]] = field(default_factory=list)
    providers: list[dict[str, Any]] = field(default_factory=list)
    workforce: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)


class DirectReader:
    """The nested query's data without ecehub: a handful of SQL queries (SQLAlchemy Core
    text, no ORM) and batched QRIS calls, run concurrently, then merged in Python on the
    identifiers the demo config declares (LICENSE_NUMBER for programs and sites,
    REGISTRY_ID for staff)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.licensing: AsyncEngine = create_async_engine(env["LICENSING_DB_URL"])
        self.headstart: AsyncEngine = create_async_engine(env["HEADSTART_DB_URL"])
        self.qris_url = env["QRIS_API_URL"].rstrip("/")
        self.qris_headers = {"X-API-Key": env["QRIS_API_KEY"], "Accept": "application/json"}
        self.session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        await self.licensing.dispose()
        await self.headstart.dispose()
        if self.session is not None:
            await self.session.close()

    async def read(self) -> tuple[DirectData, Counts]:
        data = DirectData()
        await asyncio.gather(self._licensing(data), self._headstart(data), self._qris(data))
        return data, merge_direct(data)

    async def _rows(
        self, engine: AsyncEngine, sql: str, ids: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        stmt = text(sql)
        params: dict[str, Any] = {}
        if ids is not None:
            if not ids:
                return []
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
            params["ids"] = list(ids)
        async with engine.connect() as conn:
            result = await conn.execute(stmt, params)
            return [tuple(row) for row in result]

    async def _licensing(self, data: DirectData) -> None:
        # A facility is both the licensing program and its (one) site.
        data.facilities = await self._rows(
            self.licensing, "SELECT license_no, facility_name FROM facility ORDER BY license_no"
        )
        data.calls["licensing"] = 1

    async def _headstart(self, data: DirectData) -> None:
        hs = self.headstart
        data.hs_programs = await self._rows(
            hs, "SELECT center_id, center_name, state_license_no FROM center_program"
        )
        ids = [row[0] for row in data.hs_programs]
        data.hs_centers, data.classrooms, data.hs_staff = await asyncio.gather(
            self._rows(
                hs,
                "SELECT center_id, center_name, state_license_no FROM center "
                "WHERE center_id IN :ids",
                ids,
            ),
            self._rows(
                hs,
                "SELECT classroom_id, center_id, classroom_name, age_group FROM classroom "
                "WHERE center_id IN :ids ORDER BY center_id, classroom_id",
                ids,
            ),
            self._rows(
                hs,
                "SELECT staff_id, center_id, first_nm, last_nm, credential_list, registry_id "
                "FROM staff_member WHERE center_id IN :ids ORDER BY center_id, staff_id",
                ids,
            ),
        )
        data.calls["head_start"] = 4

    async def _get_all(self, path: str, params: dict[str, str], data: DirectData) -> list[Any]:
        """Every record of a QRIS listing, page by page (500 a page)."""
        if self.session is None:
            self.session = aiohttp.ClientSession(headers=self.qris_headers)
        out: list[Any] = []
        page = 1
        while True:
            query = {**params, "page": str(page), "per_page": str(QRIS_PAGE)}
            async with self.session.get(self.qris_url + path, params=query) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"QRIS {path}: HTTP {resp.status}: {await resp.text()}")
                body = await resp.json()
            data.calls["qris"] = data.calls.get("qris", 0) + 1
            records = body["data"]
            out.extend(records)
            if len(records) < QRIS_PAGE:
                return out
            page += 1

    async def _qris(self, data: DirectData) -> None:
        # Every provider (a listing: providers by license number would miss the ones QRIS
        # has with no or a mistyped license number, and the license-exempt ones), then the
        # workforce of all of them, 500 provider ids a call.
        data.providers = await self._get_all("/v1/providers", {}, data)
        ids = [p["providerId"] for p in data.providers]
        batches = await asyncio.gather(
            *(
                self._get_all("/v1/workforce", {"provider_ids": ",".join(chunk)}, data)
                for chunk in chunks(ids, QRIS_PAGE)
            )
        )
        data.workforce = [w for batch in batches for w in batch]


def merge_direct(d: DirectData) -> Counts:
    """Group the directly read rows the way the hub merges them and count what the nested
    query would return: programs, their sites, the sites' rooms, the programs' staff."""
    # program id -> member records as (source, key)
    members: dict[str, list[tuple[str, Any]]] = {}
    site_of: dict[tuple[str, Any], list[str]] = {}
    for license_no, _name in d.facilities:
        members.setdefault(merge_id("licensing", license_no, license_no), []).append(
            ("licensing", license_no)
        )
        site_of[("licensing", license_no)] = [merge_id("licensing", license_no, license_no)]
    centers: dict[Any, list[str]] = {}
    for center_id, _name, license_no in d.hs_centers:
        centers.setdefault(center_id, []).append(merge_id("head_start", center_id, license_no))
    for center_id, _name, license_no in d.hs_programs:
        members.setdefault(merge_id("head_start", center_id, license_no), []).append(
            ("head_start", center_id)
        )
        site_of[("head_start", center_id)] = centers.get(center_id, [])
    for p in d.providers:
        pid = p["providerId"]
        members.setdefault(merge_id("qris", pid, p.get("licenseNumber")), []).append(("qris", pid))
        site_of[("qris", pid)] = [merge_id("qris", pid, p.get("licenseNumber"))]

    rooms_of_site: dict[str, int] = {}
    for center_id, site_ids in centers.items():
        n_rooms = sum(1 for row in d.classrooms if row[1] == center_id)
        for site_id in site_ids:
            rooms_of_site[site_id] = rooms_of_site.get(site_id, 0) + n_rooms
    staff_of: dict[tuple[str, Any], list[str]] = {}
    for staff_id, center_id, *_rest, registry_id in d.hs_staff:
        staff_of.setdefault(("head_start", center_id), []).append(
            merge_id("head_start", staff_id, registry_id)
        )
    for w in d.workforce:
        staff_of.setdefault(("qris", w["providerId"]), []).append(
            merge_id("qris", w["registryId"], w["registryId"])
        )

    sites = rooms = staff = 0
    for records in members.values():
        program_sites = {s for r in records for s in site_of.get(r, [])}
        sites += len(program_sites)
        rooms += sum(rooms_of_site.get(s, 0) for s in program_sites)
        staff += len({s for r in records for s in staff_of.get(r, [])})
    return Counts(programs=len(members), sites=sites, rooms=rooms, staff=staff)


# -- part 1: scale ------------------------------------------------------------------------
@dataclass
class SizeResult:
    n: int
    first: int
    hub_counts: Counts
    direct_counts: Counts
    hub_calls: dict[str, str]
    hub_calls_total: str
    direct_calls: dict[str, int]
    hub: Latency
    direct: Latency
    errors: list[str]
    seed_s: float

    @property
    def ratio(self) -> float:
        return self.hub.p50 / self.direct.p50

    def to_json(self) -> dict[str, Any]:
        return {
            "programs_seeded": self.n,
            "first": self.first,
            "seed_s": round(self.seed_s, 2),
            "hub": {
                "counts": asdict(self.hub_counts),
                "source_calls": self.hub_calls,
                "source_calls_total": self.hub_calls_total,
                "errors": self.errors,
                **self.hub.summary(),
            },
            "direct": {
                "counts": asdict(self.direct_counts),
                "calls": self.direct_calls,
                "calls_total": sum(self.direct_calls.values()),
                **self.direct.summary(),
            },
            "ratio_p50": round(self.ratio, 3),
            "same_data": self.hub_counts == self.direct_counts,
        }


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.perf_counter()
    value = await call()
    return (time.perf_counter() - started) * 1000, value


async def bench_size(
    n: int,
    repeat: int,
    warmup: int,
    headstart_url: str | None,
    licensing_url: str | None,
    profile: bool,
    gc_freeze: bool,
) -> tuple[SizeResult, str | None]:
    started = time.perf_counter()
    async with DemoSystems(
        programs=n, headstart_url=headstart_url, licensing_url=licensing_url
    ) as demo:
        seed_s = time.perf_counter() - started
        direct = DirectReader(demo.env)
        try:
            _, expected = await direct.read()  # also warms the engines and the session
            # "Every program": N + 50, or more where the sources hold more merged programs.
            first = max(n + 50, expected.programs)
            config = hub_config(demo, first)
            app = create_app(config, Runtime(config))
            async with serve_http(app) as url, aiohttp.ClientSession() as session:
                variables = {"first": first}
                for _ in range(warmup):
                    await graphql(session, url, NESTED, variables)
                    await direct.read()
                hub, dir_ = Latency(), Latency()
                replies: list[Summary] = []
                hub_counts, direct_counts = Counts(0, 0, 0, 0), expected
                direct_calls: dict[str, int] = {}
                if gc_freeze:
                    settle_heap()  # what `ecehub serve` does once started
                # Interleaved, so drift (other load, GC, caches) hits both sides alike.
                with GcClock() as clock:
                    for _ in range(repeat):
                        clock.reset()
                        reply = await graphql(session, url, NESTED, variables)
                        hub.samples_ms.append(reply.ms)
                        hub.gc_ms.append(clock.ms)
                        replies.append(reply.summary())
                        hub_counts = counts_of(reply.body)
                        del reply
                        clock.reset()
                        ms, (data, direct_counts) = await timed(direct.read)
                        dir_.samples_ms.append(ms)
                        dir_.gc_ms.append(clock.ms)
                        direct_calls = data.calls
                        del data
                report = await profile_nested(session, url, variables) if profile else None
        finally:
            if gc_freeze:
                gc.unfreeze()
            await direct.aclose()
    calls = {s: span(r.calls.get(s, 0) for r in replies) for s in SOURCES}
    total = span(sum(r.calls.values()) for r in replies)
    errors = sorted({e for r in replies for e in r.errors})
    result = SizeResult(
        n=n,
        first=first,
        hub_counts=hub_counts,
        direct_counts=direct_counts,
        hub_calls=calls,
        hub_calls_total=total,
        direct_calls=direct_calls,
        hub=hub,
        direct=dir_,
        errors=errors,
        seed_s=seed_s,
    )
    return result, report


def print_sizes(results: list[SizeResult], backends: str, repeat: int) -> None:
    print(f"\n== Nested query, all programs ({backends}; repeat {repeat}, p50/p95 in ms) ==")
    rows = []
    for r in results:
        calls = "/".join(r.hub_calls[s] for s in SOURCES)
        rows.append(
            [
                r.n,
                r.first,
                r.hub_counts.programs,
                f"{calls} = {r.hub_calls_total}",
                f"{r.hub.p50:.1f}",
                f"{r.hub.p95:.1f}",
                f"{statistics.median(r.hub.gc_ms):.1f}",
                sum(r.direct_calls.values()),
                f"{r.direct.p50:.1f}",
                f"{r.direct.p95:.1f}",
                f"{r.ratio:.2f}x",
            ]
        )
    print(
        table(
            [
                "N",
                "first",
                "programs",
                "calls lic/hs/qris",
                "ecehub p50",
                "p95",
                "(gc)",
                "direct calls",
                "direct p50",
                "p95",
                "ecehub/direct",
            ],
            rows,
        )
    )
    print("\nSame data? (ecehub answer vs the direct read, merged the same way)")
    rows = []
    for r in results:
        h, d = r.hub_counts, r.direct_counts
        rows.append(
            [
                r.n,
                f"{h.programs}/{d.programs}",
                f"{h.sites}/{d.sites}",
                f"{h.rooms}/{d.rooms}",
                f"{h.staff}/{d.staff}",
                "same" if h == d else "DIFFERENT",
                ", ".join(r.errors) or "-",
            ]
        )
    print(
        table(
            [
                "N",
                "programs hub/dir",
                "sites",
                "rooms",
                "staff",
                "check",
                "errors[] in ecehub's answer",
            ],
            rows,
        )
    )


# -- part 2: fan-out ----------------------------------------------------------------------
@dataclass
class CallLog:
    started: float = 0.0
    calls: list[tuple[float, str, str]] = field(default_factory=list)
    """(seconds since the request started, source, operation)"""

    def reset(self) -> None:
        self.started = time.perf_counter()
        self.calls.clear()

    def add(self, source: str, op: str) -> None:
        self.calls.append((time.perf_counter() - self.started, source, op))


class DelayedConnector(Connector):
    """Delegates every call to ``inner`` after sleeping ``delay_s``: a source that is
    ``delay_s`` away. Calls are logged to see which ones ran in the same round."""

    def __init__(self, inner: Connector, delay_s: float, log: CallLog) -> None:
        super().__init__(inner.name, inner.config)
        self.inner = inner
        self.delay_s = delay_s
        self.log = log

    async def _wait(self, op: str) -> None:
        self.log.add(self.name, op)
        await asyncio.sleep(self.delay_s)

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        await self._wait(f"fetch {entity}")
        return await self.inner.fetch(entity, keys)

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        await self._wait(f"children {entity}")
        return await self.inner.children(entity, parent_entity, parent_keys)

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        await self._wait(f"find {entity}")
        return await self.inner.find(entity, filters, first=first, after=after)

    async def health(self) -> Health:
        return await self.inner.health()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def verify(self) -> list[str]:
        return await self.inner.verify()

    def can_filter(self, entity: str, field_name: str) -> bool:
        return self.inner.can_filter(entity, field_name)


def rounds_of(log: CallLog, delays: dict[str, float]) -> list[list[str]]:
    """Calls grouped into dependent rounds: a call starting more than half the smallest
    delay after the first call of the current round opens a new round."""
    gap = 0.5 * min((d for d in delays.values() if d > 0), default=0.01)
    rounds: list[list[str]] = []
    opened = -math.inf
    for at, source, _op in sorted(log.calls):
        if at - opened > gap:
            rounds.append([])
            opened = at
        rounds[-1].append(source)
    return rounds


@dataclass
class FanoutResult:
    name: str
    depth: int
    latency: Latency
    calls: dict[str, str]
    calls_total: str
    rounds: list[list[str]]
    floor_ms: float
    slowest_ms: float
    sum_ms: float
    errors: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.name,
            "depth": self.depth,
            "source_calls": self.calls,
            "source_calls_total": self.calls_total,
            "rounds": self.rounds,
            "floor_ms": self.floor_ms,
            "vs_slowest": round(self.latency.p50 / self.slowest_ms, 3),
            "vs_sum": round(self.latency.p50 / self.sum_ms, 3),
            "vs_depth_x_slowest": round(self.latency.p50 / (self.depth * self.slowest_ms), 3),
            "vs_floor": round(self.latency.p50 / self.floor_ms, 3),
            "errors": self.errors,
            **self.latency.summary(),
        }


def shared_program_id(world: World) -> str:
    """The ID of a program all three sectors know under the same license number."""
    centers = {c.center_id: c.state_license_no for c in world.head_start.centers}
    for t in world.truth:
        if (
            t.license_no
            and t.head_start_center_id is not None
            and centers.get(t.head_start_center_id) == t.license_no
            and t.qris_license_number == t.license_no
        ):
            hub_id = f"LICENSE_NUMBER:{normalize_identifier(t.license_no)}"
            return encode_global_id("Program", hub_id)
    raise SystemExit("no program is known to all three sources; use more --fanout-programs")


async def bench_fanout(
    n: int,
    repeat: int,
    warmup: int,
    delays: dict[str, float],
    headstart_url: str | None,
    licensing_url: str | None,
) -> list[FanoutResult]:
    async with DemoSystems(
        programs=n, headstart_url=headstart_url, licensing_url=licensing_url
    ) as demo:
        direct = DirectReader(demo.env)
        try:
            _, expected = await direct.read()
        finally:
            await direct.aclose()
        first = max(n + 50, expected.programs)
        config = hub_config(demo, first)
        log = CallLog()
        connectors: dict[str, Connector] = {
            name: DelayedConnector(conn, delays.get(name, 0.0), log)
            for name, conn in build_connectors(config).items()
        }
        app = create_app(config, Runtime(config, connectors))
        queries: list[tuple[str, int, str, dict[str, Any]]] = [
            ("program(id)", 1, ONE_PROGRAM, {"id": shared_program_id(demo.world)}),
            ("programs(first: 20)", 1, FIRST_20, {}),
            (f"nested, programs(first: {first})", NESTED_DEPTH, NESTED, {"first": first}),
        ]
        slowest = max(delays[s] for s in SOURCES) * 1000
        total = sum(delays[s] for s in SOURCES) * 1000
        out: list[FanoutResult] = []
        async with serve_http(app) as url, aiohttp.ClientSession() as session:
            for name, depth, query, variables in queries:
                for _ in range(warmup):
                    await graphql(session, url, query, variables)
                latency = Latency()
                replies: list[Summary] = []
                rounds: list[list[str]] = []
                for _ in range(repeat):
                    log.reset()
                    reply = await graphql(session, url, query, variables)
                    latency.samples_ms.append(reply.ms)
                    replies.append(reply.summary())
                    rounds = rounds_of(log, delays)
                floor = sum(max(delays[s] for s in r) for r in rounds) * 1000
                out.append(
                    FanoutResult(
                        name=name,
                        depth=depth,
                        latency=latency,
                        calls={s: span(r.calls.get(s, 0) for r in replies) for s in SOURCES},
                        calls_total=span(sum(r.calls.values()) for r in replies),
                        rounds=rounds,
                        floor_ms=floor,
                        slowest_ms=slowest,
                        sum_ms=total,
                        errors=sorted({e for r in replies for e in r.errors}),
                    )
                )
    return out


def print_fanout(
    results: list[FanoutResult], n: int, delays: dict[str, float], repeat: int, backends: str
) -> None:
    described = ", ".join(f"{s} {delays[s] * 1000:g} ms" for s in SOURCES)
    slowest = max(delays[s] for s in SOURCES) * 1000
    total = sum(delays[s] for s in SOURCES) * 1000
    print(
        f"\n== Fan-out: each source call sleeps first ({described}; slowest {slowest:g} ms, "
        f"sum {total:g} ms)\n   N={n} programs, {backends}, repeat {repeat}, p50/p95 in ms =="
    )
    rows = []
    for r in results:
        p50 = r.latency.p50
        rounds = " > ".join("+".join(sorted({SHORT[s] for s in rd})) for rd in r.rounds)
        rows.append(
            [
                r.name,
                f"{'/'.join(r.calls[s] for s in SOURCES)} = {r.calls_total}",
                f"{p50:.1f}",
                f"{r.latency.p95:.1f}",
                f"{p50 / r.slowest_ms:.2f}x",
                f"{p50 / r.sum_ms:.2f}x",
                f"{p50 / (r.depth * r.slowest_ms):.2f}x ({r.depth})",
                f"{p50 / r.floor_ms:.2f}x ({r.floor_ms:g})",
                rounds,
            ]
        )
    print(
        table(
            [
                "query",
                "calls lic/hs/qris",
                "p50",
                "p95",
                "/slowest",
                "/sum",
                "/(depth x slowest)",
                "/floor (ms)",
                "rounds of source calls",
            ],
            rows,
            left=(0, 8),
        )
    )
    errors = sorted({e for r in results for e in r.errors})
    if errors:
        print(f"errors[] in ecehub's answers: {', '.join(errors)}")


# -- profile ------------------------------------------------------------------------------
BUCKETS = [
    ("ecehub/demo/", "QRIS demo server (ecehub/demo)"),
    ("ecehub/connectors/", "ecehub connectors"),
    ("ecehub/resolvers/", "ecehub resolvers"),
    ("ecehub/schema/", "ecehub schema (strawberry types)"),
    ("ecehub/", "ecehub (other)"),
    ("/graphql/", "graphql-core (execution, validation)"),
    ("/strawberry/", "strawberry"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/aiosqlite/", "DB drivers"),
    ("/asyncpg/", "DB drivers"),
    ("/aiomysql/", "DB drivers"),
    ("/pymysql/", "DB drivers"),
    ("/aiohttp/", "aiohttp (client, QRIS server)"),
    ("/yarl/", "aiohttp (client, QRIS server)"),
    ("/multidict/", "aiohttp (client, QRIS server)"),
    ("/uvicorn/", "uvicorn + h11 (HTTP)"),
    ("/h11/", "uvicorn + h11 (HTTP)"),
    ("/starlette/", "starlette"),
    ("/json/", "json"),
    ("/pydantic", "pydantic"),
    ("/asyncio/", "asyncio event loop"),
    ("/benchmarks/", "this benchmark (client, direct read)"),
]


def bucket_of(filename: str, func: str) -> str:
    for needle, name in BUCKETS:
        if needle in filename:
            return name
    if filename == "~":
        if "json" in func:
            return "json"
        if "select" in func or "poll" in func:
            return "waiting (select/epoll)"
        return "builtins"
    return "other"


async def profile_nested(
    session: aiohttp.ClientSession, url: str, variables: dict[str, Any]
) -> str:
    """cProfile of one nested query (main thread only: the whole process shares one event
    loop, so this covers the hub, the HTTP server and client and the QRIS server, but not
    aiosqlite's worker threads).

    Garbage collection is measured on an unprofiled request first; the profiled one runs
    with the collector off, or its pauses would be charged to whichever function happened
    to allocate (asyncio's call_soon, issubclass, ...)."""
    with GcClock() as clock:
        plain = await graphql(session, url, NESTED, variables)
    gc.collect()
    gc.disable()
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        reply = await graphql(session, url, NESTED, variables)
        profiler.disable()
    finally:
        gc.enable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in raw.values())
    buckets: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in raw.items():
        name = bucket_of(filename, func)
        buckets[name] = buckets.get(name, 0.0) + tt
    out = io.StringIO()
    out.write(
        f"unprofiled: {plain.ms:.0f} ms, of which {clock.ms:.0f} ms garbage collection "
        f"({clock.full} full collections)\n"
        f"profiled with GC off: {reply.ms:.0f} ms under cProfile ({total * 1000:.0f} ms of "
        "own time)\n\nown time by package:\n"
    )
    rows = [
        [name, f"{tt * 1000:.0f}", f"{100 * tt / total:.1f}%"]
        for name, tt in sorted(buckets.items(), key=lambda kv: -kv[1])
    ]
    out.write(table(["package", "ms", "share"], rows) + "\n\n")
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(r"ecehub|strawberry|graphql/execution", 30)
    return out.getvalue()


# -- main ---------------------------------------------------------------------------------
def parse_delays(raw: str) -> dict[str, float]:
    delays = dict.fromkeys(SOURCES, 0.0)
    for part in raw.split(","):
        name, _, ms = part.partition("=")
        if name.strip() not in delays:
            raise argparse.ArgumentTypeError(f"unknown source {name!r} in --delays")
        delays[name.strip()] = float(ms) / 1000
    return delays


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sizes", default="10,100,1000", help="programs to seed, comma-separated")
    p.add_argument("--repeat", type=int, default=30, help="timed requests per size and side")
    p.add_argument("--warmup", type=int, default=2, help="untimed requests first")
    p.add_argument("--quick", action="store_true", help="smoke run: sizes 10,100, repeat 5")
    p.add_argument("--headstart-url", default=os.environ.get("ECEHUB_DEMO_HEADSTART_URL"))
    p.add_argument("--licensing-url", default=os.environ.get("ECEHUB_DEMO_LICENSING_URL"))
    p.add_argument(
        "--delays",
        type=parse_delays,
        default=parse_delays("licensing=50,head_start=100,qris=200"),
        help="fan-out: sleep per source call in ms, e.g. licensing=50,head_start=100,qris=200",
    )
    p.add_argument("--fanout-programs", type=int, default=100, help="fan-out: programs to seed")
    p.add_argument("--fanout-repeat", type=int, default=10, help="fan-out: timed requests")
    p.add_argument("--no-fanout", action="store_true", help="skip the fan-out part")
    p.add_argument(
        "--profile", action="store_true", help="cProfile one nested query at the largest size"
    )
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the systems are seeded and warm (long-lived objects are then "
        "not scanned by full collections)",
    )
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument("--verbose", action="store_true", help="show the hub's and servers' logs")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat, args.warmup, args.fanout_repeat = "10,100", 5, 1, 3
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    if not args.sizes or min(args.sizes) < 1 or args.repeat < 1 or args.fanout_repeat < 1:
        p.error("--sizes must be positive integers; --repeat/--fanout-repeat at least 1")
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "args": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "warmup": args.warmup,
            "fanout_programs": args.fanout_programs,
            "fanout_repeat": args.fanout_repeat,
            "delays_ms": {s: d * 1000 for s, d in args.delays.items()},
            "gc_freeze": args.gc_freeze,
        },
    }
    wall = time.perf_counter()
    async with (
        fresh_database(args.headstart_url, "headstart") as headstart_url,
        fresh_database(args.licensing_url, "licensing") as licensing_url,
    ):
        hs_backend = await backend_of(headstart_url)
        lic_backend = await backend_of(licensing_url)
        backends = f"head_start on {hs_backend}, licensing on {lic_backend}"
        figures["backends"] = {"head_start": hs_backend, "licensing": lic_backend}
        print(
            f"ecehub graph benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{backends}, QRIS on aiohttp (in-process)",
            flush=True,
        )
        results: list[SizeResult] = []
        profile_report: str | None = None
        for n in args.sizes:
            profile = args.profile and n == max(args.sizes)
            result, report = await bench_size(
                n, args.repeat, args.warmup, headstart_url, licensing_url, profile, args.gc_freeze
            )
            results.append(result)
            profile_report = report or profile_report
            print(
                f"  N={n}: seeded in {result.seed_s:.1f} s, ecehub p50 {result.hub.p50:.1f} ms, "
                f"direct p50 {result.direct.p50:.1f} ms",
                flush=True,
            )
        print_sizes(results, backends, args.repeat)
        figures["sizes"] = [r.to_json() for r in results]
        if not args.no_fanout:
            fanout = await bench_fanout(
                args.fanout_programs,
                args.fanout_repeat,
                args.warmup,
                args.delays,
                headstart_url,
                licensing_url,
            )
            print_fanout(fanout, args.fanout_programs, args.delays, args.fanout_repeat, backends)
            figures["fanout"] = {
                "programs_seeded": args.fanout_programs,
                "queries": [f.to_json() for f in fanout],
            }
        if profile_report is not None:
            print(f"\n== Profile, N={max(args.sizes)} ==\n{profile_report}")
            figures["profile"] = profile_report
    figures["wall_s"] = round(time.perf_counter() - wall, 1)
    print(f"\ndone in {figures['wall_s']} s")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.verbose:
        # A failing source is reported in the tables (errors[]); keep its log lines out.
        logging.getLogger("ecehub").setLevel(logging.CRITICAL)
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    figures = asyncio.run(run(args))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
