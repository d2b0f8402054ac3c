"""The three example systems (examples/, issue 11 item 9) connected by their configs, as the
README walks through them: each config loads, ``ecehub check --profile`` counts exactly the
values the generator planted wrong, and through GraphQL the dates, levels, names and yearly
enrollment read as declared, and the supportTypes + city first page is the right 10 programs
in at most 2 calls per source. Real systems: the open-data API on loopback, the report table
in SQLite (and PostgreSQL and MariaDB), the provider file on disk."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ecehub.app import create_app
from ecehub.cli.server import _check
from ecehub.config import load_config, parse_config
from ecehub.resolvers.runtime import Runtime
from examples.systems import CONFIGS, ExampleSystems
from examples.trace import FIRST_PAGE_FILTER, first_page
from examples.world import PIR_YEARS, World


@pytest.fixture
async def systems(tmp_path: Path) -> AsyncIterator[ExampleSystems]:
    async with ExampleSystems(tmp_path) as running:
        yield running


def _profile(out: str) -> dict[str, dict[str, list[int]]]:
    """``check --profile`` output as {source.entity: {field: [filled, empty, unparsable]}}."""
    tables: dict[str, dict[str, list[int]]] = {}
    current: dict[str, list[int]] = {}
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("    ") and "records read" in line:
            current = tables.setdefault(line.split(":")[0].strip(), {})
        elif line.startswith("    ") and line.split()[0] != "field":
            words = line.split()
            at = 2 if words[0] == "identifier" else 1
            current[" ".join(words[:at])] = [int(w) for w in words[at : at + 3]]
    return tables


async def _check_profile(
    systems: ExampleSystems, config: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> str:
    for name, value in systems.env.items():
        monkeypatch.setenv(name, value)
    assert await _check(str(CONFIGS[config]), 1000) == 0
    out: str = capsys.readouterr().out
    return out


def test_the_combined_config_holds_each_system_config_unchanged() -> None:
    """state.yaml repeats each system's source block: they must not drift apart."""
    combined = yaml.safe_load(CONFIGS["state"].read_text(encoding="utf-8"))
    for name in ("opendata", "pir", "statefile"):
        own = yaml.safe_load(CONFIGS[name].read_text(encoding="utf-8"))
        assert combined["sources"][name] == own["sources"][name], name
        assert own["merge"] == combined["merge"]


async def test_every_config_loads(systems: ExampleSystems) -> None:
    for name, path in CONFIGS.items():
        config = load_config(path, env=systems.env)
        expected = {"opendata", "pir", "statefile"} if name == "state" else {name}
        assert set(config.sources) == expected


@pytest.mark.parametrize("config", ["opendata", "pir", "statefile"])
async def test_check_profile_counts_what_the_generator_planted(
    systems: ExampleSystems, config: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    tables = _profile(await _check_profile(systems, config, monkeypatch, capsys))
    world = systems.world
    if config == "opendata":
        rows = tables["opendata.program"]
        assert rows["licensed_capacity"] == [
            sum(f.total_capacity is not None for f in world.facilities),
            sum(f.total_capacity is None for f in world.facilities),  # left out: empty
            0,
        ]
        assert rows["license_issued"][2] == 0  # "2019-05-01T00:00:00.000" reads as a date
        assert rows["identifier LICENSE_NUMBER"] == [len(world.facilities), 0, 0]
    elif config == "pir":
        programs = {(r.grant_number, r.program_number) for r in world.pir}
        assert tables["pir.program"]["period"] == [len(programs), 0, 0]  # one per program
        assert tables["pir.enrollment"]["count"] == [len(world.pir), 0, 0]  # one per year
    else:
        rows = tables["statefile.program"]
        planted = world.planted["statefile"]
        providers = world.providers
        assert planted["qris_rated_on"] > 0 and planted["qris_level"] > 0
        na_dates = sum(p.rating_date == "NA" for p in providers)
        na_levels = sum(p.qris_level == "NA" for p in providers)
        # NA is no value (empty), a planted bad value is unparsable: exactly those.
        assert rows["qris_rated_on"] == [
            len(providers) - na_dates - planted["qris_rated_on"],
            na_dates,
            planted["qris_rated_on"],
        ]
        assert rows["qris_level"] == [
            len(providers) - na_levels - planted["qris_level"],
            na_levels,
            planted["qris_level"],
        ]
        assert rows["license_expires"][2] == 0 and rows["name"] == [len(providers), 0, 0]


@pytest.fixture
async def graph(systems: ExampleSystems) -> AsyncIterator[tuple[World, httpx.AsyncClient]]:
    config = load_config(CONFIGS["state"], env=systems.env)
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield systems.world, client
    finally:
        await runtime.aclose()


async def _programs(client: httpx.AsyncClient, source: str) -> list[dict[str, Any]]:
    query = """query($filter: ProgramFilter) { programs(first: 500, filter: $filter) {
      pageInfo { hasNextPage }
      nodes { name names identifiers { system value source }
        license { number expiresOn } qrisRating { level normalisedLevel participating ratedOn }
        periods enrollment { total periods counts { count period source } } } } }"""
    answer = await client.post(
        "/graphql", json={"query": query, "variables": {"filter": {"sources": [source]}}}
    )
    body = answer.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["programs"]["pageInfo"]["hasNextPage"] is False
    nodes: list[dict[str, Any]] = body["data"]["programs"]["nodes"]
    return nodes


def _identifier(node: dict[str, Any], system: str, source: str) -> str:
    [value] = [
        i["value"] for i in node["identifiers"] if (i["system"], i["source"]) == (system, source)
    ]
    return str(value)


NORMALISED = {"1": 1.0, "2": 2.33, "3": 3.67, "4": 5.0}
"""The 0-4 scale on the reference 1-5 scale, as README "QRIS scales" tabulates it."""


async def test_dates_levels_and_names_read_as_the_state_file_declares(
    graph: tuple[World, httpx.AsyncClient],
) -> None:
    world, client = graph
    by_provider = {
        _identifier(n, "QRIS_PROVIDER_ID", "statefile"): n
        for n in await _programs(client, "statefile")
    }
    assert set(by_provider) == {p.provider_id for p in world.providers}
    seen = {"m/d/yy": 0, "not participating": 0, "top": 0, "quoted": 0, "backslash": 0}
    for provider in world.providers:
        node = by_provider[provider.provider_id]
        rating = node["qrisRating"]
        # M/D/YY, read independently here: '3/31/22' is 2022-03-31.
        try:
            read = dt.datetime.strptime(provider.rating_date, "%m/%d/%y").date()
            rated: str | None = read.isoformat()
        except ValueError:
            rated = None  # NA, or planted day-first
        if provider.qris_level in ("NA", "7"):
            assert rating is None, provider  # no level: no rating (7 is off the scale)
        else:
            assert rating["ratedOn"] == rated, provider
            assert rating["level"] == int(provider.qris_level)
            seen["m/d/yy"] += rated is not None and len(provider.rating_date) < 8
            if provider.qris_level == "0":
                assert (rating["participating"], rating["normalisedLevel"]) == (False, None)
                seen["not participating"] += 1
            else:
                assert rating["participating"] is True
                assert rating["normalisedLevel"] == NORMALISED[provider.qris_level]
                seen["top"] += provider.qris_level == "4"
        # The file's name comes back cleaned among the program's names.
        assert provider.true_name in node["names"], (provider.provider_name, node["names"])
        assert all('"' not in n and "\\" not in n for n in node["names"])
        seen["quoted"] += '"' in provider.provider_name
        seen["backslash"] += "\\" in provider.provider_name
    assert all(seen.values()), seen  # every oddity was met, not just passed over


async def test_the_report_shows_the_latest_year_never_a_sum(tmp_path: Path, db_url: str) -> None:
    """Composite key and period on every backend: a program is grant + program number; its
    enrollment is the latest year's, its periods are the report years."""
    async with ExampleSystems(tmp_path, pir_url=db_url) as systems:
        config = load_config(CONFIGS["state"], env=systems.env)
        runtime = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, runtime))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                nodes = await _programs(client, "pir")
        finally:
            await runtime.aclose()
    rows = systems.world.pir
    by_grant: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        by_grant.setdefault(_identifier(node, "HEAD_START_GRANT", "pir"), []).append(node)
    programs = {(r.grant_number, r.program_number) for r in rows}
    assert len(nodes) == len(programs)  # one program per grant and program number, not per row
    assert any(len(v) == 2 for v in by_grant.values())  # a grant of two programs stays two
    latest = {(r.grant_number, r.program_number): r for r in rows if r.report_year == PIR_YEARS[-1]}
    for grant, grant_nodes in by_grant.items():
        wanted = sorted(r.cumulative_enrollment for k, r in latest.items() if k[0] == grant)
        totals = sorted(n["enrollment"]["total"] for n in grant_nodes)
        assert totals == wanted, grant
        for node in grant_nodes:
            assert node["periods"] == [str(y) for y in reversed(PIR_YEARS)]
            assert node["enrollment"]["periods"] == [str(PIR_YEARS[-1])]
            summed = sum(r.cumulative_enrollment for r in rows if r.grant_number == grant)
            assert node["enrollment"]["total"] < summed


def _springfield(world: World) -> list[Any]:
    """Brute force: the licensed facilities in Springfield, any case, in the API's order."""
    return [f for f in world.facilities if f.city.strip().casefold() == "springfield"]


async def test_the_first_page_is_the_right_ten_in_two_calls_per_source(
    systems: ExampleSystems,
) -> None:
    page = await first_page(systems)
    assert "errors" not in page.body, page.body["errors"]
    programs = page.body["data"]["programs"]
    wanted = _springfield(systems.world)
    assert len(wanted) > 10 and programs["pageInfo"]["hasNextPage"] is True
    got = [(n["name"], n["address"]["city"], n["license"]["number"]) for n in programs["nodes"]]
    assert got == [(f.operation_name, f.city.strip(), f.operation_number) for f in wanted[:10]]
    # Found in every spelling: the API compares exactly, the hub does not.
    assert len({f.city for f in wanted[:10]}) >= 3
    assert all("LICENSING" in [t["code"] for t in n["supportTypes"]] for n in programs["nodes"])
    trace = page.trace
    assert set(trace) == {"opendata", "pir", "statefile"}
    assert all(s["calls"] <= 2 for s in trace.values()), trace
    assert trace["opendata"]["requests"] == page.served == 1
    # The page merged the other two systems' records on license number.
    codes = {t["code"] for n in programs["nodes"] for t in n["supportTypes"]}
    assert codes == {"LICENSING", "HEAD_START", "QRIS"}


async def test_a_config_that_says_the_api_ignores_case_misses_programs(
    systems: ExampleSystems,
) -> None:
    """Why the opendata config keeps ``case_sensitive: true`` on city: sent as it is, the
    filter finds only the rows the API's exact comparison finds."""
    data = yaml.safe_load(CONFIGS["state"].read_text(encoding="utf-8"))
    data["sources"]["opendata"]["entities"]["program"]["filters"]["city"] = {
        "case_sensitive": False
    }
    config = parse_config(data, env={**os.environ, **systems.env})
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    query = """query($filter: ProgramFilter) { programs(first: 100, filter: $filter) {
      nodes { address { city } } } }"""
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            answer = await client.post(
                "/graphql", json={"query": query, "variables": {"filter": FIRST_PAGE_FILTER}}
            )
    finally:
        await runtime.aclose()
    cities = [n["address"]["city"] for n in answer.json()["data"]["programs"]["nodes"]]
    exact = [f for f in _springfield(systems.world) if f.city == "Springfield"]
    assert len(cities) == len(exact) < len(_springfield(systems.world))
    assert systems.opendata.queries[-1]["$where"] == "city = 'Springfield'"
