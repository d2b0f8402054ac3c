"""The `state` and `sources` program filters (issue 11, item 6) over the demo systems: the
same rule as every filter (an object matches when any of its records does; a role filters
only on what it may read), and a source name the config does not have is an error, not an
empty page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecehub.auth.devtokens import DevKey
from tests.graph_helpers import demo_graph

IDS = """query($filter: ProgramFilter) { programs(first: 500, filter: $filter) {
  nodes { id sources { source } } } }"""


async def _ids(client: Any, flt: dict[str, Any] | None, token: str | None = None) -> set[str]:
    body = await client.query(IDS, {"filter": flt}, token=token)
    assert "errors" not in body, body["errors"]
    return {n["id"] for n in body["data"]["programs"]["nodes"]}


async def test_state_and_sources_filter_the_merged_programs(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=30) as (demo, client):
        everything = await _ids(client, None)
        state = demo.world.state_code
        assert await _ids(client, {"state": state}) <= everything
        assert await _ids(client, {"state": f" {state.lower()} "}) == await _ids(
            client, {"state": state}
        )
        assert await _ids(client, {"state": "ZZ"}) == set()
        body = await client.query(IDS, {"filter": None})
        known_by: dict[str, set[str]] = {}
        for node in body["data"]["programs"]["nodes"]:
            for ref in node["sources"]:
                known_by.setdefault(ref["source"], set()).add(node["id"])
        for source, ids in known_by.items():
            assert await _ids(client, {"sources": [source]}) == ids, source
        both = await _ids(client, {"sources": ["head_start", "qris"]})
        assert both == known_by["head_start"] | known_by["qris"]
        # With another filter: the conditions hold together.
        assert await _ids(client, {"sources": ["qris"], "state": "ZZ"}) == set()


async def test_an_unknown_source_name_is_an_error_naming_the_configured_ones(
    tmp_path: Path,
) -> None:
    async with demo_graph(tmp_path, programs=5) as (_, client):
        body = await client.query(IDS, {"filter": {"sources": ["licensin"]}})
    [error] = body["errors"]
    assert "unknown source(s) licensin" in error["message"]
    assert "licensing" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_role_filters_by_source_only_if_it_may_read_a_programs_sources(
    tmp_path: Path,
) -> None:
    key = DevKey.load_or_create(tmp_path / "keys")
    async with demo_graph(tmp_path, programs=5, dev_key=key) as (_, client):
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        assert await _ids(client, {"sources": ["qris"]}, token=admin)
        # Anonymous: the public directory, which does not show a program's sources.
        body = await client.query(
            IDS.replace("sources { source }", "name"), {"filter": {"sources": ["qris"]}}
        )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "cannot filter on sources" in body["errors"][0]["message"]


IDENTIFIED = """query($filter: ProgramFilter) { programs(first: 50, filter: $filter) {
  nodes { id identifiers { system value } } } }"""


async def test_an_identifier_of_any_declared_system_finds_its_program(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=20) as (_, client):
        body = await client.query(IDENTIFIED, {"filter": {"supportTypes": ["QRIS"]}})
        nodes = body["data"]["programs"]["nodes"]
        found = 0
        for node in nodes[:5]:
            for ident in node["identifiers"]:
                flt = {"identifier": {"system": ident["system"], "value": ident["value"].lower()}}
                assert node["id"] in await _ids(client, flt), (node["id"], ident)
                found += 1
        assert found >= 5
        grant = next(
            i for n in nodes for i in n["identifiers"] if i["system"] == "QRIS_PROVIDER_ID"
        )
        # The same as licenseNumber for LICENSE_NUMBER; another system works the same way.
        lic = next(i for n in nodes for i in n["identifiers"] if i["system"] == "LICENSE_NUMBER")
        assert await _ids(
            client, {"identifier": {"system": "LICENSE_NUMBER", "value": lic["value"]}}
        ) == await _ids(client, {"licenseNumber": lic["value"]})
        assert len(await _ids(client, {"identifier": grant})) == 1
        assert (
            await _ids(client, {"identifier": {"system": "QRIS_PROVIDER_ID", "value": "no"}})
            == set()
        )
        wrong = await client.query(
            IDS, {"filter": {"identifier": {"system": "LICENSE_NO", "value": "x"}}}
        )
    [error] = wrong["errors"]
    assert "unknown identifier system 'LICENSE_NO'" in error["message"]
    assert "LICENSE_NUMBER" in error["message"]
