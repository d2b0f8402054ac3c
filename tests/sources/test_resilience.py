"""Each source's guard (breaker, retries, slots) through the real app: two ``rest`` sources
configured the normal way, served by one aiohttp server on loopback whose QRIS side a test
switches between ok, failing (500), refusing (400), hanging and recovered. The server counts
every request it gets, so "the source was not called" is counted, not timed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.config.schema import config_json_schema
from ecehub.errors import ConfigError, SourceUnavailable
from ecehub.resolvers.runtime import Runtime
from ecehub.sources import BreakerState, SourceGuard
from tests.serving import loopback

PROGRAMS = 5
QUERY = "{ programs(first: 5) { nodes { name qrisRating { level } } } }"
CALLS = 2
"""QRIS calls of a request that QRIS answers: listing its programs (those licensing lacks) and
completing licensing's by license number. A failed call ends the request's calls to it."""


@dataclass
class Upstream:
    """The two systems' API; ``mode`` is the QRIS side's: ok, fail (500), reject (400) or
    hang (until ``release`` is set)."""

    url: str = ""
    mode: str = "ok"
    fail_next: int = 0
    """Answer this many requests with a 500 before answering as ``mode`` says."""
    delay_s: float = 0.0
    status: int = 500
    """The answer of mode ``status``."""
    hits: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by the first QRIS request."""


def _provider(i: int) -> dict[str, Any]:
    return {"id": f"P{i}", "name": f"Program {i}", "license": f"L-{i}", "level": i % 4 + 1}


def build_app(state: Upstream) -> web.Application:
    rows = [_provider(i) for i in range(1, PROGRAMS + 1)]

    async def licensing(request: web.Request) -> web.Response:
        state.hits["licensing"] += 1
        return web.json_response({"data": rows})

    async def qris(request: web.Request) -> web.Response:
        state.hits["qris"] += 1
        state.arrived.set()
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if state.delay_s:
                await asyncio.sleep(state.delay_s)
            if state.fail_next > 0:
                state.fail_next -= 1
                return web.json_response({"error": "boom"}, status=500)
            if state.mode == "hang":
                await state.release.wait()
            if state.mode == "fail":
                return web.json_response({"error": "boom"}, status=500)
            if state.mode == "reject":
                return web.json_response({"error": "unknown parameter"}, status=400)
            if state.mode == "status":
                return web.json_response({"error": "no"}, status=state.status)
            wanted = set(request.query.get("license_numbers", "").split(","))
            return web.json_response({"data": [r for r in rows if r["license"] in wanted]})
        finally:
            state.in_flight -= 1

    app = web.Application()
    app.router.add_get("/licensing/providers", licensing)
    app.router.add_get("/qris/providers", qris)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    async with loopback(build_app(state)) as state.url:
        try:
            yield state
        finally:
            state.release.set()  # held requests go before the server does


def config_data(upstream: Upstream, tmp_path: Path, **qris: Any) -> dict[str, Any]:
    """Licensing lists the programs; QRIS completes them by license number (its settings:
    ``qris``, over a short timeout)."""
    program = {
        "key": "id",
        "fields": {"name": "name", "license_number": "license"},
        "identifiers": {"LICENSE_NUMBER": "license"},
    }
    return {
        "sources": {
            "licensing": {
                "kind": "rest",
                "base_url": f"{upstream.url}/licensing",
                "support_types": ["LICENSING"],
                "records_path": "data",
                "entities": {"program": {"path": "/providers", **program}},
            },
            "qris": {
                "kind": "rest",
                "base_url": f"{upstream.url}/qris",
                "support_types": ["QRIS"],
                "records_path": "data",
                "timeout_s": 2,
                **qris,
                "entities": {
                    "program": {
                        "path": "/providers",
                        "key": "id",
                        "fields": {"license_number": "license", "qris_level": "level"},
                        "identifiers": {"LICENSE_NUMBER": "license"},
                        "filters": {
                            "identifier:LICENSE_NUMBER": {"param": "license_numbers", "op": "in"}
                        },
                    }
                },
            },
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        # Every read reaches the guard: a cached answer would skip the source being tested.
        "cache": {"backend": "none"},
    }


@dataclass
class Hub:
    runtime: Runtime
    client: httpx.AsyncClient

    @property
    def qris(self) -> SourceGuard:
        return self.runtime.guards["qris"]

    def breaker_state(self) -> BreakerState:
        """QRIS's breaker now (a call, so a type checker does not pin it after an assert)."""
        return self.qris.breaker.state

    async def query(self) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": QUERY}, headers={"X-Ecehub-Trace": "1"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def metric(self, name: str, **labels: str) -> float:
        text = (await self.client.get("/metrics")).text
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )


@contextlib.asynccontextmanager
async def serving(upstream: Upstream, tmp_path: Path, **qris: Any) -> AsyncIterator[Hub]:
    config = parse_config(config_data(upstream, tmp_path, **qris))
    runtime = Runtime(config)
    app = create_app(config, runtime)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Hub(runtime, client)
    finally:
        await runtime.aclose()


def codes(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["extensions"]["code"], e["extensions"]["source"]) for e in body.get("errors", [])]


def qris_ms(body: dict[str, Any]) -> float:
    """The gateway's own time for QRIS in this request (the trace's)."""
    return float(next(s["ms"] for s in body["extensions"]["sources"] if s["source"] == "qris"))


def names(body: dict[str, Any]) -> list[str]:
    return sorted(n["name"] for n in body["data"]["programs"]["nodes"])


def levels(body: dict[str, Any]) -> list[int | None]:
    return [(n["qrisRating"] or {}).get("level") for n in body["data"]["programs"]["nodes"]]


NO_RETRY = {"attempts": 1}


async def test_the_breaker_opens_after_the_threshold_and_then_refuses_without_a_call(
    upstream: Upstream, tmp_path: Path
) -> None:
    resilience = {"breaker": {"failure_threshold": 3, "open_s": 60}, "retry": NO_RETRY}
    async with serving(upstream, tmp_path, resilience=resilience) as hub:
        upstream.mode = "fail"
        for _ in range(3):
            body = await hub.query()
            assert codes(body) == [("SOURCE_UNAVAILABLE", "qris")]
        assert upstream.hits["qris"] == 3
        assert hub.breaker_state() is BreakerState.OPEN

        upstream.mode = "ok"  # the source is back, but the breaker stays open for open_s
        body = await hub.query()
        assert upstream.hits["qris"] == 3  # the primary check: QRIS was not asked
        # Partial data: every program from licensing, no QRIS level, one error naming QRIS
        # with when it tries again.
        assert names(body) == [f"Program {i}" for i in range(1, PROGRAMS + 1)]
        assert levels(body) == [None] * PROGRAMS
        assert codes(body) == [("SOURCE_CIRCUIT_OPEN", "qris")]
        message = body["errors"][0]["message"]
        assert "source 'qris'" in message and "next try in" in message, message
        assert upstream.url not in message
        # A refused call does no I/O: the gateway's own time for QRIS, with a wide margin.
        assert qris_ms(body) < 10, body["extensions"]

        started = time.perf_counter()
        with pytest.raises(Exception) as refused:
            await hub.qris.run("fetch program", _never_called)
        assert time.perf_counter() - started < 0.010
        assert getattr(refused.value, "code", None) == "SOURCE_CIRCUIT_OPEN"

        assert await hub.metric("ecehub_source_breaker_state", source="qris") == 2
        assert await hub.metric("ecehub_source_breaker_state", source="licensing") == 0
        assert (
            await hub.metric("ecehub_source_breaker_transitions_total", source="qris", state="open")
            == 1
        )
        assert (
            await hub.metric("ecehub_source_refused_total", source="qris", reason="circuit_open")
            == 2
        )
        assert await hub.metric("ecehub_graphql_errors_total", code="SOURCE_CIRCUIT_OPEN") == 1


async def _never_called() -> None:
    raise AssertionError("an open breaker must not call the source")


async def test_half_open_lets_one_probe_through_and_its_success_closes_the_breaker(
    upstream: Upstream, tmp_path: Path
) -> None:
    open_s = 1.5  # long enough that the next request comes while it is open, on any load
    resilience = {"breaker": {"failure_threshold": 2, "open_s": open_s}, "retry": NO_RETRY}
    async with serving(upstream, tmp_path, resilience=resilience) as hub:
        upstream.mode = "fail"
        for _ in range(2):
            await hub.query()
        assert hub.breaker_state() is BreakerState.OPEN

        # A failed probe opens it again at once.
        await asyncio.sleep(open_s + 0.05)
        assert codes(await hub.query()) == [("SOURCE_UNAVAILABLE", "qris")]
        assert upstream.hits["qris"] == 3
        assert hub.breaker_state() is BreakerState.OPEN
        assert codes(await hub.query()) == [("SOURCE_CIRCUIT_OPEN", "qris")]
        assert upstream.hits["qris"] == 3

        # Recovered, but slow to answer: of five concurrent requests one is the probe and
        # reaches the source; the four others fail fast while it is under way.
        await asyncio.sleep(open_s + 0.05)
        upstream.mode = "hang"
        tasks = [asyncio.create_task(hub.query()) for _ in range(5)]
        done, pending = await _wait_for(tasks, done=4)
        assert upstream.hits["qris"] == 4, upstream.hits
        assert hub.breaker_state() is BreakerState.HALF_OPEN
        for task in done:
            body = task.result()
            assert codes(body) == [("SOURCE_CIRCUIT_OPEN", "qris")]
            assert "probe" in body["errors"][0]["message"]
        upstream.mode = "ok"
        upstream.release.set()
        (probe,) = pending
        body = await probe
        assert codes(body) == []
        assert levels(body) == [i % 4 + 1 for i in range(1, PROGRAMS + 1)]
        assert hub.breaker_state() is BreakerState.CLOSED

        assert upstream.hits["qris"] == 4 + CALLS - 1
        # Closed: the next request asks the source again.
        assert codes(await hub.query()) == []
        assert upstream.hits["qris"] == 4 + 2 * CALLS - 1
        assert (
            await hub.metric(
                "ecehub_source_breaker_transitions_total", source="qris", state="half_open"
            )
            == 2
        )
        assert await hub.metric("ecehub_source_breaker_state", source="qris") == 0


async def _wait_for(
    tasks: list[asyncio.Task[dict[str, Any]]], done: int
) -> tuple[set[asyncio.Task[dict[str, Any]]], set[asyncio.Task[dict[str, Any]]]]:
    """Wait (up to 20 s, for a loaded machine) until ``done`` of ``tasks`` have finished."""
    deadline = time.monotonic() + 20
    while True:
        finished = {t for t in tasks if t.done()}
        if len(finished) >= done or time.monotonic() > deadline:
            return finished, set(tasks) - finished
        await asyncio.sleep(0.02)


async def test_a_500_is_retried_and_then_succeeds(upstream: Upstream, tmp_path: Path) -> None:
    resilience = {"retry": {"attempts": 3, "base_s": 0.01, "max_s": 0.02}}
    async with serving(upstream, tmp_path, resilience=resilience) as hub:
        upstream.fail_next = 2
        body = await hub.query()
        assert codes(body) == []
        assert levels(body) == [i % 4 + 1 for i in range(1, PROGRAMS + 1)]
        assert upstream.hits["qris"] == 2 + CALLS  # two 500s, then the answers
        assert await hub.metric("ecehub_source_retries_total", source="qris") == 2
        # The retried call is one call of the request, and a success for the breaker.
        assert {s["source"]: s["calls"] for s in body["extensions"]["sources"]}["qris"] == CALLS
        assert hub.qris.breaker.failures == 0

        # Out of tries: the last failure is the request's error; each failed try counted by
        # the breaker.
        upstream.fail_next = 3
        assert codes(await hub.query()) == [("SOURCE_UNAVAILABLE", "qris")]
        assert upstream.hits["qris"] == 2 + CALLS + 3
        assert hub.qris.breaker.failures == 3


async def test_a_4xx_is_never_retried_and_does_not_open_the_breaker(
    upstream: Upstream, tmp_path: Path
) -> None:
    resilience = {"breaker": {"failure_threshold": 2}, "retry": {"attempts": 3, "base_s": 0.01}}
    async with serving(upstream, tmp_path, resilience=resilience) as hub:
        upstream.mode = "reject"
        for _ in range(4):
            assert codes(await hub.query()) == [("SOURCE_UNAVAILABLE", "qris")]
        assert upstream.hits["qris"] == 4
        assert hub.breaker_state() is BreakerState.CLOSED
        assert await hub.metric("ecehub_source_retries_total", source="qris") == 0


@pytest.mark.parametrize(
    ("status", "retried"), [(400, False), (401, False), (404, False), (429, True), (503, True)]
)
async def test_which_http_answers_are_retried(
    upstream: Upstream, tmp_path: Path, status: int, retried: bool
) -> None:
    resilience = {"breaker": {"failure_threshold": 2}, "retry": {"attempts": 2, "base_s": 0.01}}
    async with serving(upstream, tmp_path, resilience=resilience) as hub:
        upstream.mode, upstream.status = "status", status
        assert codes(await hub.query()) == [("SOURCE_UNAVAILABLE", "qris")]
        assert upstream.hits["qris"] == (2 if retried else 1)
        # A refused request says nothing of the source's health; two tries of a 429 or a 5xx
        # open it.
        expected = BreakerState.OPEN if retried else BreakerState.CLOSED
        assert hub.breaker_state() is expected


async def test_a_timeout_is_not_retried_past_the_sources_time(
    upstream: Upstream, tmp_path: Path
) -> None:
    resilience = {"retry": {"attempts": 3, "base_s": 0.01, "max_s": 0.02}}
    async with serving(upstream, tmp_path, timeout_s=0.3, resilience=resilience) as hub:
        upstream.mode = "hang"
        body = await hub.query()
        assert codes(body) == [("SOURCE_TIMEOUT", "qris")]
        assert upstream.hits["qris"] == 1
        assert "0.3 s" in body["errors"][0]["message"]


async def test_the_concurrency_limit_holds_and_slot_waits_are_not_in_the_timeout(
    upstream: Upstream, tmp_path: Path
) -> None:
    # 24 requests of 2 calls, 2 slots, 0.1 s per call: the last waits ~2.3 s for a slot,
    # longer than the 1 s timeout, which holds because it counts the call's own time only.
    requests, slots = 24, 2
    upstream.delay_s = 0.1
    resilience = {"max_in_flight": slots, "slot_wait_s": 60}
    async with serving(upstream, tmp_path, timeout_s=1, resilience=resilience) as hub:
        bodies = await asyncio.gather(*(hub.query() for _ in range(requests)))
        assert [codes(b) for b in bodies] == [[]] * requests
        assert upstream.hits["qris"] == CALLS * requests
        assert upstream.max_in_flight == slots
        waited = await hub.metric("ecehub_source_slot_wait_seconds_sum", source="qris")
        assert waited > 1.0  # queued behind each other: counted apart from the calls
        count = await hub.metric("ecehub_source_slot_wait_seconds_count", source="qris")
        assert count == CALLS * requests
        assert await hub.metric("ecehub_source_calls_in_flight", source="qris") == 0


async def test_the_wait_for_a_slot_is_bounded(upstream: Upstream, tmp_path: Path) -> None:
    resilience = {"max_in_flight": 1, "slot_wait_s": 0.2, "retry": NO_RETRY}
    async with serving(upstream, tmp_path, timeout_s=30, resilience=resilience) as hub:
        upstream.mode = "hang"
        first = asyncio.create_task(hub.query())
        await asyncio.wait_for(upstream.arrived.wait(), 20)
        second = await hub.query()
        assert codes(second) == [("SOURCE_TIMEOUT", "qris")]
        assert "no free slot within 0.2 s" in second["errors"][0]["message"]
        assert upstream.hits["qris"] == 1
        assert await hub.metric("ecehub_source_refused_total", reason="no_slot") == 1
        upstream.mode = "ok"
        upstream.release.set()
        assert codes(await first) == []
        # Waiting for a slot says nothing about the source's health.
        assert hub.qris.breaker.failures == 0


@pytest.mark.parametrize(
    ("resilience", "path", "words"),
    [
        ({"retry": {"base_s": 1, "max_s": 0.5}}, "sources.qris.resilience.retry", "max_s"),
        ({"breaker": {"failure_threshold": 0}}, "sources.qris.resilience.breaker", ""),
        ({"max_in_flight": 0}, "sources.qris.resilience.max_in_flight", ""),
        ({"retries": 2}, "sources.qris.resilience.retries", ""),
    ],
)
def test_resilience_settings_are_checked(
    upstream: Upstream, tmp_path: Path, resilience: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(config_data(upstream, tmp_path, resilience=resilience))
    problems = info.value.problems
    assert any(p.startswith(path) and words in m for p, m in problems), problems


def test_the_config_schema_documents_the_settings_for_every_kind() -> None:
    schema = config_json_schema()
    defs = schema["$defs"]
    assert set(defs["ResilienceConfig"]["properties"]) == {
        "breaker",
        "retry",
        "max_in_flight",
        "slot_wait_s",
    }
    assert defs["RetryConfig"]["properties"]["attempts"]["default"] == 2
    for kind in ("RestSourceConfig", "SqlSourceConfig"):
        assert defs[kind]["properties"]["resilience"]["$ref"] == "#/$defs/ResilienceConfig"


def test_defaults() -> None:
    config = parse_config(
        {"sources": {"qris": {"kind": "rest", "base_url": "http://127.0.0.1:9/qris"}}}
    )
    settings = config.sources["qris"].resilience
    assert (settings.breaker.failure_threshold, settings.breaker.open_s) == (5, 30)
    assert (settings.retry.attempts, settings.retry.base_s, settings.retry.max_s) == (2, 0.05, 0.5)
    assert (settings.max_in_flight, settings.slot_wait_s) == (16, None)


async def test_only_the_probe_moves_a_half_open_breaker() -> None:
    """The guard alone (the call is the edge): a cancelled probe lets the next call probe,
    and a call admitted before the breaker opened cannot close it by succeeding late."""
    settings = parse_config(
        {
            "sources": {
                "qris": {
                    "kind": "rest",
                    "base_url": "http://127.0.0.1:9/qris",
                    "resilience": {
                        "breaker": {"failure_threshold": 1, "open_s": 0.05},
                        "retry": NO_RETRY,
                    },
                }
            }
        }
    ).sources["qris"]
    guard = SourceGuard("qris", 5, settings.resilience)

    def state() -> BreakerState:
        return guard.breaker.state

    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "late"

    async def failing() -> str:
        raise SourceUnavailable("qris", "HTTP 500")

    late = asyncio.create_task(guard.run("find program", slow))
    await asyncio.sleep(0)
    with pytest.raises(SourceUnavailable):
        await guard.run("find program", failing)
    assert state() is BreakerState.OPEN
    gate.set()
    assert await late == "late"
    assert state() is BreakerState.OPEN  # the late success did not close it

    await asyncio.sleep(0.06)
    gate.clear()
    probe = asyncio.create_task(guard.run("find program", slow))
    await asyncio.sleep(0)
    assert state() is BreakerState.HALF_OPEN
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    gate.set()
    assert await guard.run("find program", slow) == "late"  # the next call was the probe
    assert state() is BreakerState.CLOSED
