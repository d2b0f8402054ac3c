"""Query limits: over-limit queries are refused with a clear, coded error before any source is
called; production mode; CORS; the body size limit; the persisted-query allow-list; and no
secret from the config in logs or error bodies."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from ecehub.app import create_app
from ecehub.config import Config, load_config
from ecehub.config.model import PersistedQueriesConfig
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import NESTED, GraphClient

PROGRAMS = 8


def with_server(config: Config, **update: Any) -> Config:
    return config.model_copy(update={"server": config.server.model_copy(update=update)})


@contextlib.asynccontextmanager
async def limited_graph(
    tmp_path: Path, **server: Any
) -> AsyncIterator[tuple[DemoSystems, GraphClient, Config]]:
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path) as demo:
        config = with_server(
            load_config(demo.config_path, env={**os.environ, **demo.env}).model_copy(
                update={"access": None}  # no roles: these tests are about the limits
            ),
            **server,
        )
        hub = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, hub))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield demo, GraphClient(client), config
        finally:
            await hub.aclose()


def source_calls(body: dict[str, Any]) -> int:
    return sum(s["calls"] for s in (body.get("extensions") or {}).get("sources", []))


def refused(response: httpx.Response, code: str) -> dict[str, Any]:
    """The one error of a refused query, after checking nothing ran and no source was asked."""
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
    assert code in codes, body["errors"]
    assert source_calls(body) == 0, body
    error: dict[str, Any] = body["errors"][codes.index(code)]
    return error


async def test_a_query_within_the_limits_runs_and_calls_sources(tmp_path: Path) -> None:
    async with limited_graph(tmp_path) as (_, client, _config):
        body = await client.query(NESTED, {"first": 5})
    assert "errors" not in body, body
    assert len(body["data"]["programs"]["nodes"]) == 5
    assert source_calls(body) > 0


async def test_too_deep_is_refused(tmp_path: Path) -> None:
    async with limited_graph(tmp_path, max_depth=3) as (_, client, _config):
        response = await client.post(NESTED, {"first": 5})
    error = refused(response, "QUERY_TOO_DEEP")
    assert "exceeds maximum operation depth of 3" in error["message"]


async def test_too_many_aliases_is_refused(tmp_path: Path) -> None:
    query = "{ a: programs(first: 1) { nodes { x: name y: name z: name } } }"
    async with limited_graph(tmp_path, max_aliases=2) as (_, client, _config):
        response = await client.post(query)
    error = refused(response, "TOO_MANY_ALIASES")
    assert "4 aliases found. Allowed: 2" in error["message"]


async def test_too_many_tokens_is_refused(tmp_path: Path) -> None:
    async with limited_graph(tmp_path, max_tokens=20) as (_, client, _config):
        response = await client.post(NESTED, {"first": 5})
    error = refused(response, "TOO_MANY_TOKENS")
    assert "more than 20 tokens" in error["message"]


async def test_too_costly_is_refused_and_the_cost_does_not_grow_with_the_page(
    tmp_path: Path,
) -> None:
    async with limited_graph(tmp_path, max_cost=3) as (_, client, _config):
        small = refused(await client.post(NESTED, {"first": 2}), "QUERY_TOO_COSTLY")
        large = refused(await client.post(NESTED, {"first": 200}), "QUERY_TOO_COSTLY")
        aliased = refused(
            await client.post(
                "{ a: programs(first: 1) { nodes { sites { name } } } "
                "b: programs(first: 1) { nodes { sites { name } } } }"
            ),
            "QUERY_TOO_COSTLY",
        )
    assert small["extensions"]["maxCost"] == 3
    assert small["extensions"]["cost"] == large["extensions"]["cost"] > 3
    assert "source calls" in small["message"]
    # programs (a listing round: a find per source, then the page completed by a fetch and a
    # license-number lookup per source: 3 + 6) + sites (3 sources), counted once per alias
    assert aliased["extensions"]["cost"] == 2 * (9 + 3)


async def test_fragments_and_nesting_levels_are_counted(tmp_path: Path) -> None:
    query = """
    { programs(first: 1) { nodes { ...P sites { staff { trainings { title } } } } } }
    fragment P on Program { staff { trainings { title } } }
    """
    async with limited_graph(tmp_path, max_cost=1) as (_, client, config):
        error = refused(await client.post(query), "QUERY_TOO_COSTLY")
    # programs (a listing round: 3 finds + 6 to complete the page) + staff under program +
    # trainings, then sites (3) + staff under site + trainings again: the fragment's fields
    # and each nesting level count
    site_staff = sum(
        1
        for s in config.sources.values()
        if "staff" in s.entities and s.entities["staff"].parent_entity == "site"
    )
    program_staff = sum(
        1
        for s in config.sources.values()
        if "staff" in s.entities and s.entities["staff"].parent_entity == "program"
    )
    trainings = sum(1 for s in config.sources.values() if "training" in s.entities)
    expected = 9 + program_staff + trainings + 3 + site_staff + trainings
    assert error["extensions"]["cost"] == expected


async def test_a_page_too_large_is_refused_before_any_source_call(tmp_path: Path) -> None:
    query = (
        "query($n: Int!) { small: programs(first: 2) { nodes { name } } "
        "big: programs(first: $n) { nodes { name } } }"
    )
    async with limited_graph(tmp_path, max_page_size=50) as (_, client, _config):
        error = refused(await client.post(query, {"n": 51}), "BAD_USER_INPUT")
        ok = await client.query(query, {"n": 50})
    assert error["message"] == "`first` must be between 1 and 50"
    assert error["extensions"]["maxPageSize"] == 50
    assert "errors" not in ok and len(ok["data"]["big"]["nodes"]) == PROGRAMS


async def test_production_refuses_introspection_and_graphiql(tmp_path: Path) -> None:
    async with limited_graph(tmp_path, mode="production") as (_, client, _config):
        response = await client.post("{ __schema { types { name } } }")
        ide = await client.client.get("/graphql", headers={"accept": "text/html"})
        typename = await client.query("{ __typename }")
    error = refused(response, "INTROSPECTION_DISABLED")
    assert "introspection" in error["message"].lower()
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
    assert typename["data"] == {"__typename": "Query"}


async def test_development_keeps_introspection(tmp_path: Path) -> None:
    async with limited_graph(tmp_path) as (_, client, _config):
        body = await client.query("{ __schema { queryType { name } } }")
        ide = await client.client.get("/graphql", headers={"accept": "text/html"})
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


LEAKY = (
    "connection to postgresql://admin:s3cr3t-pw@db7.internal.example:5432/hub failed "
    "while running SELECT * FROM programs WHERE id = 1"
)


def _explode(*_: object) -> None:
    raise RuntimeError(LEAKY)


@pytest.mark.parametrize("mode", ["production", "development"])
async def test_production_masks_unexpected_errors_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr("ecehub.schema.graph.address_of", _explode)
    async with limited_graph(tmp_path, mode=mode) as (_, client, _config):
        boom = await client.query("{ programs(first: 2) { nodes { name address { city } } } }")
        bad = await client.query('{ programs(first: 2, after: "garbage") { nodes { name } } }')
    text = json.dumps(boom)
    if mode == "production":
        for secret in ("s3cr3t", "db7.internal", "postgresql://", "SELECT", "Traceback"):
            assert secret not in text, text
        assert all(e["extensions"]["code"] == "INTERNAL_SERVER_ERROR" for e in boom["errors"])
        assert boom["errors"][0]["message"].startswith("Unexpected error")
        # the rest of the data still comes back
        assert [n["name"] for n in boom["data"]["programs"]["nodes"]] != [None, None]
    else:
        assert "s3cr3t" in text  # development shows the real message
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in bad["errors"][0]["message"]


async def test_cors_preflight(tmp_path: Path) -> None:
    allowed, other = "https://portal.example.org", "https://evil.example.com"
    preflight = {"access-control-request-method": "POST"}
    async with limited_graph(tmp_path, cors_origins=[allowed]) as (_, client, _config):
        yes = await client.client.options("/graphql", headers={**preflight, "origin": allowed})
        no = await client.client.options("/graphql", headers={**preflight, "origin": other})
        simple = await client.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": allowed}
        )
    assert yes.status_code == 200
    assert yes.headers["access-control-allow-origin"] == allowed
    assert "POST" in yes.headers["access-control-allow-methods"]
    assert no.status_code == 400
    assert "access-control-allow-origin" not in no.headers
    assert simple.headers["access-control-allow-origin"] == allowed


async def test_a_body_over_the_limit_is_413(tmp_path: Path) -> None:
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 3000}}

    async def chunks() -> AsyncIterator[bytes]:
        data = json.dumps(big).encode()
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    async with limited_graph(tmp_path, max_body_bytes=2000) as (_, client, _config):
        declared = await client.client.post("/graphql", json=big)
        streamed = await client.client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        small = await client.client.post("/graphql", json={"query": "{ __typename }"})
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "maxBytes": 2000}
    assert "content-length" not in streamed.request.headers
    assert small.status_code == 200


async def test_persisted_query_allow_list(tmp_path: Path) -> None:
    allowed = "{ programs(first: 2) { nodes { name } } }"
    digest = hashlib.sha256(allowed.encode()).hexdigest()
    allow_file = tmp_path / "allowed-queries.json"
    allow_file.write_text(json.dumps({digest: allowed}))
    pq = PersistedQueriesConfig(mode="allow_list", file=allow_file)
    async with limited_graph(tmp_path, persisted_queries=pq) as (_, client, _config):
        by_text = await client.query(allowed)
        by_hash = await client.client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
            headers={"X-Ecehub-Trace": "1"},
        )
        other = await client.post("{ programs(first: 3) { nodes { name } } }")
        unknown = await client.client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            headers={"X-Ecehub-Trace": "1"},
        )
    assert len(by_text["data"]["programs"]["nodes"]) == 2
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json()["data"] == by_text["data"]
    assert refused(other, "PERSISTED_QUERY_NOT_ALLOWED")["message"]
    assert refused(unknown, "PERSISTED_QUERY_NOT_ALLOWED")["message"]


def _secrets(config: Config, demo: DemoSystems) -> list[str]:
    out = [demo.env["QRIS_API_KEY"]]
    urls = [config.hub.url.get_secret_value()]
    for source in config.sources.values():
        url = getattr(source, "url", None)
        if url is not None:
            urls.append(url.get_secret_value())
    for url in urls:
        password = make_url(url).password
        if password:
            out.append(str(password))
    assert all(len(s) >= 6 for s in out), "a secret this short would match by chance"
    return out


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_no_secret_from_the_config_in_logs_or_error_bodies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    async with limited_graph(tmp_path, mode=mode, max_aliases=0) as (demo, client, config):
        secrets = _secrets(config, demo)
        await demo.stop_qris()
        for query, variables in [
            (NESTED.replace("trainings { title hours }", ""), {"first": 3}),
            ("{ programs(first: 3) { nodes { name qrisRating { level } } } }", {}),
            ("{ sources { name status kind } }", {}),
            ("{ a: programs(first: 3) { nodes { name } } }", {}),  # an alias too many
            ('{ program(id: "not-an-id") { name } }', {}),
        ]:
            response = await client.post(query, variables)
            bodies.append(response.text)
        bodies.append((await client.client.get("/readyz")).text)
    assert any("SOURCE_UNAVAILABLE" in b for b in bodies), bodies
    assert any("TOO_MANY_ALIASES" in b for b in bodies), bodies
    logs = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "qris" in logs  # the failure was logged
    for secret in secrets:
        assert secret not in logs
        assert all(secret not in b for b in bodies)
