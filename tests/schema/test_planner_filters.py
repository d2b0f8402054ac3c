"""Any combination of program filters lists a first page in a bounded number of source calls,
and lists exactly what the listing semantics say (``ecehub/resolvers/listing.py``).

The world: 2,000 programs over three sources, large enough that a listing scanning a source in
small chunks would show in the trace. ``licensing`` (SQLite, LICENSING) holds 1,600 of them,
``qris`` (a REST API on loopback, QRIS) 1,000, ``head_start`` (SQLite, HEAD_START) 300; one
program in ten is in another city as qris knows it. Every filter pair and triple is asked
for a first page of 10 with the trace on: each source may be called at most twice (its page or
its matches, and the batched look-up of the page's other records), and the page must be the
first ten of a brute-force listing over the full data, written from the semantics alone.
Hypothesis then draws any filters with any values (many matches, few, none) and page sizes.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient, calls_by_source
from tests.serving import loopback

N = 2000
CITIES = [
    "Springfield",
    "Riverside",
    "Fairview",
    "Madison",
    "Georgetown",
    "Franklin",
    "Clinton",
    "Salem",
    "Bristol",
    "Dover",
    "Ashland",
    "Oxford",
]
STATES = ["DC", "MD", "VA"]
STATUSES = ["Licensed", "Provisional", "Expired"]
WORDS = ["Sunshine", "Little Stars", "Bright Start", "Rainbow", "Acorn"]
SOURCES = ("licensing", "qris", "head_start")
TYPE_OF = {"licensing": "LICENSING", "qris": "QRIS", "head_start": "HEAD_START"}


def _license(i: int) -> str:
    return f"LIC-{i:05d}"


def _program(i: int, source: str) -> dict[str, Any]:
    """Program ``i`` as ``source`` knows it (canonical field names); its facts are drawn
    from a generator seeded with ``i``, independent of which sources hold it."""
    draw = random.Random(i)
    city = draw.choice(CITIES)
    other_city = draw.choice([c for c in CITIES if c != city])
    out: dict[str, Any] = {
        "license": _license(i),
        "name": f"{draw.choice(WORDS)} {i}",
        # One program in ten is in another city as qris knows it: any record may witness.
        "city": other_city if source == "qris" and i % 10 == 4 else city,
    }
    state, status, level = draw.choice(STATES), draw.choice(STATUSES), draw.randint(1, 5)
    if source == "licensing":
        out |= {"state": state, "license_status": status}
    if source == "qris":
        out |= {"qris_id": f"Q{i:05d}", "qris_level": level}
    if source == "head_start":
        out |= {"state": state, "grant": f"GR-{i:05d}"}
        out["name"] = out["name"].replace(" ", " HS ", 1)
    return out


DATA: dict[str, list[dict[str, Any]]] = {
    "licensing": [_program(i, "licensing") for i in range(1, N + 1) if i % 5 != 0],
    "qris": [_program(i, "qris") for i in range(1, N + 1) if i % 2 == 0],
    "head_start": [_program(i, "head_start") for i in range(1, N + 1) if i % 20 in (0, 3, 14)],
}
KEY = {"licensing": "license", "qris": "qris_id", "head_start": "grant"}
EVALUATES: dict[str, set[str]] = {
    "licensing": {"name", "city", "state", "license_status", "identifier:LICENSE_NUMBER"},
    "qris": {"name", "city", "qris_level", "identifier:LICENSE_NUMBER", "identifier:QRIS_ID"},
    "head_start": {"name", "city", "state", "identifier:LICENSE_NUMBER", "identifier:GRANT"},
}
FIELD_OF = {"identifier:LICENSE_NUMBER": "license", "identifier:QRIS_ID": "qris_id"}
FIELD_OF["identifier:GRANT"] = "grant"


def _sqlite(path: Path, source: str) -> str:
    columns = sorted({c for row in DATA[source] for c in row})
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"CREATE TABLE program ({', '.join(columns)})")
        db.executemany(
            f"INSERT INTO program VALUES ({', '.join('?' for _ in columns)})",
            [[row.get(c) for c in columns] for row in DATA[source]],
        )
        db.commit()
    return f"sqlite+aiosqlite:///{path}"


@dataclass
class Api:
    requests: list[dict[str, str]] = field(default_factory=list)


def _qris_app(api: Api) -> web.Application:
    rows = sorted(DATA["qris"], key=lambda r: str(r["qris_id"]))

    async def providers(request: web.Request) -> web.Response:
        query = dict(request.query)
        api.requests.append(query)
        out = rows
        if "ids" in query:
            out = [r for r in out if r["qris_id"] in query["ids"].split(",")]
        if "licenses" in query:
            out = [r for r in out if r["license"] in query["licenses"].split(",")]
        if "city" in query:
            out = [r for r in out if r["city"].casefold() == query["city"].casefold()]
        if "name" in query:
            out = [r for r in out if query["name"].casefold() in r["name"].casefold()]
        if "min_level" in query:
            out = [r for r in out if r["qris_level"] >= int(query["min_level"])]
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", "5000"))
        return web.json_response(out[offset : offset + min(limit, 5000)])

    app = web.Application()
    app.router.add_get("/providers", providers)
    return app


def _config(tmp_path: Path, qris_url: str, **qris: Any) -> dict[str, Any]:
    def sql(source: str, support_type: str) -> dict[str, Any]:
        fields = sorted(EVALUATES[source] - set(FIELD_OF))
        identifiers = {
            f.split(":", 1)[1]: FIELD_OF[f] for f in sorted(EVALUATES[source]) if f in FIELD_OF
        }
        return {
            "kind": "sql",
            "url": _sqlite(tmp_path / f"{source}.db", source),
            "timeout_s": 120,  # calls are counted here, not timed: no timeout on a busy machine
            "support_types": [support_type],
            "entities": {
                "program": {
                    "table": "program",
                    "key": KEY[source],
                    "fields": {f: f for f in fields},
                    "identifiers": identifiers,
                    "identifiers_unique": True,
                }
            },
        }

    return {
        "sources": {
            "licensing": sql("licensing", "LICENSING"),
            "qris": {
                "kind": "rest",
                "base_url": qris_url,
                "timeout_s": 120,
                "records_path": "",
                "support_types": ["QRIS"],
                "pagination": {"style": "offset", "page_size": 5000},
                "entities": {
                    "program": {
                        "path": "/providers",
                        "key": "qris_id",
                        "fields": {"name": "name", "city": "city", "qris_level": "qris_level"},
                        "identifiers": {"LICENSE_NUMBER": "license", "QRIS_ID": "qris_id"},
                        "identifiers_unique": True,
                        "batch": {"param": "ids", "max": 5000},
                        "filters": {
                            "identifier:LICENSE_NUMBER": {
                                "param": "licenses",
                                "op": "in",
                                "max": 500,  # a URL of 500 license numbers: about 5 kB
                            },
                            "city": {"param": "city", "op": "eq"},
                            "name": {"param": "name", "op": "contains"},
                            "qris_level": {"param": "min_level", "op": "gte"},
                        },
                        **qris,
                    }
                },
            },
            "head_start": sql("head_start", "HEAD_START"),
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        "cache": {"backend": "none"},
        "server": {"max_page_size": 500},
    }


@contextlib.asynccontextmanager
async def _world(tmp_path: Path, **qris: Any) -> AsyncIterator[tuple[Api, GraphClient]]:
    api = Api()
    async with loopback(_qris_app(api)) as url:
        path = tmp_path / "ecehub.yaml"
        path.write_text(yaml.safe_dump(_config(tmp_path, url, **qris), sort_keys=False))
        runtime = Runtime(load_config(path))
        transport = httpx.ASGITransport(app=create_app(runtime.config, runtime))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield api, GraphClient(client)
        finally:
            await runtime.aclose()


# -- the semantics, over the full data ---------------------------------------------------

Condition = tuple[str, str, Any]
"""(canonical field, op, value) of a field filter."""


@dataclass(frozen=True)
class Ask:
    """One ProgramFilter, as GraphQL input and as what it means."""

    graphql: Mapping[str, Any]
    conditions: tuple[Condition, ...] = ()
    support_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


FILTERS: dict[str, Ask] = {
    "name": Ask({"name": "sunshine"}, (("name", "contains", "sunshine"),)),
    "city": Ask({"city": "springfield"}, (("city", "eq", "springfield"),)),
    "state": Ask({"state": "dc"}, (("state", "eq", "dc"),)),
    "licenseStatus": Ask(
        {"licenseStatus": "Provisional"}, (("license_status", "eq", "provisional"),)
    ),
    "qrisLevel": Ask({"qrisLevel": 3}, (("qris_level", "eq", 3),)),
    "qrisLevelMin": Ask({"qrisLevelMin": 4}, (("qris_level", "gte", 4),)),
    "licenseNumber": Ask(
        {"licenseNumber": _license(40)}, (("identifier:LICENSE_NUMBER", "eq", _license(40)),)
    ),
    "identifier": Ask(
        {"identifier": {"system": "QRIS_ID", "value": "q00060"}},
        (("identifier:QRIS_ID", "eq", "q00060"),),
    ),
    "supportTypes": Ask({"supportTypes": ["HEAD_START"]}, support_types=("HEAD_START",)),
    "supportTypes2": Ask(
        {"supportTypes": ["QRIS", "HEAD_START"]}, support_types=("QRIS", "HEAD_START")
    ),
    "sources": Ask({"sources": ["qris"]}, sources=("qris",)),
}
CLASHES = [
    {"qrisLevel", "qrisLevelMin"},
    {"supportTypes", "supportTypes2"},
    {"licenseNumber", "identifier"},
]


def _combined(names: tuple[str, ...]) -> Ask:
    return _merged([FILTERS[n] for n in names])


def _merged(asks: list[Ask]) -> Ask:
    graphql: dict[str, Any] = {}
    for a in asks:
        graphql |= a.graphql
    return Ask(
        graphql,
        tuple(c for a in asks for c in a.conditions),
        tuple(t for a in asks for t in a.support_types),
        tuple(s for a in asks for s in a.sources),
    )


def _holds(record: Mapping[str, Any], condition: Condition) -> bool:
    name, op, wanted = condition
    value = record.get(FIELD_OF.get(name, name))
    if value is None:
        return False
    if op == "gte":
        return bool(value >= wanted)
    if isinstance(value, str):
        value, wanted = value.casefold(), str(wanted).casefold()
    return bool(wanted in value) if op == "contains" else bool(value == wanted)


def _brute_force(ask: Ask) -> list[str]:
    """License numbers of the matching programs, in listing order."""
    records: dict[str, dict[str, Mapping[str, Any]]] = {}
    for source in SOURCES:
        for row in DATA[source]:
            records.setdefault(row["license"], {})[source] = row

    def member(source: str) -> bool:
        return (not ask.support_types or TYPE_OF[source] in ask.support_types) and (
            not ask.sources or source in ask.sources
        )

    def evaluated(source: str, condition: Condition) -> bool:
        return condition[0] in EVALUATES[source]

    asked = ask.support_types or ask.sources
    witnesses = [s for s in SOURCES if member(s)] if asked else []
    if not witnesses:
        witnesses = [s for s in SOURCES if any(evaluated(s, c) for c in ask.conditions)] or list(
            SOURCES
        )

    def found_at(program: dict[str, Mapping[str, Any]], witness: str) -> bool:
        if witness not in program:
            return False
        for c in ask.conditions:
            if evaluated(witness, c):
                if not _holds(program[witness], c):
                    return False
            elif not any(evaluated(s, c) and _holds(r, c) for s, r in program.items()):
                return False
        if not member(witness):
            if ask.support_types and not any(TYPE_OF[s] in ask.support_types for s in program):
                return False
            if ask.sources and not any(s in ask.sources for s in program):
                return False
        return True

    out: list[str] = []
    for position, witness in enumerate(witnesses):
        for row in sorted(DATA[witness], key=lambda r: str(r[KEY[witness]])):
            program = records[row["license"]]
            if found_at(program, witness) and not any(
                found_at(program, w) for w in witnesses[:position]
            ):
                out.append(row["license"])
    return out


PAGE = """
query($first: Int!, $after: String, $filter: ProgramFilter) {
  programs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { identifiers { system value } }
  }
}
"""


def _licenses(page: Mapping[str, Any]) -> list[str]:
    out = []
    for node in page["nodes"]:
        numbers = {i["value"] for i in node["identifiers"] if i["system"] == "LICENSE_NUMBER"}
        assert len(numbers) == 1, node
        out.append(numbers.pop())
    return out


def _combinations(size: int) -> list[tuple[str, ...]]:
    return [
        names
        for names in itertools.combinations(FILTERS, size)
        if not any(clash <= set(names) for clash in CLASHES)
    ]


def _check(names: tuple[str, ...], body: Mapping[str, Any], first: int) -> None:
    _check_ask(names, _combined(names), body, first)


def _check_ask(names: tuple[str, ...], ask: Ask, body: Mapping[str, Any], first: int) -> None:
    assert "errors" not in body, (ask, body.get("errors"))
    calls = calls_by_source(dict(body))
    assert all(n <= 2 for n in calls.values()), (ask, calls)
    page = body["data"]["programs"]
    expected = _brute_force(ask)
    assert _licenses(page) == expected[:first], ask
    assert page["pageInfo"]["hasNextPage"] == (len(expected) > first), ask


async def _each(
    tmp_path: Path, combinations: list[tuple[str, ...]], first: int = 10
) -> dict[tuple[str, ...], int]:
    """Asks each combination's first page; the largest source's calls per combination."""
    most: dict[tuple[str, ...], int] = {}
    async with _world(tmp_path) as (_, client):
        for names in combinations:
            body = await client.query(
                PAGE, {"first": first, "filter": dict(_combined(names).graphql)}
            )
            _check(names, body, first)
            most[names] = max(calls_by_source(dict(body)).values(), default=0)
    return most


def test_the_world_is_large_and_filters_are_selective_together() -> None:
    # The brute force is not trivially empty or full where it matters.
    both = _brute_force(_combined(("supportTypes", "city")))
    assert 10 < len(both) < len(_brute_force(_combined(("supportTypes",))))
    assert len(_brute_force(_combined(("qrisLevelMin", "licenseStatus")))) > 10
    assert len(_brute_force(_combined(("qrisLevelMin", "licenseStatus", "city")))) > 0
    # A program whose cities disagree is found through the record that matches.
    city = _program(4, "licensing")["city"].casefold()
    as_qris = _program(4, "qris")["city"].casefold()
    assert city != as_qris
    for either in (city, as_qris):
        assert _license(4) in _brute_force(Ask({}, (("city", "eq", either),)))


async def test_supporttypes_with_city_costs_at_most_two_calls_per_source(
    tmp_path: Path,
) -> None:
    most = await _each(tmp_path, [("supportTypes", "city"), ("city", "supportTypes2")])
    assert max(most.values()) <= 2


async def test_every_single_filter_and_pair(tmp_path: Path) -> None:
    most = await _each(tmp_path, [(n,) for n in FILTERS] + _combinations(2))
    assert len(most) > 50 and max(most.values()) <= 2


async def test_every_triple(tmp_path: Path) -> None:
    most = await _each(tmp_path, _combinations(3))
    assert len(most) > 100 and max(most.values()) <= 2


@pytest.mark.parametrize("names", [("supportTypes", "city"), ("qrisLevelMin", "licenseStatus")])
async def test_paging_through_lists_every_match_once(
    tmp_path: Path, names: tuple[str, ...]
) -> None:
    expected = _brute_force(_combined(names))
    listed: list[str] = []
    async with _world(tmp_path) as (_, client):
        after = None
        while True:
            body = await client.query(
                PAGE, {"first": 50, "after": after, "filter": dict(_combined(names).graphql)}
            )
            assert "errors" not in body, body
            page = body["data"]["programs"]
            listed += _licenses(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert listed == expected


@pytest.mark.parametrize(
    ("declared", "asked_by_license"),
    [({}, True), ({"identifiers_searchable": ["QRIS_ID"]}, False), ({"list_only": True}, False)],
)
async def test_a_source_is_asked_only_by_the_identifiers_it_can_search(
    tmp_path: Path, declared: dict[str, Any], asked_by_license: bool
) -> None:
    # Listed from licensing (only it knows license status): qris completes the page by
    # license number, sent to it only when it declares that identifier searchable; else the
    # page's qris records come from one read of its listing. The page is the same.
    names = ("licenseStatus", "state")
    async with _world(tmp_path, **declared) as (api, client):
        body = await client.query(PAGE, {"first": 10, "filter": dict(_combined(names).graphql)})
    _check(names, body, 10)
    assert [("licenses" in q) for q in api.requests] == [asked_by_license]


@pytest.mark.parametrize("unique", [True, False])
async def test_the_source_a_record_came_from_is_not_asked_for_it_again(
    tmp_path: Path, unique: bool
) -> None:
    # Listed from qris alone (only it knows QRIS levels): with identifiers_unique its page is
    # all it holds of those programs; without, it is asked again by their license numbers.
    names = ("qrisLevelMin",)
    async with _world(tmp_path, identifiers_unique=unique) as (api, client):
        body = await client.query(PAGE, {"first": 10, "filter": dict(_combined(names).graphql)})
    _check(names, body, 10)
    assert [("licenses" in q) for q in api.requests] == [False] + ([] if unique else [True])


def _field(name: str, op: str, graphql_name: str, value: Any) -> Ask:
    text = value.casefold() if isinstance(value, str) else value
    return Ask({graphql_name: value}, ((name, op, text),))


ANY_FILTER: dict[str, st.SearchStrategy[Ask]] = {
    "name": st.sampled_from(["sun", "Star", "RAIN", "acorn", "bright s", "1", "HS 2", "zz"]).map(
        lambda v: _field("name", "contains", "name", v)
    ),
    "city": st.sampled_from([*CITIES, "salem", "Nowhere"]).map(
        lambda v: _field("city", "eq", "city", v)
    ),
    "state": st.sampled_from([*STATES, "va", "TX"]).map(
        lambda v: _field("state", "eq", "state", v)
    ),
    "licenseStatus": st.sampled_from(STATUSES).map(
        lambda v: _field("license_status", "eq", "licenseStatus", v)
    ),
    "qrisLevel": st.integers(1, 5).map(lambda v: _field("qris_level", "eq", "qrisLevel", v)),
    "qrisLevelMin": st.integers(1, 6).map(lambda v: _field("qris_level", "gte", "qrisLevelMin", v)),
    "licenseNumber": st.integers(1, N + 5).map(
        lambda i: Ask(
            {"licenseNumber": _license(i)},
            (("identifier:LICENSE_NUMBER", "eq", _license(i).casefold()),),
        )
    ),
    "identifier": st.tuples(st.sampled_from(["QRIS_ID", "GRANT"]), st.integers(1, N)).map(
        lambda t: Ask(
            {
                "identifier": {
                    "system": t[0],
                    "value": f"{'Q' if t[0] == 'QRIS_ID' else 'GR-'}{t[1]:05d}",
                }
            },
            ((f"identifier:{t[0]}", "eq", f"{'q' if t[0] == 'QRIS_ID' else 'gr-'}{t[1]:05d}"),),
        )
    ),
    "supportTypes": st.lists(
        st.sampled_from(sorted(TYPE_OF.values())), min_size=1, max_size=2, unique=True
    ).map(lambda v: Ask({"supportTypes": v}, support_types=tuple(v))),
    "sources": st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2, unique=True).map(
        lambda v: Ask({"sources": v}, sources=tuple(v))
    ),
}


@settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    queries=st.lists(
        st.tuples(
            st.fixed_dictionaries({}, optional=ANY_FILTER).filter(lambda d: len(d) >= 2),
            st.integers(1, 30),
        ),
        min_size=12,
        max_size=12,
    )
)
async def test_any_filters_with_any_values(
    tmp_path_factory: pytest.TempPathFactory, queries: list[tuple[dict[str, Ask], int]]
) -> None:
    # Values of every filter, matching many programs, few or none, in any case, any page size.
    async with _world(tmp_path_factory.mktemp("world")) as (_, client):
        for chosen, first in queries:
            ask = _merged(list(chosen.values()))
            body = await client.query(PAGE, {"first": first, "filter": dict(ask.graphql)})
            _check_ask(tuple(chosen), ask, body, first)
