"""The licensing agency's open-data API: a small, honest Socrata (SODA 2.1) endpoint.

``GET /resource/ilcc-fac1.json`` answers a bare JSON array of facilities and takes what a
Socrata dataset takes: ``$where`` (SoQL: ``=``, ``!=``, ``in (...)``, ``like``, ``upper()``,
``is [not] null``, ``AND``, ``OR``, parentheses), ``$limit`` (default 1000, at most 50000),
``$offset``, ``$order`` (``:id`` or a column, ``ASC``/``DESC``) and ``column=value`` equality
filters. Like the real thing it compares text **case-sensitively** (``'Springfield'`` is not
``'SPRINGFIELD'``), leaves a null value out of its object, and answers 400 to a parameter or a
query it does not know. Every request is counted (:attr:`OpenDataApi.served`), so a test can
hold the hub to the number of requests its trace reports.

The expression is parsed (a tokenizer and a recursive-descent parser), never evaluated as code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from examples.world import Facility

__all__ = ["DATASET", "OpenDataApi", "SoqlError", "parse_where", "serve_opendata"]

DATASET = "ilcc-fac1"
"""The dataset id: the resource is ``/resource/ilcc-fac1.json``."""

Row = dict[str, str]
Test = Callable[[Row], bool]


class SoqlError(ValueError):
    """A query the API does not understand (answered with 400)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>:?[A-Za-z_][A-Za-z0-9_]*)|(?P<op>!=|=|\(|\)|,))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at, text = 0, text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise SoqlError(f"could not parse $where at {text[at : at + 12]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    columns: frozenset[str]
    at: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise SoqlError("$where ends too soon")
        self.at += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() in words:
            self.at += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise SoqlError(f"expected {op!r} in $where")

    def expression(self) -> Test:
        tests = [self.conjunction()]
        while self.word("or"):
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else (lambda row: any(t(row) for t in tests))

    def conjunction(self) -> Test:
        tests = [self.atom()]
        while self.word("and"):
            tests.append(self.atom())
        return tests[0] if len(tests) == 1 else (lambda row: all(t(row) for t in tests))

    def literal(self) -> str:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return text
        raise SoqlError(f"expected a literal, got {text!r}")

    def operand(self) -> Callable[[Row], str | None]:
        kind, name = self.take()
        if kind != "name":
            raise SoqlError(f"expected a column, got {name!r}")
        if name.lower() == "upper" and self.peek() == ("op", "("):
            self.take()
            inner = self.operand()
            self.expect(")")
            return lambda row: None if (v := inner(row)) is None else v.upper()
        if name not in self.columns:
            raise SoqlError(f"no such column: {name}")
        return lambda row: row.get(name)

    def atom(self) -> Test:
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        operand = self.operand()
        if self.word("is"):
            negated = self.word("not")
            if not self.word("null"):
                raise SoqlError("expected null after is")
            return lambda row: (operand(row) is None) != negated
        if self.word("in"):
            self.expect("(")
            values = {self.literal()}
            while self.peek() == ("op", ","):
                self.take()
                values.add(self.literal())
            self.expect(")")
            return lambda row: operand(row) in values
        if self.word("like"):
            pattern = _like(self.literal())
            return lambda row: (v := operand(row)) is not None and bool(pattern.fullmatch(v))
        kind, op = self.take()
        if kind != "op" or op not in ("=", "!="):
            raise SoqlError(f"unsupported operator {op!r}")
        value = self.literal()
        if op == "=":
            return lambda row: operand(row) == value
        return lambda row: (v := operand(row)) is not None and v != value


def parse_where(text: str, columns: frozenset[str]) -> Test:
    """The row test of a ``$where`` expression over ``columns``; :class:`SoqlError` if the
    API would refuse it."""
    parser = _Parser(_tokens(text), columns)
    test = parser.expression()
    if parser.peek() is not None:
        raise SoqlError(f"unexpected {parser.peek()[1]!r} in $where")  # type: ignore[index]
    return test


def _int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
        raise SoqlError(f"{name} must be a whole number from {low} to {high}")
    return int(value)


@dataclass
class OpenDataApi:
    """The facilities behind the endpoint, and what it has been asked."""

    facilities: list[Facility]
    served: int = 0
    """Requests answered (any status)."""
    queries: list[dict[str, str]] = field(default_factory=list)
    """Each request's query parameters, in order."""

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(Facility.__dataclass_fields__)

    def answer(self, params: dict[str, str]) -> list[Row]:
        """The records a query asks for (:class:`SoqlError` for one the API refuses)."""
        unknown = [p for p in params if p.startswith("$") and p not in _KNOWN]
        if unknown:
            raise SoqlError(f"Unrecognized arguments [{', '.join(sorted(unknown))}]")
        rows = [(i, f.as_json()) for i, f in enumerate(self.facilities)]
        for name, value in params.items():
            if not name.startswith("$"):
                if name not in self.columns:
                    raise SoqlError(f"no such column: {name}")
                rows = [(i, r) for i, r in rows if r.get(name) == value]
        if "$where" in params:
            test = parse_where(params["$where"], self.columns)
            rows = [(i, r) for i, r in rows if test(r)]
        order = params.get("$order", ":id").strip()
        column, _, direction = order.partition(" ")
        if direction.strip().upper() not in ("", "ASC", "DESC"):
            raise SoqlError(f"could not parse $order {order!r}")
        if column != ":id":
            if column not in self.columns:
                raise SoqlError(f"no such column: {column}")
            rows.sort(key=lambda ir: (ir[1].get(column) is None, ir[1].get(column, ""), ir[0]))
        if direction.strip().upper() == "DESC":
            rows.reverse()
        offset = _int(params.get("$offset", "0"), "$offset", 0, 10**9)
        limit = _int(params.get("$limit", "1000"), "$limit", 0, 50_000)
        return [r for _, r in rows[offset : offset + limit]]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.served += 1
        params = dict(request.query)
        self.queries.append(params)
        if len(params) != len(request.query):
            return _refused("a parameter is given twice")
        if request.match_info["dataset"] != DATASET:
            return web.json_response({"error": True, "message": "Dataset not found"}, status=404)
        try:
            return web.json_response(self.answer(params))
        except SoqlError as exc:
            return _refused(str(exc))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/resource/{dataset}.json", self._handle)
        return app


_KNOWN = frozenset({"$where", "$limit", "$offset", "$order"})


def _refused(message: str) -> web.Response:
    return web.json_response(
        {"code": "query.soql.invalid", "error": True, "message": message}, status=400
    )


@contextlib.asynccontextmanager
async def serve_opendata(
    facilities: list[Facility], host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[OpenDataApi, str]]:
    """The API served on ``host:port`` (a free port by default) until the block ends; yields
    it and its base URL."""
    api = OpenDataApi(facilities)
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    try:
        yield api, f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()
