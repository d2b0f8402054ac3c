"""Fake open-data APIs on loopback that speak a small, honest subset of two query languages:
Socrata SODA (``$where``, ``$limit``/``$offset``, ``$order``) and OData (``$filter``,
``$top``/``$skip``, ``$orderby``, ``@odata.nextLink`` when a page is capped), plus a plain
API taking keys as a repeated or comma param or in a POST search body.

Each parses its expression itself (a tokenizer and a recursive-descent parser, no ``eval``)
and compares text **case-sensitively**, as the real ones do: ``'ABC' = 'abc'`` is false. An
expression it cannot parse, or an unknown ``$`` parameter, is a 400, like the real APIs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

__all__ = ["Flavor", "QueryUpstream", "parse", "query_app"]

Flavor = Literal["soda", "odata", "soda-backslash"]

Row = dict[str, Any]
Test = Callable[[Row], bool]


class QuerySyntaxError(ValueError):
    pass


# -- the language ------------------------------------------------------------------------------

_DOUBLED = r"'(?:[^']|'')*'"
_BACKSLASHED = r"'(?:[^'\\]|\\.)*'"


def _tokens(text: str, flavor: Flavor) -> list[tuple[str, str]]:
    string = _BACKSLASHED if flavor == "soda-backslash" else _DOUBLED
    spec = re.compile(
        rf"\s*(?:(?P<str>{string})|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
        r"|(?P<name>[A-Za-z_:@][A-Za-z0-9_:@./-]*)|(?P<punct>[(),=]))",
        re.DOTALL,
    )
    out: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        match = spec.match(text, at)
        if match is None or match.end() == at:
            raise QuerySyntaxError(f"unexpected {text[at : at + 10]!r} at {at}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def _unquote(token: str, flavor: Flavor) -> str:
    inner = token[1:-1]
    if flavor == "soda-backslash":
        return re.sub(r"\\(.)", r"\1", inner, flags=re.DOTALL)
    return inner.replace("''", "'")


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    flavor: Flavor
    at: int = 0
    literals: list[Any] = field(default_factory=list)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("unexpected end")
        self.at += 1
        return token

    def word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() in words:
            self.at += 1
            return token[1].lower()
        return None

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if kind != "punct" or got != value:
            raise QuerySyntaxError(f"expected {value!r}, got {got!r}")

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

    def atom(self) -> Test:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        if self.flavor == "odata" and self.word("contains"):
            self.expect("(")
            operand = self.operand()
            self.expect(",")
            needle = self.literal()
            self.expect(")")
            return lambda row: isinstance(v := operand(row), str) and str(needle) in v
        operand = self.operand()
        if self.flavor == "odata":
            if self.word("eq"):
                value = self.literal()
                return lambda row: _equal(operand(row), value)
        elif self.peek() == ("punct", "="):
            self.take()
            value = self.literal()
            return lambda row: _equal(operand(row), value)
        if self.word("in"):
            self.expect("(")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.literal())
            self.expect(")")
            return lambda row: any(_equal(operand(row), v) for v in values)
        if self.flavor != "odata" and self.word("like"):
            pattern = _like(str(self.literal()))
            return lambda row: isinstance(v := operand(row), str) and bool(pattern.fullmatch(v))
        raise QuerySyntaxError(f"no operator after an operand at token {self.at}")

    def operand(self) -> Callable[[Row], Any]:
        upper = "toupper" if self.flavor == "odata" else "upper"
        if self.word(upper):
            self.expect("(")
            inner = self.operand()
            self.expect(")")
            return lambda row: _upper(v) if isinstance(v := inner(row), str) else v
        kind, name = self.take()
        if kind != "name":
            raise QuerySyntaxError(f"expected a field, got {name!r}")
        return lambda row: row.get(name)

    def literal(self) -> Any:
        kind, token = self.take()
        if kind == "str":
            value: Any = _unquote(token, self.flavor)
        elif kind == "num":
            value = float(token) if re.search(r"[.eE]", token) else int(token)
        else:
            raise QuerySyntaxError(f"expected a literal, got {token!r}")
        self.literals.append(value)
        return value


def _upper(text: str) -> str:
    """Upper case character by character, as a database's ``upper()`` (``ß`` stays ``ß``)."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in text)


def _equal(found: Any, wanted: Any) -> bool:
    """Exact, case-sensitive; a number equals a number column's value only."""
    if isinstance(wanted, str):
        return isinstance(found, str) and found == wanted
    return not isinstance(found, (str, bool)) and found == wanted


def _like(pattern: str) -> re.Pattern[str]:
    """SQL LIKE (PostgreSQL's: ``%``, ``_``, and backslash escaping the next character)."""
    out = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


def parse(text: str, flavor: Flavor) -> tuple[Test, list[Any]]:
    """The test ``text`` means, and the literals it holds (in order)."""
    parser = _Parser(_tokens(text, flavor), flavor)
    test = parser.expression()
    if parser.peek() is not None:
        raise QuerySyntaxError(f"trailing {parser.peek()!r}")
    return test, parser.literals


# -- the servers -------------------------------------------------------------------------------


@dataclass
class QueryUpstream:
    """The rows served and what the fake APIs saw."""

    rows: list[Row]
    key: str
    odata_page_cap: int = 1000
    max_url_length: int = 8192
    requests: list[web.Request] = field(default_factory=list)
    sent: int = 0
    """Records answered in all."""
    parsed: list[list[Any]] = field(default_factory=list)
    """The literals of each expression parsed."""

    def reset(self) -> None:
        self.requests.clear()
        self.parsed.clear()
        self.sent = 0

    def url_lengths(self, base: str) -> list[int]:
        return [len(base) + len(r.raw_path) for r in self.requests]

    def _where(self, request: web.Request, param: str, flavor: Flavor) -> list[Row]:
        text = request.query.get(param)
        if text is None:
            return list(self.rows)
        try:
            test, literals = parse(text, flavor)
        except QuerySyntaxError as exc:
            raise web.HTTPBadRequest(text=f"query.compiler.malformed: {exc}") from None
        self.parsed.append(literals)
        return [row for row in self.rows if test(row)]

    def _order(self, rows: list[Row], order: str | None) -> list[Row]:
        if order is None:
            return rows
        name = order.split()[0]
        if name == ":id":
            return rows  # served in row-id order
        return sorted(rows, key=lambda row: str(row.get(name)))

    def _answer(self, rows: Sequence[Row]) -> None:
        self.sent += len(rows)

    async def soda(self, request: web.Request, flavor: Flavor = "soda") -> web.Response:
        self.requests.append(request)
        known = {"$where", "$limit", "$offset", "$order"}
        unknown = [k for k in request.query if k.startswith("$") and k not in known]
        if unknown or len(str(request.url)) > self.max_url_length:
            raise web.HTTPBadRequest(text=f"unrecognized parameter {unknown}")
        rows = self._order(self._where(request, "$where", flavor), request.query.get("$order"))
        offset = int(request.query.get("$offset", "0"))
        limit = int(request.query.get("$limit", "1000"))
        page = rows[offset : offset + limit]
        self._answer(page)
        return web.json_response(page)

    async def odata(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        known = {"$filter", "$top", "$skip", "$orderby", "$count"}
        unknown = [k for k in request.query if k.startswith("$") and k not in known]
        if unknown:
            raise web.HTTPBadRequest(text=f"unknown query option {unknown}")
        rows = self._order(self._where(request, "$filter", "odata"), request.query.get("$orderby"))
        skip = int(request.query.get("$skip", "0"))
        top = int(request.query.get("$top", str(len(rows))))
        size = min(top, self.odata_page_cap)
        page = rows[skip : skip + size]
        body: dict[str, Any] = {"value": page}
        if skip + size < len(rows) and size < top:
            body["@odata.nextLink"] = f"{request.path}?$skip={skip + size}"
        self._answer(page)
        return web.json_response(body)

    async def plain(self, request: web.Request) -> web.Response:
        """Keys as ``id=1&id=2`` or ``ids=1,2``; offset paging as ``offset``/``limit``."""
        self.requests.append(request)
        wanted: set[str] | None = None
        if "id" in request.query:
            wanted = set(request.query.getall("id"))
        elif "ids" in request.query:
            wanted = set(request.query["ids"].split(","))
        rows = [r for r in self.rows if wanted is None or str(r[self.key]) in wanted]
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "100"))
        page = rows[offset : offset + limit]
        self._answer(page)
        return web.json_response({"data": page})

    async def search(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        body = await request.json()
        wanted = set(body["filter"]["ids"])
        rows = [r for r in self.rows if str(r[self.key]) in wanted]
        self._answer(rows)
        return web.json_response({"data": rows})


def query_app(upstream: QueryUpstream) -> web.Application:
    async def soda_backslash(request: web.Request) -> web.Response:
        return await upstream.soda(request, "soda-backslash")

    app = web.Application()
    app.router.add_get("/resource/licenses.json", upstream.soda)
    app.router.add_get("/backslash/licenses.json", soda_backslash)
    app.router.add_get("/odata/Licenses", upstream.odata)
    app.router.add_get("/plain/licenses", upstream.plain)
    app.router.add_post("/plain/search", upstream.search)
    return app
