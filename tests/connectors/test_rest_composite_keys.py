"""REST entities keyed by several JSON paths (``key: [grant_number, program_number]``): the
record key joined as sql and csv join it, keys asked in batches through SODA ``$where`` and
OData ``$filter`` (parsed by the fake APIs of tests/connectors/query_upstream.py), a POST
body, a search body, or one ``item_path`` request per key; escaping of quotes and of the
separator in the parts, URLs split to fit, requests counted, and mistakes refused at load."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecehub.config import parse_config
from ecehub.connectors import FieldFilter
from ecehub.connectors.rest import RestConnector
from ecehub.connectors.transforms import join_key
from ecehub.connectors.usage import Usage, counting
from ecehub.errors import ConfigError
from ecehub.sources.gateway import SourceGateway
from tests.connectors.query_upstream import QueryUpstream, query_app
from tests.connectors.search_upstream import SearchUpstream, search_app
from tests.serving import loopback

STRANGE = [
    ("O'Brien|1", "2"),  # the separator in a part: escaped in the key,
    ("O'Brien", "1|2"),  # so these two are two keys
    ("back\\", "slash"),
    ("x''y", "ü ☀"),
    ("a,b", "c) OR (1=1"),
]


def _row(i: int) -> dict[str, Any]:
    return {
        "grant_number": f"09CH{i // 4:04d}",
        "program_number": f"{i % 4:03d}",
        "name": f"Program {i}",
        "city": ["Austin", "Waco", "Houston"][i % 3],
    }


ROWS = [_row(i) for i in range(400)] + [
    {"grant_number": g, "program_number": p, "name": f"Strange {n}", "city": "Austin"}
    for n, (g, p) in enumerate(STRANGE)
]
PARTS = [(r["grant_number"], r["program_number"]) for r in ROWS]
KEYS = [join_key(p) for p in PARTS]

ENTITY: dict[str, Any] = {
    "key": ["grant_number", "program_number"],
    "fields": {"name": "name", "city": "city"},
    "by_keys": {"style": "expression"},
}

Make = Callable[..., RestConnector]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[QueryUpstream, str]]:
    api = QueryUpstream(list(ROWS), key="grant_number")
    async with loopback(query_app(api)) as base:
        yield api, base


def _source(base: str, entity: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "rest", "base_url": base, "timeout_s": 5, "entities": {"program": entity}}


@pytest.fixture
async def made() -> AsyncIterator[list[RestConnector]]:
    connectors: list[RestConnector] = []
    yield connectors
    for connector in connectors:
        await connector.aclose()


def _connector(made: list[RestConnector], source: dict[str, Any]) -> RestConnector:
    config = parse_config({"sources": {"grants": source}})
    connector = RestConnector("grants", config.sources["grants"])
    made.append(connector)
    return connector


def _dialect(
    made: list[RestConnector],
    base: str,
    dialect: str,
    entity: dict[str, Any] | None = None,
    **kw: Any,
) -> RestConnector:
    path = {"soda": "/resource/licenses.json", "odata": "/odata/Licenses"}[dialect]
    ent = {**ENTITY, "path": path, **(entity or {})}
    return _connector(made, {**_source(base, ent), "dialect": dialect, **kw})


# -- expressions --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["soda", "odata"])
async def test_a_batch_of_composite_keys_is_one_expression(
    dialect: str, made: list[RestConnector], upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = _dialect(made, base, dialect, max_url_length=20_000)
    wanted = KEYS[100:200]
    usage = Usage()
    with counting(usage):
        found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert found[KEYS[101]].fields["name"] == "Program 101"
    assert usage.requests == len(api.requests) == 1 and usage.rows == 100
    assert api.parsed == [[part for parts in PARTS[100:200] for part in parts]]
    param, word = ("$where", "AND") if dialect == "soda" else ("$filter", "and")
    eq = "=" if dialect == "soda" else "eq"
    first = f"(grant_number {eq} '{PARTS[100][0]}' {word} program_number {eq} '{PARTS[100][1]}')"
    assert api.requests[0].query[param].startswith(first)


@pytest.mark.parametrize("dialect", ["soda", "odata"])
async def test_quotes_and_the_separator_in_parts_are_asked_exactly(
    dialect: str, made: list[RestConnector], upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = _dialect(made, base, dialect)
    strange = [join_key(p) for p in STRANGE]
    found = await conn.fetch("program", [strange[0], *strange[2:], "only-one-part", "a|b|c"])
    assert sorted(found) == sorted([strange[0], *strange[2:]])  # not ('O'Brien', '1|2')
    assert found[strange[0]].fields["name"] == "Strange 0"
    # Keys that are not of two parts are not asked: they cannot be there.
    assert api.parsed == [[part for p in [STRANGE[0], *STRANGE[2:]] for part in p]]


async def test_composite_keys_too_many_for_one_url_are_split_to_fit(
    made: list[RestConnector], upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = _dialect(made, base, "soda", max_url_length=900)
    wanted = KEYS[:120]
    found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert max(api.url_lengths(base)) <= 900
    assert len(api.requests) > 1 and conn.url_splits == len(api.requests) - 1
    assert sorted(
        tuple(p) for lit in api.parsed for p in zip(lit[::2], lit[1::2], strict=True)
    ) == sorted(PARTS[:120])


async def test_a_number_part_is_written_bare_and_a_key_whose_part_is_not_one_not_asked(
    made: list[RestConnector], upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    api.rows = [{**r, "program_number": int(r["program_number"])} for r in ROWS[:40]]
    entity = {"by_keys": {"style": "expression", "literal": ["text", "number"]}}
    conn = _dialect(made, base, "soda", entity)
    found = await conn.fetch("program", ["09CH0001|1", "09CH0001|2", "09CH0001|x') OR ('1"])
    assert sorted(found) == ["09CH0001|1", "09CH0001|2"]
    assert api.parsed == [["09CH0001", 1, "09CH0001", 2]]


async def test_listing_gives_records_with_joined_keys_in_the_key_order(
    made: list[RestConnector], upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = _dialect(made, base, "odata", entity={"filters": {"city": {}}})
    page = await conn.find("program", [FieldFilter("city", "eq", "waco")], first=5)
    assert [r.key for r in page.records] == [KEYS[i] for i in (1, 4, 7, 10, 13)]
    assert api.requests[0].query["$orderby"] == "grant_number,program_number"


_PART = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@pytest.mark.parametrize("dialect", ["soda", "odata"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=st.lists(st.tuples(_PART, _PART), min_size=1, max_size=6, unique=True))
def test_any_parts_round_trip_through_the_key_and_the_apis_parser(
    dialect: str, parts: list[tuple[str, str]]
) -> None:
    """Quotes, the separator, backslashes, any Unicode in either part: the key joins and
    splits back, the API's own parser reads each part back, and each key finds its row."""
    found, parsed = asyncio.run(_round_trip(dialect, parts))
    assert sorted(found) == sorted(join_key(p) for p in parts)
    assert parsed == [part for p in parts for part in p]


async def _round_trip(dialect: str, parts: list[tuple[str, str]]) -> tuple[list[str], list[Any]]:
    rows = [{"grant_number": g, "program_number": p, "name": "x"} for g, p in parts]
    api = QueryUpstream(rows, key="grant_number")
    made: list[RestConnector] = []
    async with loopback(query_app(api)) as base:
        conn = _dialect(made, base, dialect, max_url_length=65_536)
        try:
            found = await conn.fetch("program", [join_key(p) for p in parts])
        finally:
            await conn.aclose()
    return list(found), api.parsed[0]


# -- POST bodies and item paths -----------------------------------------------------------------


@pytest.fixture
async def search_api() -> AsyncIterator[tuple[SearchUpstream, str]]:
    api = SearchUpstream(list(ROWS), key=("grant_number", "program_number"))
    async with loopback(search_app(api)) as base:
        yield api, base


@pytest.mark.parametrize("how", ["by_keys", "search"])
async def test_composite_keys_in_a_post_body_are_objects(
    how: str, made: list[RestConnector], search_api: tuple[SearchUpstream, str]
) -> None:
    api, base = search_api
    entity: dict[str, Any] = {**ENTITY, "path": "/providers", "records_path": "results"}
    if how == "by_keys":
        entity["by_keys"] = {
            "style": "post",
            "path": "/search/none",
            "body": {"ids": "{keys}"},
            "fields": ["grant_number", "program_number"],
            "max": 60,
        }
    else:
        del entity["by_keys"]
        entity["search"] = {
            "path": "/search/page",
            "body": {"ids": "{keys}", "page": "{page}", "size": "{size}"},
            "max_keys": 60,
            "page_size": 40,
            "key_fields": ["grant", "program"],
        }
        api.id_names = ("grant", "program")
    conn = _connector(made, _source(base, entity))
    wanted = [*KEYS[:100], join_key(STRANGE[1])]
    found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert found[join_key(STRANGE[1])].fields["name"] == "Strange 1"
    # One object per key, its parts under their names.
    names = api.id_names or api.key
    sent = [(i[names[0]], i[names[1]]) for b in api.bodies for i in b["ids"]]
    assert all(len(i) == 2 for b in api.bodies for i in b["ids"])
    assert set(sent) == {*PARTS[:100], STRANGE[1]}
    # 101 keys in bodies of at most 60: two searches (by_keys: unpaged; search: pages of 40).
    assert len(api.bodies) == (2 if how == "by_keys" else 2 + 1 + 1)


async def test_without_a_batch_each_key_is_one_item_path_request(
    made: list[RestConnector],
) -> None:
    seen: list[str] = []
    by_parts = {p: r for p, r in zip(PARTS, ROWS, strict=True)}

    async def item(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        row = by_parts.get((request.match_info["g"], request.match_info["p"]))
        if row is None:
            raise web.HTTPNotFound()
        return web.json_response({"program": row})

    app = web.Application()
    app.router.add_get("/grants/{g}/programs/{p}", item)
    async with loopback(app) as base:
        entity = {
            **ENTITY,
            "path": "/programs",
            "item_path": "/grants/{grant_number}/programs/{program_number}",
            "item_record_path": "program",
        }
        del entity["by_keys"]
        conn = _connector(made, _source(base, entity))
        gateway = SourceGateway({"grants": conn})
        wanted = [*KEYS[:5], join_key(STRANGE[0]), join_key(("09CH9999", "000"))]
        found = await gateway.fetch("grants", "program", wanted)
        [trace] = gateway.trace()
    assert sorted(found) == sorted(wanted[:-1])
    assert len(seen) == trace["requests"] == 7  # one request per key
    assert "/grants/O'Brien%7C1/programs/2" in seen  # the part quoted, its | too


# -- config mistakes ----------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], str]] = [
    ({"by_keys": None, "batch": {"param": "ids"}}, "cannot hold a key of several paths"),
    ({"by_keys": {"style": "repeat", "param": "id"}}, "cannot hold a key of several paths"),
    ({"by_keys": {"style": "comma", "param": "id"}}, "cannot hold a key of several paths"),
    ({"by_keys": {"field": "grant_number"}}, "takes `fields: [...]`"),
    ({"by_keys": {"fields": ["a"]}}, "take one entry per path"),
    ({"by_keys": {"literal": ["text"]}}, "take one entry per path"),
    ({"key": "grant_number", "by_keys": {"fields": ["a", "b"]}}, "take one entry per path"),
    ({"key": "grant_number", "by_keys": {"literal": ["text", "text"]}}, "one entry per path"),
    ({"by_keys": {"fields": ["a b", "c"]}}, "not a field name"),
    ({"by_keys": None, "item_path": "/p/{key}"}, "one placeholder per path"),
    ({"by_keys": None, "item_path": "/g/{grant_number}"}, "one placeholder per path"),
    ({"by_keys": None}, "give one (or `list_only: true`"),
    (
        {
            "by_keys": None,
            "search": {"body": {"ids": "{keys}"}, "key_fields": ["g"]},
        },
        "give 2, one per path",
    ),
]


@pytest.mark.parametrize(("entity", "message"), BAD, ids=lambda v: str(v)[:50])
def test_what_cannot_ask_a_composite_key_is_refused_at_load(
    entity: dict[str, Any], message: str
) -> None:
    ent = {**ENTITY, "path": "/resource/x.json", **entity}
    ent = {k: v for k, v in ent.items() if v is not None}
    source = {**_source("https://data.example.gov", ent), "dialect": "soda"}
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"grants": source}})
    [(path, problem)] = info.value.problems
    assert path.startswith("sources.grants") and message in problem, (path, problem)


def test_an_entity_never_asked_by_key_needs_no_way_to_ask_it() -> None:
    ent = {k: v for k, v in ENTITY.items() if k != "by_keys"}
    source = _source("https://data.example.gov", {**ent, "path": "/x", "list_only": True})
    config = parse_config({"sources": {"grants": source}})
    assert config.sources["grants"].entities["program"].key_columns == (  # type: ignore[attr-defined]
        "grant_number",
        "program_number",
    )


def test_a_child_of_a_composite_keyed_parent_is_refused_as_in_sql() -> None:
    source = {
        **_source("https://data.example.gov", {**ENTITY, "path": "/x"}),
        "dialect": "soda",
    }
    source["entities"]["site"] = {
        "path": "/sites",
        "key": "site_id",
        "parent": {"program": "program_ref"},
        "parent_batch": {"param": "programs"},
    }
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"grants": source}})
    [(path, problem)] = info.value.problems
    assert path == "sources.grants" and "one parent path cannot hold" in problem


def test_a_graphql_source_refuses_a_composite_key_saying_why() -> None:
    source = {
        "kind": "graphql",
        "url": "https://partner.example.org/graphql",
        "entities": {
            "program": {
                "key": ["grant", "program"],
                "fetch": {"field": "programs", "argument": "ids", "type": "[ID!]!"},
            }
        },
    }
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"partner": source}})
    [(path, problem)] = info.value.problems
    assert path == "sources.partner.entities.program" and "a key of one path" in problem
