"""A fake agency API on loopback that is searched by POSTing JSON, as some state systems are:
``POST /search/{style}`` with ``{"filters": {...}, "ids": [...], <paging>}``.

Filters: a list is membership, any other value equality; text is compared ignoring case and
surrounding spaces (the API the tests declare ``case_sensitive: false`` for), except
``name_contains`` (a substring, ignoring case) and ``min_capacity`` (``>=``). ``ids`` is a
list of keys: strings, or objects of the key's parts (a composite key). Paging per style:
``page``/``size`` (first page 1), ``offset``/``limit``, or ``cursor``/``limit`` (the next
cursor at ``next``). The body of each request is kept as received, raw text and parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["SearchUpstream", "search_app"]

Row = dict[str, Any]


def _folded(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


@dataclass
class SearchUpstream:
    rows: list[Row]
    key: tuple[str, ...] = ("id",)
    id_names: tuple[str, ...] | None = None
    """The names of a composite key's parts in the ``ids`` objects (default: ``key``)."""
    bodies: list[Any] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    sent: int = 0

    def reset(self) -> None:
        self.bodies.clear()
        self.raw.clear()
        self.sent = 0

    def _matches(self, row: Row, filters: dict[str, Any]) -> bool:
        for name, wanted in filters.items():
            if name == "name_contains":
                if str(wanted).casefold() not in str(row.get("name", "")).casefold():
                    return False
            elif name == "min_capacity":
                if not row.get("capacity", 0) >= wanted:
                    return False
            elif isinstance(wanted, list):
                if _folded(row.get(name)) not in {_folded(w) for w in wanted}:
                    return False
            elif _folded(row.get(name)) != _folded(wanted):
                return False
        return True

    def _has_key(self, row: Row, ids: list[Any]) -> bool:
        if len(self.key) == 1:
            return str(row[self.key[0]]) in {str(i) for i in ids}
        parts = tuple(str(row[k]) for k in self.key)
        return parts in {tuple(str(i[k]) for k in self.id_names or self.key) for i in ids}

    async def search(self, request: web.Request) -> web.Response:
        text = await request.text()
        body = json.loads(text)
        self.raw.append(text)
        self.bodies.append(body)
        rows = [r for r in self.rows if self._matches(r, body.get("filters", {}))]
        if "ids" in body:
            rows = [r for r in rows if self._has_key(r, body["ids"])]
        style = request.match_info["style"]
        answer: dict[str, Any] = {}
        if style == "page":
            size = body["size"]
            page = rows[(body["page"] - 1) * size : body["page"] * size]
        elif style == "offset":
            page = rows[body["offset"] : body["offset"] + body["limit"]]
        elif style == "cursor":
            start = int(body.get("cursor", "0"))
            page = rows[start : start + body["limit"]]
            if start + body["limit"] < len(rows):
                answer["next"] = str(start + body["limit"])
        else:
            page = rows
        self.sent += len(page)
        return web.json_response({**answer, "results": page})


def search_app(upstream: SearchUpstream) -> web.Application:
    app = web.Application()
    app.router.add_post("/search/{style}", upstream.search)
    return app
