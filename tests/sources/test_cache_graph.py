"""The source cache through GraphQL, over the demo sector systems (the QRIS REST API on
loopback, Head Start and licensing on SQLite) with the demo's access rules and real tokens:
one entry serves every role while each still sees only what its role allows; stale answers
carry ``extensions.stale`` and their fields' provenance keeps when they were read; nothing
older than ``stale_max_age_s`` answers; only an administrator's ``Cache-Control: no-cache``
reads live; a crosswalk link made through GraphQL shows at once over a warm cache."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import CacheConfig, load_config
from ecehub.demo import DemoSystems
from ecehub.ids import encode_global_id
from ecehub.metrics import Metrics
from ecehub.resolvers.runtime import Runtime
from ecehub.sources.cache import SourceCache
from ecehub.sources.cachestore import CacheStore
from tests.graph_helpers import GraphClient, calls_by_source
from tests.schema.test_crosswalk_identity import unjoined
from tests.sources.test_cache import Clock

PROGRAM = """query($id: ID!) { program(id: $id) {
  id name sources { source key } qrisRating { level } license { number }
  staff { name } sites { name }
  provenance(fields: ["name"]) { source value fetchedAt } } }"""


@dataclass
class CachedGraph:
    demo: DemoSystems
    client: GraphClient
    clock: Clock
    metrics: Metrics
    key: DevKey

    def token(self, role: str, *programs: str) -> str:
        return self.key.mint(sub=f"{role}@example.org", roles=[role], programs=list(programs))

    async def post(
        self, query: str, token: str | None, headers: dict[str, str] | None = None, **v: Any
    ) -> dict[str, Any]:
        sent = {"X-Ecehub-Trace": "1", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.client.client.post(
            "/graphql", json={"query": query, "variables": v}, headers=sent
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextlib.asynccontextmanager
async def cached_graph(
    tmp_path: Path, programs: int = 40, backend: Literal["memory", "none"] = "memory"
) -> AsyncIterator[CachedGraph]:
    key = DevKey.load_or_create(tmp_path / "keys")
    async with DemoSystems(programs=programs, data_dir=tmp_path / "demo") as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        settings = CacheConfig(
            backend=backend, ttl_s=30, stale_max_age_s=600, bypass_roles=["state_admin"]
        )
        config = config.model_copy(update={"auth": dev_auth_config(key), "cache": settings})
        clock, metrics = Clock(), Metrics()
        cache = (
            None
            if backend == "none"
            else SourceCache(config, CacheStore.memory(), metrics, clock=clock)
        )
        runtime = Runtime(config, metrics=metrics, cache=cache)
        assert (runtime.cache is None) == (backend == "none")
        transport = httpx.ASGITransport(app=create_app(config, runtime))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield CachedGraph(demo, GraphClient(client), clock, metrics, key)
        finally:
            await runtime.aclose()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def _ids(demo: DemoSystems, count: int) -> list[str]:
    """Program IDs of licensed programs QRIS rates (so every source has something)."""
    ids = [
        encode_global_id("Program", f"LICENSE_NUMBER:{t.license_no}")
        for t in demo.world.truth
        if t.license_no and t.qris_provider_id
    ]
    return ids[:count]


async def test_one_entry_serves_every_role_each_seeing_what_it_may(tmp_path: Path) -> None:
    async with cached_graph(tmp_path) as g:
        mine, other = _ids(g.demo, 2)
        admin = g.token("state_admin")
        provider = g.token("provider", mine)
        for pid in (mine, other):
            cold = await g.post(PROGRAM, admin, id=pid)
            assert "errors" not in cold, cold
            assert sum(calls_by_source(cold).values()) > 0
        # The provider's read of its own program: every answer from the admin's entries.
        warm = await g.post(PROGRAM, provider, id=mine)
        assert "errors" not in warm, warm
        assert calls_by_source(warm) == {}
        assert warm["data"] == (await g.post(PROGRAM, admin, id=mine))["data"]
        # Cached or not, another program is outside its scope: as if it did not exist.
        refused = await g.post(PROGRAM, provider, id=other)
        assert refused["data"]["program"] is None and _codes(refused) == ["NOT_FOUND"]
        # The anonymous public directory reads the same entries and gets only its fields.
        public = await g.post(
            "query($id: ID!) { program(id: $id) { name qrisRating { level } } }", None, id=mine
        )
        assert calls_by_source(public) == {}
        assert public["data"]["program"]["name"] == warm["data"]["program"]["name"]
        assert public["data"]["program"]["qrisRating"] is None
        assert "FORBIDDEN" in _codes(public)


async def test_stale_answers_carry_their_age_and_nothing_older_than_allowed(
    tmp_path: Path,
) -> None:
    async with cached_graph(tmp_path) as g:
        [pid] = _ids(g.demo, 1)
        admin = g.token("state_admin")
        fresh = await g.post(PROGRAM, admin, id=pid)
        assert "errors" not in fresh and "stale" not in fresh["extensions"], fresh
        await g.demo.stop_qris()
        g.clock.now += 45  # past ttl_s (30): QRIS is asked, fails, its entries stand in
        stale = await g.post(PROGRAM, admin, id=pid)
        assert "errors" not in stale, stale
        assert stale["extensions"]["stale"] == [{"source": "qris", "ageSeconds": 45}]
        assert stale["data"]["program"]["qrisRating"] == fresh["data"]["program"]["qrisRating"]
        assert stale["data"]["program"]["qrisRating"] is not None
        qris_names = [p for p in stale["data"]["program"]["provenance"] if p["source"] == "qris"]
        assert qris_names and qris_names == [
            p for p in fresh["data"]["program"]["provenance"] if p["source"] == "qris"
        ]  # fetchedAt: when QRIS really answered, not now
        g.clock.now += 600  # older than stale_max_age_s (600): the usual error, no data
        gone = await g.post(PROGRAM, admin, id=pid)
        assert "stale" not in gone["extensions"]
        assert [e["extensions"] for e in gone["errors"]] == [
            {"code": "SOURCE_UNAVAILABLE", "source": "qris"}
        ]
        assert gone["data"]["program"]["qrisRating"] is None
        # The other sources stayed fresh enough to be asked again, and answered.
        assert gone["data"]["program"]["license"] == fresh["data"]["program"]["license"]
        # /metrics counted it all, by source, entity and result.
        scraped = (await g.client.client.get("/metrics")).text
        lookups: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(scraped):
            for sample in family.samples:
                if sample.name == "ecehub_cache_lookups_total":
                    key = (sample.labels["source"], sample.labels["result"])
                    lookups[key] = lookups.get(key, 0) + sample.value
        assert lookups[("qris", "stale")] > 0 and lookups[("qris", "miss")] > 0
        assert lookups[("licensing", "miss")] > 0
        assert {source for source, _ in lookups} <= {"qris", "licensing", "head_start"}


async def test_only_an_administrators_no_cache_header_reads_live(tmp_path: Path) -> None:
    async with cached_graph(tmp_path) as g:
        [pid] = _ids(g.demo, 1)
        admin, provider = g.token("state_admin"), g.token("provider", pid)
        cold = await g.post(PROGRAM, admin, id=pid)
        no_cache = {"Cache-Control": "no-cache"}
        ignored = await g.post(PROGRAM, provider, no_cache, id=pid)
        assert "errors" not in ignored and calls_by_source(ignored) == {}
        live = await g.post(PROGRAM, admin, no_cache, id=pid)
        assert "errors" not in live
        assert calls_by_source(live) == calls_by_source(cold)
        was, now = cold["data"]["program"], live["data"]["program"]
        assert {p["fetchedAt"] for p in now["provenance"]}.isdisjoint(
            p["fetchedAt"] for p in was["provenance"]
        )  # read again: every value's provenance is the new read
        assert {k: v for k, v in now.items() if k != "provenance"} == {
            k: v for k, v in was.items() if k != "provenance"
        }
        # ... and it refreshed the entries: the next plain read answers from them.
        after = await g.post(PROGRAM, provider, id=pid)
        assert calls_by_source(after) == {}
        assert after["data"]["program"]["provenance"] == now["provenance"]


LINK = """mutation($p: ID!, $k: String!) { linkRecord(programId: $p, source: "qris", key: $k)
  { status } }"""


async def test_a_crosswalk_link_shows_at_once_over_a_warm_cache(tmp_path: Path) -> None:
    async with cached_graph(tmp_path, programs=60) as g:
        truth, provider = unjoined(g.demo, "missing")
        pid = encode_global_id("Program", f"LICENSE_NUMBER:{truth.license_no}")
        alone = encode_global_id("Program", f"@qris:{provider.provider_id}")
        admin = g.token("state_admin")
        for _ in range(2):  # the second read: all from the cache
            before = await g.post(PROGRAM, admin, id=pid)
            await g.post(PROGRAM, admin, id=alone)
        assert calls_by_source(before) == {}
        assert {s["source"] for s in before["data"]["program"]["sources"]} == {"licensing"}
        linked = await g.post(LINK, admin, p=pid, k=provider.provider_id)
        assert linked["data"]["linkRecord"]["status"] == "CONFIRMED", linked
        after = await g.post(PROGRAM, admin, id=pid)
        assert "errors" not in after, after
        assert ("qris", provider.provider_id) in {
            (s["source"], s["key"]) for s in after["data"]["program"]["sources"]
        }
        assert after["data"]["program"]["qrisRating"] is not None


async def test_backend_none_reads_every_source_on_every_request(tmp_path: Path) -> None:
    async with cached_graph(tmp_path, backend="none") as g:
        [pid] = _ids(g.demo, 1)
        admin = g.token("state_admin")
        first = await g.post(PROGRAM, admin, id=pid)
        again = await g.post(PROGRAM, admin, id=pid)
        assert calls_by_source(again) == calls_by_source(first) != {}
        await g.demo.stop_qris()
        down = await g.post(PROGRAM, admin, id=pid)
        assert "stale" not in down["extensions"]
        assert [e["extensions"] for e in down["errors"]] == [
            {"code": "SOURCE_UNAVAILABLE", "source": "qris"}
        ]
