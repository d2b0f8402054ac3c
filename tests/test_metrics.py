"""/metrics: scraped and parsed with prometheus-client's own text parser. Operations are counted
with their outcome, each source's calls match the trace (`X-Ecehub-Trace: 1`), a failed source
is counted with its code, refusals at the edge by status; /metrics needs no token, is never
rate limited, holds no secret and no user; every app has its own registry."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import Config, load_config, parse_config
from ecehub.config.model import HubConfig, PersistedQueriesConfig, ServerConfig
from ecehub.demo import DemoSystems
from ecehub.metrics import ANONYMOUS, MAX_OPERATION_NAMES, OTHER, Metrics, outcome_of
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import calls_by_source, demo_graph

Samples = list[tuple[str, dict[str, str], float]]

DIRECTORY = """query Directory {
  programs(first: 5) {
    nodes { name license { number } qrisRating { level } sites { name rooms { name } } }
  }
}"""


def parse(text: str) -> Samples:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        v
        for n, have, v in samples
        if n == name and all(have.get(k) == x for k, x in labels.items())
    )


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return parse(response.text)


async def test_a_query_is_counted_with_its_outcome_and_every_source_call(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=8) as (_, graph):
        before = await scrape(graph.client)
        body = await graph.query(DIRECTORY)
        after = await scrape(graph.client)
    assert "errors" not in body, body
    assert value(before, "ecehub_graphql_requests_total") == 0
    assert (
        value(
            after,
            "ecehub_graphql_requests_total",
            operation_type="query",
            operation_name="Directory",
            outcome="ok",
        )
        == 1
    )
    assert value(after, "ecehub_graphql_requests_total") == 1
    assert (
        value(after, "ecehub_graphql_request_duration_seconds_count", operation_name="Directory")
        == 1
    )
    # Every source's calls, as the request's own trace counted them.
    traced = calls_by_source(body)
    assert set(traced) == {"licensing", "head_start", "qris"} and all(traced.values())
    for source, calls in traced.items():
        assert value(after, "ecehub_source_calls_total", source=source) == calls, source
        assert value(after, "ecehub_source_call_duration_seconds_count", source=source) == calls
    methods = {s[1]["method"] for s in after if s[0] == "ecehub_source_calls_total"}
    entities = {s[1]["entity"] for s in after if s[0] == "ecehub_source_calls_total"}
    assert {"find", "children"} <= methods <= {"fetch", "children", "find"}, methods
    assert "program" in entities, entities
    assert value(after, "ecehub_source_errors_total") == 0
    # The HTTP answers, by route and status: the first scrape, then the query.
    assert value(after, "ecehub_http_requests_total", route="/graphql", status="200") == 1
    assert value(after, "ecehub_http_requests_total", route="/metrics", status="200") == 1
    # The hub store's pool, once the store is open (the query read its notes and links).
    assert value(after, "ecehub_hub_store_pool_size") >= 1
    assert value(after, "ecehub_hub_store_connections_in_use") == 0


async def test_a_failed_source_is_counted_with_its_code(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=5) as (demo, graph):
        await demo.stop_qris()
        body = await graph.query(DIRECTORY)
        anonymous = await graph.query("{ programs(first: 2) { nodes { qrisRating { level } } } }")
        samples = await scrape(graph.client)
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "SOURCE_UNAVAILABLE", "source": "qris"}
    ]
    assert body["data"]["programs"]["nodes"]
    # One failed call (the gateway asks a failed source no more within the request) ...
    assert calls_by_source(body)["qris"] == 1
    assert (
        value(samples, "ecehub_source_errors_total", source="qris", code="SOURCE_UNAVAILABLE") == 2
    )
    assert value(samples, "ecehub_source_errors_total", source="licensing") == 0
    # ... and the operations were partial answers, one of them without a name.
    assert (
        value(
            samples,
            "ecehub_graphql_requests_total",
            operation_name="Directory",
            outcome="partial",
        )
        == 1
    )
    assert anonymous["errors"]
    assert (
        value(
            samples,
            "ecehub_graphql_requests_total",
            operation_name=ANONYMOUS,
            outcome="partial",
        )
        == 1
    )
    assert value(samples, "ecehub_graphql_errors_total", code="SOURCE_UNAVAILABLE") == 2


async def test_a_slow_source_is_counted_as_a_timeout(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=5, qris_delay_s=3.0, qris_timeout_s=0.3) as (
        _,
        graph,
    ):
        body = await graph.query(DIRECTORY)
        samples = await scrape(graph.client)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SOURCE_TIMEOUT"]
    assert value(samples, "ecehub_source_errors_total", source="qris", code="SOURCE_TIMEOUT") == 1


async def test_request_errors_are_counted_by_class(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=3) as (_, graph):
        await graph.post("query Broken { programs(first: 2 { nodes { name } } }")
        await graph.post("query Misspelt { programs(first: 2) { nodes { nme } } }")
        await graph.post('query BadId { program(id: "not-an-id") { name } }')
        malformed = await graph.client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
        samples = await scrape(graph.client)
    assert malformed.status_code == 400
    count = "ecehub_graphql_requests_total"
    # A document that does not parse has no operation type (nor a name to trust).
    assert (
        value(
            samples,
            count,
            operation_type="unknown",
            operation_name=ANONYMOUS,
            outcome="client_error",
        )
        == 1
    )
    assert value(samples, count, operation_name="Misspelt", outcome="client_error") == 1
    # A field error leaves data (`program: null`): partial
    assert value(samples, count, operation_name="BadId", outcome="partial") == 1
    assert value(samples, "ecehub_graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == 1
    assert value(samples, "ecehub_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(samples, "ecehub_graphql_errors_total", code="BAD_USER_INPUT") == 1
    # The body that is not JSON never became an operation: refused at the edge.
    assert value(samples, count) == 3
    assert value(samples, "ecehub_http_requests_total", route="/graphql", status="400") == 1


def _rate_limited_jwt_app(tmp_path: Path, **server: Any) -> tuple[Any, DevKey]:
    key = DevKey.load_or_create(tmp_path / "keys")
    config = parse_config(
        {
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
            "server": {
                "rate_limit": {"enabled": True, "burst": 2, "requests_per_minute": 1},
                **server,
            },
        },
        env={},
    ).model_copy(update={"auth": dev_auth_config(key)})
    return create_app(config), key


async def test_metrics_needs_no_token_and_is_never_rate_limited(tmp_path: Path) -> None:
    app, key = _rate_limited_jwt_app(tmp_path)
    user = "metrics.check@state.example"
    token = key.mint(sub=user, roles=["state_admin"])
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 1234))
    query = {"query": "{ __typename }"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub") as client,
    ):
        signed = {"Authorization": f"Bearer {token}"}
        answers = [await client.post("/graphql", json=query, headers=signed) for _ in range(3)]
        bad_token = await client.post(
            "/graphql", json=query, headers={"Authorization": "Bearer nonsense"}
        )
        scrapes = [await client.get("/metrics") for _ in range(10)]
        with_bad_token = await client.get("/metrics", headers={"Authorization": "Bearer x"})
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert bad_token.status_code == 401
    assert {s.status_code for s in [*scrapes, with_bad_token]} == {200}
    samples = parse(with_bad_token.text)
    assert value(samples, "ecehub_http_requests_total", route="/graphql", status="429") == 1
    assert value(samples, "ecehub_http_requests_total", route="/graphql", status="401") == 1
    assert value(samples, "ecehub_http_requests_total", route="/metrics", status="200") == 10
    assert value(samples, "ecehub_graphql_requests_total", outcome="ok") == 2
    # Nothing about who asked: no user, no token, no client address.
    for secret in (user, token, "10.1.2.3", "nonsense"):
        assert secret not in with_bad_token.text


async def test_no_secret_of_the_config_in_metrics(tmp_path: Path) -> None:
    async with DemoSystems(programs=3, data_dir=tmp_path) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = config.model_copy(update={"access": None})
        runtime = Runtime(config)
        app = create_app(config, runtime)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                await client.post(
                    "/graphql",
                    json={"query": DIRECTORY},
                    headers={"X-Ecehub-User": "someone.secret@state.example"},
                )
                text = (await client.get("/metrics")).text
        finally:
            await runtime.aclose()
    assert "ecehub_source_calls_total" in text
    assert "someone.secret" not in text
    for value_ in demo.env.values():
        assert value_ not in text


@contextlib.asynccontextmanager
async def _bare(tmp_path: Path, **server: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    config = Config(
        hub=HubConfig(url=SecretStr(f"sqlite+aiosqlite:///{tmp_path}/hub.db")),
        server=ServerConfig(**server),
    )
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client, runtime
    finally:
        await runtime.aclose()


async def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with _bare(tmp_path / "a") as (one, _), _bare(tmp_path / "b") as (two, _):
        for _ in range(3):
            await one.post("/graphql", json={"query": "query Ping { __typename }"})
        first, second = await scrape(one), await scrape(two)
    assert value(first, "ecehub_graphql_requests_total", operation_name="Ping") == 3
    assert value(second, "ecehub_graphql_requests_total") == 0
    # prometheus-client's global registry is left alone.
    assert prometheus_client.REGISTRY.get_sample_value("ecehub_graphql_requests_total") is None


async def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    async with _bare(tmp_path, metrics=False) as (client, runtime):
        answer = await client.post("/graphql", json={"query": "{ __typename }"})
        scraped = await client.get("/metrics")
    assert answer.status_code == 200
    assert scraped.status_code == 404
    assert runtime.metrics is None


async def test_persisted_query_names_are_kept_and_others_fold_into_other(tmp_path: Path) -> None:
    import hashlib
    import json

    allowed = "query AllowedPing { __typename }"
    allow_file = tmp_path / "allowed.json"
    allow_file.write_text(json.dumps({hashlib.sha256(allowed.encode()).hexdigest(): allowed}))
    pq = PersistedQueriesConfig(mode="allow_list", file=allow_file)
    async with _bare(tmp_path, persisted_queries=pq) as (client, _):
        ok = await client.post("/graphql", json={"query": allowed})
        other = await client.post("/graphql", json={"query": "query Elsewhere { __typename }"})
        samples = await scrape(client)
    assert ok.json() == {"data": {"__typename": "Query"}}
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    count = "ecehub_graphql_requests_total"
    assert value(samples, count, operation_name="AllowedPing", outcome="ok") == 1
    assert value(samples, count, operation_name="Elsewhere") == 0
    assert value(samples, count, operation_name=OTHER, outcome="client_error") == 1


def test_operation_names_are_capped() -> None:
    metrics = Metrics()
    metrics.know_operations(["Known"])
    assert metrics.operation_name(None) == metrics.operation_name("") == ANONYMOUS
    names = [f"Op{i}" for i in range(MAX_OPERATION_NAMES)]
    assert [metrics.operation_name(n) for n in names] == names
    assert metrics.operation_name("OneTooMany") == OTHER
    assert metrics.operation_name("Op7") == "Op7"  # seen before: still its own
    assert metrics.operation_name("Known") == "Known"  # persisted: past the cap too
    for hostile in ("has space", 'x"} 1\nfake_metric 2', "é", "A" * 101):
        assert metrics.operation_name(hostile) == OTHER
    only = Metrics()
    only.know_operations(["Known"], only=True)
    assert only.operation_name("Known") == "Known"
    assert only.operation_name("Fresh") == OTHER


@pytest.mark.parametrize(
    ("has_data", "codes", "outcome"),
    [
        (True, [], "ok"),
        (True, ["SOURCE_UNAVAILABLE"], "partial"),
        (True, ["FORBIDDEN"], "partial"),
        (False, ["GRAPHQL_PARSE_FAILED"], "client_error"),
        (False, ["SOURCE_TIMEOUT"], "source_error"),
        (False, ["SOURCE_TIMEOUT", "BAD_USER_INPUT"], "client_error"),
        (False, ["BAD_USER_INPUT", "INTERNAL_SERVER_ERROR"], "server_error"),
    ],
)
def test_outcomes(has_data: bool, codes: list[str], outcome: str) -> None:
    assert outcome_of(has_data, codes) == outcome
