"""Helpers for tests that run the whole graph over the demo sector systems."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import CacheConfig, Config, load_config
from ecehub.config.model import FederationConfig
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from ecehub.tracing import Tracing

NESTED = """
query($first: Int!, $after: String, $filter: ProgramFilter) {
  programs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
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


def with_timeout(config: Config, source: str, timeout_s: float) -> Config:
    sources = dict(config.sources)
    sources[source] = sources[source].model_copy(update={"timeout_s": timeout_s})
    return config.model_copy(update={"sources": sources})


def with_federation(config: Config) -> Config:
    """``config`` with ``server.federation.enabled``."""
    server = config.server.model_copy(update={"federation": FederationConfig(enabled=True)})
    return config.model_copy(update={"server": server})


class GraphClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        trace: bool = True,
        user: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"X-Ecehub-Trace": "1"} if trace else {}
        if user is not None:
            headers["X-Ecehub-User"] = user
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def query(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        user: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, user=user, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextlib.asynccontextmanager
async def demo_graph(
    tmp_path: Path,
    programs: int,
    *,
    headstart_url: str | None = None,
    licensing_url: str | None = None,
    qris_delay_s: float = 0.0,
    qris_timeout_s: float | None = None,
    hub_url: str | None = None,
    dev_key: DevKey | None = None,
    hub_programs: int = 0,
    federation: bool = False,
    tracing: Tracing | None = None,
    live: bool = False,
) -> AsyncIterator[tuple[DemoSystems, GraphClient]]:
    """The demo systems behind an in-process hub. Without ``dev_key``: header auth and no
    access rules (every reader sees everything). With it: jwt auth trusting that key and the
    demo config's ``access`` rules. ``federation``: served as a federation subgraph.
    ``tracing``: where the hub's spans go (none by default). ``live``: no source cache (for
    tests that count the source calls of each query, which a warm cache would answer with
    none)."""
    async with DemoSystems(
        hub_url=hub_url,
        programs=programs,
        data_dir=tmp_path,
        headstart_url=headstart_url,
        licensing_url=licensing_url,
        qris_delay_s=qris_delay_s,
        hub_programs=hub_programs,
    ) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        if qris_timeout_s is not None:
            config = with_timeout(config, "qris", qris_timeout_s)
        if dev_key is None:
            config = config.model_copy(update={"access": None})
        else:
            config = config.model_copy(update={"auth": dev_auth_config(dev_key)})
        if federation:
            config = with_federation(config)
        if live:
            config = config.model_copy(update={"cache": CacheConfig(backend="none")})
        hub = Runtime(config, tracing=tracing)
        app = create_app(config, hub)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield demo, GraphClient(client)
        finally:
            await hub.aclose()


def calls_by_source(body: dict[str, Any]) -> dict[str, int]:
    return {s["source"]: s["calls"] for s in body["extensions"]["sources"]}
