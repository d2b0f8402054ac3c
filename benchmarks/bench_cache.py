"""Figures for the source cache: the nested 100-program query with a cold cache and with a warm
one, every source 50 ms away (not a timed test).

The demo systems: QRIS is its REST API on loopback, answering every request after
``--delay-ms``; Head Start and licensing are SQLite files behind connectors that sleep
``--delay-ms`` before every call (a database across a network). The hub runs in process
(``create_app`` over a ``Runtime``, queried through httpx's ASGI transport). A cold sample
first drops every source's entries (``SourceCache.drop``: a new generation, as after a
restart), so every source is read; a warm sample follows it unchanged. Cold and warm samples
alternate so drift hits both alike, and each round also times the same query on a hub with
no cache over sources with no delay: the hub's own work, which bounds what a cache can save.
Printed: source calls per request, p50 and p95 of each, p50 cold / p50 warm and p50 warm /
p50 own.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cache.py                   # memory backend, 20 rounds
    .venv/bin/python benchmarks/bench_cache.py --backend redis   # Redis at ECEHUB_TEST_REDIS_URL
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.cli.common import settle_heap
from ecehub.config import CacheConfig, load_config
from ecehub.connectors import Connector, FieldFilter, Health, Page, Record
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime, build_connectors

NESTED = """
query($first: Int!) {
  programs(first: $first) {
    nodes {
      id name supportTypes { code }
      license { number status }
      qrisRating { level }
      sites { id name rooms { id name ageGroup } staff { id name } }
      staff { id name credentials trainings { title hours } }
    }
  }
}
"""


class DelayedConnector(Connector):
    """Sleeps ``delay_s`` before delegating each call to ``inner``: a source that far away."""

    def __init__(self, inner: Connector, delay_s: float) -> None:
        super().__init__(inner.name, inner.config)
        self.inner = inner
        self.delay_s = delay_s

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        await asyncio.sleep(self.delay_s)
        return await self.inner.fetch(entity, keys)

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        await asyncio.sleep(self.delay_s)
        return await self.inner.children(entity, parent_entity, parent_keys)

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        await asyncio.sleep(self.delay_s)
        return await self.inner.find(entity, filters, first=first, after=after)

    async def health(self) -> Health:
        return await self.inner.health()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def can_filter(self, entity: str, field_name: str) -> bool:
        return self.inner.can_filter(entity, field_name)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def run(args: argparse.Namespace) -> None:
    delay = args.delay_ms / 1000
    with tempfile.TemporaryDirectory(prefix="ecehub-bench-cache-") as tmp:
        async with DemoSystems(
            programs=args.programs, data_dir=Path(tmp), qris_delay_s=delay
        ) as demo:
            config = load_config(demo.config_path, env={**os.environ, **demo.env})
            cache: dict[str, Any] = {"ttl_s": 3600, "stale_max_age_s": 3600}
            if args.backend == "redis":
                cache.update(
                    backend="redis",
                    url=os.environ.get("ECEHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                    key_prefix=f"bench{uuid.uuid4().hex[:8]}",
                )
            config = config.model_copy(
                update={"access": None, "cache": CacheConfig.model_validate(cache)}
            )
            connectors = build_connectors(config)
            for name in ("head_start", "licensing"):  # QRIS: its own server is delayed
                connectors[name] = DelayedConnector(connectors[name], delay)
            cached = Runtime(config, connectors=connectors)
            # The hub's own work: no cache, and (while it is asked) sources with no delay.
            live_config = config.model_copy(update={"cache": CacheConfig(backend="none")})
            live = Runtime(live_config)
            try:
                async with (
                    client_of(create_app(config, cached)) as client,
                    client_of(create_app(live_config, live)) as live_client,
                ):
                    await measure(args, demo, client, cached, live_client)
            finally:
                await cached.aclose()
                await live.aclose()


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def query(client: httpx.AsyncClient, first: int) -> tuple[float, dict[str, int], int]:
    """One nested query: its latency, its source calls, the programs it returned."""
    started = time.perf_counter()
    response = await client.post(
        "/graphql",
        json={"query": NESTED, "variables": {"first": first}},
        headers={"X-Ecehub-Trace": "1"},
    )
    seconds = time.perf_counter() - started
    body = response.json()
    assert "errors" not in body, body.get("errors")
    calls = {s["source"]: s["calls"] for s in body["extensions"]["sources"]}
    return seconds, calls, len(body["data"]["programs"]["nodes"])


async def measure(
    args: argparse.Namespace,
    demo: DemoSystems,
    client: httpx.AsyncClient,
    runtime: Runtime,
    live_client: httpx.AsyncClient,
) -> None:
    """Rounds of: cold, warm, and the hub's own work (no cache, no delays)."""
    cache = runtime.cache
    assert cache is not None
    delay = demo.qris.delay_s

    async def drop_all() -> None:
        for source in runtime.config.sources:
            await cache.drop(source)

    async def floor() -> float:
        demo.qris.delay_s = 0.0
        try:
            return (await query(live_client, args.programs))[0]
        finally:
            demo.qris.delay_s = delay

    for _ in range(args.warmup):  # pools opened, tables reflected
        await drop_all()
        await query(client, args.programs)
        await floor()
    settle_heap()  # what `ecehub serve` does once started (benchmarks/README: GC settings)
    cold: list[float] = []
    warm: list[float] = []
    own: list[float] = []
    cold_calls: dict[str, int] = {}
    warm_calls: dict[str, int] = {}
    programs = 0
    for _ in range(args.repeat):
        await drop_all()
        seconds, cold_calls, programs = await query(client, args.programs)
        cold.append(seconds)
        seconds, warm_calls, _ = await query(client, args.programs)
        warm.append(seconds)
        own.append(await floor())
    print(
        f"nested query, {programs} programs, every source {args.delay_ms:g} ms away, "
        f"backend {args.backend}, {args.repeat} rounds"
    )
    print(f"  source calls per request: cold {cold_calls}, warm {warm_calls or 'none'}")
    print(f"  cold: p50 {ms(cold):7.1f} ms   p95 {p95(cold) * 1000:7.1f} ms")
    print(f"  warm: p50 {ms(warm):7.1f} ms   p95 {p95(warm) * 1000:7.1f} ms")
    print(f"  own:  p50 {ms(own):7.1f} ms   p95 {p95(own) * 1000:7.1f} ms  (no cache, no delays)")
    print(f"  p50 cold / p50 warm: {ms(cold) / ms(warm):.1f}x")
    print(f"  p50 warm / p50 own:  {ms(warm) / ms(own):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--backend", choices=["memory", "redis"], default="memory")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
