"""OpenTelemetry traces: a span per GraphQL request and one per source call under it, collected
with the SDK's in-memory exporter; the caller's W3C ``traceparent`` continued; no secret in
any attribute; sampling; real OTLP/HTTP export to a loopback collector; and, off, no span, no
provider and not even the trace SDK imported."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ecehub.config import parse_config
from ecehub.connectors.base import Page, Record
from ecehub.errors import ConfigError
from ecehub.resolvers.runtime import Runtime
from ecehub.tracing import Tracing, count_records
from tests.graph_helpers import calls_by_source, demo_graph
from tests.serving import loopback

DIRECTORY = """query Directory($name: String) {
  programs(first: 5, filter: {name: $name}) {
    nodes { name license { number } qrisRating { level } sites { name rooms { name } } }
  }
}"""

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"

SOURCE_ATTRIBUTES = {"ecehub.source", "ecehub.entity", "ecehub.method", "ecehub.outcome"}


def in_memory(sample_ratio: float = 1.0) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return Tracing(exporter, sample_ratio=sample_ratio, batch=False), exporter


def split(spans: Sequence[ReadableSpan]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The one request span and the source spans."""
    [request] = [s for s in spans if s.kind == SpanKind.SERVER]
    return request, [s for s in spans if s.kind == SpanKind.CLIENT]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_a_span_per_source_call_under_the_request_span(tmp_path: Path) -> None:
    tracing, exporter = in_memory()
    async with demo_graph(tmp_path, programs=8, tracing=tracing, live=True) as (_, graph):
        answer = await graph.client.post(
            "/graphql",
            json={"query": DIRECTORY, "variables": {"name": ""}},
            headers={"X-Ecehub-Trace": "1", "X-Request-ID": "trace-req-1"},
        )
    body = answer.json()
    assert "errors" not in body, body
    request, sources = split(exporter.get_finished_spans())
    assert request.name == "query Directory"
    assert request.parent is None  # no traceparent came: a new trace
    assert attrs(request) == {
        "http.request.method": "POST",
        "http.route": "/graphql",
        "ecehub.request_id": "trace-req-1",
        "graphql.operation.type": "query",
        "graphql.operation.name": "Directory",
        "ecehub.outcome": "ok",
        "http.response.status_code": 200,
    }
    assert request.status.status_code == StatusCode.UNSET
    # One span per source call, as many as the request's own trace counted, each a child of
    # the request's span in its trace.
    traced = calls_by_source(body)
    assert set(traced) == {"licensing", "head_start", "qris"}
    by_source = {s: [x for x in sources if attrs(x)["ecehub.source"] == s] for s in traced}
    assert {s: len(spans) for s, spans in by_source.items()} == traced
    assert len(sources) == sum(traced.values())
    assert request.context is not None
    for span in sources:
        assert span.parent is not None and span.parent.span_id == request.context.span_id
        assert span.context is not None
        assert span.context.trace_id == request.context.trace_id
        found = attrs(span)
        assert set(found) == {*SOURCE_ATTRIBUTES, "ecehub.records"}, found
        assert found["ecehub.outcome"] == "ok"
        assert found["ecehub.method"] in {"fetch", "children", "find"}
        assert (
            span.name
            == f"{found['ecehub.source']} {found['ecehub.method']} {found['ecehub.entity']}"
        )
    # The listing's first call finds at least the page's programs.
    [first] = sorted(sources, key=lambda s: s.start_time or 0)[:1]
    assert attrs(first)["ecehub.method"] == "find"
    assert attrs(first)["ecehub.records"] >= len(body["data"]["programs"]["nodes"]) == 5


def test_records_are_counted_in_each_shape_a_source_answers() -> None:
    def record(key: str) -> Record:
        return Record(source="s", entity="site", key=key, fields={})

    assert count_records(Page([record("a"), record("b")], True)) == 2  # find
    assert count_records({"a": record("a"), "b": record("b"), "c": record("c")}) == 3  # fetch
    children = {"p1": [record("a"), record("b")], "p2": [], "p3": [record("c")]}
    assert count_records(children) == 3
    assert count_records({}) == 0 and count_records(Page([], False)) == 0


async def test_a_failed_source_s_span_carries_its_code(tmp_path: Path) -> None:
    tracing, exporter = in_memory()
    async with demo_graph(tmp_path, programs=5, tracing=tracing, live=True) as (demo, graph):
        await demo.stop_qris()
        body = await graph.query(DIRECTORY)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SOURCE_UNAVAILABLE"]
    request, sources = split(exporter.get_finished_spans())
    assert attrs(request)["ecehub.outcome"] == "partial"
    assert attrs(request)["ecehub.error_codes"] == ("SOURCE_UNAVAILABLE",)
    [qris] = [s for s in sources if attrs(s)["ecehub.source"] == "qris"]
    assert attrs(qris)["ecehub.outcome"] == "SOURCE_UNAVAILABLE"
    assert "ecehub.records" not in attrs(qris)
    assert qris.status.status_code == StatusCode.ERROR
    others = [s for s in sources if s is not qris]
    assert others and all(attrs(s)["ecehub.outcome"] == "ok" for s in others)


async def test_the_caller_s_traceparent_is_continued(tmp_path: Path) -> None:
    tracing, exporter = in_memory()
    async with demo_graph(tmp_path, programs=3, tracing=tracing, live=True) as (_, graph):
        await graph.client.post(
            "/graphql",
            json={"query": "{ programs(first: 2) { nodes { name } } }"},
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        )
    request, sources = split(exporter.get_finished_spans())
    assert request.context is not None and request.parent is not None
    assert f"{request.context.trace_id:032x}" == TRACE_ID
    assert f"{request.parent.span_id:016x}" == PARENT_ID and request.parent.is_remote
    assert request.name == "query"  # anonymous
    assert sources and all(
        s.context is not None and f"{s.context.trace_id:032x}" == TRACE_ID for s in sources
    )


async def test_sampling_drops_new_traces_and_follows_the_caller(tmp_path: Path) -> None:
    tracing, exporter = in_memory(sample_ratio=0.0)
    query = {"query": "{ programs(first: 2) { nodes { name } } }"}
    async with demo_graph(tmp_path, programs=3, tracing=tracing, live=True) as (_, graph):
        await graph.client.post("/graphql", json=query)
        unsampled = list(exporter.get_finished_spans())
        await graph.client.post(
            "/graphql", json=query, headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
        )
        sampled = list(exporter.get_finished_spans())
    assert unsampled == []
    request, sources = split(sampled)
    assert request.context is not None and f"{request.context.trace_id:032x}" == TRACE_ID
    assert sources


async def test_no_secret_or_input_in_any_attribute(tmp_path: Path) -> None:
    tracing, exporter = in_memory()
    secret_name = "zz-variable-value-7f31"
    user = "coach.secret-user@example.org"
    async with demo_graph(tmp_path, programs=3, tracing=tracing, live=True) as (_, graph):
        await graph.client.post(
            "/graphql",
            json={"query": DIRECTORY, "variables": {"name": secret_name}},
            headers={"X-Ecehub-User": user, "Authorization": "Bearer not-a-real-token-123"},
        )
        await graph.client.post("/graphql", json={"query": '{ program(id: "bad-id") { name } }'})
    spans = exporter.get_finished_spans()
    assert len(spans) >= 2
    text = json.dumps([attrs(s) for s in spans], default=str)
    for needle in (secret_name, user, "not-a-real-token", "bad-id", "programs(", "{"):
        assert needle not in text.replace('{"', "").replace(", ", ""), needle
    names = {key for s in spans for key in attrs(s)}
    assert names <= {
        *SOURCE_ATTRIBUTES,
        "ecehub.records",
        "ecehub.request_id",
        "ecehub.outcome",
        "ecehub.error_codes",
        "graphql.operation.type",
        "graphql.operation.name",
        "http.request.method",
        "http.route",
        "http.response.status_code",
    }, names


def _explode(*_: object) -> None:
    raise RuntimeError("a bug in the hub, holding zz-input-9c1")


async def test_a_server_fault_marks_the_span_without_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ecehub.schema.graph.address_of", _explode)
    tracing, exporter = in_memory()
    async with demo_graph(tmp_path, programs=3, tracing=tracing, live=True) as (_, graph):
        body = await graph.query("{ programs(first: 2) { nodes { address { city } } } }")
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTERNAL_SERVER_ERROR"}
    request, _ = split(exporter.get_finished_spans())
    assert attrs(request)["ecehub.outcome"] == "partial"  # the programs came, not the address
    assert attrs(request)["ecehub.error_codes"] == ("INTERNAL_SERVER_ERROR",)
    assert request.status.status_code == StatusCode.ERROR
    assert "zz-input" not in json.dumps(
        [attrs(request), request.status.description, [e.name for e in request.events]]
    )


async def test_a_refused_request_has_its_span_with_the_status(tmp_path: Path) -> None:
    tracing, exporter = in_memory()
    async with demo_graph(tmp_path, programs=3, tracing=tracing, live=True) as (_, graph):
        refused = await graph.client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert refused.status_code == 400
    [span] = exporter.get_finished_spans()
    assert span.name == "graphql" and attrs(span)["http.response.status_code"] == 400


class Collector:
    """A loopback OTLP/HTTP collector: keeps each POST /v1/traces body, decoded."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []

    async def traces(self, request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        self.requests.append(message)
        self.content_types.append(request.content_type)
        return web.Response(body=b"", content_type="application/x-protobuf")

    def span_names(self) -> list[str]:
        return [
            span.name
            for message in self.requests
            for resource in message.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]

    def service_names(self) -> set[str]:
        return {
            attribute.value.string_value
            for message in self.requests
            for resource in message.resource_spans
            for attribute in resource.resource.attributes
            if attribute.key == "service.name"
        }


async def test_server_tracing_exports_over_otlp_http(tmp_path: Path) -> None:
    collector = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", collector.traces)
    async with loopback(app) as url:
        config = parse_config(
            {
                "server": {
                    "tracing": {
                        "enabled": True,
                        "otlp_endpoint": f"{url}/v1/traces",
                        "service_name": "ecehub-test",
                    }
                }
            },
            env={},
        )
        runtime = Runtime(config)
        assert runtime.tracing is not None
        with runtime.tracing.tracer.start_as_current_span("probe"):
            pass
        await runtime.aclose()  # flushes the batch
    assert collector.span_names() == ["probe"]
    assert collector.service_names() == {"ecehub-test"}
    assert collector.content_types == ["application/x-protobuf"]


def test_the_tracing_config_is_checked() -> None:
    assert parse_config({}, env={}).server.tracing.enabled is False
    with pytest.raises(ConfigError) as caught:
        parse_config({"server": {"tracing": {"enabled": True, "sample_ratio": 2}}}, env={})
    assert "server.tracing.sample_ratio" in str(caught.value)


OFF = """
import asyncio, json, os, sys
from pathlib import Path
import httpx
from opentelemetry import trace
from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime

TRACE_MODULES = ("opentelemetry.sdk.trace", "opentelemetry.exporter")

async def main() -> None:
    async with DemoSystems(programs=3, data_dir=Path(sys.argv[1])) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = config.model_copy(update={"access": None})
        runtime = Runtime(config)
        app = create_app(config, runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            answer = await client.post(
                "/graphql",
                json={"query": "{ programs(first: 3) { nodes { name qrisRating { level } } } }"},
                headers={"X-Ecehub-Trace": "1", "traceparent": sys.argv[2]},
            )
        await runtime.aclose()
    print(json.dumps({
        "calls": sum(s["calls"] for s in answer.json()["extensions"]["sources"]),
        "tracing": runtime.tracing is not None,
        "provider": type(trace.get_tracer_provider()).__name__,
        "sdk": sorted(m for m in sys.modules if m.startswith(TRACE_MODULES)),
    }))

asyncio.run(main())
"""


async def test_off_no_provider_no_span_no_sdk(tmp_path: Path) -> None:
    """Run in a process of its own: the tests above import the SDK into this one."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OFF,
        str(tmp_path),
        f"00-{TRACE_ID}-{PARENT_ID}-01",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["calls"] > 0  # the sources were asked ...
    assert seen["tracing"] is False  # ... with no tracing, no provider of ours or global
    assert seen["provider"] == "ProxyTracerProvider"
    # The trace SDK and the exporter were not even imported (redis-py imports OpenTelemetry's
    # metrics SDK for its own instruments when it is installed: not ours).
    assert seen["sdk"] == []
