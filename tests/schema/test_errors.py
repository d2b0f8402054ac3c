"""Bad input gets a GraphQL error, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.graph_helpers import demo_graph


@pytest.mark.parametrize(
    ("query", "variables", "needle"),
    [
        ("{ programs(first: 5) { nodes { nme } } }", {}, "Cannot query field 'nme'"),
        ("{ programs(first: 5 { nodes { name } } }", {}, "Syntax Error"),
        ("query($n: Int!) { programs(first: $n) { nodes { name } } }", {"n": "ten"}, "Int"),
        ("{ programs(first: 100000) { nodes { name } } }", {}, "`first` must be between 1 and"),
        ('{ programs(first: 5, after: "garbage") { nodes { name } } }', {}, "cursor"),
        ('{ program(id: "not-an-id") { name } }', {}, "not an ecehub ID"),
        (
            '{ programs(filter: {supportTypes: ["HEADSTART"]}) { nodes { name } } }',
            {},
            "unknown support type",
        ),
    ],
)
async def test_malformed_queries_get_graphql_errors(
    tmp_path: Path, query: str, variables: dict[str, object], needle: str
) -> None:
    async with demo_graph(tmp_path, programs=5) as (_, client):
        response = await client.post(query, variables)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body["errors"], body
    assert any(needle in e["message"] for e in body["errors"]), body["errors"]


async def test_a_cursor_from_another_filter_is_refused(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=30) as (_, client):
        first = await client.query("{ programs(first: 2) { pageInfo { endCursor } } }")
        cursor = first["data"]["programs"]["pageInfo"]["endCursor"]
        body = await client.query(
            "query($c: String) { programs(first: 2, after: $c, filter: {qrisLevel: 2}) "
            "{ nodes { name } } }",
            {"c": cursor},
        )
    assert "other filters" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_json_body_is_a_400_not_a_500(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=5) as (_, client):
        response = await client.client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400


async def test_health_and_readiness(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=5) as (demo, client):
        health = await client.client.get("/healthz")
        ready = (await client.client.get("/readyz")).json()
        await demo.stop_qris()
        degraded = await client.client.get("/readyz")
        sources = await client.query("{ sources { name status kind } }")
    assert health.json() == {"status": "ok"}
    assert ready["status"] == "ok" and set(ready["sources"]) == {"licensing", "head_start", "qris"}
    assert degraded.status_code == 200 and degraded.json()["status"] == "degraded"
    assert degraded.json()["sources"]["qris"]["ok"] is False
    status = {s["name"]: s["status"] for s in sources["data"]["sources"]}
    assert status == {"licensing": "UP", "head_start": "UP", "qris": "DOWN"}
