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


# -- "Connect your own system: three worked examples" -------------------------------------------
def _examples_section() -> str:
    start = README.index("## Connect your own system: three worked examples")
    return README[start : README.index("\n## ", start + 1)]


def test_the_examples_yaml_is_the_example_configs() -> None:
    """Each YAML block of the walk-through is one example config's source block, verbatim."""
    from examples.systems import CONFIGS

    blocks = re.findall(r"```yaml\n(.*?)```", _examples_section(), re.S)
    files = {name: CONFIGS[name].read_text(encoding="utf-8") for name in CONFIGS}
    assert len(blocks) == 3
    for block, name in zip(blocks, ["opendata", "pir", "statefile"], strict=True):
        assert block in files[name] and block in files["state"], name


def _timeless(text: str) -> str:
    return re.sub(r" *\d+\.\d ms", " - ms", text)


async def test_the_examples_profile_and_trace_are_what_the_commands_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pasted `ecehub check --profile` output and the trace figure, against a fresh run
    (milliseconds aside): they cannot go stale."""
    from ecehub.cli.server import _check
    from examples.systems import CONFIGS, ExampleSystems
    from examples.trace import first_page

    section = _examples_section()
    command = re.search(
        r"`ecehub check --profile --sample (\d+) --config examples/state.yaml`", section
    )
    assert command is not None
    pasted = section[section.index("```\n", command.end()) + 4 :]
    pasted = pasted[: pasted.index("```")]
    async with ExampleSystems(tmp_path) as systems:
        for name, value in systems.env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        assert await _check(str(CONFIGS["state"]), int(command.group(1))) == 0
        printed = capsys.readouterr().out
        page = await first_page(systems)
    assert _timeless(pasted) == _timeless(printed)
    figure = {
        m.group(1): [int(m.group(2)), int(m.group(3)), int(m.group(4))]
        for m in re.finditer(r"\| `(\w+)` \| (\d+) \| (\d+) \| (\d+) \|", section)
    }
    traced = {n: [s["calls"], s["requests"], s["rows"]] for n, s in page.trace.items()}
    assert figure == traced
    assert f"open-data API: {page.served} request received" in section
