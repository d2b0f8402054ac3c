"""Program contacts, accreditations and capacity by age group (canonical entities ``contact``,
``accreditation``, ``capacity``), and the address state, end to end on the demo graph: each
read from the sector system that keeps it, each saying its source, batched per source."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.graph_helpers import GraphClient, calls_by_source, demo_graph

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAMS = """query($first: Int!) { programs(first: $first) { nodes {
  id sources { source } address { state }
  license { capacity agesServed }
  qrisRating { level ratedOn }
  contacts { role name email phone source }
  accreditations { body status beginsOn endsOn source }
  capacityByAge { ageGroup capacity source }
  sites { capacityByAge { capacity } contacts { name } accreditations { body } }
} } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def graph(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GraphClient]:
    async with demo_graph(tmp_path_factory.mktemp("canonical"), 60, live=True) as (_, client):
        yield client


async def _nodes(graph: GraphClient, first: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    body = await graph.query(PROGRAMS, {"first": first})
    assert "errors" not in body, body
    nodes: list[dict[str, Any]] = body["data"]["programs"]["nodes"]
    return nodes, body


def _sources(node: dict[str, Any]) -> set[str]:
    return {s["source"] for s in node["sources"]}


async def test_capacity_by_age_group_adds_up_to_the_licensed_capacity(graph: GraphClient) -> None:
    nodes, _ = await _nodes(graph, 50)
    licensed = [n for n in nodes if "licensing" in _sources(n)]
    assert licensed
    for node in licensed:
        rows = node["capacityByAge"]
        assert {r["source"] for r in rows} == {"licensing"}
        assert sum(r["capacity"] for r in rows) == node["license"]["capacity"]
        assert [r["ageGroup"] for r in rows] == node["license"]["agesServed"].split(", ")
    assert all(n["capacityByAge"] == [] for n in nodes if "licensing" not in _sources(n))


async def test_contacts_come_from_each_sector_that_keeps_them(graph: GraphClient) -> None:
    nodes, _ = await _nodes(graph, 50)
    for node in nodes:
        roles = sorted((c["source"], c["role"]) for c in node["contacts"])
        expected = sorted(
            [("licensing", "Licensing Consultant")] * ("licensing" in _sources(node))
            + [("qris", "QRIS Coach")] * ("qris" in _sources(node))
        )
        assert roles == expected, node
        assert all(c["name"] and c["email"] and c["phone"] for c in node["contacts"])
    assert any(len(n["contacts"]) == 2 for n in nodes)


async def test_accreditations_with_their_term(graph: GraphClient) -> None:
    nodes, _ = await _nodes(graph, 50)
    accredited = [n for n in nodes if n["accreditations"]]
    assert accredited
    for node in nodes:
        rating = node["qrisRating"]
        top = rating is not None and rating["level"] >= 4 and "qris" in _sources(node)
        assert bool(node["accreditations"]) == top, node
    for node in accredited:
        [acc] = node["accreditations"]
        assert acc["source"] == "qris" and acc["body"] in {"NAEYC", "NAFCC"}
        begins, ends = dt.date.fromisoformat(acc["beginsOn"]), dt.date.fromisoformat(acc["endsOn"])
        assert begins < dt.date.fromisoformat(node["qrisRating"]["ratedOn"]) <= ends


async def test_the_address_state_is_shown(graph: GraphClient) -> None:
    nodes, _ = await _nodes(graph, 20)
    assert {n["address"]["state"] for n in nodes} == {"CL"}


async def test_the_new_lists_cost_the_same_calls_for_5_programs_as_for_50(
    graph: GraphClient,
) -> None:
    _, few = await _nodes(graph, 5)
    nodes, many = await _nodes(graph, 50)
    assert len(nodes) == 50
    assert calls_by_source(many) == calls_by_source(few)
