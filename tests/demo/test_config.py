"""The demo config: the documented copy and the packaged one, loaded against live systems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

import ecehub.demo
from ecehub.config import load_config
from ecehub.config.model import Config
from ecehub.connectors.registry import get_connector_class
from ecehub.demo import DEMO_CONFIG, DemoSystems

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
SUPPORT = {"licensing": "LICENSING", "head_start": "HEAD_START", "qris": "QRIS"}


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[DemoSystems]:
    async with DemoSystems(programs=30, data_dir=tmp_path) as demo:
        yield demo


def test_packaged_copy_is_identical_to_the_documented_one() -> None:
    assert REPO_CONFIG.read_bytes() == DEMO_CONFIG.read_bytes(), (
        "ecehub/demo/demo.yaml must be a copy of config/demo.yaml: cp config/demo.yaml "
        "ecehub/demo/demo.yaml"
    )


def test_exports_are_complete() -> None:
    public = {
        name
        for name in dir(ecehub.demo)
        if not name.startswith("_") and not isinstance(getattr(ecehub.demo, name), type(ecehub))
    }
    assert public == set(ecehub.demo.__all__)


def test_config_loads_with_the_demo_environment(demo: DemoSystems) -> None:
    config = load_config(REPO_CONFIG, env=demo.env)
    assert list(config.sources) == ["licensing", "head_start", "qris"]
    for name, code in SUPPORT.items():
        assert config.sources[name].support_types == [code]
    assert {st.code for st in config.support_types} == set(SUPPORT.values())
    assert config.match_on("program") == ["LICENSE_NUMBER"]
    assert config.match_on("site") == ["LICENSE_NUMBER"]
    assert config.match_on("staff") == ["REGISTRY_ID"]
    assert config.sources["qris"].timeout_s == 3


def test_urls_and_keys_come_only_from_the_environment() -> None:
    raw = yaml.safe_load(REPO_CONFIG.read_text())
    sources = raw["sources"]
    assert sources["licensing"]["url"] == "${LICENSING_DB_URL}"
    assert sources["head_start"]["url"] == "${HEADSTART_DB_URL}"
    assert sources["qris"]["base_url"] == "${QRIS_API_URL}"
    assert sources["qris"]["auth"]["value"] == "${QRIS_API_KEY}"


def test_identifiers_are_declared_where_they_live(demo: DemoSystems) -> None:
    config = load_config(REPO_CONFIG, env=demo.env)
    declared = {
        (source, entity): set(ent.identifiers)
        for source, cfg in config.sources.items()
        for entity, ent in cfg.entities.items()
    }
    assert declared["licensing", "program"] == {"LICENSE_NUMBER"}
    assert declared["head_start", "program"] == {"LICENSE_NUMBER", "HEAD_START_GRANT"}
    assert declared["qris", "program"] == {"LICENSE_NUMBER", "QRIS_PROVIDER_ID"}
    assert declared["head_start", "staff"] == {"REGISTRY_ID"}
    assert declared["qris", "staff"] == {"REGISTRY_ID"}
    entities = {entity for (_, entity) in declared}
    assert entities == {
        "program",
        "site",
        "room",
        "staff",
        "training",
        "checklist",
        "checklist_response",
        "assessment",
        "assessment_score",
        "enrollment",
        "funding",
        "rating",
        "contact",
        "accreditation",
        "capacity",
        "activity",
    }


def _path(record: dict[str, Any], dotted: str) -> bool:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


async def test_every_qris_json_path_exists(demo: DemoSystems) -> None:
    config = load_config(REPO_CONFIG, env=demo.env)
    qris: Any = config.sources["qris"]
    headers = {"X-API-Key": demo.env["QRIS_API_KEY"]}
    async with aiohttp.ClientSession(demo.env["QRIS_API_URL"], headers=headers) as session:
        for entity, ent in qris.entities.items():
            async with session.get(ent.path, params={"per_page": "500"}) as resp:
                records = (await resp.json())["data"]
            assert records, entity
            paths = [ent.key, *ent.fields.values(), *ent.identifiers.values()]
            paths += list(ent.parent.values()) if ent.parent else []
            for path in paths:
                assert all(_path(r, path.split(".")[0]) for r in records), (entity, path)
                assert any(_path(r, path) for r in records), (entity, path)


async def _through_connectors(config: Config) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for name, source in config.sources.items():
        cls = get_connector_class(source.kind)
        async with cls(name, source) as connector:
            assert await connector.verify() == [], name
            assert (await connector.health()).ok, name
            counts[name] = {
                entity: len((await connector.find(entity)).records) for entity in source.entities
            }
    return counts


async def test_the_connectors_read_every_mapped_entity(demo: DemoSystems) -> None:
    config = load_config(REPO_CONFIG, env=demo.env)
    counts = await _through_connectors(config)
    world = demo.world
    assert counts["licensing"]["program"] == len(world.licensing.facilities)
    assert counts["licensing"]["checklist_response"] == len(world.licensing.violations)
    assert counts["head_start"]["program"] == len(world.head_start.centers)
    assert counts["head_start"]["funding"] == len(world.head_start.funding)
    assert counts["qris"]["program"] == len(world.qris.providers)
    assert counts["qris"]["training"] == len(world.qris.trainings)
    assert all(n > 0 for source in counts.values() for n in source.values()), counts
