"""``python -m examples serve [DIR]``: write the three example systems into DIR (default
``./example-data``), serve the open-data API on loopback and print the ``EXAMPLE_*``
variables the example configs read, until Ctrl-C. ``python -m examples trace``: the same in a
temporary folder, then the cost of the README's first page per source (calls, requests,
rows), and the requests the open-data API counted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from pathlib import Path

from examples.systems import ExampleSystems
from examples.trace import FIRST_PAGE_FILTER, first_page


async def _serve(args: argparse.Namespace) -> int:
    data_dir = args.dir
    async with ExampleSystems(data_dir, pir_url=args.pir_url, port=args.port) as systems:
        print(f"# the example systems' data is in {data_dir}")
        print("export " + " ".join(f"{k}={v}" for k, v in systems.env.items()), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    return 0


async def _trace(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        async with ExampleSystems(Path(tmp), pir_url=args.pir_url) as systems:
            page = await first_page(systems)
    if "errors" in page.body:
        print(page.body["errors"], file=sys.stderr)
        return 1
    nodes = page.body["data"]["programs"]["nodes"]
    print(f"programs(first: 10, filter: {FIRST_PAGE_FILTER}): {len(nodes)} programs")
    print(f"  {'source':<10} {'calls':>5} {'requests':>8} {'rows':>5}")
    for name, source in page.trace.items():
        print(f"  {name:<10} {source['calls']:>5} {source['requests']:>8} {source['rows']:>5}")
    print(f"  open-data API: {page.served} request(s) received")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="write the systems and serve them until Ctrl-C")
    serve.add_argument("dir", nargs="?", default="example-data")
    serve.add_argument("--port", type=int, default=0, help="the open-data API's port")
    trace = sub.add_parser("trace", help="print what the README's first page costs")
    for command in (serve, trace):
        command.add_argument(
            "--pir-url",
            default=None,
            help="SQLAlchemy URL for the Head Start report table "
            "(default: SQLite in the data folder)",
        )
    args = parser.parse_args(argv)
    if args.command == "serve":
        args.dir = Path(args.dir).resolve()
    run = _serve if args.command == "serve" else _trace
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args))
    return 130


if __name__ == "__main__":
    sys.exit(main())
