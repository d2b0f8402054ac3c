"""The source cache under the gateway, against a real loopback REST source (its hits counted)
and a real SQLite source, on the memory backend and on the real Redis: per-key partial hits,
single flight, stale-if-error with its age on a clock the test moves, never older than
``stale_max_age_s``, invalidation, a bypassing request, and a Redis that is down."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from ecehub.cli import main
from ecehub.config import Config, parse_config
from ecehub.connectors import Connector, FieldFilter
from ecehub.metrics import Metrics
from ecehub.resolvers.runtime import build_connectors
from ecehub.sources.cache import SourceCache
from ecehub.sources.cachestore import CacheStore
from ecehub.sources.gateway import SourceGateway
from tests.conftest import REDIS_URL, require_service
from tests.serving import loopback

PROVIDERS: list[dict[str, Any]] = [
    {
        "id": f"P{i:03d}",
        "name": f"Little Steps {i}",
        "level": i % 5 + 1,
        "rated_on": f"2025-07-0{i % 9 + 1}",
    }
    for i in range(1, 121)
]
STAFF = [
    {"id": f"S{i:03d}-{j}", "provider": f"P{i:03d}", "first": f"Ann{j}", "hours": 1.5 * j}
    for i in range(1, 121)
    if i % 3
    for j in (1, 2)
]


@dataclass
class Upstream:
    """A REST source on loopback: what it was asked, and a switch to make it fail."""

    url: str = ""
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    down: bool = False
    delay_s: float = 0.0

    def asked(self, path: str) -> list[dict[str, str]]:
        return [q for p, q in self.hits if p == path]


def _app(state: Upstream) -> web.Application:
    @web.middleware
    async def edge(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state.hits.append((request.path, dict(request.query)))
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.down:
            return web.json_response({"error": "maintenance"}, status=503)
        return await handler(request)

    def ids(request: web.Request, name: str) -> set[str] | None:
        return set(request.query[name].split(",")) if name in request.query else None

    async def providers(request: web.Request) -> web.Response:
        wanted = ids(request, "ids")
        rows = [p for p in PROVIDERS if wanted is None or p["id"] in wanted]
        if "level" in request.query:
            rows = [p for p in rows if str(p["level"]) == request.query["level"]]
        return web.json_response({"data": rows})

    async def staff(request: web.Request) -> web.Response:
        parents = ids(request, "provider_ids")
        return web.json_response(
            {"data": [s for s in STAFF if parents is None or s["provider"] in parents]}
        )

    app = web.Application(middlewares=[edge])
    app.router.add_get("/v1/providers", providers)
    app.router.add_get("/v1/staff", staff)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    async with loopback(_app(state)) as state.url:
        yield state


def _config(upstream: Upstream, sqlite_path: Path, cache: dict[str, Any]) -> Config:
    return parse_config(_config_data(upstream, sqlite_path, cache))


def _config_data(upstream: Upstream, sqlite_path: Path, cache: dict[str, Any]) -> dict[str, Any]:
    with sqlite3.connect(sqlite_path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS facility (license_no TEXT PRIMARY KEY, name TEXT, "
            "issued TEXT, capacity INTEGER)"
        )
        db.execute("DELETE FROM facility")
        db.executemany(
            "INSERT INTO facility VALUES (?, ?, ?, ?)",
            [(f"L-{i}", f"Facility {i}", f"2024-0{i % 9 + 1}-15", 10 * i) for i in range(1, 31)],
        )
    return {
        "sources": {
            "qris": {
                "kind": "rest",
                "base_url": upstream.url,
                "support_types": ["QRIS"],
                "timeout_s": 2,
                # One try per read: these tests count the source's hits per read.
                "resilience": {"retry": {"attempts": 1}},
                "records_path": "data",
                "pagination": {"style": "none"},
                "entities": {
                    "program": {
                        "path": "/v1/providers",
                        "key": "id",
                        "batch": {"param": "ids", "max": 500},
                        "fields": {
                            "name": "name",
                            "qris_level": "level",
                            "qris_rated_on": "rated_on",
                        },
                        "identifiers": {"QRIS_PROVIDER_ID": "id"},
                        "filters": {"qris_level": {"param": "level", "op": "eq"}},
                    },
                    "staff": {
                        "path": "/v1/staff",
                        "key": "id",
                        "parent": {"program": "provider"},
                        "parent_batch": {"param": "provider_ids", "max": 500},
                        "fields": {"first_name": "first", "pd_hours": "hours"},
                    },
                },
            },
            "licensing": {
                "kind": "sql",
                "url": f"sqlite+aiosqlite:///{sqlite_path}",
                "support_types": ["LICENSING"],
                "entities": {
                    "program": {
                        "table": "facility",
                        "key": "license_no",
                        "fields": {
                            "name": "name",
                            "license_issued": "issued",
                            "licensed_capacity": "capacity",
                        },
                        "identifiers": {"LICENSE_NUMBER": "license_no"},
                    }
                },
            },
        },
        "cache": cache,
    }


class Clock:
    """Epoch seconds the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Hub:
    """The app-wide parts a request's gateway reads through."""

    config: Config
    connectors: dict[str, Connector]
    cache: SourceCache
    clock: Clock
    metrics: Metrics

    def gateway(self, *, bypass: bool = False) -> SourceGateway:
        """A new request's gateway."""
        return SourceGateway(self.connectors, self.metrics, cache=self.cache.session(bypass=bypass))

    def lookups(self, result: str) -> float:
        total = 0.0
        for metric in self.metrics.registry.collect():
            for sample in metric.samples:
                if (
                    sample.name == "ecehub_cache_lookups_total"
                    and sample.labels["result"] == result
                ):
                    total += sample.value
        return total


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require_service(REDIS_URL, "Redis")
    return str(request.param)


@pytest.fixture
async def make_hub(
    backend: str, upstream: Upstream, tmp_path: Path
) -> AsyncIterator[Callable[..., Hub]]:
    """Builds hubs over the same sources and one backend, each with its own key prefix
    (unique per test) unless given one to share."""
    hubs: list[Hub] = []
    prefix = f"t{uuid.uuid4().hex[:12]}"

    def make(**cache: Any) -> Hub:
        settings = {"ttl_s": 30, "stale_max_age_s": 300, "key_prefix": prefix, **cache}
        if backend == "redis":
            settings.update(backend="redis", url=REDIS_URL)
        config = _config(upstream, tmp_path / "licensing.db", settings)
        clock, metrics = Clock(), Metrics()
        store = (
            CacheStore.redis(REDIS_URL, timeout_s=1.0)
            if backend == "redis"
            else CacheStore.memory()
        )
        hub = Hub(
            config,
            build_connectors(config),
            SourceCache(config, store, metrics, clock=clock),
            clock,
            metrics,
        )
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.cache.aclose()
        await asyncio.gather(*(c.aclose() for c in hub.connectors.values()))


def _ids(query: dict[str, str]) -> list[str]:
    return sorted(query["ids"].split(","))


async def test_a_batch_asks_the_source_only_for_the_keys_not_cached(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    keys = [str(p["id"]) for p in PROVIDERS[:100]]
    first = await hub.gateway().fetch("qris", "program", keys[:90])
    assert sorted(first) == keys[:90]
    second = await hub.gateway().fetch("qris", "program", keys)
    assert sorted(second) == keys
    calls = upstream.asked("/v1/providers")
    assert [len(_ids(q)) for q in calls] == [90, 10]
    assert _ids(calls[1]) == keys[90:]
    assert second["P005"].fields == first["P005"].fields
    # A key the source does not have is remembered as missing too.
    assert await hub.gateway().fetch("qris", "program", ["NOPE", "P001"]) == {
        "P001": second["P001"]
    }
    assert await hub.gateway().fetch("qris", "program", ["NOPE"]) == {}
    assert len(upstream.asked("/v1/providers")) == 3
    assert hub.lookups("hit") == 90 + 1 + 1 and hub.lookups("miss") == 90 + 10 + 1


async def test_children_and_listings_are_cached_per_parent_and_per_page(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    parents = [f"P{i:03d}" for i in range(1, 7)]
    staff = await hub.gateway().children("qris", "staff", "program", parents[:3])
    again = await hub.gateway().children("qris", "staff", "program", parents)
    assert {k: [r.key for r in v] for k, v in again.items()} == {
        p: [f"S{p[1:]}-1", f"S{p[1:]}-2"] for p in parents if int(p[1:]) % 3
    }
    assert staff["P001"][1].fields["pd_hours"] == 3.0
    asked = [sorted(q["provider_ids"].split(",")) for q in upstream.asked("/v1/staff")]
    assert asked == [parents[:3], parents[3:]]  # P003, with no staff, is cached as none
    level = [FieldFilter("qris_level", "eq", 3)]
    page = await hub.gateway().find("qris", "program", level, first=5)
    same = await hub.gateway().find("qris", "program", level, first=5)
    other = await hub.gateway().find("qris", "program", level, first=6)
    assert [r.key for r in same.records] == [r.key for r in page.records]
    assert len(other.records) == 6
    assert len(upstream.asked("/v1/providers")) == 2


async def test_identical_concurrent_reads_make_one_source_call(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    upstream.delay_s = 0.2  # all twenty are waiting while the one call is out
    keys = [str(p["id"]) for p in PROVIDERS[:40]]
    answers = await asyncio.gather(
        *(hub.gateway().fetch("qris", "program", keys) for _ in range(20))
    )
    assert len(upstream.asked("/v1/providers")) == 1
    assert all(sorted(a) == keys for a in answers)
    # Overlapping batches: only the keys nobody is fetching yet are asked for.
    more = [str(p["id"]) for p in PROVIDERS[30:60]]
    await asyncio.gather(
        hub.gateway(bypass=True).fetch("qris", "program", keys),
        hub.gateway(bypass=True).fetch("qris", "program", more),
    )
    later = upstream.asked("/v1/providers")[1:]
    assert sorted(k for q in later for k in _ids(q)) == sorted(set(keys) | set(more))


async def test_a_failed_shared_call_fails_every_request_that_joined_it(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    upstream.down, upstream.delay_s = True, 0.2
    gateways = [hub.gateway() for _ in range(5)]
    answers = await asyncio.gather(*(g.fetch("qris", "program", ["P001"]) for g in gateways))
    assert answers == [{}] * 5
    assert len(upstream.asked("/v1/providers")) == 1
    assert all(g.failures["qris"].code == "SOURCE_UNAVAILABLE" for g in gateways)
    assert all([f.source for f in g.reported_failures()] == ["qris"] for g in gateways)


async def test_stale_answers_stand_in_while_the_source_fails_and_say_their_age(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub(ttl_s=30, stale_max_age_s=120)
    keys = ["P001", "P002"]
    fresh = await hub.gateway().fetch("qris", "program", keys)
    read_at = fresh["P001"].fetched_at
    upstream.down = True
    hub.clock.now += 29  # still fresh: the failing source is not even asked
    gateway = hub.gateway()
    assert sorted(await gateway.fetch("qris", "program", keys)) == keys
    assert not gateway.failures and not gateway.stale and len(upstream.hits) == 1
    hub.clock.now += 61  # 90 s old: past ttl_s, the source is asked, fails, stale answers
    gateway = hub.gateway()
    stale = await gateway.fetch("qris", "program", [*keys, "P003"])
    assert sorted(stale) == keys  # P003 was never read: unanswered
    assert stale["P001"].fetched_at == read_at  # provenance shows when it really was read
    assert stale["P001"].fields == fresh["P001"].fields
    assert gateway.stale == {"qris": pytest.approx(90)}
    assert gateway.failures["qris"].code == "SOURCE_UNAVAILABLE"
    assert [f.source for f in gateway.reported_failures()] == ["qris"]
    # Everything asked for answered stale: no error to report, only the marker.
    gateway = hub.gateway()
    assert sorted(await gateway.fetch("qris", "program", keys)) == keys
    assert gateway.reported_failures() == [] and gateway.stale == {"qris": pytest.approx(90)}
    assert hub.lookups("stale") == 4
    hub.clock.now += 30  # exactly stale_max_age_s: still allowed
    gateway = hub.gateway()
    assert sorted(await gateway.fetch("qris", "program", keys)) == keys
    assert gateway.stale == {"qris": pytest.approx(120)}
    hub.clock.now += 0.5  # older than allowed: never served
    gateway = hub.gateway()
    assert await gateway.fetch("qris", "program", keys) == {}
    assert gateway.stale == {}
    assert [f.code for f in gateway.reported_failures()] == ["SOURCE_UNAVAILABLE"]


async def test_a_slow_source_times_out_and_stale_listings_answer(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub(ttl_s=5, sources={"qris": {"stale_max_age_s": 60}})
    level = [FieldFilter("qris_level", "eq", 2)]
    page = await hub.gateway().find("qris", "program", level, first=3)
    staff = await hub.gateway().children("qris", "staff", "program", ["P001", "P002"])
    hub.clock.now += 20
    upstream.delay_s = 1.0  # past the 0.3 s timeout below
    connector = hub.connectors["qris"]
    connector.timeout_s = 0.3
    gateway = hub.gateway()
    again = await gateway.find("qris", "program", level, first=3)
    staff_again = await gateway.children("qris", "staff", "program", ["P001", "P002"])
    assert [r.key for r in again.records] == [r.key for r in page.records]
    assert again.has_next == page.has_next
    assert {k: [r.key for r in v] for k, v in staff_again.items()} == {
        k: [r.key for r in v] for k, v in staff.items()
    }
    assert gateway.failures["qris"].code == "SOURCE_TIMEOUT"
    assert gateway.reported_failures() == [] and gateway.stale == {"qris": pytest.approx(20)}


async def test_sql_records_come_back_exactly_as_read(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    keys = [f"L-{i}" for i in range(1, 31)]
    first = await hub.gateway().fetch("licensing", "program", keys)
    gateway = hub.gateway()
    second = await gateway.fetch("licensing", "program", keys)
    assert gateway.trace() == []  # no call: every key came from the cache
    assert second == first
    assert str(second["L-3"].fields["license_issued"]) == "2024-04-15"
    assert second["L-3"].fetched_at.tzinfo is not None


async def test_dropping_a_source_an_entity_or_a_key(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    other = make_hub()  # another replica of the same backend (same key prefix)
    keys = ["P001", "P002", "P003"]
    for replica in (hub, other):
        await replica.gateway().fetch("qris", "program", keys)
        await replica.gateway().children("qris", "staff", "program", keys)
    asked = len(upstream.hits)

    async def reread() -> int:
        before = len(upstream.hits)
        await hub.gateway().fetch("qris", "program", keys)
        await hub.gateway().children("qris", "staff", "program", keys)
        return len(upstream.hits) - before

    assert await reread() == 0
    await hub.cache.drop("qris", "program", "P002")
    before = len(upstream.hits)
    await hub.gateway().fetch("qris", "program", keys)
    await hub.gateway().children("qris", "staff", "program", keys)
    assert [_ids(q) for q in upstream.asked("/v1/providers")[-1:]] == [["P002"]]
    assert upstream.asked("/v1/staff")[-1]["provider_ids"] == "P002"
    assert len(upstream.hits) - before == 2
    await hub.cache.drop("qris", "staff")
    assert await reread() == 1
    await other.cache.drop("qris")
    if hub.cache.store.shared:  # Redis: one replica's drop is every replica's
        assert await reread() == 2
    assert len(upstream.hits) > asked


async def test_a_bypassing_request_reads_live_and_refreshes(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub()
    await hub.gateway().fetch("qris", "program", ["P001"])
    PROVIDERS[0]["name"] = "Renamed Steps"
    try:
        cached = await hub.gateway().fetch("qris", "program", ["P001"])
        assert cached["P001"].fields["name"] == "Little Steps 1"
        live = await hub.gateway(bypass=True).fetch("qris", "program", ["P001"])
        assert live["P001"].fields["name"] == "Renamed Steps"
        refreshed = await hub.gateway().fetch("qris", "program", ["P001"])
        assert refreshed["P001"].fields["name"] == "Renamed Steps"
        assert len(upstream.hits) == 2
    finally:
        PROVIDERS[0]["name"] = "Little Steps 1"


async def test_an_entity_with_ttl_0_is_read_live_but_kept_for_stale(
    make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    hub = make_hub(sources={"qris": {"entities": {"program": {"ttl_s": 0}}}})
    await hub.gateway().fetch("qris", "program", ["P001"])
    await hub.gateway().fetch("qris", "program", ["P001"])
    assert len(upstream.hits) == 2
    upstream.down = True
    hub.clock.now += 10
    gateway = hub.gateway()
    assert list(await gateway.fetch("qris", "program", ["P001"])) == ["P001"]
    assert gateway.stale == {"qris": pytest.approx(10)}


async def test_without_a_reachable_redis_every_read_goes_to_the_source(
    upstream: Upstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = "redis://:s3cret-pw@127.0.0.1:9/0"  # the discard port: nothing listens
    config = _config(
        upstream, tmp_path / "l.db", {"backend": "redis", "url": dead, "timeout_s": 0.5}
    )
    metrics = Metrics()
    cache = SourceCache.from_config(config, metrics)
    assert cache is not None
    connectors = build_connectors(config)
    try:
        for _ in range(2):
            gateway = SourceGateway(connectors, metrics, cache=cache.session())
            assert list(await gateway.fetch("qris", "program", ["P001"])) == ["P001"]
            assert not gateway.failures
    finally:
        await cache.aclose()
        await asyncio.gather(*(c.aclose() for c in connectors.values()))
    assert len(upstream.hits) == 2
    assert "the cache backend failed" in caplog.text
    assert "s3cret-pw" not in caplog.text
    # Tried once: the second request went straight to the source.
    errors = [
        s.value
        for metric in metrics.registry.collect()
        for s in metric.samples
        if s.name == "ecehub_cache_errors_total"
    ]
    assert errors == [1.0]


async def test_the_drop_command_reaches_a_shared_cache(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_service(REDIS_URL, "Redis")
    settings: dict[str, Any] = {
        "backend": "redis",
        "url": REDIS_URL,
        "key_prefix": f"t{uuid.uuid4().hex[:12]}",
    }
    data = _config_data(upstream, tmp_path / "l.db", settings)
    path = tmp_path / "state.yaml"
    path.write_text(yaml.safe_dump(data))
    config = parse_config(data)
    cache = SourceCache.from_config(config)
    assert cache is not None
    connectors = build_connectors(config)
    try:
        for _ in range(2):
            await SourceGateway(connectors, None, cache=cache.session()).fetch(
                "qris", "program", ["P001"]
            )
        assert len(upstream.hits) == 1
        drop = ["cache", "drop", "--config", str(path), "--source", "qris", "--entity", "program"]
        assert await asyncio.to_thread(main, drop) == 0
        assert "dropped the cached answers of qris program" in capsys.readouterr().out
        await SourceGateway(connectors, None, cache=cache.session()).fetch(
            "qris", "program", ["P001"]
        )
        assert len(upstream.hits) == 2
        assert await asyncio.to_thread(main, [*drop, "--key", "P001"]) == 0
        assert await asyncio.to_thread(main, [*drop[:-2], "--entity", "site"]) == 2
        assert "has no entity 'site'" in capsys.readouterr().err
    finally:
        await cache.aclose()
        await asyncio.gather(*(c.aclose() for c in connectors.values()))
    dead = tmp_path / "dead.yaml"
    settings.update(url="redis://:pw-never-printed@127.0.0.1:9/0", timeout_s=0.5)
    dead.write_text(yaml.safe_dump(_config_data(upstream, tmp_path / "l.db", settings)))
    assert await asyncio.to_thread(main, [*drop[:3], str(dead), *drop[4:]]) == 1
    said = capsys.readouterr().err
    assert "the cache backend failed" in said and "pw-never-printed" not in said
    memory = tmp_path / "memory.yaml"
    memory.write_text(yaml.safe_dump(_config_data(upstream, tmp_path / "l.db", {})))
    assert (
        await asyncio.to_thread(
            main, ["cache", "drop", "--config", str(memory), "--source", "qris"]
        )
        == 1
    )
    assert "lives in each serving process" in capsys.readouterr().err
