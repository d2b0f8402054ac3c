"""REST query dialects against fake SODA and OData APIs on loopback that parse ``$where`` /
``$filter`` themselves and compare text case-sensitively (tests/connectors/query_upstream.py):
batches of keys in a bounded number of requests, filters exact (case-insensitive ones too),
paging, escaping of any value, URLs split to fit, and config mistakes refused at load."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecehub.config import parse_config
from ecehub.connectors import FieldFilter, Record, matches
from ecehub.connectors.rest import RestConnector
from ecehub.connectors.rest.dialects import DIALECT_QUERY, RestQueryLanguage
from ecehub.connectors.usage import Usage, counting
from ecehub.errors import ConfigError
from ecehub.sources.gateway import SourceGateway
from tests.connectors.query_upstream import QueryUpstream, parse, query_app
from tests.serving import loopback

CITIES = ["AUSTIN", "Austin", " austin ", "East Austin", "Houston", "houston", "Waco"]
STRANGE = [
    "O'Brien's Place",
    "Kids, Inc.",
    "Back\\slash Academy",
    "100% Fun_Care",
    "Niños Felices",
    "Straße Kita",
    "Ünïcödé ☀ Daycare",
    "Q&A #1 + more",
    "quote ' and '' twice",
]


def _row(i: int) -> dict[str, Any]:
    name = STRANGE[i % len(STRANGE)] if i % 7 == 0 else f"Sunny Steps {i}"
    return {
        "operation_number": f"{100000 + i}",
        "operation_name": f"{name} {i}" if i % 7 == 0 else name,
        "city": CITIES[i % len(CITIES)],
        "capacity": i % 50,
        "status": "Active" if i % 3 else "Inactive",
    }


ROWS = [_row(i) for i in range(600)]
KEYS = [r["operation_number"] for r in ROWS]

ENTITY: dict[str, Any] = {
    "key": "operation_number",
    "fields": {
        "name": "operation_name",
        "city": "city",
        "licensed_capacity": "capacity",
        "license_status": "status",
    },
    "identifiers": {"LICENSE_NUMBER": "operation_number"},
    "by_keys": {"style": "expression"},
    "filters": {"name": {}, "city": {}, "licensed_capacity": {}, "license_status": {}},
}

Make = Callable[..., RestConnector]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[QueryUpstream, str]]:
    api = QueryUpstream(list(ROWS), key="operation_number")
    async with loopback(query_app(api)) as base:
        yield api, base


@pytest.fixture
async def make(upstream: tuple[QueryUpstream, str]) -> AsyncIterator[Make]:
    _, base = upstream
    made: list[RestConnector] = []

    def build(dialect: str | None = "soda", path: str | None = None, **settings: Any) -> Any:
        entity = {**ENTITY, **settings.pop("entity", {})}
        entity["path"] = (
            path
            or {"soda": "/resource/licenses.json", "odata": "/odata/Licenses"}[dialect or "soda"]
        )
        source: dict[str, Any] = {
            "kind": "rest",
            "base_url": base,
            "timeout_s": 5,
            "entities": {"program": entity},
            **settings,
        }
        if dialect is not None:
            source["dialect"] = dialect
        config = parse_config({"sources": {"lic": source}})
        connector = RestConnector("lic", config.sources["lic"])
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()


def _expected(filters: list[FieldFilter]) -> set[str]:
    """The keys the hub's own meaning of ``filters`` selects from every row."""
    out = set()
    for row in ROWS:
        record = Record(
            "lic",
            "program",
            row["operation_number"],
            {
                "name": row["operation_name"],
                "city": row["city"],
                "licensed_capacity": row["capacity"],
                "license_status": row["status"],
            },
            {"LICENSE_NUMBER": row["operation_number"]},
        )
        if matches(record, filters):
            out.add(row["operation_number"])
    return out


# -- batches of keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["soda", "odata"])
async def test_a_batch_of_200_keys_is_one_request(
    dialect: str, make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(dialect, max_url_length=20_000)
    wanted = KEYS[100:300]
    usage = Usage()
    with counting(usage):
        found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert len(api.requests) == 1 and usage.requests == 1 and usage.rows == 200
    param = "$where" if dialect == "soda" else "$filter"
    assert api.parsed == [wanted]  # the server read back exactly the keys sent
    assert api.requests[0].query[param].startswith("operation_number in (")


async def test_keys_too_many_for_one_url_are_split_to_fit(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = make(max_url_length=700)
    wanted = KEYS[:200]
    found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    lengths = api.url_lengths(base)
    assert max(lengths) <= 700
    # Each key costs 11 characters encoded ('100123', ): about 50 keys per URL, so a bounded
    # number of requests, each one URL's worth.
    assert conn.url_splits == len(api.requests) - 1
    assert 4 <= len(api.requests) <= 8
    assert sorted(k for keys in api.parsed for k in keys) == sorted(wanted)


@pytest.mark.parametrize("dialect", ["soda", "odata"])
async def test_keys_holding_quotes_commas_backslashes_and_unicode_are_found(
    dialect: str, make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    strange = ["a'b", "a,b", "a\\b", "\\'", "''", "ü☀", "a%b", "a_b", "a&b=c", "#x", "+ y", " z "]
    api.rows = [{**ROWS[0], "operation_number": k} for k in strange] + ROWS
    conn = make(dialect)
    found = await conn.fetch("program", [*strange, "ab"])
    assert sorted(found) == sorted(strange)
    assert api.parsed == [[*strange, "ab"]]


async def test_numeric_keys_are_written_bare_and_non_numbers_not_asked(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    api.rows = [{**r, "operation_number": int(r["operation_number"])} for r in ROWS]
    conn = make(entity={"by_keys": {"style": "expression", "literal": "number"}})
    found = await conn.fetch("program", ["100001", "100002", "x') OR (1=1"])
    assert sorted(found) == ["100001", "100002"]
    assert api.parsed == [[100001, 100002]]


@pytest.mark.parametrize("style", ["repeat", "comma"])
async def test_keys_as_a_repeated_or_comma_param(
    style: str, make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    param = "id" if style == "repeat" else "ids"
    conn = make(
        None,
        path="/plain/licenses",
        records_path="data",
        pagination={"style": "offset", "page_size": 100},
        entity={"by_keys": {"style": style, "param": param, "max": 50}, "filters": {}},
    )
    wanted = KEYS[:120]
    found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert len(api.requests) == 3  # 50 + 50 + 20
    if style == "repeat":
        assert api.requests[0].query.getall("id") == wanted[:50]


async def test_keys_in_a_post_search_body(make: Make, upstream: tuple[QueryUpstream, str]) -> None:
    api, _ = upstream
    conn = make(
        None,
        path="/plain/licenses",
        records_path="data",
        entity={
            "by_keys": {
                "style": "post",
                "path": "/plain/search",
                "body": {"filter": {"ids": "{keys}"}, "fields": ["*"]},
                "max": 150,
            },
            "filters": {},
        },
    )
    wanted = KEYS[:200]
    usage = Usage()
    with counting(usage):
        found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(wanted)
    assert [r.method for r in api.requests] == ["POST", "POST"]
    assert usage.requests == 2 and usage.rows == 200


# -- filters ------------------------------------------------------------------------------------


CASES = [
    [FieldFilter("city", "eq", "austin")],
    [FieldFilter("city", "eq", "HOUSTON")],
    [FieldFilter("city", "in", ["waco", "Austin"])],
    [FieldFilter("name", "contains", "o'brien")],
    [FieldFilter("name", "contains", "KIDS, INC")],
    [FieldFilter("name", "contains", "back\\slash")],
    [FieldFilter("name", "contains", "100% fun_")],
    [FieldFilter("name", "contains", "niños")],
    [FieldFilter("name", "contains", "straße")],  # ß: not sent, filtered by the hub
    [FieldFilter("licensed_capacity", "eq", 7)],
    [FieldFilter("licensed_capacity", "in", [7, 8, 9])],
    [FieldFilter("licensed_capacity", "gte", 45)],  # no template: filtered by the hub
    [FieldFilter("license_status", "eq", "inactive"), FieldFilter("city", "eq", "austin")],
]


@pytest.mark.parametrize("dialect", ["soda", "odata"])
@pytest.mark.parametrize("filters", CASES, ids=lambda f: repr(f)[:60])
async def test_filters_are_exact_on_a_case_sensitive_api(
    dialect: str, filters: list[FieldFilter], make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(dialect)
    page = await conn.find("program", filters)
    expected = _expected(filters)
    assert expected  # every case selects something: a wrong push-down would show
    assert {r.key for r in page.records} == expected
    param = "$where" if dialect == "soda" else "$filter"
    pushed = [r.query.get(param) for r in api.requests]
    names = {f.field for f in filters}
    if "straße" in repr(filters) or (names == {"licensed_capacity"} and filters[0].op == "gte"):
        assert pushed == [None] * len(pushed)  # read whole, filtered by the hub
    else:
        assert all(pushed) and api.sent < len(ROWS)  # the API narrowed what it sent


async def test_a_filter_declared_case_insensitive_is_sent_as_is(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    """An API declared to fold case itself gets the value as it is (and the hub still checks
    what comes back): here the fake API does not fold, so only the exact case comes back,
    which is what the declaration promised the API would do wrong."""
    api, _ = upstream
    conn = make(entity={"filters": {"city": {"case_sensitive": False}}})
    page = await conn.find("program", [FieldFilter("city", "eq", "Austin")])
    assert api.requests[0].query["$where"] == "city = 'Austin'"
    assert {r.fields["city"] for r in page.records} == {"Austin"}


async def test_an_expression_filter_on_a_value_mapped_field_is_filtered_by_the_hub(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(entity={"values": {"license_status": {"Active": "OPEN", "Inactive": "CLOSED"}}})
    page = await conn.find("program", [FieldFilter("license_status", "eq", "CLOSED")])
    assert len(page.records) == len([r for r in ROWS if r["status"] == "Inactive"])
    assert "$where" not in api.requests[0].query


async def test_a_large_in_filter_is_split_by_url_length_when_unpaged(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, base = upstream
    conn = make(max_url_length=800, entity={"filters": {"identifier:LICENSE_NUMBER": {}}})
    wanted = KEYS[:150]
    flt = [FieldFilter("identifier:LICENSE_NUMBER", "in", wanted)]
    page = await conn.find("program", flt)
    assert sorted(r.key for r in page.records) == sorted(wanted)
    assert max(api.url_lengths(base)) <= 800 and len(api.requests) > 1
    api.reset()
    # Paged, it cannot be split (no common order over calls): the hub filters, exactly.
    page = await conn.find("program", flt, first=10)
    assert [r.key for r in page.records] == wanted[:10] and page.has_next
    assert max(api.url_lengths(base)) <= 800


# -- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["soda", "odata"])
async def test_pages_continue_after_a_cursor_in_a_stable_order(
    dialect: str, make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    api.odata_page_cap = 40  # OData: the server caps pages; @odata.nextLink says more follow
    conn = make(dialect, pagination={"page_size": 100})
    seen: list[str] = []
    after = None
    while True:
        page = await conn.find(
            "program", [FieldFilter("city", "eq", "austin")], first=25, after=after
        )
        seen += [r.key for r in page.records]
        if not page.has_next:
            break
        after = page.records[-1].cursor
    assert sorted(seen) == sorted(_expected([FieldFilter("city", "eq", "austin")]))
    assert len(seen) == len(set(seen))
    order = "$order" if dialect == "soda" else "$orderby"
    assert {r.query[order] for r in api.requests} == {
        ":id" if dialect == "soda" else "operation_number"
    }


async def test_a_first_page_asks_for_what_it_needs(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    conn = make()
    page = await conn.find("program", [FieldFilter("city", "eq", "waco")], first=10)
    assert len(page.records) == 10 and page.has_next
    assert [r.query["$limit"] for r in api.requests] == ["11"]


# -- escaping: any value round-trips through the server's own parser ----------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@pytest.mark.parametrize("flavor", ["soda", "odata", "soda-backslash"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_TEXT, min_size=1, max_size=8))
def test_any_text_value_reaches_the_api_as_the_same_value(flavor: str, values: list[str]) -> None:
    preset = dict(DIALECT_QUERY["odata" if flavor == "odata" else "soda"])
    if flavor == "soda-backslash":
        preset["escape"] = "backslash"
    language = RestQueryLanguage.model_validate(preset)
    # Offline: the server's parser reads back exactly the literals written.
    expression = language.member("f", [language.text(v) for v in values])
    assert parse(expression, flavor)[1] == values  # type: ignore[arg-type]
    # Online: through aiohttp's URL encoding, the server's query decoding and its parser
    # (a fetch asks each key once).
    assert asyncio.run(_round_trip(flavor, values)) == list(dict.fromkeys(values))


async def _round_trip(flavor: str, values: list[str]) -> list[Any]:
    path = {"soda": "/resource/licenses.json", "odata": "/odata/Licenses"}.get(
        flavor, "/backslash/licenses.json"
    )
    api = QueryUpstream([{"operation_number": v} for v in values], key="operation_number")
    async with loopback(query_app(api)) as base:
        source: dict[str, Any] = {
            "kind": "rest",
            "base_url": base,
            "dialect": "odata" if flavor == "odata" else "soda",
            "max_url_length": 65_536,
            "entities": {"program": {**ENTITY, "path": path}},
        }
        if flavor == "soda-backslash":
            source["query"] = {"escape": "backslash"}
        config = parse_config({"sources": {"lic": source}})
        conn = RestConnector("lic", config.sources["lic"])
        try:
            found = await conn.fetch("program", values)
        finally:
            await conn.aclose()
        assert set(found) == set(values)  # each key found: matched exactly, case and all
        return api.parsed[0]


# -- the trace ----------------------------------------------------------------------------------


async def test_the_trace_reports_http_requests_and_rows_per_source(
    make: Make, upstream: tuple[QueryUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(pagination={"page_size": 100})
    gateway = SourceGateway({"lic": conn})
    await gateway.fetch("lic", "program", KEYS[:30])
    await gateway.find("lic", "program", [FieldFilter("city", "eq", "waco")])
    [trace] = gateway.trace()
    assert trace["calls"] == 2
    assert trace["requests"] == len(api.requests) and trace["rows"] == api.sent
    assert api.sent == 30 + len(_expected([FieldFilter("city", "eq", "waco")]))


# -- config mistakes ----------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({}, {"by_keys": {"style": "expression"}}, "by_keys style expression needs the source's"),
    ({}, {"filters": {"city": {}}}, "filters.city has no `param`"),
    ({"dialect": "soda"}, {"filters": {"city": {"op": "eq"}}}, "drop `op`"),
    ({"dialect": "soda"}, {"filters": {"county": {}}}, "county is not mapped in this entity"),
    ({"dialect": "soda"}, {"filters": {"city": {"field": "ci ty"}}}, "not a field name"),
    ({"dialect": "soda"}, {"filters": {"city": {"param": "$where"}}}, "already the query"),
    ({"dialect": "soda"}, {"filters": {"city": {"param": "$limit"}}}, "already pagination's"),
    ({"dialect": "soda"}, {"filters": {"city": {"param": "c", "field": "c"}}}, "not both"),
    ({"dialect": "soda", "query": {"in": "{field} in {vals}"}}, {}, "query.in template"),
    ({"dialect": "soda", "query": {"eq": "{field} ="}}, {}, "needs {value}"),
    ({"dialect": "soda", "pagination": {"size_param": "n"}}, {}, "takes the page size in limit"),
    ({}, {"order": "name"}, "order needs pagination.order_param"),
    ({"dialect": "soda"}, {"by_keys": {"style": "repeat"}}, "needs `param`"),
    ({"dialect": "soda"}, {"by_keys": {"style": "post", "body": {"ids": []}}}, '"{keys}"'),
    ({"dialect": "soda"}, {"by_keys": {"style": "comma", "param": "i", "field": "x"}}, "field"),
    ({"dialect": "soda"}, {"batch": {"param": "ids"}, "by_keys": {}}, "keep one"),
    ({"dialect": "sql"}, {}, "soda"),
]


@pytest.mark.parametrize(("source", "entity", "message"), BAD, ids=lambda v: str(v)[:40])
def test_mistakes_are_refused_at_load_naming_the_fix(
    source: dict[str, Any], entity: dict[str, Any], message: str
) -> None:
    ent = {**ENTITY, "path": "/resource/x.json", "filters": {}, **entity}
    if "by_keys" not in entity:
        ent.pop("by_keys")
    config = {
        "sources": {
            "lic": {
                "kind": "rest",
                "base_url": "https://data.example.gov",
                "entities": {"program": ent},
                **source,
            }
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    [(path, problem)] = info.value.problems
    assert path.startswith("sources.lic") and message in problem, (path, problem)


def test_a_dialect_fills_the_paging_and_a_config_overrides_pieces() -> None:
    config = parse_config(
        {
            "sources": {
                "lic": {
                    "kind": "rest",
                    "base_url": "https://data.example.gov",
                    "dialect": "odata",
                    "query": {"in": None},
                    "pagination": {"page_size": 500},
                    "entities": {"program": {**ENTITY, "path": "/odata/Licenses"}},
                }
            }
        }
    )
    source = config.sources["lic"]
    assert source.records_path == "value"  # type: ignore[attr-defined]
    pag = source.pagination  # type: ignore[attr-defined]
    assert (pag.style, pag.offset_param, pag.limit_param, pag.order_param, pag.page_size) == (
        "offset",
        "$skip",
        "$top",
        "$orderby",
        500,
    )
    language = source.query  # type: ignore[attr-defined]
    assert language.member("Id", ["'1'", "'2'"]) == "(Id eq '1' or Id eq '2')"
