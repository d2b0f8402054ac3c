"""The ``rest`` connector against a real aiohttp server on loopback (the fake upstream)."""

from __future__ import annotations

import asyncio
import base64
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from ecehub.config import parse_config
from ecehub.connectors import FieldFilter, Record, get_connector_class
from ecehub.connectors.rest import RestConnector
from ecehub.errors import ConfigError, SourceTimeout, SourceUnavailable

API_KEY = "k-sekret-1234"
TOKEN = "t-sekret-5678"
COUNTIES = ["Adams", "Baker", "Clark"]

# -- the fake upstream --------------------------------------------------------------------


def _provider(i: int) -> dict[str, Any]:
    return {
        "provider_id": f"P{i:03d}",
        "name": f"{['Sunny', 'Little', 'Bright'][i % 3]} Steps {i}",
        "location": {"city": f"Town {i % 5}", "county": COUNTIES[i % 3]},
        "license": {"number": f"L-{1000 + i}"},
        "phones": [{"number": f"555-01{i:02d}"}],
        "rating": {"level": str(i % 5 + 1)},
    }


PROVIDERS = [_provider(i) for i in range(1, 26)]
PROVIDER_IDS = [p["provider_id"] for p in PROVIDERS]
# Every fourth provider has no staff.
STAFF: list[dict[str, Any]] = [
    {
        "staff_id": f"S{i:03d}-{j}",
        "first_name": f"Ann{i}",
        "last_name": f"Lee{j}",
        "provider": {"id": f"P{i:03d}"},
    }
    for i in range(1, 26)
    if i % 4
    for j in (1, 2)
]
FUNDING = [
    {"id": f"F{i:03d}", "provider_id": f"P{i:03d}", "amount": f"{i * 1000}.50", "cur": "USD"}
    for i in range(1, 26)
]


def _cursor_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _cursor_offset(token: str) -> int:
    return int(base64.urlsafe_b64decode(token).decode().split(":")[1])


@dataclass
class Upstream:
    """The fake API: what it saw, and knobs a test turns."""

    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    delay_s: float = 0.0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None

    async def stop(self) -> None:
        """Take the server down (idempotent); slow handlers are let go first."""
        runner, self.runner = self.runner, None
        if runner is not None:
            self.release.set()
            await runner.cleanup()

    def base(self, realm: str = "open") -> str:
        return f"{self.url}/{realm}"

    def calls(self, path_suffix: str) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p.endswith(path_suffix)]


def _listing(request: web.Request, rows: list[dict[str, Any]]) -> web.Response:
    """One page of ``rows`` in whichever style the query asks for."""
    q = request.query
    if "page" in q:
        size = int(q["page_size"])
        start = (int(q["page"]) - 1) * size
        return web.json_response({"data": rows[start : start + size], "meta": {"n": len(rows)}})
    if "offset" in q:
        start, size = int(q["offset"]), int(q["limit"])
        return web.json_response({"data": rows[start : start + size]})
    if "limit" in q:
        start, size = _cursor_offset(q["cursor"]) if "cursor" in q else 0, int(q["limit"])
        more = start + size < len(rows)
        return web.json_response(
            {"data": rows[start : start + size], "next_cursor": _cursor_token(start + size)}
            if more
            else {"data": rows[start : start + size], "next_cursor": None}
        )
    return web.json_response({"data": rows})


def _csv(request: web.Request, name: str) -> set[str] | None:
    return set(request.query[name].split(",")) if name in request.query else None


def build_app(state: Upstream) -> web.Application:
    @web.middleware
    async def edge(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state.requests.append((request.path, dict(request.query)))
        realm = request.path.split("/")[1]
        allowed = {
            "open": True,
            "key-header": request.headers.get("X-API-Key") == API_KEY,
            "key-query": request.query.get("api_key") == API_KEY,
            "bearer": request.headers.get("Authorization") == f"Bearer {TOKEN}",
        }.get(realm, False)
        if not allowed:
            return web.json_response({"error": "unauthorized"}, status=401)
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if state.delay_s:
                await asyncio.sleep(state.delay_s)
            return await handler(request)
        finally:
            state.in_flight -= 1

    async def providers(request: web.Request) -> web.Response:
        rows = PROVIDERS
        if (ids := _csv(request, "ids")) is not None:
            rows = [p for p in rows if p["provider_id"] in ids]
        if "county" in request.query:
            rows = [p for p in rows if p["location"]["county"] == request.query["county"]]
        if "q" in request.query:
            rows = [p for p in rows if request.query["q"].lower() in p["name"].lower()]
        return _listing(request, rows)

    async def provider(request: web.Request) -> web.Response:
        pid = request.match_info["pid"]
        for p in PROVIDERS:
            if p["provider_id"] == pid:
                return web.json_response({"result": p})
        return web.json_response({"error": "not found"}, status=404)

    async def staff(request: web.Request) -> web.Response:
        rows = STAFF
        if (parents := _csv(request, "provider_ids")) is not None:
            rows = [s for s in rows if s["provider"]["id"] in parents]
        return _listing(request, rows)

    async def staff_of(request: web.Request) -> web.Response:
        pid = request.match_info["pid"]
        if pid not in PROVIDER_IDS:
            return web.json_response({"error": "not found"}, status=404)
        # Per-parent endpoint: the records do not repeat their parent.
        rows = [
            {k: v for k, v in s.items() if k != "provider"}
            for s in STAFF
            if s["provider"]["id"] == pid
        ]
        return _listing(request, rows)

    async def funding(request: web.Request) -> web.Response:
        return web.json_response({"result": {"items": FUNDING}})

    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=500)

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    async def odd_json(request: web.Request) -> web.Response:
        """JSON the fast decoder refuses: another charset, NaN, an integer beyond 64 bits."""
        text = (
            '{"data": [{"provider_id": "P1", "name": "Ni\u00f1os Unidos", '
            '"rating": {"level": NaN}, "license": {"number": 123456789012345678901234567890}}]}'
        )
        return web.Response(
            body=text.encode("latin-1"), content_type="application/json", charset="iso-8859-1"
        )

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.json_response({"data": []})

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(middlewares=[edge])
    app.router.add_get("/{realm}/v1/providers", providers)
    app.router.add_get("/{realm}/v1/providers/{pid}", provider)
    app.router.add_get("/{realm}/v1/providers/{pid}/staff", staff_of)
    app.router.add_get("/{realm}/v1/staff", staff)
    app.router.add_get("/{realm}/v1/funding", funding)
    app.router.add_get("/{realm}/v1/broken", broken)
    app.router.add_get("/{realm}/v1/not-json", not_json)
    app.router.add_get("/{realm}/v1/slow", slow)
    app.router.add_get("/{realm}/v1/odd-json", odd_json)
    app.router.add_get("/{realm}/healthz", health)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    runner = web.AppRunner(build_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    state.runner = runner
    yield state
    await state.stop()


# -- building connectors through the config ----------------------------------------------

PROGRAM: dict[str, Any] = {
    "path": "/v1/providers",
    "key": "provider_id",
    "fields": {
        "name": "name",
        "city": "location.city",
        "county": "location.county",
        "phone": "phones.0.number",
        "qris_level": "rating.level",
        "license_status": "license.status",
    },
    "identifiers": {"QRIS_PROVIDER_ID": "provider_id", "LICENSE_NUMBER": "license.number"},
}
STAFF_ENTITY: dict[str, Any] = {
    "path": "/v1/staff",
    "key": "staff_id",
    "parent": {"program": "provider.id"},
    "fields": {"first_name": "first_name", "last_name": "last_name"},
}

MakeConnector = Callable[..., RestConnector]


@pytest.fixture
async def make_connector(upstream: Upstream) -> AsyncIterator[MakeConnector]:
    """Build a connector from config: ``entities`` replace the defaults, other keyword
    arguments are source settings."""
    made: list[RestConnector] = []

    def make(
        *, realm: str = "open", entities: dict[str, Any] | None = None, **settings: Any
    ) -> RestConnector:
        source = {
            "kind": "rest",
            "base_url": upstream.base(realm),
            "support_types": ["QRIS"],
            "timeout_s": 2,
            "entities": entities if entities is not None else {"program": PROGRAM},
            **settings,
        }
        config = parse_config({"sources": {"qris": source}})
        cls = get_connector_class("rest")
        connector = cls("qris", config.sources["qris"])
        assert isinstance(connector, RestConnector)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


def program(**overrides: Any) -> dict[str, Any]:
    return {**PROGRAM, **overrides}


def keys(records: list[Record]) -> list[str]:
    return [r.key for r in records]


# -- fetch --------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "batch_max"), [(25, 10), (7, 10), (20, 5)])
async def test_fetch_by_batch_param_makes_one_call_per_chunk(
    upstream: Upstream, make_connector: MakeConnector, n: int, batch_max: int
) -> None:
    upstream.delay_s = 0.02
    connector = make_connector(
        entities={"program": program(batch={"param": "ids", "max": batch_max})},
        max_concurrency=2,
    )
    wanted = [*PROVIDER_IDS[: n - 1], "P999"]  # one key the source does not have
    found = await connector.fetch("program", wanted)

    assert sorted(found) == sorted(PROVIDER_IDS[: n - 1])
    calls = upstream.calls("/v1/providers")
    assert len(calls) == math.ceil(n / batch_max)
    assert sorted(k for q in calls for k in q["ids"].split(",")) == sorted(wanted)
    assert upstream.max_in_flight <= 2


async def test_fetch_by_batch_follows_pagination_within_each_chunk(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        entities={"program": program(batch={"param": "ids", "max": 10})},
        pagination={"style": "offset", "page_size": 4},
    )
    found = await connector.fetch("program", PROVIDER_IDS)
    assert sorted(found) == PROVIDER_IDS
    # 10 + 10 + 5 ids at 4 a page: 3 + 3 + 2 pages.
    assert len(upstream.calls("/v1/providers")) == 8


async def test_fetch_per_key_with_bounded_concurrency_and_404_as_missing(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    upstream.delay_s = 0.03
    connector = make_connector(
        entities={"program": program(item_path="/v1/providers/{key}", item_record_path="result")},
        max_concurrency=4,
    )
    wanted = [*PROVIDER_IDS[:20], "P404", "P405"]
    found = await connector.fetch("program", wanted)

    assert sorted(found) == PROVIDER_IDS[:20]
    assert found["P007"].fields["name"] == "Little Steps 7"
    assert len([p for p, _ in upstream.requests if "/v1/providers/" in p]) == len(wanted)
    assert 1 < upstream.max_in_flight <= 4


async def test_fetch_falls_back_to_an_in_filter_on_the_key(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        entities={
            "program": program(
                filters={"identifier:QRIS_PROVIDER_ID": {"param": "ids", "op": "in"}}
            )
        }
    )
    found = await connector.fetch("program", ["P003", "P011", "P999"])
    assert sorted(found) == ["P003", "P011"]
    assert [q["ids"] for q in upstream.calls("/v1/providers")] == ["P003,P011,P999"]


async def test_fetch_without_any_way_to_select_by_key_says_what_to_configure(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector()
    with pytest.raises(ValueError, match=r"batch.*item_path.*filters"):
        await connector.fetch("program", ["P001"])


# -- children -----------------------------------------------------------------------------


async def test_children_by_parent_batch_param(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        entities={
            "program": PROGRAM,
            "staff": {**STAFF_ENTITY, "parent_batch": {"param": "provider_ids", "max": 10}},
        }
    )
    parents = [*PROVIDER_IDS, "P999"]
    grouped = await connector.children("staff", "program", parents)

    assert len(upstream.calls("/v1/staff")) == math.ceil(len(parents) / 10)
    assert set(grouped) == set(parents)
    assert keys(grouped["P001"]) == ["S001-1", "S001-2"]
    assert grouped["P004"] == [] and grouped["P999"] == []
    assert all(r.parent_key == pid for pid, rs in grouped.items() for r in rs)
    assert sum(len(rs) for rs in grouped.values()) == len(STAFF)


async def test_children_by_parent_path_per_parent(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    upstream.delay_s = 0.02
    connector = make_connector(
        entities={
            "program": PROGRAM,
            "staff": {**STAFF_ENTITY, "parent_path": "/v1/providers/{parent_key}/staff"},
        },
        max_concurrency=3,
    )
    grouped = await connector.children("staff", "program", ["P001", "P002", "P004", "P999"])

    assert keys(grouped["P002"]) == ["S002-1", "S002-2"]
    assert grouped["P002"][0].parent_key == "P002"  # not in the record: the path's parent
    assert grouped["P004"] == [] and grouped["P999"] == []  # none, and 404
    assert upstream.max_in_flight <= 3


async def test_children_of_another_parent_entity_is_refused(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(
        entities={"program": PROGRAM, "staff": {**STAFF_ENTITY, "parent_batch": {"param": "x"}}}
    )
    with pytest.raises(ValueError, match="under 'program'"):
        await connector.children("staff", "site", ["S1"])


# -- find ---------------------------------------------------------------------------------

FILTER_PARAMS = {
    "county": {"param": "county", "op": "eq"},
    "name": {"param": "q", "op": "contains"},
    "identifier:QRIS_PROVIDER_ID": {"param": "ids", "op": "in"},
}


@pytest.mark.parametrize(
    ("filters", "param"),
    [
        ([FieldFilter("county", "eq", "Baker")], "county"),
        ([FieldFilter("name", "contains", "little")], "q"),
        ([FieldFilter("identifier:QRIS_PROVIDER_ID", "in", ["P002", "P005", "P024"])], "ids"),
        (
            [FieldFilter("county", "eq", "Adams"), FieldFilter("name", "contains", "steps 1")],
            "county",
        ),
    ],
)
@pytest.mark.parametrize("style", ["page", "cursor"])
async def test_find_pushed_down_and_client_side_filters_agree(
    upstream: Upstream,
    make_connector: MakeConnector,
    filters: list[FieldFilter],
    param: str,
    style: str,
) -> None:
    pagination = {"style": style, "page_size": 4}
    pushing = make_connector(
        entities={"program": program(filters=FILTER_PARAMS)}, pagination=pagination
    )
    local = make_connector(pagination=pagination)

    pushed = await pushing.find("program", filters)
    assert any(param in q for q in upstream.calls("/v1/providers"))
    upstream.requests.clear()
    filtered_here = await local.find("program", filters)
    assert not any(param in q for q in upstream.calls("/v1/providers"))

    expected = [
        p["provider_id"]
        for p in PROVIDERS
        if all(f.field != "county" or p["location"]["county"] == f.value for f in filters)
        and all(f.field != "name" or f.value.lower() in p["name"].lower() for f in filters)
        and all(
            f.field != "identifier:QRIS_PROVIDER_ID" or p["provider_id"] in f.value for f in filters
        )
    ]
    assert expected
    assert keys(pushed.records) == keys(filtered_here.records) == expected
    assert not pushed.has_next and not filtered_here.has_next


async def test_find_with_an_op_the_param_does_not_do_filters_client_side(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(entities={"program": program(filters=FILTER_PARAMS)})
    page = await connector.find("program", [FieldFilter("county", "in", ["Adams", "Clark"])])
    assert not any("county" in q for q in upstream.calls("/v1/providers"))
    assert {r.fields["county"] for r in page.records} == {"Adams", "Clark"}
    assert len(page.records) == len([p for p in PROVIDERS if p["location"]["county"] != "Baker"])


async def test_find_with_an_empty_in_filter_asks_nothing(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(entities={"program": program(filters=FILTER_PARAMS)})
    page = await connector.find("program", [FieldFilter("identifier:QRIS_PROVIDER_ID", "in", [])])
    assert page.records == [] and not page.has_next
    assert upstream.requests == []


STYLES = ["page", "offset", "cursor", "none"]


async def _page_through(
    connector: RestConnector, filters: list[FieldFilter], first: int
) -> list[tuple[list[str], bool]]:
    pages: list[tuple[list[str], bool]] = []
    after: str | None = None
    while True:
        page = await connector.find("program", filters, first=first, after=after)
        assert len(page.records) <= first
        pages.append((keys(page.records), page.has_next))
        if not page.has_next:
            return pages
        assert len(pages) < 30, "paging does not end"
        after = page.records[-1].cursor


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "filters",
    [[], [FieldFilter("county", "eq", "Clark")]],
    ids=["all", "client-side-filter"],
)
async def test_paging_with_first_3_returns_every_record_once(
    make_connector: MakeConnector, style: str, filters: list[FieldFilter]
) -> None:
    connector = make_connector(pagination={"style": style, "page_size": 4})
    everything = keys((await connector.find("program", filters)).records)
    assert everything and len(everything) == len(set(everything))

    pages = await _page_through(connector, filters, first=3)

    assert [k for page, _ in pages for k in page] == everything
    assert [has_next for _, has_next in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(page) == 3 for page, _ in pages[:-1]) and 1 <= len(pages[-1][0]) <= 3


@pytest.mark.parametrize("style", STYLES)
async def test_first_none_reads_all_pages_and_stops_on_the_short_one(
    upstream: Upstream, make_connector: MakeConnector, style: str
) -> None:
    connector = make_connector(pagination={"style": style, "page_size": 10})
    page = await connector.find("program")
    assert keys(page.records) == PROVIDER_IDS and not page.has_next
    assert len(upstream.calls("/v1/providers")) == (1 if style == "none" else 3)


async def test_has_next_is_right_when_the_last_record_ends_a_full_page(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(pagination={"style": "page", "page_size": 5})
    page = await connector.find("program", first=25)
    assert len(page.records) == 25 and not page.has_next
    page = await connector.find("program", first=24)
    assert page.records[-1].key == "P024" and page.has_next


@pytest.mark.parametrize("after", ["nope", "-3", "[1]", '["x", -1]'])
async def test_a_malformed_after_cursor_is_refused(
    make_connector: MakeConnector, after: str
) -> None:
    style = "cursor" if after.startswith("[") else "offset"
    connector = make_connector(pagination={"style": style})
    with pytest.raises(ValueError, match="invalid `after` cursor"):
        await connector.find("program", first=3, after=after)


# -- records ------------------------------------------------------------------------------


async def test_json_paths_reach_into_nested_objects_and_lists(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(entities={"program": program(batch={"param": "ids"})})
    record = (await connector.fetch("program", ["P012"]))["P012"]

    assert record.source == "qris" and record.entity == "program"
    assert record.fields["city"] == "Town 2"
    assert record.fields["county"] == "Adams"
    assert record.fields["phone"] == "555-0112"
    assert record.fields["qris_level"] == 3  # "3" coerced to int
    assert record.fields["license_status"] is None  # a path that is not there
    assert record.identifiers == {"QRIS_PROVIDER_ID": "P012", "LICENSE_NUMBER": "L-1012"}


async def test_nested_records_path_and_decimal_amounts(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(
        entities={
            "program": PROGRAM,
            "funding": {
                "path": "/v1/funding",
                "records_path": "result.items",
                "key": "id",
                "parent": {"program": "provider_id"},
                "parent_batch": {"param": "provider_ids"},
                "fields": {"amount": "amount", "currency": "cur"},
            },
        },
        pagination={"style": "none"},
    )
    grouped = await connector.children("funding", "program", ["P003"])
    (funding,) = grouped["P003"]
    assert funding.fields["amount"] == Decimal("3000.50")
    assert isinstance(funding.fields["amount"], Decimal)
    assert funding.fields["currency"] == "USD"


async def test_a_records_path_that_is_not_there_is_a_source_error(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(records_path="items")
    with pytest.raises(SourceUnavailable, match="check records_path"):
        await connector.find("program")


# -- auth and errors ----------------------------------------------------------------------

AUTH_CASES: dict[str, dict[str, Any]] = {
    "key-header": {"type": "api_key", "header": "X-API-Key", "value": API_KEY},
    "key-query": {"type": "api_key", "header": None, "query": "api_key", "value": API_KEY},
    "bearer": {"type": "bearer", "token": TOKEN},
}


def _wrong(auth: dict[str, Any]) -> dict[str, Any]:
    secret = "value" if "value" in auth else "token"
    return {**auth, secret: "wrong-sekret-0000"}


@pytest.mark.parametrize("realm", list(AUTH_CASES))
async def test_auth_is_sent_and_never_shown(
    make_connector: MakeConnector, caplog: pytest.LogCaptureFixture, realm: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="ecehub")
    auth = AUTH_CASES[realm]
    good = make_connector(realm=realm, auth=auth)
    assert len((await good.find("program", first=2)).records) == 2

    for bad in (make_connector(realm=realm), make_connector(realm=realm, auth=_wrong(auth))):
        with pytest.raises(SourceUnavailable) as info:
            await bad.find("program", first=2)
        message = str(info.value)
        assert message == f"source 'qris': HTTP 401 from GET /{realm}/v1/providers"
        assert info.value.source == "qris"

    logged = [r.getMessage() for r in caplog.records if r.name.startswith("ecehub")]
    assert logged  # the connector does log its requests, without secrets
    shown = "\n".join(logged) + message + repr(info.value)
    for secret in (API_KEY, TOKEN, "wrong-sekret", "api_key=", "127.0.0.1"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/broken", "HTTP 500 from GET /open/v1/broken"),
        ("/v1/not-json", "invalid JSON from GET /open/v1/not-json"),
    ],
)
async def test_server_errors_and_bad_json_are_source_unavailable(
    make_connector: MakeConnector, path: str, message: str
) -> None:
    connector = make_connector(entities={"program": program(path=path)})
    with pytest.raises(SourceUnavailable) as info:
        await connector.find("program")
    assert info.value.message == f"source 'qris': {message}"


async def test_json_in_another_charset_with_nan_and_big_integers_is_read(
    make_connector: MakeConnector,
) -> None:
    """What the fast JSON decoder refuses is read as the standard decoder reads it."""
    connector = make_connector(entities={"program": program(path="/v1/odd-json")})
    (record,) = (await connector.find("program")).records
    assert record.fields["name"] == "Ni\u00f1os Unidos"
    assert record.identifiers["LICENSE_NUMBER"] == "123456789012345678901234567890"
    assert record.fields["qris_level"] is None  # NaN is no level
    assert "qris_level" in record.unparsable  # and is accounted as unreadable


async def test_a_slow_source_is_a_source_timeout(make_connector: MakeConnector) -> None:
    connector = make_connector(entities={"program": program(path="/v1/slow")}, timeout_s=0.2)
    with pytest.raises(SourceTimeout, match=r"no answer within 0\.2 s to GET /open/v1/slow"):
        await connector.find("program")


async def test_an_outer_timeout_cancels_the_call_instead_of_being_swallowed(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(
        entities={"program": program(path="/v1/slow", batch={"param": "ids", "max": 1})},
        timeout_s=5,
    )
    with pytest.raises(TimeoutError) as info:
        async with asyncio.timeout(0.1):
            await connector.fetch("program", ["P001", "P002", "P003"])
    assert not isinstance(info.value, SourceTimeout)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_a_failing_chunk_fails_the_call_and_leaves_the_task_clean(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        entities={"program": program(item_path="/v1/providers/{key}")}, max_concurrency=2
    )
    await upstream.stop()
    with pytest.raises(SourceUnavailable, match="on GET /open/v1/providers/P00"):
        await connector.fetch("program", ["P001", "P002", "P003"])
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


# -- health and lifecycle -----------------------------------------------------------------


async def test_health_uses_health_path(upstream: Upstream, make_connector: MakeConnector) -> None:
    health = await make_connector(health_path="/healthz").health()
    assert health.ok and health.source == "qris" and health.latency_ms >= 0
    assert [p for p, _ in upstream.requests] == ["/open/healthz"]


@pytest.mark.parametrize(
    ("style", "size_param"), [("page", "page_size"), ("offset", "limit"), ("cursor", "limit")]
)
async def test_health_asks_the_first_entity_for_one_record(
    upstream: Upstream, make_connector: MakeConnector, style: str, size_param: str
) -> None:
    health = await make_connector(pagination={"style": style}).health()
    assert health.ok
    ((path, query),) = upstream.requests
    assert path == "/open/v1/providers" and query[size_param] == "1"


async def test_health_is_not_ok_when_the_source_is_down(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(health_path="/healthz")
    assert (await connector.health()).ok
    await upstream.stop()
    health = await connector.health()
    assert not health.ok and health.source == "qris"
    assert "GET /open/healthz" in health.detail and "127.0.0.1" not in health.detail

    unauthorised = await make_connector(realm="bearer").health()
    assert not unauthorised.ok


async def test_one_session_reused_and_closed_by_aclose(make_connector: MakeConnector) -> None:
    connector = make_connector(entities={"program": program(batch={"param": "ids"})})
    async with connector:
        await connector.fetch("program", ["P001"])
        session = connector.transport.session
        await connector.find("program", first=1)
        assert connector.transport.session is session and session is not None
    assert session.closed
    # Usable again: a new session is made on demand, inside the running loop.
    assert (await connector.fetch("program", ["P002"]))["P002"].key == "P002"


# -- config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "entity", "what"),
    [
        ("program", program(path="v1/providers"), "starts with '/'"),
        ("program", program(item_path="/v1/providers/{id}"), "{key}"),
        ("staff", {**STAFF_ENTITY, "parent": None, "parent_path": "/p/{parent_key}/s"}, "parent"),
    ],
)
def test_config_errors_name_the_setting(name: str, entity: dict[str, Any], what: str) -> None:
    source = {
        "kind": "rest",
        "base_url": "https://user:pw@api.example.org/v1",
        "support_types": ["QRIS"],
        "entities": {"program": PROGRAM, name: entity},
    }
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"qris": source}})
    paths = [p for p, msg in info.value.problems if what in msg]
    assert len(paths) == 1 and paths[0].startswith(f"sources.qris.entities.{name}")
    assert "pw@" not in str(info.value)


@pytest.mark.parametrize(
    ("pagination", "what"),
    [
        (
            {"style": "offset", "size_param": "per_page"},
            "size_param not used by style 'offset', which uses offset_param, limit_param, "
            "order_param, more_path; offset paging takes the page size in limit_param",
        ),
        (
            {"style": "page", "limit_param": "per_page"},
            "page paging takes the page size in size_param",
        ),
        (
            {"style": "cursor", "size_param": "n"},
            "cursor paging takes the page size in limit_param",
        ),
        ({"style": "page", "cursor_param": "next"}, "cursor_param not used by style 'page'"),
        ({"style": "none", "page_param": "p"}, "which uses nothing but one call"),
        ({"style": "cursor", "order_param": "$order"}, "order_param not used by style 'cursor'"),
        (
            {"style": "offset", "offset_param": "n", "limit_param": "n"},
            "'n' names two paging parameters (offset_param, limit_param)",
        ),
        ({"style": "page", "first_page": 2}, "less than or equal to 1"),
    ],
)
def test_a_paging_setting_its_style_does_not_send_is_refused(
    pagination: dict[str, Any], what: str
) -> None:
    source = {
        "kind": "rest",
        "base_url": "https://api.example.org/v1",
        "pagination": pagination,
        "entities": {"program": PROGRAM},
    }
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"qris": source}})
    [(path, message)] = info.value.problems
    assert path.startswith("sources.qris.pagination") and what in message, (path, message)


def test_base_url_must_be_http_and_is_not_echoed() -> None:
    source = {"kind": "rest", "base_url": "ftp://user:pw@host", "entities": {}}
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": {"qris": source}})
    assert "pw@" not in str(info.value) and "sources.qris.base_url" in str(info.value)


async def test_value_mappings_and_constants_apply_to_records_and_filters(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(
        entities={
            "program": program(
                values={"county": {COUNTIES[0]: "First County"}},
                constants={"program_type": "ChildCare"},
                filters={"county": {"param": "county", "op": "eq"}},
            )
        }
    )
    page = await connector.find("program", [FieldFilter("county", "eq", "first county")])
    assert page.records and all(r.fields["county"] == "First County" for r in page.records)
    assert all(r.fields["program_type"] == "ChildCare" for r in page.records)
    assert len(page.records) == sum(1 for p in PROVIDERS if p["location"]["county"] == COUNTIES[0])
    none = await connector.find("program", [FieldFilter("program_type", "eq", "HeadStart")])
    assert none.records == []


@pytest.mark.parametrize("case_sensitive", [False, True])
async def test_a_case_sensitive_api_is_not_sent_text_it_would_miss(
    upstream: Upstream, make_connector: MakeConnector, case_sensitive: bool
) -> None:
    # The fake API compares county exactly; a hub filter ignores case.
    pushed = {"param": "county", "op": "eq", "case_sensitive": case_sensitive}
    connector = make_connector(entities={"program": program(filters={"county": pushed})})
    page = await connector.find("program", [FieldFilter("county", "eq", COUNTIES[0].upper())])
    adams = sum(1 for p in PROVIDERS if p["location"]["county"] == COUNTIES[0])
    sent = [q for q in upstream.calls("/providers") if "county" in q]
    if case_sensitive:  # filtered here: every match, the param never sent
        assert len(page.records) == adams and sent == []
    else:  # sent as given: the API's exact compare misses them (what declaring it avoids)
        assert page.records == [] and sent


async def test_an_in_filter_longer_than_the_api_takes_is_split_into_calls(
    upstream: Upstream, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        entities={
            "program": program(
                filters={"identifier:QRIS_PROVIDER_ID": {"param": "ids", "op": "in", "max": 4}}
            )
        }
    )
    wanted = [*PROVIDER_IDS[:10], "P999"]
    flt = FieldFilter("identifier:QRIS_PROVIDER_ID", "in", wanted)
    page = await connector.find("program", [flt])
    assert sorted(r.key for r in page.records) == sorted(PROVIDER_IDS[:10])
    assert not page.has_next
    calls = upstream.calls("/v1/providers")
    assert len(calls) == 3  # ceil(11 / 4)
    assert all(len(q["ids"].split(",")) <= 4 for q in calls)
    with pytest.raises(ValueError, match="without paging"):
        await connector.find("program", [flt], first=5)
