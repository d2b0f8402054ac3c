"""The trace (``X-Ecehub-Trace: 1``) reports, per source, the HTTP requests and rows read as
well as the connector calls: over the demo systems (the QRIS REST API on loopback, Head Start
and licensing on SQLite), the REST source's requests are those its server received."""

from __future__ import annotations

from pathlib import Path

from tests.graph_helpers import demo_graph

QUERY = """{ programs(first: 10) { nodes { name license { number } qrisRating { level }
  sites { name } } } }"""


async def test_the_trace_counts_http_requests_and_rows_per_source(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=40, live=True) as (demo, client):
        before = demo.qris.served
        response = await client.post(QUERY, trace=True)
        served = demo.qris.served - before
    body = response.json()
    assert "errors" not in body and len(body["data"]["programs"]["nodes"]) == 10
    trace = {s["source"]: s for s in body["extensions"]["sources"]}
    assert set(trace) == {"licensing", "head_start", "qris"}
    assert trace["qris"]["requests"] == served > 0
    for source in trace.values():
        assert set(source) == {"source", "calls", "requests", "rows", "ms", "unparsable"}
        # Every call of these sources sends at least one request (statement), and reads rows.
        assert source["requests"] >= source["calls"] > 0, source
        assert source["rows"] > 0, source
