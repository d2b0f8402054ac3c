"""A partner's GraphQL API on loopback, for the ``graphql`` connector's tests: graphql-core
executing a small schema on aiohttp.web over the conformance dataset, recording every request
(its document, variables and headers), with knobs a test turns (delay, data)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    build_schema,
    graphql,
)

from ecehub.testing import CONFORMANCE_DATA
from tests.serving import loopback

__all__ = ["ENV", "PROGRAM_FIELDS", "TOKEN", "Upstream", "graphql_source", "serving_upstream"]

TOKEN = "gql-sekret-9876"

Info = GraphQLResolveInfo[Any]

SDL = """
type Query {
  programs(keys: [ID!]!): [Program!]!
  program(key: ID!): Program
  programPage(
    first: Int, after: String, city: String, levelAtLeast: Int, licenses: [String!]
    keys: [ID!]
  ): ProgramConnection!
  programNodes(first: Int, after: String): ProgramNodes!
  sites(keys: [ID!]!): [Site!]!
  sitesOf(programKeys: [ID!]!): [Site!]!
  siteList(offset: Int, limit: Int): [Site!]!
  allSites: [Site!]!
  broken(keys: [ID!]!): [Program!]!
  partlyBroken(keys: [ID!]!): [Program!]!
}
type Program {
  program_key: ID!
  name: String
  address: Address
  qris_level: Int
  license_expires: String
  license_number: String
  secret_note: String
  sites: [Site!]!
}
type Address { city: String county: String }
type ProgramConnection { edges: [ProgramEdge!]! pageInfo: PageInfo! }
type ProgramEdge { cursor: String! node: Program! }
type ProgramNodes { nodes: [Program!]! pageInfo: PageInfo! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Site {
  site_key: ID! program_key: ID! owner: ID name: String city: String capacity: Int
}
"""


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def _program(row: dict[str, Any]) -> dict[str, Any]:
    out = _as_json(row)
    out["address"] = {"city": out.pop("city"), "county": out.pop("county")}
    return out


@dataclass
class Upstream:
    """The fake partner API: what it saw, and knobs a test turns."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    introspection: bool = True
    programs: list[dict[str, Any]] = field(
        default_factory=lambda: [_program(r) for r in CONFORMANCE_DATA["program"]]
    )
    sites: list[dict[str, Any]] = field(
        default_factory=lambda: [_as_json(r) for r in CONFORMANCE_DATA["site"]]
    )

    @property
    def requests(self) -> int:
        return len(self.bodies)


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def _page(rows: list[dict[str, Any]], first: int | None, after: str | None) -> dict[str, Any]:
    start = 0 if after is None else int(after.removeprefix("c")) + 1
    size = len(rows) if first is None else first
    chunk = rows[start : start + size]
    return {
        "edges": [{"cursor": f"c{start + i}", "node": row} for i, row in enumerate(chunk)],
        "nodes": chunk,
        "pageInfo": {
            "hasNextPage": start + size < len(rows),
            "endCursor": f"c{start + len(chunk) - 1}" if chunk else None,
        },
    }


def build_app(state: Upstream) -> web.Application:
    schema = build_schema(SDL)

    def sites_of_program(program: dict[str, Any], info: Info) -> list[dict[str, Any]]:
        return [s for s in state.sites if s["program_key"] == program["program_key"]]

    program_type = schema.type_map["Program"]
    assert isinstance(program_type, GraphQLObjectType)
    program_type.fields["sites"].resolve = sites_of_program

    def programs(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        wanted = set(keys)
        return [p for p in state.programs if p["program_key"] in wanted]

    def program(info: Info, key: str) -> dict[str, Any] | None:
        return next((p for p in state.programs if p["program_key"] == key), None)

    def program_page(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        city: str | None = None,
        levelAtLeast: int | None = None,
        licenses: list[str] | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, Any]:
        rows = state.programs
        if keys is not None:
            rows = [p for p in rows if p["program_key"] in set(keys)]
        if licenses is not None:
            wanted = {_fold(v) for v in licenses}
            rows = [p for p in rows if p["license_number"] and _fold(p["license_number"]) in wanted]
        if city is not None:
            rows = [p for p in rows if _fold(p["address"]["city"]) == _fold(city)]
        if levelAtLeast is not None:
            rows = [p for p in rows if (p["qris_level"] or 0) >= levelAtLeast]
        return _page(rows, first, after)

    def program_nodes(
        info: Info, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        return _page(state.programs, first, after)

    def sites(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        return [s for s in state.sites if s["site_key"] in set(keys)]

    def sites_of(info: Info, programKeys: list[str]) -> list[dict[str, Any]]:
        return [s for s in state.sites if s["program_key"] in set(programKeys)]

    def site_list(info: Info, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return state.sites[offset : offset + limit]

    def all_sites(info: Info) -> list[dict[str, Any]]:
        return state.sites

    def broken(info: Info, keys: list[str]) -> None:
        raise GraphQLError(f"registry offline for {TOKEN}; try later")

    def partly_broken(info: Info, keys: list[str]) -> list[dict[str, Any]]:
        return [{**p, "secret_note": None} for p in programs(info, keys)]

    root = {
        "programs": programs,
        "program": program,
        "programPage": program_page,
        "programNodes": program_nodes,
        "sites": sites,
        "sitesOf": sites_of,
        "siteList": site_list,
        "allSites": all_sites,
        "broken": broken,
        "partlyBroken": partly_broken,
    }

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.json()
        state.bodies.append(body)
        state.headers.append(dict(request.headers))
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if not state.introspection and "__schema" in body["query"]:
            return web.json_response({"errors": [{"message": "introspection is disabled"}]})
        result = await graphql(
            schema,
            body["query"],
            root_value=root,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        if body["query"].find("partlyBroken") >= 0 and result.data:
            # A nested error, as a server reports one that nulled a single field.
            answer["errors"] = [{"message": "note withheld", "path": ["r0", 0, "secret_note"]}]
        return web.json_response(answer)

    async def down(request: web.Request) -> web.Response:
        return web.json_response({"error": "maintenance"}, status=503)

    app = web.Application()
    app.router.add_post("/graphql", endpoint)
    app.router.add_post("/down", down)
    return app


@contextlib.asynccontextmanager
async def serving_upstream() -> AsyncIterator[Upstream]:
    """The API served on a free loopback port until the block ends."""
    state = Upstream()
    async with loopback(build_app(state)) as state.url:
        yield state


PROGRAM_FIELDS = {
    "name": "name",
    "city": "address.city",
    "county": "address.county",
    "qris_level": "qris_level",
    "license_expires": "license_expires",
}


def graphql_source(url: str, **program: Any) -> dict[str, Any]:
    return {
        "kind": "graphql",
        "url": url,
        "support_types": ["QRIS"],
        "timeout_s": 2,
        "headers": {"Authorization": "Bearer ${PARTNER_TOKEN}"},
        "entities": {
            "program": {
                "key": "program_key",
                "fields": PROGRAM_FIELDS,
                "identifiers": {"LICENSE_NUMBER": "license_number"},
                "fetch": {"field": "programs", "argument": "keys", "max": 5},
                "find": {"field": "programPage", "page_size": 4},
                "filters": {
                    "city": {"argument": "city"},
                    "qris_level": {"argument": "levelAtLeast", "op": "gte", "type": "Int"},
                    "identifier:LICENSE_NUMBER": {
                        "argument": "licenses",
                        "op": "in",
                        "type": "[String!]",
                    },
                },
                **program,
            },
            "site": {
                "key": "site_key",
                "parent": {"program": "program_key"},
                "fields": {"name": "name", "city": "city", "capacity": "capacity"},
                "fetch": {"field": "sites", "argument": "keys"},
                "children": {"field": "sitesOf", "argument": "programKeys", "max": 3},
                "find": {"field": "siteList", "paging": "offset", "page_size": 6},
            },
        },
    }


ENV = {"PARTNER_TOKEN": TOKEN}
