"""The read-ahead (ecehub.schema.prefetch) and the fast completion of plain fields
(ecehub.schema.fastpath.FastExecution): a nested page is answered synchronously below its root
field, with the same answer, the same errors and the same source calls as the awaited path,
whatever the query's shape (aliases, named and inline fragments, @skip/@include) or role."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecehub.auth.devtokens import DevKey
from ecehub.resolvers.context import RequestContext
from tests.graph_helpers import calls_by_source, demo_graph

PLAIN = """
query {
  programs(first: 30) {
    nodes {
      id name
      sites { id name rooms { id name ageGroup } staff { id name } }
      staff { id name credentials trainings { title hours } }
    }
  }
}
"""

# The same selection through aliases, a named fragment on an interface-free type, inline
# fragments with and without a type condition, and @skip/@include driven by variables.
SHAPED = """
query($no: Boolean!, $yes: Boolean!) {
  page: programs(first: 30) {
    edges { node { ...P } }
  }
}
fragment P on Program {
  id
  name
  where: sites {
    ... on Site { id name }
    rooms @include(if: $yes) { id name ageGroup }
    ... @skip(if: $no) { staff { id name } }
  }
  staff { id name credentials ... { trainings { title hours } } }
  ghost: staff @skip(if: $yes) { id }
}
"""


@pytest.fixture
def sync_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Records, for every child list a resolver asks for, whether it was already read (a
    value) or had to be awaited."""
    seen: list[bool] = []
    original = RequestContext.children_soon

    def spy(self: RequestContext, *args: Any) -> Any:
        result = original(self, *args)
        seen.append(not inspect.isawaitable(result))
        return result

    monkeypatch.setattr(RequestContext, "children_soon", spy)
    yield seen


def _reshape(page: dict[str, Any]) -> list[dict[str, Any]]:
    """SHAPED's answer in PLAIN's shape."""
    out = []
    for edge in page["edges"]:
        node = edge["node"]
        assert "ghost" not in node  # skipped
        out.append(
            {
                "id": node["id"],
                "name": node["name"],
                "sites": node["where"],
                "staff": node["staff"],
            }
        )
    return out


async def test_a_shaped_query_reads_ahead_with_the_same_answer_and_calls(
    tmp_path: Path, sync_spy: list[bool]
) -> None:
    async with demo_graph(tmp_path, programs=25, live=True) as (_, client):
        plain = await client.query(PLAIN)
        plain_calls = calls_by_source(plain)
        sync_spy.clear()
        shaped = await client.query(SHAPED, {"no": False, "yes": True})
    assert "errors" not in plain and "errors" not in shaped, (plain, shaped)
    nodes = plain["data"]["programs"]["nodes"]
    assert sum(len(n["sites"]) for n in nodes) > 0
    assert sum(len(s["rooms"]) for n in nodes for s in n["sites"]) > 0
    assert sum(len(s["trainings"]) for n in nodes for s in n["staff"]) > 0
    assert _reshape(shaped["data"]["page"]) == nodes
    assert calls_by_source(shaped) == plain_calls
    # every child list (sites, their rooms and staff, staff and their trainings) was read
    # ahead: answered without awaiting
    assert sync_spy and all(sync_spy), sync_spy.count(False)


async def test_skipped_lists_are_not_read(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=25, live=True) as (_, client):
        both = await client.query(SHAPED, {"no": False, "yes": True})
        without = await client.query(SHAPED, {"no": True, "yes": False})
    assert "errors" not in without, without
    sites = [s for e in without["data"]["page"]["edges"] for s in e["node"]["where"]]
    assert sites and all(set(s) == {"id", "name"} for s in sites)
    assert [e["node"]["ghost"] for e in without["data"]["page"]["edges"]] == [
        [{"id": s["id"]} for s in e["node"]["staff"]] for e in without["data"]["page"]["edges"]
    ]
    # rooms (head_start only) skipped: one call fewer there, none elsewhere
    calls_both, calls_without = calls_by_source(both), calls_by_source(without)
    assert calls_without["head_start"] < calls_both["head_start"]


async def test_a_denied_child_list_is_neither_read_nor_answered(
    tmp_path: Path, sync_spy: list[bool]
) -> None:
    """The public directory may read programs' names, not their sites or staff: the read-ahead
    asks no source for them, and the fields are refused as before."""
    key = DevKey.load_or_create(tmp_path / "keys")
    async with demo_graph(tmp_path, programs=25, dev_key=key, live=True) as (_, client):
        names = await client.query("{ programs(first: 30) { nodes { id name } } }")
        sync_spy.clear()
        nested = await client.query(PLAIN)
    assert "errors" not in names, names
    codes = {e["extensions"]["code"] for e in nested["errors"]}
    assert codes == {"FORBIDDEN"}
    # (the lists are non-null: the first refusal nulls the page, as without the read-ahead)
    assert {e["path"][-1] for e in nested["errors"]} <= {"sites", "staff"}
    assert calls_by_source(nested) == calls_by_source(names)
    assert sync_spy == []  # refused before its resolver ran


async def test_plain_leaves_keep_nulls_and_errors(tmp_path: Path) -> None:
    """A plain field whose value is null is null (not dropped); a non-null field of a type
    completed the fast way still reports an error where graphql-core would."""
    async with demo_graph(tmp_path, programs=25, live=True) as (_, client):
        body = await client.query(
            "{ programs(first: 30) { nodes { id phone email qrisRating { level } } } }"
        )
    assert "errors" not in body, body
    nodes = body["data"]["programs"]["nodes"]
    assert all(set(n) == {"id", "phone", "email", "qrisRating"} for n in nodes)
    assert any(n["email"] is None for n in nodes) or any(n["phone"] is None for n in nodes)
