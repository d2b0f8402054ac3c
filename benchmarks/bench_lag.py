"""Source timeouts on a busy hub: how many queries fail with SOURCE_TIMEOUT for sources that
answer in 20 ms when the hub's event loop is busy with other work, with the timeout on the
source's own time (as shipped: the loop's measured lag moves the deadline on) and on plain
loop time (``asyncio.timeout``, what the gateway did before).

The two ``rest`` sources (licensing, QRIS) run in a thread with a loop of their own, so their
20 ms does not depend on the hub's loop. The hub runs in process (httpx's ASGI transport);
``--neighbours`` tasks on its loop each block it ``--busy-ms`` at a time (``time.sleep``,
which leaves the GIL to the sources' thread), standing for other requests' work. Queries run
one after another. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_lag.py
    .venv/bin/python benchmarks/bench_lag.py --repeat 20 --neighbours 20 --busy-ms 10 --timeout 0.25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
from aiohttp import web
from bench_breaker import config_data

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.resolvers.runtime import Runtime
from ecehub.sources.deadline import own_time

QUERY = "{ programs(first: 20) { nodes { name qrisRating { level } } } }"
ROWS = [{"id": f"P{i}", "name": f"Program {i}", "license": f"L-{i}", "level": 2} for i in range(20)]


@contextlib.contextmanager
def sources_in_a_thread(latency_s: float) -> Iterator[str]:
    """Both systems' API on a loop of its own in another thread; yields its URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    address: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(latency_s)
        wanted = request.query.get("license_numbers")
        rows = ROWS if wanted is None else [r for r in ROWS if r["license"] in wanted.split(",")]
        return web.json_response({"data": rows})

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/{system}/providers", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        address.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="sources", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@contextlib.asynccontextmanager
async def neighbours(count: int, busy_s: float) -> AsyncIterator[None]:
    """``count`` tasks keeping the loop busy, ``busy_s`` at a time each, until the block ends."""
    running = True

    async def neighbour() -> None:
        while running:
            time.sleep(busy_s)  # noqa: ASYNC251  (the point: a loop busy with other work)
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(neighbour()) for _ in range(count)]
    try:
        yield
    finally:
        running = False
        await asyncio.gather(*tasks)


async def measure(
    args: argparse.Namespace,
    url: str,
    deadline: Callable[[float], contextlib.AbstractAsyncContextManager[object]],
) -> tuple[list[float], Counter[str]]:
    with tempfile.TemporaryDirectory() as hub_dir:
        # Every call is let through: this measures timeouts, not the breaker.
        resilience = {"breaker": {"failure_threshold": 1000}, "retry": {"attempts": 1}}
        config = parse_config(config_data(url, hub_dir, args.timeout, resilience))
        runtime = Runtime(config)
        for guard in runtime.guards.values():
            guard.deadline = deadline  # the mode under test
        transport = httpx.ASGITransport(app=create_app(config, runtime))
        samples: list[float] = []
        codes: Counter[str] = Counter()
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                for _ in range(args.warmup):
                    await client.post("/graphql", json={"query": QUERY})
                async with neighbours(args.neighbours, args.busy_ms / 1000):
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        response = await client.post("/graphql", json={"query": QUERY})
                        samples.append((time.perf_counter() - started) * 1000)
                        errors = response.json().get("errors", [])
                        found = [e["extensions"]["code"] for e in errors]
                        codes.update(found)
                        codes["answers"] += 1
                        codes["timed out"] += "SOURCE_TIMEOUT" in found
        finally:
            await runtime.aclose()
    return samples, codes


async def run(args: argparse.Namespace) -> None:
    modes: dict[str, Callable[[float], contextlib.AbstractAsyncContextManager[object]]] = {
        "own time": own_time,
        "loop time": asyncio.timeout,
    }
    figures: dict[str, tuple[list[float], Counter[str]]] = {mode: ([], Counter()) for mode in modes}
    with sources_in_a_thread(args.latency_ms / 1000) as url:
        for _ in range(args.rounds):  # alternated, so drift hits both alike
            for mode, deadline in modes.items():
                samples, codes = await measure(args, url, deadline)
                figures[mode][0].extend(samples)
                figures[mode][1].update(codes)
    print(
        f"sources answer in {args.latency_ms:g} ms, timeout_s {args.timeout:g}; "
        f"{args.neighbours} neighbours blocking the loop {args.busy_ms:g} ms at a time; "
        f"{args.repeat} queries x {args.rounds} rounds per mode"
    )
    print(
        f"{'timeout on':<12} {'queries':>8} {'p50 ms':>8} {'with SOURCE_TIMEOUT':>20} "
        f"{'source timeouts':>16}"
    )
    for mode, (samples, codes) in figures.items():
        answers, failed = codes["answers"], codes["timed out"]
        print(
            f"{mode:<12} {answers:>8} {statistics.median(samples):>8.1f} "
            f"{f'{failed} ({failed / answers:.0%})':>20} {codes['SOURCE_TIMEOUT']:>16}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="queries per round and mode")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20, help="each source's latency")
    parser.add_argument("--timeout", type=float, default=0.25, help="each source's timeout_s")
    parser.add_argument("--neighbours", type=int, default=20)
    parser.add_argument("--busy-ms", type=float, default=10)
    parser.add_argument("--verbose", action="store_true", help="keep the hub's log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
