"""The crosswalk identity through GraphQL, over the demo sector systems, with the hub store on
SQLite and on PostgreSQL: a confirmed suggestion merges a QRIS provider the shared license
number could not join to its licensing facility; unlinking splits it back; both are audited.
Also: an empty crosswalk gives exactly today's graph, and the config switch is validated."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import Config, load_config, parse_config
from ecehub.crosswalk.identity import SharedIdentifierIdentity
from ecehub.crosswalk.link_identity import CrosswalkIdentity
from ecehub.crosswalk.records import LinkProposal
from ecehub.demo import DemoSystems
from ecehub.demo.records import ProgramTruth, QrisProvider
from ecehub.errors import ConfigError
from ecehub.ids import decode_global_id, encode_global_id
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import NESTED, GraphClient

PROGRAMS = 80
MATCHER = "matcher@ecehub"
RATER = "rater@qris.example"

PROGRAM = """
query($id: ID!) {
  program(id: $id) {
    id
    phone
    sources { source key }
    license { number status }
    qrisRating { level }
  }
}
"""

AUDIT = """
query($id: ID!) {
  audit(programId: $id) { entries { actor action objectType changedFields } }
}
"""


def with_crosswalk(config: Config, entity: str = "program") -> Config:
    merge = dict(config.merge)
    merge[entity] = merge[entity].model_copy(update={"identity": "crosswalk"})
    return config.model_copy(update={"merge": merge})


def without_crosswalk(config: Config) -> Config:
    """The config as it was before the crosswalk: every entity on shared identifiers."""
    merge = {
        e: r.model_copy(update={"identity": "shared_identifier"}) for e, r in config.merge.items()
    }
    return config.model_copy(update={"merge": merge})


@contextlib.asynccontextmanager
async def graph(demo: DemoSystems, config: Config) -> AsyncIterator[tuple[Runtime, GraphClient]]:
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield hub, GraphClient(client)
    finally:
        await hub.aclose()


def demo_config(demo: DemoSystems) -> Config:
    """The demo config without its access rules: every reader sees everything."""
    config = load_config(demo.config_path, env={**os.environ, **demo.env})
    return config.model_copy(update={"access": None})


def unjoined(demo: DemoSystems, license_on_file: str) -> tuple[ProgramTruth, QrisProvider]:
    """A licensed program QRIS knows, with a rating, whose QRIS record has no license number
    (``missing``) or another one (``mistyped``): the shared identifier cannot join them."""
    providers = {p.provider_id: p for p in demo.world.qris.providers}
    for truth in demo.world.truth:
        if truth.license_no is None or truth.qris_provider_id is None:
            continue
        provider = providers[truth.qris_provider_id]
        on_file = provider.license_number
        wanted = on_file is None if license_on_file == "missing" else on_file is not None
        if wanted and on_file != truth.license_no and provider.rating_level is not None:
            return truth, provider
    raise AssertionError(
        f"the demo world has no rated QRIS provider with a {license_on_file} license"
    )


async def program(client: GraphClient, hub_id: str) -> dict[str, Any]:
    body = await client.query(PROGRAM, {"id": encode_global_id("Program", hub_id)})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["program"]
    return found


def refs(found: dict[str, Any]) -> set[tuple[str, str]]:
    return {(s["source"], s["key"]) for s in found["sources"]}


@pytest.mark.parametrize("license_on_file", ["missing", "mistyped"])
async def test_confirming_a_suggestion_merges_and_unlinking_splits(
    tmp_path: Path, hub_db_url: str, license_on_file: str
) -> None:
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path, hub_url=hub_db_url) as demo:
        truth, provider = unjoined(demo, license_on_file)
        assert truth.license_no is not None
        licensed_ref = ("licensing", truth.license_no)
        qris_ref = ("qris", provider.provider_id)
        async with graph(demo, with_crosswalk(demo_config(demo))) as (hub, client):
            licensed = await program(client, f"@licensing:{truth.license_no}")
            hub_id = decode_global_id(licensed["id"], "Program")
            qris_alone = await program(client, f"@qris:{provider.provider_id}")
            qris_hub_id = decode_global_id(qris_alone["id"], "Program")
            # Before: two programs; the licensing one has no QRIS data.
            assert qris_hub_id != hub_id
            assert licensed_ref in refs(licensed) and qris_ref not in refs(licensed)
            assert licensed["qrisRating"] is None and licensed["license"]["status"]
            assert qris_ref in refs(qris_alone) and licensed_ref not in refs(qris_alone)

            store = hub.crosswalk_store
            reasons = ("name 0.94", "same street address", "same phone")
            summary = await store.add_proposals(
                MATCHER,
                "program",
                [LinkProposal(hub_id, "qris", provider.provider_id, 0.87, reasons)],
            )
            assert summary.added == 1
            suggestion = (await store.suggestions("program")).links[0]
            assert (suggestion.hub_id, suggestion.source_key) == (hub_id, provider.provider_id)
            # A suggestion merges nothing.
            assert qris_ref not in refs(await program(client, hub_id))

            confirmed = await store.confirm_link(RATER, suggestion.id, suggestion.version)
            merged = await program(client, hub_id)
            assert merged["id"] == licensed["id"]
            assert {licensed_ref, qris_ref} <= refs(merged)
            assert merged["license"] == licensed["license"]
            assert merged["qrisRating"] == {"level": provider.rating_level}
            assert merged["phone"] == provider.phone  # the demo's merge rule prefers QRIS's
            # The QRIS record's own hub ID stays valid: it now stands for the merged program.
            assert await program(client, f"@qris:{provider.provider_id}") == merged
            if qris_hub_id != f"@qris:{provider.provider_id}":  # mistyped: it had joined another
                wrongly_joined = await program(client, qris_hub_id)
                assert wrongly_joined is None or qris_ref not in refs(wrongly_joined)
            listed = await client.query(NESTED, {"first": 500})
            ids = [node["id"] for node in listed["data"]["programs"]["nodes"]]
            assert ids.count(licensed["id"]) == 1
            assert encode_global_id("Program", f"@qris:{provider.provider_id}") not in ids

            await store.unlink(RATER, confirmed.id, confirmed.version)
            assert await program(client, hub_id) == licensed
            assert await program(client, f"@qris:{provider.provider_id}") == qris_alone

            body = await client.query(AUDIT, {"id": licensed["id"]})
            entries = [e for e in body["data"]["audit"]["entries"] if e["objectType"] != "HUB_ID"]
            assert [(e["actor"], e["action"], e["objectType"]) for e in entries] == [
                (RATER, "DELETE", "CROSSWALK_LINK"),
                (RATER, "UPDATE", "CROSSWALK_LINK"),
                (MATCHER, "CREATE", "CROSSWALK_LINK"),
            ]
            assert "status" in entries[1]["changedFields"]


async def test_an_empty_crosswalk_gives_todays_graph(tmp_path: Path) -> None:
    async with DemoSystems(programs=40, data_dir=tmp_path) as demo:
        config = without_crosswalk(demo_config(demo))
        crosswalk = with_crosswalk(with_crosswalk(with_crosswalk(config), "site"), "staff")
        async with (
            graph(demo, config) as (today, before),
            graph(demo, crosswalk) as (hub, after),
        ):
            assert isinstance(today.request_context().identity, SharedIdentifierIdentity)
            assert isinstance(hub.request_context().identity, CrosswalkIdentity)
            old = await before.query(NESTED, {"first": 60})
            new = await after.query(NESTED, {"first": 60})
            assert "errors" not in new
            assert len(new["data"]["programs"]["nodes"]) > 40
            assert new["data"] == old["data"]
            # One generation check per request; the index loads once and again only after a
            # crosswalk write.
            assert hub.crosswalk.loads == 1
            await after.query(NESTED, {"first": 5})
            assert hub.crosswalk.loads == 1
            await hub.crosswalk_store.link(RATER, "program", "@qris:Q-00001", "qris", "Q-00001")
            await after.query(NESTED, {"first": 5})
            assert hub.crosswalk.loads == 2


def test_the_config_switch_is_validated() -> None:
    rule = {"identity": "crosswalk"}
    assert parse_config({"merge": {"program": rule}}).uses_crosswalk("program")
    assert not parse_config({"merge": {"program": {}}}).uses_crosswalk("program")
    assert not parse_config({}).uses_crosswalk("program")
    with pytest.raises(ConfigError) as wrong_entity:
        parse_config({"merge": {"site": rule, "room": rule}}, file="state.yaml")
    message = str(wrong_entity.value)
    assert message.startswith("state.yaml: invalid configuration\n  merge: ")
    assert "crosswalk is for program, site, staff only, not room" in message
    with pytest.raises(ConfigError) as wrong_value:
        parse_config({"merge": {"program": {"identity": "links"}}}, file="state.yaml")
    assert "merge.program.identity" in str(wrong_value.value)
    assert "crosswalk" in str(wrong_value.value)


async def test_merging_two_programs_and_splitting_them_back(
    tmp_path: Path, hub_db_url: str
) -> None:
    async with DemoSystems(programs=PROGRAMS, data_dir=tmp_path, hub_url=hub_db_url) as demo:
        truth, provider = unjoined(demo, "missing")
        async with graph(demo, with_crosswalk(demo_config(demo))) as (hub, client):
            licensed = await program(client, f"@licensing:{truth.license_no}")
            hub_id = decode_global_id(licensed["id"], "Program")
            qris_hub_id = f"@qris:{provider.provider_id}"
            qris_alone = await program(client, qris_hub_id)
            assert qris_alone["id"] == encode_global_id("Program", qris_hub_id)

            store = hub.crosswalk_store
            change = await store.merge(
                RATER, "program", qris_hub_id, hub_id, version=0, into_version=0
            )
            assert change.links == ()  # the QRIS record had no link: its hub ID now points on
            merged = await program(client, hub_id)
            assert refs(merged) == refs(licensed) | refs(qris_alone)
            assert merged["qrisRating"] == {"level": provider.rating_level}
            assert await program(client, qris_hub_id) == merged

            survivor = change.hub_ids[1]
            await store.split(
                RATER, "program", hub_id, [], version=survivor.version, new_hub_id=qris_hub_id
            )
            assert await program(client, hub_id) == licensed
            assert await program(client, qris_hub_id) == qris_alone

            body = await client.query(AUDIT, {"id": qris_alone["id"]})
            entries = body["data"]["audit"]["entries"]
            assert [(e["actor"], e["action"], e["objectType"]) for e in entries] == [
                (RATER, "UPDATE", "HUB_ID"),
                (RATER, "UPDATE", "HUB_ID"),
                (RATER, "CREATE", "HUB_ID"),
            ]


async def test_a_link_to_a_source_the_config_lacks_is_ignored(tmp_path: Path) -> None:
    async with DemoSystems(programs=20, data_dir=tmp_path) as demo:
        config = with_crosswalk(demo_config(demo))
        async with graph(demo, config) as (hub, client):
            first = (await client.query(NESTED, {"first": 1}))["data"]["programs"]["nodes"][0]
            hub_id = decode_global_id(first["id"], "Program")
            before = await program(client, hub_id)
            await hub.crosswalk_store.link(RATER, "program", hub_id, "retired_system", "R-1")
            assert await program(client, hub_id) == before
            listed = await client.query(NESTED, {"first": 5})
            assert "errors" not in listed, listed
