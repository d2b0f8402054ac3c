"""Request IDs and log formats: every answer carries an ``X-Request-ID`` (the caller's when it
is a sane token, else a new one), every log record made while handling the request carries
it, and ``server.log_format: json`` makes ``ecehub serve`` log one JSON object per line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path

import pytest

from ecehub.hub import migrate
from ecehub.logs import (
    NO_REQUEST,
    JsonFormatter,
    RequestIdFilter,
    install_record_factory,
    request_id,
)
from tests.graph_helpers import demo_graph
from tests.serving import serving

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_the_request_id_is_echoed_generated_or_replaced(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=3) as (_, graph):
        query = {"query": "{ __typename }"}
        given = await graph.client.post(
            "/graphql", json=query, headers={"X-Request-ID": "edge-7f3a.42:b=+/"}
        )
        absent = [await graph.client.post("/graphql", json=query) for _ in range(2)]
        hostile = {
            "spaces": "a b",
            "quote": 'x" y',
            "json": '{"request_id": "forged"}',
            "long": "a" * 129,
            "empty": "",
            "leading dash": "-abc",
        }
        replaced = {
            case: await graph.client.post("/graphql", json=query, headers={"X-Request-ID": bad})
            for case, bad in hostile.items()
        }
        health = await graph.client.get("/healthz")
        metrics = await graph.client.get("/metrics", headers={"X-Request-ID": "scrape-1"})
        refused = await graph.client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert given.headers["X-Request-ID"] == "edge-7f3a.42:b=+/"
    ids = [a.headers["X-Request-ID"] for a in absent]
    assert all(GENERATED.fullmatch(i) for i in ids) and ids[0] != ids[1]
    for case, answer in replaced.items():
        assert GENERATED.fullmatch(answer.headers["X-Request-ID"]), case
        assert answer.json() == {"data": {"__typename": "Query"}}, case
    assert GENERATED.fullmatch(health.headers["X-Request-ID"])
    assert metrics.headers["X-Request-ID"] == "scrape-1"
    # A refusal at the edge carries one too, and only one.
    assert refused.status_code == 400
    assert len(refused.headers.get_list("X-Request-ID")) == 1


async def test_log_records_during_a_request_carry_its_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with demo_graph(tmp_path, programs=3) as (demo, graph):
        await demo.stop_qris()
        caplog.set_level(logging.INFO)
        caplog.clear()
        await graph.client.post(
            "/graphql",
            json={"query": "{ programs(first: 2) { nodes { qrisRating { level } } } }"},
            headers={"X-Request-ID": "req-qris-down"},
        )
        during = list(caplog.records)
        caplog.clear()
        await graph.client.post(
            "/graphql",
            json={"query": '{ program(id: "nope") { name } }'},
            headers={"X-Request-ID": "req-bad-id"},
        )
        second = list(caplog.records)
    # The gateway's warning of the failed source; the one INFO line of client errors.
    [warning] = [r for r in during if r.name == "ecehub.sources.gateway"]
    assert getattr(warning, "request_id", None) == "req-qris-down"
    [info] = [r for r in second if r.name == "ecehub.graphql"]
    assert getattr(info, "request_id", None) == "req-bad-id"
    # httpx logs its line once the answer is back, the request over: no ID any more.
    client_lines = [r for r in [*during, *second] if r.name == "httpx"]
    assert client_lines and {getattr(r, "request_id", None) for r in client_lines} == {NO_REQUEST}
    # Outside a request: no ID.
    made = logging.getLogRecordFactory()("ecehub.test", logging.INFO, __file__, 1, "x", None, None)
    assert getattr(made, "request_id", None) == NO_REQUEST


def test_json_lines_carry_the_request_id_and_a_fault_s_traceback() -> None:
    install_record_factory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("ecehub.test.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    token = request_id.set("json-1")
    try:
        log.info('a "quoted" message\nover two lines')
        try:
            raise ValueError("a bug")
        except ValueError:
            log.exception("server fault")
    finally:
        request_id.reset(token)
        log.info("after the request")
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 3
    first, fault, after = entries
    assert first["message"] == 'a "quoted" message\nover two lines'
    assert first["request_id"] == "json-1" and first["level"] == "INFO"
    assert first["logger"] == "ecehub.test.json" and first["time"].endswith("+00:00")
    assert fault["request_id"] == "json-1" and "ValueError: a bug" in fault["exception"]
    assert after["request_id"] == NO_REQUEST


async def test_serve_logs_json_lines_with_the_request_id(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await migrate.upgrade(url)
    config = tmp_path / "state.yaml"
    config.write_text(f"hub: {{url: '{url}'}}\nserver: {{log_format: json}}\n")
    async with serving(config, stderr=asyncio.subprocess.PIPE) as (proc, client):
        answer = await client.post(
            "/graphql",
            json={"query": "{ nosuchfield }"},
            headers={"X-Request-ID": "serve-json-1"},
        )
        scraped = await client.get("/metrics")
        proc.terminate()
        _, err = await proc.communicate()
    assert answer.headers["X-Request-ID"] == "serve-json-1"
    assert scraped.status_code == 200 and "ecehub_graphql_requests_total" in scraped.text
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines, "serve logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    during = [e for e in entries if e["request_id"] == "serve-json-1"]
    # The request's line of client errors, and uvicorn's access line, both with the ID.
    assert any(e["logger"] == "ecehub.graphql" for e in during), entries
    assert any(e["logger"] == "uvicorn.access" for e in during), entries
    assert all(e["request_id"] == NO_REQUEST for e in entries if e["logger"] == "uvicorn.error")
