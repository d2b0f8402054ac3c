"""QRIS levels on different scales (issue 11, item 1): two states' sources, a SQLite one rating
0-4 where 0 means "not participating" (and ``NA`` for no rating) and a REST one on loopback
rating 1-5. ``qrisLevelMin`` compares the normalised level (README "QRIS scales") across both,
exactly: every page of every threshold is checked against a brute-force expectation computed
here from the README's definition, not from the hub's code."""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.connectors.base import FieldFilter
from ecehub.connectors.sql import SqlConnector, SqlSourceConfig
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient
from tests.serving import loopback

# State A (SQLite): 0-4, 0 = not participating, NA = no rating, 7 = a level off the scale,
# G (gold) = 4 by `values`.
A_LEVELS = ["0", "1", "2", "3", "4", "NA", "7", None, "G"]
A_COUNT = 48
# State B (REST): 1-5; its first programs share a license number with state A's (merged).
B_COUNT = 36
SHARED = 12


def _a_level(i: int) -> str | None:
    return A_LEVELS[i % len(A_LEVELS)]


def _b_level(i: int) -> int | None:
    return None if i % 7 == 6 else 1 + (i * 3) % 5


def _license_a(i: int) -> str:
    return f"LIC-{i:04d}"


def _license_b(i: int) -> str:
    return _license_a(i) if i < SHARED else f"LIC-B{i:04d}"


def _reference(level: int, low: int, high: int) -> Fraction:
    """The README's normalised level: lowest rated 1, highest 5, linear, two decimals half up."""
    exact = 1 + Fraction(4 * (level - low), high - low)
    return Fraction(math.floor(exact * 100 + Fraction(1, 2)), 100)


def _a_canonical(i: int) -> int | None:
    """State A's level ``i`` as the config's `values` read it (without a scale)."""
    text = _a_level(i)
    return {None: None, "NA": None, "G": 4}[text] if text in (None, "NA", "G") else int(text)


def _normalised_a(i: int) -> Fraction | None:
    level = _a_canonical(i)
    if level is None or level == 0 or not 0 <= level <= 4:  # not participating / off scale
        return None
    return _reference(level, 1, 4)


def _normalised_b(level: int | None) -> Fraction | None:
    return None if level is None else _reference(level, 1, 5)


def _expected_positions() -> dict[str, list[Fraction | None]]:
    """Each program (by name as shown: state A's name wins, it comes first) and the
    normalised levels of its records."""
    out: dict[str, list[Fraction | None]] = {}
    for i in range(A_COUNT):
        out[f"A {i}"] = [_normalised_a(i)]
    for i in range(B_COUNT):
        name = f"A {i}" if i < SHARED else f"B {i}"
        out.setdefault(name, []).append(_normalised_b(_b_level(i)))
    return out


@dataclass
class Api:
    requests: list[dict[str, str]] = field(default_factory=list)


def _app(api: Api) -> web.Application:
    providers = [
        {"id": i, "name": f"B {i}", "license": _license_b(i), "level": _b_level(i)}
        for i in range(B_COUNT)
    ]

    async def listing(request: web.Request) -> web.Response:
        query = dict(request.query)
        api.requests.append(query)
        found = providers
        if "levels" in query:
            wanted = {int(v) for v in query["levels"].split(",") if v}
            found = [p for p in found if p["level"] in wanted]
        if "ids" in query:
            ids = {int(v) for v in query["ids"].split(",")}
            found = [p for p in found if p["id"] in ids]
        if "licenses" in query:
            licenses = set(query["licenses"].split(","))
            found = [p for p in found if p["license"] in licenses]
        size = int(query.get("per_page", "1000"))
        start = (int(query.get("page", "1")) - 1) * size
        return web.json_response(found[start : start + size])

    app = web.Application()
    app.router.add_get("/providers", listing)
    return app


def _state_a_db(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE provider (id INTEGER PRIMARY KEY, name TEXT, lic TEXT, lvl TEXT)")
        db.executemany(
            "INSERT INTO provider VALUES (?, ?, ?, ?)",
            [(i, f"A {i}", _license_a(i), _a_level(i)) for i in range(A_COUNT)],
        )
        db.commit()
    return f"sqlite+aiosqlite:///{path}"


def _config(url: str, tmp_path: Path, *, scaled: bool = True) -> dict[str, Any]:
    state_a: dict[str, Any] = {
        "table": "provider",
        "key": "id",
        "fields": {"name": "name", "qris_level": "lvl"},
        "identifiers": {"LICENSE_NUMBER": "lic"},
        "values": {"qris_level": {"NA": None, "G": "4"}},
    }
    state_b: dict[str, Any] = {
        "path": "/providers",
        "key": "id",
        "fields": {"name": "name", "qris_level": "level"},
        "identifiers": {"LICENSE_NUMBER": "license"},
        "batch": {"param": "ids", "max": 1000},
        "filters": {
            "qris_level": {"param": "levels", "op": "in"},
            "identifier:LICENSE_NUMBER": {"param": "licenses", "op": "in", "max": 1000},
        },
    }
    if scaled:
        state_a["scales"] = {"qris_level": {"min": 0, "max": 4, "not_participating": [0]}}
        state_b["scales"] = {"qris_level": {"min": 1, "max": 5}}
    return {
        "sources": {
            "state_a": {
                "kind": "sql",
                "url": _state_a_db(tmp_path / "state_a.db"),
                "support_types": ["QRIS"],
                "entities": {"program": state_a},
            },
            "state_b": {
                "kind": "rest",
                "base_url": url,
                "records_path": "",
                "support_types": ["QRIS"],
                "pagination": {"style": "page", "size_param": "per_page", "page_size": 1000},
                "entities": {"program": state_b},
            },
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        "cache": {"backend": "none"},
    }


@contextlib.asynccontextmanager
async def _graph(tmp_path: Path, *, scaled: bool = True) -> AsyncIterator[tuple[Api, GraphClient]]:
    api = Api()
    async with loopback(_app(api)) as url:
        path = tmp_path / "ecehub.yaml"
        path.write_text(yaml.safe_dump(_config(url, tmp_path, scaled=scaled), sort_keys=False))
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
    nodes {
      name
      qrisRating {
        level normalisedLevel participating source scale { min max notParticipating }
      }
    }
  }
}
"""


async def _all(client: GraphClient, flt: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every program the filter lists, page by page (7 a page, so pages cross sources)."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await client.query(PAGE, {"first": 7, "after": after, "filter": flt})
        assert "errors" not in body, body["errors"]
        page = body["data"]["programs"]
        nodes.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_qris_level_min_compares_normalised_levels_across_scales(tmp_path: Path) -> None:
    expected = _expected_positions()
    async with _graph(tmp_path) as (api, client):
        everyone = await _all(client, None)
        assert sorted(n["name"] for n in everyone) == sorted(expected)
        for threshold in range(0, 7):
            api.requests.clear()
            found = [n["name"] for n in await _all(client, {"qrisLevelMin": threshold})]
            assert len(found) == len(set(found)), threshold  # each program once
            wanted = {
                name
                for name, positions in expected.items()
                if any(p is not None and p >= threshold for p in positions)
            }
            assert set(found) == wanted, threshold
            if 1 < threshold <= 5:
                # Pushed down to the REST source as its own levels, not as a range.
                sent = {r["levels"] for r in api.requests if "levels" in r}
                assert sent == {",".join(str(v) for v in range(threshold, 6))}, sent
    # The thresholds are not vacuous: each one splits the programs differently.
    assert (
        len(
            {
                frozenset(
                    n for n, ps in expected.items() if any(p is not None and p >= t for p in ps)
                )
                for t in range(1, 6)
            }
        )
        == 5
    )


async def test_a_rating_shows_its_scale_and_normalised_level(tmp_path: Path) -> None:
    async with _graph(tmp_path) as (_, client):
        nodes = {n["name"]: n["qrisRating"] for n in await _all(client, None)}
    # State A's record comes first (precedence) and has a level: shown from it.
    scale_a = {"min": 0, "max": 4, "notParticipating": [0]}
    assert _a_level(18) == "0" and nodes["A 18"] == {  # level 0: not participating
        "level": 0,
        "normalisedLevel": None,
        "participating": False,
        "source": "state_a",
        "scale": scale_a,
    }
    assert nodes["A 3"]["level"] == 3 and nodes["A 3"]["normalisedLevel"] == 3.67
    assert nodes["A 2"]["normalisedLevel"] == 2.33 and nodes["A 4"]["normalisedLevel"] == 5
    assert nodes["A 1"]["participating"] is True
    assert _a_level(17) == "G" and nodes["A 17"] == {  # gold, 4 by `values`
        "level": 4,
        "normalisedLevel": 5,
        "participating": True,
        "source": "state_a",
        "scale": scale_a,
    }
    # NA (mapped to null) and 7 (off the scale): no level in state A; the shared ones show
    # state B's, the others have none.
    assert _a_level(5) == "NA" and nodes["A 5"]["source"] == "state_b"
    assert nodes["A 5"]["level"] == _b_level(5) == nodes["A 5"]["normalisedLevel"]
    assert _a_level(15) == "7" and nodes["A 15"] is None
    assert nodes["B 22"] == {
        "level": _b_level(22),
        "normalisedLevel": _b_level(22),
        "participating": True,
        "source": "state_b",
        "scale": {"min": 1, "max": 5, "notParticipating": []},
    }


async def test_levels_mapped_to_null_keep_range_filters_working_without_a_scale(
    tmp_path: Path,
) -> None:
    """The issue's failure: `values` on a level (NA -> null) and then `qrisLevelMin`. Without
    scales the levels are compared as they are (the default), and the SQL source, which
    cannot compare a mapped field by range, is filtered by the hub instead of failing."""
    async with _graph(tmp_path, scaled=False) as (_, client):
        for threshold in (1, 3, 5):
            found = {n["name"] for n in await _all(client, {"qrisLevelMin": threshold})}
            wanted = {f"A {i}" for i in range(A_COUNT) if (_a_canonical(i) or -1) >= threshold}
            wanted |= {
                f"A {i}" if i < SHARED else f"B {i}"
                for i in range(B_COUNT)
                if (_b_level(i) or 0) >= threshold
            }
            assert found == wanted, threshold
            nodes = {n["name"]: n["qrisRating"] for n in await _all(client, None)}
        # Without a scale the normalised level is the level itself, and no scale is shown.
        assert nodes["A 15"] == {
            "level": 7,
            "normalisedLevel": 7,
            "participating": True,
            "source": "state_a",
            "scale": None,
        }


@pytest.mark.parametrize("threshold", [2, 4])
async def test_qris_level_eq_stays_the_sources_own_level(tmp_path: Path, threshold: int) -> None:
    async with _graph(tmp_path) as (_, client):
        found = {n["name"] for n in await _all(client, {"qrisLevel": threshold})}
    wanted = {f"A {i}" for i in range(A_COUNT) if _a_canonical(i) == threshold}
    wanted |= {
        f"A {i}" if i < SHARED else f"B {i}" for i in range(B_COUNT) if _b_level(i) == threshold
    }
    assert found == wanted


async def test_a_level_off_the_declared_scale_is_null_and_accounted(tmp_path: Path) -> None:
    program = _config("http://127.0.0.1:9", tmp_path)["sources"]["state_a"]
    connector = SqlConnector("state_a", SqlSourceConfig.model_validate(program))
    try:
        page = await connector.find("program")
    finally:
        await connector.aclose()
    levels = {r.key: r.fields["qris_level"] for r in page.records}
    off = [i for i in range(A_COUNT) if _a_level(i) == "7"]
    assert off and all(levels[str(i)] is None for i in off)
    assert levels["4"] == 4 and levels["17"] == 4  # G is 4 by `values`
    assert levels["9"] == 0  # 0 is a level (not participating), kept
    found = connector.unparsable()[("program", "qris_level")]
    assert found.count == len(off) and found.kind == "level 0..4"
    assert found.examples[0] == "'7'"


def test_filters_on_fields_with_values_are_pushed_down_only_where_exact(tmp_path: Path) -> None:
    program = _config("http://127.0.0.1:9", tmp_path)["sources"]["state_a"]
    program["entities"]["program"]["fields"]["program_type"] = "kind"
    program["entities"]["program"]["values"]["program_type"] = {"CTR": "ChildCare"}
    connector = SqlConnector("state_a", SqlSourceConfig.model_validate(program))
    pushes = connector.pushes_down
    assert pushes("program", FieldFilter("program_type", "in", ["ChildCare"]))  # text codes
    assert not pushes("program", FieldFilter("program_type", "gte", "C"))  # codes don't order
    # A level with codes (G = 4): the source holds text a typed comparison cannot read.
    assert not pushes("program", FieldFilter("qris_level", "in", [4]))
    assert not pushes("program", FieldFilter("qris_level", "gte", 4))
    assert pushes("program", FieldFilter("name", "contains", "A"))
