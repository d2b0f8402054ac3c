"""Fuzzing the HTTP edge: queries and mutations generated from the schema (hypothesis-graphql,
a fixed seed) against the in-process demo hub with a state admin's token. None may get a 5xx,
and every error must carry ``extensions.code``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from ecehub.auth.devtokens import DevKey
from ecehub.schema import build_schema
from tests.graph_helpers import GraphClient, demo_graph

QUERIES = 200
MUTATIONS = 150

SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "Date": st.dates().map(nodes.String),
    "DateTime": st.datetimes().map(lambda t: nodes.String(t.isoformat() + "Z")),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(nodes.String),
    "JSON": st.text(max_size=20).map(nodes.String),
    "Upload": st.just(nodes.String("not a file")),  # a JSON request cannot carry a file
}

PHASES = (Phase.explicit, Phase.generate, Phase.shrink)


def _fuzz(
    loop: asyncio.AbstractEventLoop,
    client: GraphClient,
    token: str,
    strategy: st.SearchStrategy[str],
    examples: int,
) -> int:
    """Runs ``examples`` generated operations; returns how many errors were checked."""
    checked = 0

    @settings(
        max_examples=examples,
        derandomize=True,  # a fixed seed: the same operations every run
        database=None,
        deadline=None,
        phases=PHASES,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(operation: str) -> None:
        nonlocal checked
        response = loop.run_until_complete(client.post(operation, token=token, trace=False))
        assert response.status_code < 500, (operation, response.text)
        body: dict[str, Any] = response.json()
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert isinstance(code, str) and code, (operation, error)
            checked += 1

    check()
    return checked


def test_generated_operations_get_no_5xx_and_only_coded_errors(tmp_path: Path) -> None:
    schema = build_schema()._schema
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    try:
        key = DevKey.load_or_create(tmp_path / "keys")
        _, client = loop.run_until_complete(
            stack.enter_async_context(demo_graph(tmp_path, programs=8, dev_key=key))
        )
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        started = time.perf_counter()
        errors = _fuzz(loop, client, admin, queries(schema, custom_scalars=SCALARS), QUERIES)
        errors += _fuzz(loop, client, admin, mutations(schema, custom_scalars=SCALARS), MUTATIONS)
        elapsed = time.perf_counter() - started
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
    print(f"{QUERIES} queries and {MUTATIONS} mutations, {errors} errors, in {elapsed:.1f} s")
    assert errors > 0  # the generated operations did reach the error paths
