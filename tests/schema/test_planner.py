"""What listing costs in HTTP requests and rows of a source, not only in connector calls.

Two REST sources shaped like ../shared/peerbench's: ``providers`` pages (``page``/``per_page``)
and fetches by its own ids but cannot search by license number; ``facilities`` answers only for
given license numbers (nothing to list). Declared as such in config (``identifiers_unique``,
``lookup_only``), a page of programs with their facility's data costs two HTTP requests, the
peer gateway's count: one providers page of the size needed and one batched facilities call.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.ids import encode_global_id
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient
from tests.serving import loopback

N = 250
STATUSES = ["open", "closed", "suspended", "pending"]


def _license(i: int) -> str:
    return f"LIC-{i:05d}"


PROVIDERS = [
    {"id": i, "name": f"Provider {i}", "license_number": _license(i)} for i in range(1, N + 1)
]
# Every provider but the last ten has a facility; ten facilities have no provider.
FACILITIES = {
    _license(i): {"license_number": _license(i), "capacity": 10 + i % 90, "status": STATUSES[i % 4]}
    for i in range(1, N + 11)
    if i <= N - 10 or i > N
}


@dataclass
class Api:
    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def _app(api: Api) -> web.Application:
    async def providers(request: web.Request) -> web.Response:
        query = dict(request.query)
        api.requests.append(("/providers", query))
        if "ids" in query:
            wanted = {int(i) for i in query["ids"].split(",")}
            out = [p for p in PROVIDERS if p["id"] in wanted]
        else:
            size = min(int(query.get("per_page", "20")), 1000)
            start = (int(query.get("page", "1")) - 1) * size
            out = PROVIDERS[start : start + size]
        api.rows["/providers"] = api.rows.get("/providers", 0) + len(out)
        return web.json_response(out)

    async def facilities(request: web.Request) -> web.Response:
        query = dict(request.query)
        api.requests.append(("/facilities", query))
        keys = query.get("license_numbers", "").split(",")
        out = [FACILITIES[k] for k in keys if k in FACILITIES]
        api.rows["/facilities"] = api.rows.get("/facilities", 0) + len(out)
        return web.json_response(out)

    app = web.Application()
    app.router.add_get("/providers", providers)
    app.router.add_get("/facilities", facilities)
    return app


def _config(url: str, tmp_path: Path, *, declared: bool, list_only: bool = False) -> dict[str, Any]:
    providers: dict[str, Any] = {
        "path": "/providers",
        "key": "id",
        "fields": {"name": "name"},
        "identifiers": {"LICENSE_NUMBER": "license_number"},
        "batch": {"param": "ids", "max": 1000},
    }
    facilities: dict[str, Any] = {
        "path": "/facilities",
        "key": "license_number",
        "fields": {"licensed_capacity": "capacity", "license_status": "status"},
        "identifiers": {"LICENSE_NUMBER": "license_number"},
        "batch": {"param": "license_numbers", "max": 1000},
        "filters": {
            "identifier:LICENSE_NUMBER": {"param": "license_numbers", "op": "in", "max": 1000}
        },
    }
    if declared:
        providers["identifiers_unique"] = True
        facilities["identifiers_unique"] = True
        facilities["lookup_only"] = True
    if list_only:
        # The peer's shape said the other way: the providers API is only ever paged.
        del providers["batch"]
        providers.pop("identifiers_unique", None)
        providers["list_only"] = True
    rest = {"kind": "rest", "base_url": url, "records_path": ""}
    return {
        "sources": {
            "providers": {
                **rest,
                "support_types": ["QRIS"],
                "pagination": {"style": "page", "size_param": "per_page", "page_size": 1000},
                "entities": {"program": providers},
            },
            "facilities": {
                **rest,
                "support_types": ["LICENSING"],
                "pagination": {"style": "none"},
                "entities": {"program": facilities},
            },
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        "server": {"max_page_size": 500},
    }


@contextlib.asynccontextmanager
async def _graph(
    tmp_path: Path, *, declared: bool, list_only: bool = False
) -> AsyncIterator[tuple[Api, GraphClient]]:
    api = Api()
    async with loopback(_app(api)) as url:
        path = tmp_path / "ecehub.yaml"
        config = _config(url, tmp_path, declared=declared, list_only=list_only)
        path.write_text(yaml.safe_dump(config, sort_keys=False))  # providers first: precedence
        runtime = Runtime(load_config(path))
        transport = httpx.ASGITransport(app=create_app(runtime.config, runtime))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield api, GraphClient(client)
        finally:
            await runtime.aclose()


PAGE = """
query($first: Int!, $after: String, $filter: ProgramFilter) {
  programs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { name license { capacity status } }
  }
}
"""


async def _page(
    client: GraphClient, first: int, after: str | None = None, **filter_: Any
) -> dict[str, Any]:
    body = await client.query(PAGE, {"first": first, "after": after, "filter": filter_ or None})
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["programs"]
    return page


async def test_a_page_costs_two_requests_when_the_sources_say_what_they_can(
    tmp_path: Path,
) -> None:
    async with _graph(tmp_path, declared=True) as (api, client):
        page = await _page(client, 100)
    assert len(page["nodes"]) == 100 and page["pageInfo"]["hasNextPage"]
    assert page["nodes"][0] == {
        "name": "Provider 1",
        "license": {"capacity": 11, "status": "closed"},
    }
    # One providers page of the size needed (100 and the one row that says there is more),
    # one facilities call for the page's license numbers; providers is never asked again.
    assert [p for p, _ in api.requests] == ["/providers", "/facilities"]
    assert api.requests[0][1]["per_page"] == "101"
    assert api.rows["/providers"] == 101


async def test_undeclared_sources_cost_more_but_answer_the_same(tmp_path: Path) -> None:
    async with _graph(tmp_path, declared=True) as (_, client):
        declared = await _page(client, 30)
    async with _graph(tmp_path, declared=False) as (api, client):
        undeclared = await _page(client, 30)
    assert declared["nodes"] == undeclared["nodes"]
    assert declared["pageInfo"]["hasNextPage"] and undeclared["pageInfo"]["hasNextPage"]
    # Without the declarations the hub lists facilities too and asks providers by license
    # number, which it can only do by reading the whole listing.
    assert api.count("/facilities") >= 2
    assert api.rows["/providers"] >= N


async def test_paging_through_everything_lists_each_listed_program_once(tmp_path: Path) -> None:
    names: list[str] = []
    async with _graph(tmp_path, declared=True) as (api, client):
        after = None
        while True:
            page = await _page(client, 70, after)
            names += [n["name"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        pages = api.count("/providers")
    # A lookup-only source is never enumerated: facilities without a provider are not
    # listed (they are found by ID), every provider is, once.
    assert names == [f"Provider {i}" for i in range(1, N + 1)]
    assert pages <= 5  # 4 pages of 70 (the last short), each one request


async def test_a_condition_only_a_lookup_only_source_can_decide_is_checked_on_objects(
    tmp_path: Path,
) -> None:
    # supportTypes: LICENSING is held by facilities alone, which is never enumerated: the
    # providers are listed and the condition is checked on the completed programs.
    async with _graph(tmp_path, declared=True) as (api, client):
        page = await _page(client, 250, supportTypes=["LICENSING"])
    names = [n["name"] for n in page["nodes"]]
    assert names == [f"Provider {i}" for i in range(1, N - 9)]
    assert not page["pageInfo"]["hasNextPage"]
    assert api.count("/facilities") >= 1


@pytest.mark.parametrize("declared", [True, False])
async def test_a_facility_known_only_to_the_lookup_source_resolves_by_id(
    tmp_path: Path, declared: bool
) -> None:
    async with _graph(tmp_path, declared=declared) as (_, client):
        body = await client.query(
            """query($id: ID!) { program(id: $id) { name license { number capacity } } }""",
            {"id": encode_global_id("Program", "LICENSE_NUMBER:" + _license(N + 3))},
        )
    assert "errors" not in body, body
    assert body["data"]["program"] == {
        "name": None,
        "license": {"number": _license(N + 3), "capacity": 10 + (N + 3) % 90},
    }


async def test_a_list_only_providers_api_costs_two_requests_a_page(tmp_path: Path) -> None:
    async with _graph(tmp_path, declared=True, list_only=True) as (api, client):
        first = await _page(client, 100)
        second = await _page(client, 100, first["pageInfo"]["endCursor"])
    assert [n["name"] for n in first["nodes"] + second["nodes"]] == [
        f"Provider {i}" for i in range(1, 201)
    ]
    assert first["nodes"][0]["license"] == {"capacity": 11, "status": "closed"}
    # Each page: one providers page, one facilities call; providers is never asked by key
    # or license number.
    assert [p for p, _ in api.requests] == ["/providers", "/facilities"] * 2
    assert all("ids" not in q for p, q in api.requests if p == "/providers")


async def test_a_list_only_source_answers_by_key_from_one_read_of_its_listing(
    tmp_path: Path,
) -> None:
    ids = [encode_global_id("Program", "LICENSE_NUMBER:" + _license(i)) for i in (3, N - 2)]
    async with _graph(tmp_path, declared=True, list_only=True) as (api, client):
        body = await client.query(
            """query($a: ID!, $b: ID!) {
                 a: program(id: $a) { name license { capacity } }
                 b: program(id: $b) { name license { capacity } }
               }""",
            {"a": ids[0], "b": ids[1]},
        )
    assert "errors" not in body, body
    assert body["data"]["a"] == {"name": "Provider 3", "license": {"capacity": 13}}
    assert body["data"]["b"] == {"name": f"Provider {N - 2}", "license": None}
    providers = [q for p, q in api.requests if p == "/providers"]
    # Both programs from one read of the listing (one page of the API's size), no ids.
    assert len(providers) == 1 and "ids" not in providers[0], providers
