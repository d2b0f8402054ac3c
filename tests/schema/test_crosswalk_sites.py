"""A licensed facility the crosswalk confirmed as a site of a program, fetched by the ID
``Program.sites`` gives it: ``site(id:)`` and federation's ``_entities`` answer it with the
same fields and under the same access rules (the program's scope), while the link stands;
rejected or unlinked, it is no site. Two real SQLite systems (tests/crosswalk/site_world.py),
real tokens, the app over ASGI."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import load_config
from ecehub.crosswalk.identity import Merged
from ecehub.crosswalk.records import CrosswalkLink
from ecehub.crosswalk.suggest import suggest_sites
from ecehub.hub.enums import LinkKind, LinkStatus
from ecehub.ids import encode_global_id
from ecehub.resolvers.runtime import Runtime
from ecehub.schema.graph import _sites_and_linked
from tests.crosswalk.site_world import make_site_world
from tests.graph_helpers import GraphClient, with_federation

ACCESS = """\
access:
  claims: {roles: roles, programs: programs}
  roles:
    admin: {programs: all, write: [all]}
    ta: {programs: claim}
"""
SITE_FIELDS = """id name address { street city zip } sources { source key }
  crosswalkLink { source sourceKey reasons decidedBy decisionReason }"""
PROGRAM_SITES = f"""query($id: ID!) {{ program(id: $id) {{ sites {{ {SITE_FIELDS} }} }} }}"""
SITE = f"""query($id: ID!) {{ site(id: $id) {{ {SITE_FIELDS} }} }}"""
ENTITIES = f"""query($reps: [_Any!]!) {{ _entities(representations: $reps) {{
  ... on Site {{ {SITE_FIELDS} }} }} }}"""
G1 = encode_global_id("Program", "@head_start:G-1")
G2 = encode_global_id("Program", "@head_start:G-2")


def site_id(license_no: str) -> str:
    """The ID a licensing facility has (as a program and as a linked site): its license."""
    return encode_global_id("Site", f"LICENSE_NUMBER:{license_no}")


@dataclass
class Graph:
    hub: Runtime
    client: GraphClient
    tokens: dict[str, str]

    async def run(self, role: str, query: str, **variables: Any) -> dict[str, Any]:
        return await self.client.query(query, variables, token=self.tokens[role])

    async def ok(self, role: str, query: str, **variables: Any) -> Any:
        body = await self.run(role, query, **variables)
        assert "errors" not in body, body
        return body["data"]

    async def links(self) -> dict[str, CrosswalkLink]:
        return {
            link.source_key: link async for link in self.hub.crosswalk_store.iter_links("program")
        }


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[Graph]:
    world = await make_site_world(tmp_path, ACCESS)
    key = DevKey.load_or_create(tmp_path / "keys")
    config = load_config(world.config_path)
    config = with_federation(config.model_copy(update={"auth": dev_auth_config(key)}))
    tokens = {
        "admin": key.mint(sub="admin@state.example", roles=["admin"]),
        "ta_g1": key.mint(sub="coach1@state.example", roles=["ta"], programs=[G1]),
        "ta_g2": key.mint(sub="coach2@state.example", roles=["ta"], programs=[G2]),
    }
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            graph = Graph(hub, GraphClient(client), tokens)
            await suggest_sites(hub, left="head_start", actor="matcher@ecehub")
            links = await graph.links()
            for facility in ("L-100", "L-200"):
                link = links[facility]
                await hub.crosswalk_store.confirm_link(
                    "admin@state.example", link.id, link.version, "on the grantee's center list"
                )
            yield graph
    finally:
        await hub.aclose()


async def linked_sites(graph: Graph, role: str, program: str) -> dict[str, Any]:
    sites = (await graph.ok(role, PROGRAM_SITES, id=program))["program"]["sites"]
    return {s["id"]: s for s in sites if s["crosswalkLink"] is not None}


async def test_a_confirmed_site_is_fetched_by_its_id_with_the_same_fields(graph: Graph) -> None:
    for role in ("admin", "ta_g1"):
        linked = await linked_sites(graph, role, G1)
        assert set(linked) == {site_id("L-100"), site_id("L-200")}
        for facility_id, shown in linked.items():
            assert (await graph.ok(role, SITE, id=facility_id))["site"] == shown
            reps = [{"__typename": "Site", "id": facility_id}]
            assert (await graph.ok(role, ENTITIES, reps=reps))["_entities"] == [shown]
        shown = linked[site_id("L-200")]
        assert shown["crosswalkLink"]["sourceKey"] == "L-200"
        assert shown["crosswalkLink"]["decisionReason"] == "on the grantee's center list"
        assert shown["sources"] == [{"source": "licensing", "key": "L-200"}]
        assert shown["address"]["street"] == "400 Oak Avenue"  # licensing's, not the center's
    # A facility only suggested (L-300) or never proposed (L-400) is no site.
    for facility in ("L-300", "L-400"):
        assert (await graph.ok("admin", SITE, id=site_id(facility)))["site"] is None
    # The facility is still its own program.
    program = encode_global_id("Program", "LICENSE_NUMBER:L-200")
    own = await graph.ok("admin", "query($id: ID!) { program(id: $id) { name } }", id=program)
    assert own["program"]["name"] == "Valley Community Action Northside Center"


async def test_a_role_outside_the_program_gets_what_it_gets_for_any_site_outside(
    graph: Graph,
) -> None:
    # G-1's own center C-1, as any site outside ta_g2's programs.
    sites = (await graph.ok("admin", PROGRAM_SITES, id=G1))["program"]["sites"]
    [center] = [s for s in sites if s["sources"] == [{"source": "head_start", "key": "C-1"}]]
    for asked in (site_id("L-100"), center["id"]):
        body = await graph.run("ta_g2", SITE, id=asked)
        assert body["data"]["site"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert "among role 'ta''s programs" in error["message"]
        reps = [{"__typename": "Site", "id": asked}]
        refused = await graph.run("ta_g2", ENTITIES, reps=reps)
        assert refused["data"]["_entities"] == [None]
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_rejected_or_unlinked_site_stops_resolving(graph: Graph) -> None:
    links = await graph.links()
    store = graph.hub.crosswalk_store
    await store.reject_link("admin@state.example", links["L-100"].id, links["L-100"].version)
    await store.unlink("admin@state.example", links["L-200"].id, links["L-200"].version)
    assert await linked_sites(graph, "admin", G1) == {}
    for facility in ("L-100", "L-200"):
        assert (await graph.ok("admin", SITE, id=site_id(facility)))["site"] is None
        body = await graph.run("ta_g1", SITE, id=site_id(facility))
        assert body["data"]["site"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Confirmed again, it is a site again.
    rejected = (await graph.links())["L-100"]
    await store.confirm_link("admin@state.example", rejected.id, rejected.version)
    site = (await graph.ok("ta_g1", SITE, id=site_id("L-100")))["site"]
    assert site["crosswalkLink"]["sourceKey"] == "L-100"


def test_a_linked_facility_with_the_id_of_an_own_site_is_one_site() -> None:
    """A Head Start center and the licensed facility of its license number have one ID: the
    program's sites show it once, where the center was, as site(id:) answers it (the
    facility with its link); two links of one facility are one site too."""

    def link(key: str) -> CrosswalkLink:
        return CrosswalkLink(
            id=f"link-{key}",
            version=1,
            created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            created_by="matcher@ecehub",
            updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            updated_by="admin@state.example",
            deleted_at=None,
            deleted_by=None,
            entity="program",
            kind=LinkKind.SITE,
            hub_id="@head_start:G-1",
            source="licensing",
            source_key=key,
            status=LinkStatus.CONFIRMED,
            score=0.97,
            reasons=(),
            auto=False,
            decided_by="admin@state.example",
            decided_at=None,
            decision_reason=None,
        )

    own = [Merged("site", "LICENSE_NUMBER:L-1"), Merged("site", "@head_start:C-2")]
    facility, other = Merged("program", "LICENSE_NUMBER:L-1"), Merged("program", "L-9")
    linked = [(facility, link("L-1")), (other, link("L-9")), (other, link("L-9b"))]
    sites = _sites_and_linked(own, linked)
    assert [(s.merged, s.site_link) for s in sites] == [
        (facility, linked[0][1]),
        (own[1], None),
        (other, linked[1][1]),
    ]
