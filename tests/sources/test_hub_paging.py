"""The hub honours what a connector's capabilities leave out: a connector without paging is
paged by the hub (through GraphQL `programs` too), filters it does not push down are applied
by the hub, children it cannot list are grouped by the hub, and pages never exceed a
connector's max_page_size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.connectors import Capabilities, Connector, FieldFilter, Page, register
from ecehub.ids import InvalidCursor
from ecehub.resolvers.runtime import Runtime
from ecehub.sources.gateway import SourceGateway
from tests.testing.memory import MemoryConnector

PROGRAMS = [
    {"id": f"N{n:03d}", "name": f"Program {n}", "city": "Springfield" if n % 3 else "Ogdenville"}
    for n in range(1, 46)
]
SITES = [{"id": f"S{n}", "program": f"N{n:03d}", "name": f"Site {n}"} for n in range(1, 46, 2)]


class NoPaging(MemoryConnector):
    """Answers every find whole, whatever first/after say, as the README's example did."""

    capabilities = Capabilities(supports_paging=False)
    calls: list[tuple[str, tuple[FieldFilter, ...], int | None, str | None]]

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        if not hasattr(self, "calls"):
            self.calls = []
        self.calls.append((entity, tuple(filters), first, after))
        page = await super().find(entity, filters)
        for record in page.records:
            record.cursor = None  # no cursors at all: the hub must not need them
        return page


class EqOnlyNoChildren(NoPaging):
    capabilities = Capabilities(filter_ops={"eq", "in"}, supports_children=False)


class SmallPages(MemoryConnector):
    capabilities = Capabilities(max_page_size=7)
    asked: list[int | None]

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        if not hasattr(self, "asked"):
            self.asked = []
        self.asked.append(first)
        return await super().find(entity, filters, first=first, after=after)


CLASSES: dict[str, type[Connector]] = {
    "nopaging": NoPaging,
    "eqonly": EqOnlyNoChildren,
    "small": SmallPages,
}
for kind, cls in CLASSES.items():
    register(kind, cls)


def source(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "support_types": ["QRIS"],
        "entities": {
            "program": {"key": "id", "fields": {"name": "name", "city": "city"}},
            "site": {"key": "id", "parent": {"program": "program"}, "fields": {"name": "name"}},
        },
        "rows": {"program": PROGRAMS, "site": SITES},
    }


def connector(kind: str) -> Any:
    """The connector as the hub builds it (typed Any: each test reads its own call log)."""
    config = parse_config({"sources": {"src": source(kind)}})
    return CLASSES[kind]("src", config.sources["src"])


async def walk(
    gateway: SourceGateway, first: int, filters: Sequence[FieldFilter] = ()
) -> list[Page]:
    pages: list[Page] = []
    after: str | None = None
    for _ in range(100):
        page = await gateway.find("src", "program", filters, first=first, after=after)
        pages.append(page)
        if not page.has_next:
            return pages
        after = page.records[-1].cursor
    raise AssertionError("paging did not end")


async def test_the_gateway_pages_for_a_connector_without_paging_with_one_call() -> None:
    conn = connector("nopaging")
    gateway = SourceGateway({"src": conn})
    pages = await walk(gateway, 20)
    keys = [r.key for page in pages for r in page.records]
    assert keys == [p["id"] for p in PROGRAMS]
    assert [len(p.records) for p in pages] == [20, 20, 5]
    assert [p.has_next for p in pages] == [True, True, False]
    assert conn.calls == [("program", (), None, None)], "one whole read serves every page"
    assert gateway.stats["src"].calls == 1


async def test_a_cursor_the_hub_did_not_make_is_refused() -> None:
    gateway = SourceGateway({"src": connector("nopaging")})
    with pytest.raises(InvalidCursor):
        await gateway.find("src", "program", first=5, after="3")


async def test_filters_the_connector_does_not_push_down_are_applied_by_the_hub() -> None:
    conn = connector("eqonly")
    gateway = SourceGateway({"src": conn})
    wanted = [FieldFilter("city", "eq", "ogdenville"), FieldFilter("name", "contains", "program 1")]
    pages = await walk(gateway, 2, wanted)
    keys = [r.key for page in pages for r in page.records]
    assert keys == ["N012", "N015", "N018"]
    # eq went to the source, contains stayed with the hub.
    assert conn.calls == [("program", (wanted[0],), None, None)]


async def test_children_are_grouped_by_the_hub_when_the_connector_cannot() -> None:
    conn = connector("eqonly")
    gateway = SourceGateway({"src": conn})
    grouped = await gateway.children("src", "site", "program", ["N001", "N002", "N003"])
    assert {k: [r.key for r in v] for k, v in grouped.items()} == {
        "N001": ["S1"],
        "N002": [],
        "N003": ["S3"],
    }
    assert conn.calls == [("site", (), None, None)]


async def test_pages_never_exceed_max_page_size() -> None:
    conn = connector("small")
    gateway = SourceGateway({"src": conn})
    pages = await walk(gateway, 20)
    assert [r.key for page in pages for r in page.records] == [p["id"] for p in PROGRAMS]
    everything = await gateway.find("src", "program")
    assert len(everything.records) == 45 and not everything.has_next
    assert max(size for size in conn.asked if size is not None) == 7
    assert None not in conn.asked


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = parse_config(
        {
            "sources": {"src": source("nopaging")},
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
        }
    )
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client
    finally:
        await runtime.aclose()


PAGE = """query($after: String) {
  programs(first: 20, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name } }
}"""


async def test_programs_pages_through_a_connector_without_paging(
    graph: httpx.AsyncClient,
) -> None:
    names: list[str] = []
    ids: list[str] = []
    more: list[bool] = []
    after = None
    for _ in range(10):
        answer = await graph.post("/graphql", json={"query": PAGE, "variables": {"after": after}})
        body = answer.json()
        assert "errors" not in body, body["errors"]
        page = body["data"]["programs"]
        ids += [n["id"] for n in page["nodes"]]
        names += [n["name"] for n in page["nodes"]]
        more.append(page["pageInfo"]["hasNextPage"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert more == [True, True, False]
    assert len(ids) == len(set(ids)) == 45
    assert sorted(names) == sorted(p["name"] for p in PROGRAMS)


async def test_lookups_the_connector_cannot_push_share_one_read_per_request() -> None:
    conn = connector("eqonly")
    gateway = SourceGateway({"src": conn})
    for name in ("Program 1", "Program 2", "Program 30"):
        page = await gateway.find("src", "program", [FieldFilter("name", "contains", name)])
        assert page.records and all(name in r.fields["name"] for r in page.records)
    assert conn.calls == [("program", (), None, None)]


class SmallPagesWithoutCursors(SmallPages):
    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        page = await super().find(entity, filters, first=first, after=after)
        for record in page.records:
            record.cursor = None
        return page


async def test_has_next_without_a_cursor_is_a_reported_failure_not_a_loop() -> None:
    register("small_no_cursors", SmallPagesWithoutCursors)
    CLASSES["small_no_cursors"] = SmallPagesWithoutCursors
    gateway = SourceGateway({"src": connector("small_no_cursors")})
    page = await gateway.find("src", "program")
    assert [r.key for r in page.records] == [p["id"] for p in PROGRAMS[:7]]
    assert page.has_next is False
    failure = gateway.failures["src"]
    assert failure.code == "SOURCE_UNAVAILABLE" and "without a cursor" in failure.message
    # The source is marked failed for the request: no further calls loop on it.
    assert (await gateway.find("src", "program", first=3)).records == []
