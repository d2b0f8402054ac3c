"""REST entities listed by POSTing a JSON search body (tests/connectors/search_upstream.py on
loopback): filters at their placeholders as JSON values (escaped by construction), paging in
each style the body can spell, keys in the body for ``fetch``, requests counted in the
trace, and mistakes refused at load."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ecehub.config import parse_config
from ecehub.connectors import FieldFilter, Record, matches
from ecehub.connectors.rest import RestConnector
from ecehub.connectors.usage import Usage, counting
from ecehub.errors import ConfigError
from ecehub.sources.gateway import SourceGateway
from tests.connectors.search_upstream import SearchUpstream, search_app
from tests.serving import loopback

STRANGE = ['O\'Brien "Kids"', "Back\\slash", "{page}", "Niños ☀", "a}{b", "Q&A=1"]
CITIES = ["Austin", "AUSTIN ", "Houston", "Waco", *STRANGE]
STATUSES = ["Active", "Inactive", "Pending"]


def _row(i: int) -> dict[str, Any]:
    return {
        "id": f"P{i:04d}",
        "name": f"Sunny Steps {i}",
        "city": CITIES[i % len(CITIES)],
        "status": STATUSES[i % 3],
        "capacity": i % 40,
    }


ROWS = [_row(i) for i in range(600)]
KEYS = [r["id"] for r in ROWS]

BODY: dict[str, Any] = {
    "filters": {"city": "{city}", "status": "{license_status}", "min_capacity": "{cap}"},
    "ids": "{keys}",
    "page": "{page}",
    "size": "{size}",
    "sort": "id",
}
PAGING = {
    "page": {"page": "{page}", "size": "{size}"},
    "offset": {"offset": "{offset}", "limit": "{limit}"},
    "cursor": {"cursor": "{cursor}", "limit": "{limit}"},
    "none": {},
}


def _entity(style: str = "page", **search: Any) -> dict[str, Any]:
    body = {k: v for k, v in BODY.items() if k not in ("page", "size")}
    body["filters"] = {"city": "{city}", "status": "{license_status}"}
    body.update(PAGING[style])
    spec: dict[str, Any] = {
        "path": f"/search/{style}",
        "body": body,
        "filters": {"city": {}, "license_status": {"op": "in"}},
        **({} if style == "none" else {"page_size": 50}),
        **search,
    }
    if style == "cursor":
        spec["next_cursor_path"] = "next"
    return {
        "path": "/providers",
        "key": "id",
        "records_path": "results",
        "fields": {
            "name": "name",
            "city": "city",
            "license_status": "status",
            "licensed_capacity": "capacity",
        },
        "search": spec,
    }


Make = Callable[..., RestConnector]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[SearchUpstream, str]]:
    api = SearchUpstream(list(ROWS))
    async with loopback(search_app(api)) as base:
        yield api, base


@pytest.fixture
async def make(upstream: tuple[SearchUpstream, str]) -> AsyncIterator[Make]:
    _, base = upstream
    made: list[RestConnector] = []

    def build(entity: dict[str, Any]) -> RestConnector:
        source = {"kind": "rest", "base_url": base, "timeout_s": 5, "entities": {"program": entity}}
        config = parse_config({"sources": {"reg": source}})
        connector = RestConnector("reg", config.sources["reg"])
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()


def _expected(filters: list[FieldFilter]) -> list[str]:
    out = []
    for row in ROWS:
        fields = {
            "name": row["name"],
            "city": row["city"],
            "license_status": row["status"],
            "licensed_capacity": row["capacity"],
        }
        if matches(Record("reg", "program", row["id"], fields, {}), filters):
            out.append(row["id"])
    return out


# -- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "none"])
async def test_filters_go_in_the_body_and_pages_follow_in_each_style(
    style: str, make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(_entity(style))
    filters = [
        FieldFilter("city", "eq", "austin"),
        FieldFilter("license_status", "in", ["Active", "Pending"]),
    ]
    usage = Usage()
    with counting(usage):
        page = await conn.find("program", filters)
    expected = _expected(filters)
    assert len(expected) > 50  # more than one page of 50
    assert [r.key for r in page.records] == expected
    first = api.bodies[0]
    assert first["filters"] == {"city": "austin", "status": ["Active", "Pending"]}
    assert "ids" not in first and first["sort"] == "id"  # no keys asked: member left out
    pages = 1 if style == "none" else len(expected) // 50 + 1
    assert len(api.bodies) == pages and usage.requests == pages
    assert usage.rows == api.sent == len(expected)
    if style == "page":
        assert [b["page"] for b in api.bodies] == list(range(1, pages + 1))
    if style == "cursor":
        assert "cursor" not in first and api.bodies[1]["cursor"] == "50"


@pytest.mark.parametrize("style", ["page", "offset", "cursor"])
async def test_a_listing_continues_after_a_cursor(
    style: str, make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(_entity(style))
    filters = [FieldFilter("license_status", "eq", "inactive")]
    seen: list[str] = []
    after = None
    while True:
        page = await conn.find("program", filters, first=30, after=after)
        seen += [r.key for r in page.records]
        if not page.has_next:
            break
        after = page.records[-1].cursor
    assert seen == _expected(filters)
    assert all(b["filters"] == {"status": ["inactive"]} for b in api.bodies)


@pytest.mark.parametrize("city", STRANGE)
async def test_a_filter_value_reaches_the_api_as_the_same_json_value(
    city: str, make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    """Quotes, backslashes, braces (even a placeholder's spelling) and any Unicode: the
    value is a JSON string in the body, never pasted into it."""
    api, _ = upstream
    conn = make(_entity("offset"))
    page = await conn.find("program", [FieldFilter("city", "eq", city)])
    assert [r.key for r in page.records] == _expected([FieldFilter("city", "eq", city)])
    assert page.records
    assert api.bodies[0]["filters"] == {"city": city}
    assert api.bodies[0]["offset"] == 0  # "{page}" as a value is not a placeholder


async def test_filters_the_body_cannot_carry_exactly_are_applied_by_the_hub(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    entity = _entity("offset", filters={"city": {"case_sensitive": True}, "license_status": {}})
    conn = make(entity)
    filters = [
        FieldFilter("city", "eq", "austin"),  # the API compares exactly: not sent
        FieldFilter("license_status", "in", ["Active", "Pending"]),  # declared eq, not in
        FieldFilter("name", "contains", "steps 1"),  # not declared
    ]
    page = await conn.find("program", filters)
    assert [r.key for r in page.records] == _expected(filters)
    assert all(b["filters"] == {} for b in api.bodies)


async def test_an_in_filter_longer_than_max_is_split_unpaged_and_left_to_the_hub_paged(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    entity = _entity("offset", filters={"city": {"op": "in", "max": 3}, "license_status": {}})
    conn = make(entity)
    cities = CITIES[:7]
    flt = [FieldFilter("city", "in", cities)]
    page = await conn.find("program", flt)
    assert sorted(r.key for r in page.records) == sorted(_expected(flt))
    sent = {tuple(b["filters"]["city"]) for b in api.bodies}
    assert sent == {tuple(cities[:3]), tuple(cities[3:6]), tuple(cities[6:])}
    api.reset()
    page = await conn.find("program", flt, first=10)
    assert [r.key for r in page.records] == _expected(flt)[:10] and page.has_next
    assert all(b["filters"] == {} for b in api.bodies)


async def test_a_filter_on_a_field_with_value_mappings_is_the_hubs(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    entity = _entity("page")
    entity["values"] = {"license_status": {"Active": "OPEN", "Inactive": "CLOSED"}}
    conn = make(entity)
    page = await conn.find("program", [FieldFilter("license_status", "eq", "CLOSED")])
    assert len(page.records) == len([r for r in ROWS if r["status"] == "Inactive"])
    assert all(b["filters"] == {} for b in api.bodies)


# -- keys ---------------------------------------------------------------------------------------


async def test_keys_go_in_the_body_in_chunks_and_pages(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(_entity("page", max_keys=120, page_size=100))
    wanted = [*KEYS[:250], "nope", 'P"0001\\']
    usage = Usage()
    with counting(usage):
        found = await conn.fetch("program", wanted)
    assert sorted(found) == sorted(KEYS[:250])
    chunks = [b["ids"] for b in api.bodies if b["page"] == 1]
    assert sorted(k for chunk in chunks for k in chunk) == sorted(wanted)
    assert sorted(len(c) for c in chunks) == [12, 120, 120]
    # 120 keys in pages of 100: two pages each, one for the last chunk.
    assert len(api.bodies) == usage.requests == 5
    assert all(b["filters"] == {} for b in api.bodies)


async def test_without_keys_in_the_body_fetch_asks_through_an_in_filter_on_the_key(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    entity = _entity("page")
    entity["search"]["body"].pop("ids")
    entity["search"]["body"]["filters"]["id"] = "{identifier:REG}"
    entity["search"]["filters"]["identifier:REG"] = {"op": "in", "max": 40}
    entity["identifiers"] = {"REG": "id"}
    conn = make(entity)
    found = await conn.fetch("program", KEYS[:90])
    assert sorted(found) == KEYS[:90]
    assert sorted(len(b["filters"]["id"]) for b in api.bodies) == [10, 40, 40]


# -- the trace and health -----------------------------------------------------------------------


async def test_the_trace_counts_search_requests_and_rows(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    conn = make(_entity("offset"))
    gateway = SourceGateway({"reg": conn})
    await gateway.fetch("reg", "program", KEYS[:30])
    await gateway.find("reg", "program", [FieldFilter("city", "eq", "waco")])
    [trace] = gateway.trace()
    assert trace["calls"] == 2
    assert trace["requests"] == len(api.bodies) >= 2 and trace["rows"] == api.sent
    assert api.sent == 30 + len(_expected([FieldFilter("city", "eq", "waco")]))


async def test_health_posts_the_search_for_one_record(
    make: Make, upstream: tuple[SearchUpstream, str]
) -> None:
    api, _ = upstream
    health = await make(_entity("page")).health()
    assert health.ok
    assert api.bodies == [{"filters": {}, "sort": "id", "page": 1, "size": 1}]


# -- config mistakes ----------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], str]] = [
    ({"body": {"q": "{town}"}}, "unknown placeholder {town}"),
    ({"body": {"q": "city={city}"}, "filters": {"city": {}}}, "never pasted into text"),
    ({"body": {"q": ["{city}"]}, "filters": {"city": {}}}, "never pasted into text"),
    ({"body": {"{city}": 1}, "filters": {"city": {}}}, "never pasted into text"),
    ({"body": {"a": "{city}", "b": "{city}"}, "filters": {"city": {}}}, "in the body twice"),
    ({"body": {"q": 1}, "filters": {"city": {}}}, "city declared but not in the body"),
    ({"body": {"p": "{page}"}}, "which is no paging style"),
    ({"body": {"p": "{page}", "l": "{limit}"}}, "which is no paging style"),
    ({"body": {"o": "{offset}", "l": "{limit}"}, "first_page": 0}, "first_page is not used"),
    ({"body": {"o": "{offset}", "l": "{limit}"}, "next_cursor_path": "n"}, "by offset"),
    ({"body": {}, "page_size": 10}, "page_size is not used"),
    ({"body": {}, "max_keys": 10}, 'needs "{keys}"'),
    ({"body": {}, "key_fields": ["a"]}, 'needs "{keys}"'),
    ({"body": {"ids": "{keys}"}, "key_fields": ["a"]}, "key of several paths"),
    ({"body": {"c": "{county}"}, "filters": {"county": {}}}, "county is not mapped"),
]


@pytest.mark.parametrize(("search", "message"), BAD, ids=lambda v: str(v)[:50])
def test_mistakes_are_refused_at_load_naming_the_fix(search: dict[str, Any], message: str) -> None:
    entity = {**_entity(), "search": search}
    config = {
        "sources": {
            "reg": {
                "kind": "rest",
                "base_url": "https://x.example",
                "entities": {"program": entity},
            }
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    [(path, problem)] = info.value.problems
    assert path.startswith("sources.reg.entities.program") and message in problem, (path, problem)


@pytest.mark.parametrize(
    ("entity", "message"),
    [
        ({"filters": {"city": {"param": "city"}}}, "declare its filters in search.filters"),
        ({"by_keys": {"style": "repeat", "param": "id"}}, "keep one"),
        ({"item_path": "/p/{key}"}, "keep one"),
    ],
)
def test_a_search_with_get_filters_or_a_second_way_to_fetch_keys_is_refused(
    entity: dict[str, Any], message: str
) -> None:
    ent = {**_entity(), **entity}
    config = {
        "sources": {
            "reg": {"kind": "rest", "base_url": "https://x.example", "entities": {"program": ent}}
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    [(path, problem)] = info.value.problems
    assert path == "sources.reg.entities.program" and message in problem, (path, problem)
