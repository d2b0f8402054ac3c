"""What tracing costs (not a timed test): the same query through three hubs over the same demo
systems, tracing off, on (every trace sampled; spans batched to an in-memory exporter, as
they are batched to OTLP), and on with ``sample_ratio: 0`` (spans made, none recorded); and
the cost of the gateway's span hooks per source call, off and on.

Run from the repository root::

    .venv/bin/python benchmarks/bench_tracing.py              # repeat 200
    .venv/bin/python benchmarks/bench_tracing.py --repeat 50  # quicker

See benchmarks/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ecehub.app import create_app
from ecehub.config import Config, load_config
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from ecehub.tracing import Tracing, request_span, source_span

QUERY = """query Directory {
  programs(first: 20) {
    nodes { id name license { number } qrisRating { level }
            sites { name rooms { name } } staff { name } }
  }
}"""


@contextlib.asynccontextmanager
async def hub(config: Config, tracing: Tracing | None) -> AsyncIterator[httpx.AsyncClient]:
    runtime = Runtime(config, tracing=tracing)
    app = create_app(config, runtime)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client
    finally:
        await runtime.aclose()


async def one(client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    answer = await client.post("/graphql", json={"query": QUERY})
    seconds = time.perf_counter() - started
    body = answer.json()
    assert answer.status_code == 200 and not body.get("errors"), body
    return seconds


def p(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def hooks(tracing: Tracing | None, calls: int) -> float:
    """Seconds per source call spent in the gateway's span hooks (inside a request's span
    when ``tracing`` is on, as in the gateway)."""
    with request_span(tracing, {}, method="POST", request_id="bench"):
        started = time.perf_counter()
        for _ in range(calls):
            span = source_span("licensing", "fetch program")
            span.answered({})
            span.end(None)
        return (time.perf_counter() - started) / calls


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the demo config's development-mode warnings

    exporter = InMemorySpanExporter()
    variants: dict[str, Tracing | None] = {
        "off": None,
        "on (all sampled)": Tracing(exporter),
        "on (sample_ratio 0)": Tracing(InMemorySpanExporter(), sample_ratio=0.0),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="ecehub-bench-tracing-") as tmp:
        async with DemoSystems(programs=args.programs, data_dir=Path(tmp)) as demo:
            config = load_config(demo.config_path, env={**os.environ, **demo.env})
            config = config.model_copy(update={"access": None})
            async with contextlib.AsyncExitStack() as stack:
                clients = {
                    name: await stack.enter_async_context(hub(config, tracing))
                    for name, tracing in variants.items()
                }
                for client in clients.values():
                    for _ in range(args.warmup):
                        await one(client)
                exporter.clear()
                for _ in range(args.repeat):  # interleaved: drift hits every variant alike
                    for name, client in clients.items():
                        samples[name].append(await one(client))
    spans = len(exporter.get_finished_spans())

    off = statistics.median(samples["off"])
    print(f"{args.repeat} requests per variant, {args.programs} demo programs, query Directory")
    print(f"{'variant':<22}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'p50 vs off':>12}")
    for name, values in samples.items():
        p50 = statistics.median(values)
        print(
            f"{name:<22}{p50 * 1000:>9.2f}{p(values, 0.95) * 1000:>9.2f}"
            f"{statistics.fmean(values) * 1000:>9.2f}{(p50 / off - 1) * 100:>+11.1f}%"
        )
    per_request = spans / args.repeat
    print(f"spans recorded per request (on, all sampled): {per_request:.1f}")

    # Best of 5 rounds (timeit's habit): the least disturbed by the rest of the machine.
    on = Tracing(InMemorySpanExporter(), batch=True)
    off_ns = min(hooks(None, 100_000) for _ in range(5)) * 1e9
    on_ns = min(hooks(on, 2_000) for _ in range(5)) * 1e9
    on.shutdown()
    print(f"gateway span hooks per source call: off {off_ns:.0f} ns, on {on_ns / 1000:.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
