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


async def one(client: httpx.AsyncClient) -> tuple[float, float]:
    """A request's wall-clock seconds and the CPU seconds this process spent meanwhile (the
    demo systems run in it too, alike for every variant; the span exporter's thread counts)."""
    started, cpu = time.perf_counter(), time.process_time()
    answer = await client.post("/graphql", json={"query": QUERY})
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    body = answer.json()
    assert answer.status_code == 200 and not body.get("errors"), body
    return seconds, cpu_seconds


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
    cpu: dict[str, list[float]] = {name: [] for name in variants}
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
                        seconds, cpu_seconds = await one(client)
                        samples[name].append(seconds)
                        cpu[name].append(cpu_seconds)
    spans = len(exporter.get_finished_spans())

    off, off_cpu = statistics.median(samples["off"]), statistics.median(cpu["off"])
    print(f"{args.repeat} requests per variant, {args.programs} demo programs, query Directory")
    print(
        f"{'variant':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50 vs off':>12}"
        f"{'CPU p50 ms':>12}{'CPU vs off':>12}"
    )
    for name, values in samples.items():
        p50, cpu50 = statistics.median(values), statistics.median(cpu[name])
        print(
            f"{name:<22}{p50 * 1000:>9.2f}{p(values, 0.95) * 1000:>9.2f}"
            f"{(p50 / off - 1) * 100:>+11.1f}%{cpu50 * 1000:>12.2f}"
            f"{(cpu50 / off_cpu - 1) * 100:>+11.1f}%"
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
