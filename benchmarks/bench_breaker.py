"""A hung source and the circuit breaker: the p50 of a query over the other source while one
source is healthy, hung (before its breaker opens) and hung with its breaker open.

Two ``rest`` sources on one loopback aiohttp server, each answering after ``--latency-ms``:
licensing (lists the programs) and QRIS (completes them by license number). The query asks
for licensing's fields only; the listing still asks QRIS for the programs only it has, so a
hung QRIS costs every query its ``timeout_s`` until the breaker opens, and nothing after.
The hub runs in process (httpx's ASGI transport: starlette, strawberry, the gateway; no
socket on the hub's side). Two such systems, one healthy and one whose QRIS hangs, are
queried in turn, so both phases see the same machine. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_breaker.py
    .venv/bin/python benchmarks/bench_breaker.py --repeat 100 --latency-ms 20 --timeout 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp import web

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.resolvers.runtime import Runtime
from ecehub.sources import BreakerState

QUERY = "query Directory { programs(first: 20) { nodes { name license { number } } } }"
PROGRAMS = 20


class Upstream:
    """Both systems' API; ``hung``: QRIS holds every request until the run ends."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.hung = False
        self.release = asyncio.Event()
        self.rows = [
            {"id": f"P{i}", "name": f"Program {i}", "license": f"L-{i}", "level": i % 4 + 1}
            for i in range(PROGRAMS)
        ]

    async def licensing(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.latency_s)
        return web.json_response({"data": self.rows})

    async def qris(self, request: web.Request) -> web.Response:
        if self.hung:
            await self.release.wait()
        await asyncio.sleep(self.latency_s)
        wanted = set(request.query.get("license_numbers", "").split(","))
        return web.json_response({"data": [r for r in self.rows if r["license"] in wanted]})


def config_data(
    url: str, hub_dir: str, timeout_s: float, resilience: dict[str, Any]
) -> dict[str, Any]:
    """Two loopback REST sources (licensing, qris) merged on license number, each with
    ``timeout_s`` and ``resilience`` (also bench_lag.py's sources)."""

    def source(name: str, support_type: str, fields: dict[str, str]) -> dict[str, Any]:
        return {
            "kind": "rest",
            "base_url": f"{url}/{name}",
            "support_types": [support_type],
            "records_path": "data",
            "timeout_s": timeout_s,
            "resilience": resilience,
            "entities": {
                "program": {
                    "path": "/providers",
                    "key": "id",
                    "fields": fields,
                    "identifiers": {"LICENSE_NUMBER": "license"},
                    "filters": {
                        "identifier:LICENSE_NUMBER": {"param": "license_numbers", "op": "in"}
                    },
                }
            },
        }

    return {
        "sources": {
            "licensing": source(
                "licensing", "LICENSING", {"name": "name", "license_number": "license"}
            ),
            "qris": source("qris", "QRIS", {"license_number": "license", "qris_level": "level"}),
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
        "hub": {"url": f"sqlite+aiosqlite:///{hub_dir}/hub.db"},
    }


async def timed(client: httpx.AsyncClient) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": QUERY})
    body: dict[str, Any] = response.json()
    return (time.perf_counter() - started) * 1000, body


def p50(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


@contextlib.asynccontextmanager
async def system(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[Upstream, Runtime, httpx.AsyncClient]]:
    """Both sources on a loopback server of their own, and a hub of its own in front."""
    upstream = Upstream(args.latency_ms / 1000)
    server = web.Application()
    server.router.add_get("/licensing/providers", upstream.licensing)
    server.router.add_get("/qris/providers", upstream.qris)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    with tempfile.TemporaryDirectory() as hub_dir:
        breaker = {"breaker": {"failure_threshold": args.threshold, "open_s": 300}}
        config = parse_config(config_data(url, hub_dir, args.timeout, breaker))
        runtime = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, runtime))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://hub", timeout=60
            ) as client:
                yield upstream, runtime, client
        finally:
            upstream.release.set()
            await runtime.aclose()
            await runner.cleanup()


async def run(args: argparse.Namespace) -> None:
    async with system(args) as (_, _, healthy), system(args) as (upstream, runtime, hung):
        for _ in range(args.warmup):
            await timed(healthy)
            await timed(hung)
        upstream.hung = True
        breaker = runtime.guards["qris"].breaker
        before_open: list[float] = []
        while breaker.state is not BreakerState.OPEN:
            ms, _ = await timed(hung)
            before_open.append(ms)
        # Interleaved, so the machine's drift hits both alike.
        healthy_ms: list[float] = []
        after_open: list[float] = []
        codes: set[str] = set()
        names = 0
        for _ in range(args.repeat):
            ms, body = await timed(healthy)
            assert "errors" not in body, body  # a broken setup, not a figure
            healthy_ms.append(ms)
            ms, body = await timed(hung)
            after_open.append(ms)
            codes.update(e["extensions"]["code"] for e in body.get("errors", []))
            names = len(body["data"]["programs"]["nodes"])
    print(
        f"QRIS hung; timeout_s {args.timeout:g}, breaker failure_threshold {args.threshold}, "
        f"sources answer in {args.latency_ms:g} ms; {args.repeat} queries per phase"
    )
    print(f"{'phase':<30} {'queries':>8} {'p50 ms':>9} {'max ms':>9}")
    for name, samples in (
        ("healthy", healthy_ms),
        ("QRIS hung, breaker closed", before_open),
        ("QRIS hung, breaker open", after_open),
    ):
        print(f"{name:<30} {len(samples):>8} {p50(samples):>9.1f} {max(samples):>9.1f}")
    print(f"after open / healthy p50: {p50(after_open) / p50(healthy_ms):.2f}x")
    print(f"answers after open: {names} programs each, errors {sorted(codes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="queries per phase")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=20, help="each source's latency")
    parser.add_argument("--timeout", type=float, default=1.0, help="QRIS's timeout_s")
    parser.add_argument("--threshold", type=int, default=5, help="breaker failure_threshold")
    parser.add_argument("--verbose", action="store_true", help="keep the hub's log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
