"""ecehub in a wider supergraph: its Apollo Federation v2 subgraph (``server.federation``) and
a partner's subgraph that extends ``Program`` by its ``id`` with ``partnerRating``, composed
by Mesh Compose and served by Hive Gateway (npm, pinned in tests/federation/package-lock.json),
queried across both through the gateway.

Everything runs on loopback: the demo sector systems and ecehub (uvicorn, in this test's
event loop, with the demo config's access rules and real ES256 tokens), the partner (a
strawberry federation schema on aiohttp), the gateway (node). The gateway forwards the
client's Authorization header to ecehub (``operationHeaders`` in tests/federation's
mesh.config.ts), so ecehub's access rules decide what the supergraph answers: a provider gets
its own program joined with the partner's rating, and nothing of a program outside its scope,
whether the query starts at ecehub (``program(id:)``) or at the partner (``topRated``, whose
programs the gateway completes through ecehub's ``_entities``).

Needs node and npm (``npm ci`` in tests/federation once); without them skipped, with CI=true
failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import strawberry
import uvicorn
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import load_config
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import with_federation
from tests.serving import free_port
from tests.test_graphql_http import npm_ci, require_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

GATEWAY_DIR = Path(__file__).resolve().parent / "federation"


# -- the partner's subgraph ----------------------------------------------------------------


@dataclass
class PartnerBook:
    """The partner's own data: its rating of some ecehub programs (by ecehub ID), and the
    program IDs the gateway asked it about."""

    ratings: dict[str, int] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


BOOK = PartnerBook()


@strawberry.federation.type(keys=["id"], description="ecehub's Program, rated by the partner")
class Program:
    id: strawberry.ID

    @strawberry.field
    def partner_rating(self) -> int | None:
        return BOOK.ratings.get(str(self.id))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Program:
        BOOK.asked.append(str(id))
        return cls(id=id)


@strawberry.type
class PartnerQuery:
    @strawberry.field
    def top_rated(self) -> list[Program]:
        ranked = sorted(BOOK.ratings, key=lambda p: -BOOK.ratings[p])
        return [Program(id=strawberry.ID(p)) for p in ranked]


PARTNER_SCHEMA = strawberry.federation.Schema(query=PartnerQuery, federation_version="2.9")


@contextlib.asynccontextmanager
async def partner_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/graphql", GraphQLView(schema=PARTNER_SCHEMA))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        await runner.cleanup()


# -- ecehub, the composition and the gateway ----------------------------------------------


@contextlib.asynccontextmanager
async def ecehub_server(tmp: Path, key: DevKey) -> AsyncIterator[str]:
    """The demo graph as a federation subgraph on a loopback port, under the demo config's
    access rules, trusting ``key``'s tokens."""
    async with DemoSystems(programs=12, data_dir=tmp) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = with_federation(config.model_copy(update={"auth": dev_auth_config(key)}))
        runtime = Runtime(config)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, runtime), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        task = asyncio.create_task(server.serve())
        try:
            for _ in range(300):
                if server.started or task.done():
                    break
                await asyncio.sleep(0.1)
            assert server.started, "ecehub never started"
            yield f"http://127.0.0.1:{port}/graphql"
        finally:
            server.should_exit = True
            await task
            await runtime.aclose()


async def run_node(*args: str, env: dict[str, str], timeout_s: float = 120) -> str:
    """A node command in tests/federation, awaited without blocking this loop (the servers
    it talks to run in it); its output."""
    node, _ = require_node()
    proc = await asyncio.create_subprocess_exec(
        node,
        *args,
        cwd=GATEWAY_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"node {' '.join(args)} exited {proc.returncode}:\n{text}"
    return text


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


@contextlib.asynccontextmanager
async def gateway(supergraph: Path, log: Path) -> AsyncIterator[str]:
    node, _ = require_node()
    port = free_port()
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *(node, "node_modules/.bin/hive-gateway", "supergraph", str(supergraph)),
            *("--host", "127.0.0.1", "--port", str(port), "--fork", "1"),
            cwd=GATEWAY_DIR,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):  # up to 60 s on a loaded machine
                if proc.returncode is not None:
                    raise AssertionError(f"hive-gateway exited:\n{read(log)}")
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readiness")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"hive-gateway never got ready:\n{read(log)}")
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()


@dataclass
class Supergraph:
    url: str
    sdl: str
    ecehub_url: str
    tokens: dict[str, str]
    inside: str  # the provider's program
    outside: str  # a program outside its scope

    async def query(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self._post(self.url, role, query, variables)

    async def ecehub(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self._post(self.ecehub_url, role, query, variables)

    async def _post(self, url: str, role: str, query: str, variables: dict[str, Any] | None) -> Any:
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(
                url,
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {self.tokens[role]}"},
            )
        assert response.status_code == 200, response.text
        return response.json()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def supergraph(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Supergraph]:
    _, npm = require_node()
    npm_ci(npm, GATEWAY_DIR)
    tmp = tmp_path_factory.mktemp("federation")
    key = DevKey.load_or_create(tmp / "keys")
    admin = key.mint(sub="admin@state.example", roles=["state_admin"])
    async with ecehub_server(tmp, key) as ecehub_url, partner_server() as partner_url:
        async with httpx.AsyncClient() as client:
            listed = await client.post(
                ecehub_url,
                json={"query": "{ programs(first: 3) { nodes { id } } }"},
                headers={"Authorization": f"Bearer {admin}"},
            )
        inside, outside = [n["id"] for n in listed.json()["data"]["programs"]["nodes"]][:2]
        BOOK.ratings.update({inside: 4, outside: 5})
        tokens = {
            "admin": admin,
            "provider": key.mint(sub="director@abc.example", roles=["provider"], programs=[inside]),
        }
        out = tmp / "supergraph.graphql"
        env = {
            **os.environ,
            "ECEHUB_URL": ecehub_url,
            "ECEHUB_SCHEMA_TOKEN": admin,
            "PARTNER_URL": partner_url,
        }
        await run_node("node_modules/.bin/mesh-compose", "-o", str(out), env=env)
        async with gateway(out, tmp / "gateway.log") as url:
            yield Supergraph(url, out.read_text(), ecehub_url, tokens, inside, outside)
    BOOK.ratings.clear()


async def test_the_supergraph_has_both_subgraphs_types(supergraph: Supergraph) -> None:
    sdl = supergraph.sdl
    assert 'join__graph(name: "ecehub"' in sdl and 'join__graph(name: "partner"' in sdl
    assert "partnerRating" in sdl and "topRated" in sdl
    assert "fundingReport" in sdl and "supportSummary" in sdl


async def test_a_query_from_ecehub_joins_the_partners_rating(supergraph: Supergraph) -> None:
    query = "query($id: ID!) { program(id: $id) { id name partnerRating } }"
    BOOK.asked.clear()
    body = await supergraph.query("provider", query, {"id": supergraph.inside})
    assert "errors" not in body, body
    direct = await supergraph.ecehub(
        "provider", "query($id: ID!) { program(id: $id) { name } }", {"id": supergraph.inside}
    )
    assert body["data"]["program"] == {
        "id": supergraph.inside,
        "name": direct["data"]["program"]["name"],
        "partnerRating": 4,
    }
    assert direct["data"]["program"]["name"]
    assert BOOK.asked == [supergraph.inside]


async def test_a_program_outside_the_providers_scope_stays_refused(
    supergraph: Supergraph,
) -> None:
    query = "query($id: ID!) { program(id: $id) { id name partnerRating } }"
    BOOK.asked.clear()
    body = await supergraph.query("provider", query, {"id": supergraph.outside})
    assert body["data"]["program"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body
    assert BOOK.asked == []


async def test_a_query_from_the_partner_gets_only_what_ecehub_allows(
    supergraph: Supergraph,
) -> None:
    """``topRated`` comes from the partner; the gateway asks ecehub's ``_entities`` for each
    program's name with the provider's token: the outside program's name stays null."""
    query = "{ topRated { id partnerRating name } }"
    as_provider = await supergraph.query("provider", query)
    as_admin = await supergraph.query("admin", query)
    assert "errors" not in as_admin, as_admin
    names = {p["id"]: p["name"] for p in as_admin["data"]["topRated"]}
    assert all(names.values())
    assert [p["id"] for p in as_admin["data"]["topRated"]] == [
        supergraph.outside,
        supergraph.inside,
    ]
    assert as_provider["data"]["topRated"] == [
        {"id": supergraph.outside, "partnerRating": 5, "name": None},
        {"id": supergraph.inside, "partnerRating": 4, "name": names[supergraph.inside]},
    ]
    assert names[supergraph.outside] not in str(as_provider)
    codes = [e.get("extensions", {}).get("code") for e in as_provider.get("errors", [])]
    assert "NOT_FOUND" in codes, as_provider
