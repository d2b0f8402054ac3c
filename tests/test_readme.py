"""The README's examples work as written: the mutation walkthrough, run against the demo with
the state administrator's token, answers what the README says it answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ecehub.auth.devtokens import DevKey
from ecehub.config import parse_config
from ecehub.config.canonical import ENTITIES
from ecehub.demo.hub_seed import DEFAULT_HUB_PROGRAMS
from tests.graph_helpers import demo_graph

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _walkthrough() -> list[str]:
    start = README.index("A walkthrough that works as written in the demo")
    end = README.index("Each root field of a mutation is its own", start)
    return re.findall(r"```graphql\n(.*?)```", README[start:end], re.S)


async def test_the_mutation_walkthrough_works_as_written(tmp_path: Path) -> None:
    read, create, update = _walkthrough()
    key = DevKey.load_or_create(tmp_path / "keys")
    admin = key.mint(sub="state.admin@clearwater.example", roles=["state_admin"])
    async with demo_graph(
        tmp_path, programs=60, dev_key=key, hub_programs=DEFAULT_HUB_PROGRAMS
    ) as (_, client):
        programs = await client.query(read, token=admin)
        [program] = programs["data"]["programs"]["nodes"]
        goal = program["qip"]["goals"][0]["id"]
        created = await client.query(create.replace("<a goal's id>", goal), token=admin)
        task = created["data"]["createQipTask"]
        assert (task["version"], task["status"]) == (1, "NOT_STARTED")
        done = update.replace("<the task's id>", task["id"])
        updated = await client.query(done, token=admin)
        assert updated["data"]["updateQipTask"] == {
            "id": task["id"],
            "version": 2,
            "status": "DONE",
            "minutesSpent": 150,
        }
        replay = await client.query(done, token=admin)
    [error] = replay["errors"]
    assert error["extensions"]["code"] == "VERSION_CONFLICT"
    assert error["extensions"]["currentVersion"] == 2


def _yaml_after(heading: str) -> str:
    start = README.index(heading)
    found = re.search(r"```yaml\n(.*?)```", README[start:], re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("heading", "kind"),
    [("### CSV files (`kind: csv`)", "csv"), ("### A GraphQL API (`kind: graphql`)", "graphql")],
)
def test_the_source_examples_load(heading: str, kind: str, tmp_path: Path) -> None:
    env = {
        "REGISTRY_TOKEN": "t",
        "PARTNER_GRAPHQL_URL": "https://partner.example.org/graphql",
        "PARTNER_TOKEN": "t",
    }
    data = yaml.safe_load(_yaml_after(heading))
    config = parse_config(data, env=env, config_dir=tmp_path)
    [source] = config.sources.values()
    assert source.kind == kind and len(source.entities) == 2


def test_the_rest_dialect_examples_load() -> None:
    data = yaml.safe_load(_yaml_after("### REST dialects"))
    config = parse_config(data)
    soda, odata = config.sources.values()
    assert soda.query.param == "$where" and odata.query.param == "$filter"  # type: ignore[attr-defined]
    assert odata.query.member("Id", ["'1'", "'2'"]) == "(Id eq '1' or Id eq '2')"  # type: ignore[attr-defined]
    assert odata.pagination.page_size == 500  # type: ignore[attr-defined]


def test_the_rest_search_example_loads() -> None:
    data = yaml.safe_load(_yaml_after("**POST search bodies.**"))
    [source] = parse_config(data).sources.values()
    search = source.entities["program"].search  # type: ignore[attr-defined]
    assert search.style == "page" and search.takes_keys
    assert set(search.filters) == {"city", "license_status", "identifier:LICENSE_NUMBER"}


def _canonical_guide() -> dict[str, str]:
    """The README's guide to the canonical fields: each entity's paragraph (and table), by
    the entity named in bold at its start."""
    start = README.index("### The canonical fields")
    end = README.index("\n### ", start + 1)
    found: dict[str, str] = {}
    for part in re.split(r"\n(?=\*\*[a-z_]+\*\*)", README[start:end])[1:]:
        name = re.match(r"\*\*([a-z_]+)\*\*", part)
        assert name is not None
        found[name.group(1)] = part
    return found


def test_the_canonical_guide_covers_every_canonical_field() -> None:
    guide = _canonical_guide()
    assert set(guide) == set(ENTITIES)
    for name, spec in ENTITIES.items():
        missing = [f for f in spec.fields if f"`{f}`" not in guide[name]]
        assert not missing, f"README's guide to `{name}` does not say what {missing} are"
        for field in spec.fields:
            # each field's row (or entry) says its canonical type
            kind = spec.fields[field]
            assert re.search(rf"`{field}`[^(|]*?[(|]\s*{kind}\b", guide[name]), (name, field)
