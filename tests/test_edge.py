"""The HTTP edge: malformed requests get a coded 4xx, client errors log one short line, string
inputs are checked before any source is asked, every error leaves with a code, and production
gives no suggestions."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ecehub.app import create_app
from ecehub.config import CacheConfig, Config, load_config
from ecehub.config.model import HubConfig, ServerConfig
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient

DEEP = "[" * 1500 + "]" * 1500
TYPENAME = '{"query": "{ __typename }"'
OPS = TYPENAME + "}"
Q = "{ __typename }"


def _with(extra: str) -> str:
    """The ``{ __typename }`` request with more members."""
    return f"{TYPENAME}, {extra}}}"


def _json(text: str | bytes) -> dict[str, Any]:
    return {"content": text, "headers": {"content-type": "application/json"}}


def _multipart(**parts: str) -> dict[str, Any]:
    return {"files": {name: (None, value) for name, value in parts.items()}}


def _upload(operations: str, map: str) -> dict[str, Any]:
    """A multipart request with a file part "0" and this ``map``."""
    files: dict[str, Any] = {"operations": (None, operations), "map": (None, map)}
    files["0"] = ("a.txt", b"hello", "text/plain")
    return {"files": files}


def _get(**params: str) -> dict[str, Any]:
    return {"params": params, "headers": {"accept": "application/json"}}


BROKEN_MULTIPART = {
    "content": b"--x\r\nbroken",
    "headers": {"content-type": "multipart/form-data; boundary=x"},
}

MALFORMED: list[tuple[str, str, dict[str, Any]]] = [
    # (case, method, httpx arguments)
    ("JSON null", "POST", _json("null")),
    ("JSON number", "POST", _json("42")),
    ("JSON true", "POST", _json("true")),
    ("JSON string", "POST", _json('"{ __typename }"')),
    ("JSON list (batch)", "POST", _json(f"[{OPS}]")),
    ("not JSON", "POST", _json("{not json")),
    ("empty body", "POST", _json("")),
    ("invalid UTF-8", "POST", _json(b'{"query": "\xff\xfe"}')),
    ("variables a list", "POST", _json(_with('"variables": [1]'))),
    ("variables a string", "POST", _json(_with('"variables": "x"'))),
    ("variables nested 1,500 deep", "POST", _json(_with(f'"variables": {{"a": {DEEP}}}'))),
    ("query a number", "POST", _json('{"query": 42}')),
    ("query a list", "POST", _json('{"query": ["{ __typename }"]}')),
    ("no query", "POST", _json("{}")),
    ("operationName a number", "POST", _json(_with('"operationName": 5'))),
    ("unknown operationName", "POST", _json(_with('"operationName": "Nope"'))),
    ("extensions a list", "POST", _json(_with('"extensions": [1]'))),
    ("extensions a string", "POST", _json(_with('"extensions": "x"'))),
    (
        "unsupported content type",
        "POST",
        {"content": OPS, "headers": {"content-type": "text/plain"}},
    ),
    ("no content type", "POST", {"content": OPS}),
    ("multipart map a list", "POST", _multipart(operations=OPS, map="[1]")),
    ("multipart map a string", "POST", _multipart(operations=OPS, map='"x"')),
    ("multipart map not JSON", "POST", _multipart(operations=OPS, map="{")),
    ("multipart map paths not a list", "POST", _upload(OPS, '{"0": "x"}')),
    (
        "multipart map to a missing file",
        "POST",
        _multipart(operations=OPS, map='{"0": ["variables.f"]}'),
    ),
    (
        "multipart path into a string",
        "POST",
        _upload(_with('"variables": {"a": "s"}'), '{"0": ["variables.a.b"]}'),
    ),
    (
        "multipart path out of range",
        "POST",
        _upload(_with('"variables": {"a": []}'), '{"0": ["variables.a.5"]}'),
    ),
    ("multipart path to nowhere", "POST", _upload(OPS, '{"0": ["variables.a.b"]}')),
    ("multipart operations not JSON", "POST", _multipart(operations="{", map="{}")),
    ("multipart operations null", "POST", _multipart(operations="null", map="{}")),
    ("multipart operations a number", "POST", _multipart(operations="7", map="{}")),
    ("multipart no operations", "POST", _multipart(map="{}")),
    ("multipart not parseable", "POST", BROKEN_MULTIPART),
    ("GET without a query", "GET", _get()),
    ("GET variables not JSON", "GET", _get(query=Q, variables="{")),
    ("GET variables a list", "GET", _get(query=Q, variables="[1]")),
    ("GET extensions not JSON", "GET", _get(query=Q, extensions="{")),
    ("GET variables nested 1,500 deep", "GET", _get(query=Q, variables=f'{{"a": {DEEP}}}')),
    ("GET a mutation", "GET", _get(query="mutation { __typename }")),
    ("PUT", "PUT", _json(OPS)),
]


@contextlib.asynccontextmanager
async def bare_app(tmp_path: Path, **server: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The hub with no sources (the HTTP edge needs none), its store in ``tmp_path``."""
    config = Config(
        hub=HubConfig(url=SecretStr(f"sqlite+aiosqlite:///{tmp_path}/hub.db")),
        server=ServerConfig(**server),
    )
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client
    finally:
        await runtime.aclose()


@pytest.mark.parametrize("mode", ["development", "production"])
@pytest.mark.parametrize(
    ("case", "method", "request_args"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
async def test_a_malformed_request_gets_a_coded_4xx(
    tmp_path: Path, mode: str, case: str, method: str, request_args: dict[str, Any]
) -> None:
    async with bare_app(tmp_path, mode=mode) as client:
        response = await client.request(method, "/graphql", **request_args)
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["data"] is None, body
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"]), body
    assert all(len(e["message"]) < 300 for e in body["errors"]), body


async def test_well_formed_requests_still_run(tmp_path: Path) -> None:
    async with bare_app(tmp_path) as client:
        posted = await client.post("/graphql", json={"query": "{ __typename }", "variables": None})
        got = await client.get("/graphql", params={"query": "{ __typename }", "variables": "null"})
        multipart = await client.post(
            "/graphql", files={"operations": (None, TYPENAME + "}"), "map": (None, "{}")}
        )
    for response in (posted, got, multipart):
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"__typename": "Query"}}


# -- the demo graph ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def edge_graph(
    tmp_path: Path, *, live: bool = False, **server: Any
) -> AsyncIterator[GraphClient]:
    """``live``: no source cache (a source made to fail after a first query must fail the
    next one, not be answered from that query's entries)."""
    async with DemoSystems(programs=6, data_dir=tmp_path) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = config.model_copy(
            update={"access": None, "server": config.server.model_copy(update=server)}
        )
        if live:
            config = config.model_copy(update={"cache": CacheConfig(backend="none")})
        runtime = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, runtime))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield GraphClient(client)
        finally:
            await runtime.aclose()


def source_calls(body: dict[str, Any]) -> int:
    return sum(s["calls"] for s in (body.get("extensions") or {}).get("sources", []))


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def test_a_client_error_logs_one_short_line_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ids = " ".join(f'p{i}: program(id: "bad-{i}") {{ name }}' for i in range(25))
    async with edge_graph(tmp_path) as client:
        caplog.set_level(logging.DEBUG)
        caplog.clear()
        body = await client.query(f"{{ {ids} }}")
        mine = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert codes(body) == ["BAD_USER_INPUT"] * 25
    assert "Traceback" not in caplog.text
    assert all(r.exc_info is None and r.exc_text is None for r in mine), mine
    assert all(r.levelno <= logging.INFO for r in mine), [(r.name, r.levelname) for r in mine]
    assert 1 <= len(mine) <= 2, [r.getMessage() for r in mine]
    assert all(len(r.getMessage()) < 400 for r in mine), [r.getMessage() for r in mine]


def _explode(*_: object) -> None:
    raise RuntimeError("a bug in the hub")


async def test_a_server_fault_still_logs_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ecehub.schema.graph.address_of", _explode)
    async with edge_graph(tmp_path) as client:
        caplog.set_level(logging.INFO)
        body = await client.query("{ programs(first: 3) { nodes { address { city } } } }")
    assert set(codes(body)) == {"INTERNAL_SERVER_ERROR"}  # development mode too
    faults = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert faults and "a bug in the hub" in caplog.text and "Traceback" in caplog.text
    # the same fault three times is one traceback
    assert len(faults) == 1, faults


BAD_STRINGS = [
    ("NUL", "Head\x00Start", "NUL"),
    ("lone surrogate", "Head\ud800Start", "surrogate"),
    ("10,000 characters", "x" * 10_000, "at most 1000"),
    ("900 KB", "x" * 900_000, "at most 1000"),
]


@pytest.mark.parametrize(("case", "value", "needle"), BAD_STRINGS, ids=[b[0] for b in BAD_STRINGS])
async def test_bad_strings_are_refused_before_any_source_call(
    tmp_path: Path, case: str, value: str, needle: str
) -> None:
    query = "query($n: String) { programs(first: 2, filter: {name: $n}) { nodes { name } } }"
    # ensure_ascii: a lone surrogate travels as a JSON escape
    payload = json.dumps({"query": query, "variables": {"n": value}})
    async with edge_graph(tmp_path, mode="production") as client:
        response = await client.client.post(
            "/graphql",
            content=payload,
            headers={"content-type": "application/json", "X-Ecehub-Trace": "1"},
        )
        ok = await client.query(query, {"n": "x" * 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    assert "$n" in error["message"] and needle in error["message"], error
    assert error["extensions"]["argument"] == "$n"
    assert source_calls(body) == 0, body
    assert "errors" not in ok and source_calls(ok) > 0


async def test_bad_literal_strings_and_ids_are_refused(tmp_path: Path) -> None:
    long_id = "A" * 1001
    async with edge_graph(tmp_path) as client:
        nul = await client.post(
            '{ programs(first: 2, filter: {city: "a\\u0000b"}) { nodes { name } } }'
        )
        long = await client.post(f'{{ program(id: "{long_id}") {{ name }} }}')
    for response, argument in ((nul, "filter.city"), (long, "id")):
        body = response.json()
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["argument"] == argument
        assert source_calls(body) == 0, body


async def test_literals_are_walked_once_per_document_and_variables_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document's literals are checked once (the parsed document is shared by every
    request sending that text); a bad one is refused every time it is sent, and variables
    are checked on every request."""
    import ecehub.schema.edge as edge_module

    walks: list[str] = []
    from graphql import visit

    def counting(node: Any, visitor: Any) -> Any:
        walks.append(type(node).__name__)
        return visit(node, visitor)

    monkeypatch.setattr(edge_module, "visit", counting)
    clean = "query($c: String) { programs(first: 2, filter: {city: $c}) { nodes { name } } }"
    bad = '{ programs(first: 2, filter: {city: "a\\u0000b"}) { nodes { name } } }'
    async with edge_graph(tmp_path) as client:
        for _ in range(3):
            ok = (await client.post(clean, {"c": "Springfield"})).json()
            assert "errors" not in ok, ok
        assert len(walks) == 1
        refused = (await client.post(clean, {"c": "a\u0000b"})).json()
        assert codes(refused) == ["BAD_USER_INPUT"], refused
        assert refused["errors"][0]["extensions"]["argument"] == "$c"
        for _ in range(2):
            body = (await client.post(bad)).json()
            assert codes(body) == ["BAD_USER_INPUT"], body
            assert body["errors"][0]["extensions"]["argument"] == "filter.city"
    assert len(walks) == 3  # the clean document once, the bad one each time it was sent


async def test_a_source_error_does_not_carry_the_database_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecehub.errors import SourceUnavailable
    from ecehub.sources.gateway import SourceGateway

    real = SourceGateway._call

    async def refuse(self: SourceGateway, source: str, op: str, call: Any, empty: Any) -> Any:
        if source == "licensing":
            self._fail(SourceUnavailable(source, 'database error: relation "programs" at db7'))
            return empty
        return await real(self, source, op, call, empty)

    monkeypatch.setattr(SourceGateway, "_call", refuse)
    async with edge_graph(tmp_path) as client:
        body = await client.query("{ programs(first: 2) { nodes { name license { number } } } }")
    assert "SOURCE_UNAVAILABLE" in codes(body)
    assert "db7" not in json.dumps(body) and "relation" not in json.dumps(body)


async def test_bad_cursors_are_bad_user_input_in_production(tmp_path: Path) -> None:
    async with edge_graph(tmp_path, mode="production") as client:
        first = await client.query("{ programs(first: 1) { nodes { id } } }")
        program = first["data"]["programs"]["nodes"][0]["id"]
        audit = await client.query(
            'query($p: ID!) { audit(programId: $p, after: "garbage") { endCursor } }',
            {"p": program},
        )
        suggestions = await client.query(
            '{ crosswalkSuggestions(after: "garbage") { pageInfo { endCursor } } }'
        )
    for body in (audit, suggestions):
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert "cursor" in body["errors"][0]["message"]


@pytest.mark.parametrize("mode", ["production", "development"])
async def test_suggestions_only_in_development(tmp_path: Path, mode: str) -> None:
    async with bare_app(tmp_path, mode=mode) as client:
        responses = [
            await client.post("/graphql", json={"query": q})
            for q in (
                "{ programz(first: 1) { nodes { name } } }",
                "{ programs(frst: 1) { nodes { name } } }",
                "{ programs(first: 1) { nodes { nme } } }",
                "query($f: ProgramFiltr) { programs(filter: $f) { nodes { name } } }",
            )
        ]
    messages = [e["message"] for r in responses for e in r.json()["errors"]]
    assert all(c == "GRAPHQL_VALIDATION_FAILED" for r in responses for c in codes(r.json()))
    if mode == "production":
        assert not any("Did you mean" in m for m in messages), messages
        assert any("Cannot query field 'programz'" in m for m in messages)
    else:
        assert sum("Did you mean" in m for m in messages) == 4, messages


# -- the media type application/graphql-response+json -----------------------------------------

GRAPHQL_RESPONSE = "application/graphql-response+json"

REQUEST_ERRORS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    # (case, query, variables, the code its one error has)
    ("parse", "{", None, "GRAPHQL_PARSE_FAILED"),
    ("validation", "{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
    (
        "unused variable",
        "query Q($id: ID!) { __typename }",
        {"id": "x"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "variable coercion: null for ID!",
        "query($id: ID!) { program(id: $id) { name } }",
        {"id": None},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "variable coercion: a string for Int!",
        "query($n: Int!) { programs(first: $n) { nodes { name } } }",
        {"n": "many"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "too deep",
        "{ programs(first: 1) { nodes { qip { goals { tasks { notes { body } } } } } } }",
        None,
        "QUERY_TOO_DEEP",
    ),
    ("page too large", "{ programs(first: 100000) { nodes { name } } }", None, "BAD_USER_INPUT"),
    (
        "NUL in a string variable",
        "query($n: String) { programs(first: 2, filter: {name: $n}) { nodes { name } } }",
        {"n": "a\x00b"},
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_request_errors_are_400_without_data_in_the_spec_media_type(
    tmp_path: Path, mode: str
) -> None:
    """Accepting application/graphql-response+json, a request that fails before anything runs
    is HTTP 400 in that type without `data`; with the same errors application/json answers
    200 with `data: null`, as before."""
    async with bare_app(tmp_path, mode=mode, max_depth=4) as client:
        for case, query, variables, code in REQUEST_ERRORS:
            payload = {"query": query, "variables": variables}
            spec = await client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
            plain = await client.post(
                "/graphql", json=payload, headers={"accept": "application/json"}
            )
            assert spec.status_code == 400, (case, spec.text)
            assert spec.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8", case
            assert plain.status_code == 200, (case, plain.text)
            assert plain.headers["content-type"] == "application/json", case
            assert "data" not in spec.json(), (case, spec.text)
            assert plain.json() == {"data": None, **spec.json()}, case
            assert codes(spec.json()) == [code], (case, spec.text)


@pytest.mark.parametrize(
    ("accept", "spec_type"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("application/*", False),
        ("text/html", False),
        ("application/json, application/graphql-response+json;q=0.9", False),
        ("application/graphql-response+json;q=0, application/json", False),
        ("application/graphql-response+json;q=0", False),
        ("*/*, application/graphql-response+json;q=0.5", False),
        ("application/graphql-response+json;q=2", False),  # not a q-value: ignored
        ("application/graphql-response+json", True),
        ("Application/GraphQL-Response+JSON", True),
        ("application/graphql-response+json, application/json", True),
        ("application/json, application/graphql-response+json", True),  # a tie: the spec's
        ("application/graphql-response+json,application/json;q=0.9", True),  # Apollo Client
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            True,
        ),  # graphql-http's client
        ("application/json;q=0.5, application/graphql-response+json;q=0.8, */*;q=0.1", True),
        ("*/*, application/graphql-response+json", True),
    ],
)
def test_which_accept_headers_get_the_spec_media_type(accept: str | None, spec_type: bool) -> None:
    from ecehub.edge import accepts_graphql_response

    assert accepts_graphql_response(accept) is spec_type


async def test_the_media_type_follows_accept_and_only_request_errors_change_status(
    tmp_path: Path,
) -> None:
    async with bare_app(tmp_path) as client:
        answers = {
            accept: await client.post(
                "/graphql", json={"query": "{ nope }"}, headers={"accept": accept} if accept else {}
            )
            for accept in (None, "*/*", "application/json", "text/html", GRAPHQL_RESPONSE)
        }
        ok = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"accept": GRAPHQL_RESPONSE}
        )
        got = await client.get(
            "/graphql", params={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
        )
    for accept, response in answers.items():
        spec = accept == GRAPHQL_RESPONSE
        assert response.status_code == (400 if spec else 200), (accept, response.text)
        assert response.headers["content-type"].startswith(
            GRAPHQL_RESPONSE if spec else "application/json"
        ), accept
        assert ("data" in response.json()) is not spec, accept
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
    assert ok.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert got.status_code == 400 and "data" not in got.json(), got.text
    assert codes(got.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_malformed_request_keeps_its_coded_4xx_in_either_media_type(
    tmp_path: Path,
) -> None:
    """Not a GraphQL request at all: the same coded 4xx and body whatever the client accepts."""
    async with bare_app(tmp_path) as client:
        for case, method, request_args in MALFORMED:
            args = {**request_args, "headers": {**request_args.get("headers", {})}}
            plain = await client.request(method, "/graphql", **args)
            args["headers"]["accept"] = GRAPHQL_RESPONSE
            spec = await client.request(method, "/graphql", **args)
            assert 400 <= spec.status_code < 500, (case, spec.text)
            assert (spec.status_code, spec.json()) == (plain.status_code, plain.json()), case
            assert spec.json()["data"] is None, case


async def test_execution_errors_stay_200_with_their_data_in_the_spec_media_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field's error, a failed source, partial data, a null root from a failed non-null
    field: all happened while executing, so HTTP 200 with `data` in either media type."""
    from ecehub.errors import SourceUnavailable
    from ecehub.sources.gateway import SourceGateway

    real = SourceGateway._call

    async def refuse(self: SourceGateway, source: str, op: str, call: Any, empty: Any) -> Any:
        if source == "licensing":
            self._fail(SourceUnavailable(source, "down"))
            return empty
        return await real(self, source, op, call, empty)

    queries = [
        ('{ program(id: "bad") { name } }', "BAD_USER_INPUT"),
        (
            'query($p: ID!) { audit(programId: $p, after: "garbage") { endCursor } }',
            "BAD_USER_INPUT",
        ),
        ("{ programs(first: 2) { nodes { name license { number } } } }", "SOURCE_UNAVAILABLE"),
    ]
    data: list[Any] = []
    async with edge_graph(tmp_path, live=True) as graph:
        first = await graph.query("{ programs(first: 1) { nodes { id } } }")
        program = first["data"]["programs"]["nodes"][0]["id"]
        monkeypatch.setattr(SourceGateway, "_call", refuse)
        for query, code in queries:
            answers = [
                await graph.client.post(
                    "/graphql",
                    json={"query": query, "variables": {"p": program}},
                    headers={"accept": accept},
                )
                for accept in ("application/json", GRAPHQL_RESPONSE)
            ]
            plain, spec = answers
            assert spec.status_code == plain.status_code == 200, (query, spec.text)
            assert spec.headers["content-type"].startswith(GRAPHQL_RESPONSE), query
            assert "data" in spec.json() and spec.json() == plain.json(), query
            assert code in codes(spec.json()), (query, spec.text)
            data.append(spec.json()["data"])
    assert data[0] == {"program": None}
    assert data[1] is None  # `audit` is non-null: its error nulls the whole answer
    assert data[2]["programs"]["nodes"], "partial data"


async def test_a_server_fault_before_execution_is_not_a_request_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the hub outside any field is no 400: 200 with `data: null` and the coded
    error, in either media type."""
    monkeypatch.setattr("ecehub.schema.edge.check_inputs", _explode)
    async with bare_app(tmp_path, mode="production") as client:
        for accept in ("application/json", GRAPHQL_RESPONSE):
            response = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"accept": accept}
            )
            assert response.status_code == 200, (accept, response.text)
            assert response.headers["content-type"].startswith(accept)
            body = response.json()
            assert body["data"] is None and codes(body) == ["INTERNAL_SERVER_ERROR"], body
