"""What the access rules cost: the same queries with and without an ``access`` section.

The demo (SQLite sector systems, QRIS on loopback HTTP) behind an in-process hub (httpx's ASGI
transport, no network), three ways:

- ``open``: no access section (every reader sees everything);
- ``admin``: the demo's rules, as a state administrator (every field checked, none refused);
- ``ta``: the demo's rules, as TA staff with ``--scope`` programs (scoped listing: the programs
  are fetched by key, nothing is enumerated).

Printed: p50/p95 of the nested query (programs -> sites -> rooms, staff; ``--first`` programs)
and the ratios admin/open and ta/open, compared within one run::

    .venv/bin/python benchmarks/bench_access.py [--programs 300] [--first 20] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import Config, load_config
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime

QUERY = """query($first: Int!) { programs(first: $first) { nodes { id name
  license { status } qrisRating { level }
  sites { name rooms { name ageGroup } } staff { name role credentials } } } }"""


@contextlib.asynccontextmanager
async def client_for(config: Config) -> AsyncIterator[httpx.AsyncClient]:
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client
    finally:
        await hub.aclose()


async def timings(
    client: httpx.AsyncClient, token: str | None, first: int, repeat: int
) -> tuple[list[float], int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    times: list[float] = []
    count = 0
    for i in range(repeat + 2):
        start = time.perf_counter()
        response = await client.post(
            "/graphql", json={"query": QUERY, "variables": {"first": first}}, headers=headers
        )
        elapsed = (time.perf_counter() - start) * 1000
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body.get("errors")
        count = len(body["data"]["programs"]["nodes"])
        if i >= 2:  # two warm-up requests
            times.append(elapsed)
    return times, count


def p(values: list[float], pct: float) -> float:
    return statistics.quantiles(values, n=100)[int(pct) - 1] if len(values) > 1 else values[0]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with DemoSystems(programs=args.programs, data_dir=Path(tmp)) as demo:
            base = load_config(demo.config_path, env={**os.environ, **demo.env})
            key = DevKey.load_or_create(Path(tmp) / "keys")
            ruled = base.model_copy(update={"auth": dev_auth_config(key)})
            opened = base.model_copy(update={"access": None})
            admin = key.mint(sub="admin@state.example", roles=["state_admin"])
            async with client_for(opened) as client:
                open_t, n = await timings(client, None, args.first, args.repeat)
                listed = await client.post(
                    "/graphql",
                    json={"query": f"{{ programs(first: {args.scope}) {{ nodes {{ id }} }} }}"},
                )
                scope = [x["id"] for x in listed.json()["data"]["programs"]["nodes"]]
            ta = key.mint(sub="ta@state.example", roles=["ta_staff"], programs=scope)
            async with client_for(ruled) as client:
                admin_t, n_admin = await timings(client, admin, args.first, args.repeat)
                ta_t, n_ta = await timings(client, ta, args.first, args.repeat)
    print(
        f"demo: {args.programs} licensed programs; nested query, first {args.first}; "
        f"{args.repeat} runs each"
    )
    print(f"{'reader':<34}{'programs':>9}{'p50 ms':>9}{'p95 ms':>9}{'p50 / open':>12}")
    base_p50 = p(open_t, 50)
    for label, values, count in (
        ("open (no access section)", open_t, n),
        ("state_admin (all fields checked)", admin_t, n_admin),
        (f"ta_staff ({len(scope)} programs in scope)", ta_t, n_ta),
    ):
        print(
            f"{label:<34}{count:>9}{p(values, 50):>9.1f}{p(values, 95):>9.1f}"
            f"{p(values, 50) / base_p50:>12.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programs", type=int, default=300)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--scope", type=int, default=20, help="programs in the TA's scope")
    parser.add_argument("--repeat", type=int, default=30)
    asyncio.run(main(parser.parse_args()))
