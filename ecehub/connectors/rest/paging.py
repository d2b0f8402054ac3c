"""Walking a ``rest`` listing page by page in a paging style (``page``, ``offset``,
``cursor`` or ``none``), from just after a ``Record.cursor``: a GET listing with the
source's ``pagination`` parameters, or a POST search whose body carries them
(:mod:`~ecehub.connectors.rest.search`). :meth:`RestPaging.walk` is the one loop; what
goes on the wire is the caller's ``send``.

``Record.cursor`` (where a ``find`` continues): for the ``page``, ``offset`` and ``none``
styles the record's absolute index in the listing; for ``cursor`` the JSON
``[page cursor, index within page]``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ecehub.connectors.rest.paths import ABSENT, dig, lookup
from ecehub.connectors.rest.settings import RestEntityConfig
from ecehub.connectors.rest.transport import Query, RestTransport, pairs
from ecehub.connectors.usage import count
from ecehub.errors import SourceUnavailable

__all__ = ["Ask", "PagingPlan", "RestPaging", "Row", "Send"]


@dataclass(frozen=True)
class Row:
    """One raw record of a listing and where a listing continues after it."""

    raw: Any
    cursor: str


@dataclass(frozen=True)
class Ask:
    """What one request of a listing asks for: ``size`` records at ``page`` (the number the
    API counts pages by, ``page`` style), from ``offset`` (``offset`` style), or after
    ``cursor`` (``cursor`` style; ``None`` for the first page)."""

    size: int
    page: int | None = None
    offset: int | None = None
    cursor: Any = None


Send = Callable[[Ask], Awaitable[Any]]
"""Sends one request of a listing: its JSON body, or ``ABSENT`` (a 404 taken as no rows)."""


class PagingPlan(Protocol):
    """The paging settings a walk reads (``pagination``, or a ``search`` block's)."""

    @property
    def style(self) -> Literal["page", "offset", "cursor", "none"]: ...
    @property
    def page_size(self) -> int: ...
    @property
    def first_page(self) -> int: ...
    @property
    def more_path(self) -> str | None: ...
    @property
    def next_cursor_path(self) -> str: ...


class RestPaging:
    """The listings of one ``rest`` source: the record array of each answer and the rows of a
    listing in a paging style, read through ``transport``."""

    def __init__(self, transport: RestTransport) -> None:
        self.transport = transport
        self.settings = transport.settings

    def records_in(self, ent: RestEntityConfig, body: Any, request: str) -> list[Any]:
        """The record array of the answer to ``request`` (``GET /path``, for messages)."""
        records_path = (
            ent.records_path if ent.records_path is not None else self.settings.records_path
        )
        records = lookup(body, records_path)
        if records is None:
            return []
        if not isinstance(records, list):
            raise SourceUnavailable(
                self.transport.source,
                f"no record list at {records_path or '<body>'!r} in the answer to "
                f"{self._shown(request)} (check records_path)",
            )
        count(rows=len(records))
        return records

    def _shown(self, request: str) -> str:
        method, _, path = request.partition(" ")
        return f"{method} {self.transport.shown_prefix}{path}"

    # -- paging ------------------------------------------------------------------------------
    def rows(
        self,
        ent: RestEntityConfig,
        path: str,
        params: Query,
        after: str | None,
        *,
        missing_ok: bool = False,
        want: int | None = None,
    ) -> AsyncGenerator[Row, None]:
        """Every raw record of a GET listing from just after ``after``, in the source's
        ``pagination``. With ``missing_ok`` a 404 ends the listing instead of failing it."""
        pag = self.settings.pagination
        order = self.settings.order_of(ent)

        async def send(ask: Ask) -> Any:
            query = pairs(params)
            if pag.style == "cursor":
                query.append((pag.limit_param, str(ask.size)))
                if ask.cursor is not None:
                    query.append((pag.cursor_param, str(ask.cursor)))
                return await self.transport.get(path, query, missing_ok=missing_ok)
            if order is not None and pag.order_param is not None:
                query.append((pag.order_param, order))
            if pag.style == "page":
                query.append((pag.page_param, str(ask.page)))
                query.append((pag.size_param, str(ask.size)))
            elif pag.style == "offset":
                query.append((pag.offset_param, str(ask.offset)))
                query.append((pag.limit_param, str(ask.size)))
            return await self.transport.get(path, query, missing_ok=missing_ok)

        return self.walk(ent, f"GET {path}", send, after, pag, want=want)

    async def walk(
        self,
        ent: RestEntityConfig,
        request: str,
        send: Send,
        after: str | None,
        plan: PagingPlan,
        *,
        want: int | None = None,
    ) -> AsyncGenerator[Row, None]:
        """Every raw record of a listing from just after ``after``, page by page in
        ``plan``'s style, each page asked by ``send`` (``request`` names it in messages).

        ``want``: how many rows the caller expects to read (``None``: unknown). Pages are
        then asked for that many, up to ``page_size``, not always ``page_size``: a first
        page of 20 costs 20 rows of the source, not its maximum page. The ``page`` style
        does so only where the pages of that size line up with the start."""
        size = plan.page_size if want is None else max(1, min(want, plan.page_size))
        if plan.style == "cursor":
            rows_after = self._cursor_rows(ent, request, send, after, plan, size=size)
            async with aclosing(rows_after) as rows:
                async for row in rows:
                    yield row
            return
        start = 0 if after is None else self._index_after(after)
        if plan.style == "page" and start % size:
            size = plan.page_size
        page = start // size
        offset = start
        while True:
            if plan.style == "page":
                ask = Ask(size, page=plan.first_page + page)
                base = page * size
            elif plan.style == "offset":
                ask = Ask(size, offset=offset)
                base = offset
            else:
                ask = Ask(size)
                base = 0
            body = await send(ask)
            if body is ABSENT:
                return
            records = self.records_in(ent, body, request)
            for i, raw in enumerate(records, base):
                if i >= start:
                    yield Row(raw, str(i))
            if plan.style == "none" or not records:
                return
            if len(records) < size and not self._more(body, plan):
                return
            if plan.style == "page" and len(records) < size:
                # A server capping pages below the size asked: pages no longer line up.
                raise SourceUnavailable(
                    self.transport.source,
                    f"{self._shown(request)} answered a short page with more to follow: "
                    f"page paging cannot continue it (page_size too large?)",
                )
            page += 1
            offset += len(records)

    @staticmethod
    def _more(body: Any, plan: PagingPlan) -> bool:
        """Whether the answer says more records follow (``more_path``, e.g. OData's
        ``@odata.nextLink``: a key, looked up as it is, dots and all)."""
        more = plan.more_path
        if more is None or not isinstance(body, dict):
            return False
        value = body[more] if more in body else dig(body, more)
        return value not in (None, "", False, [])

    async def _cursor_rows(
        self,
        ent: RestEntityConfig,
        request: str,
        send: Send,
        after: str | None,
        plan: PagingPlan,
        *,
        size: int,
    ) -> AsyncGenerator[Row, None]:
        page_cursor, skip = (None, -1) if after is None else self._page_cursor_after(after)
        followed: set[str] = set()
        while True:
            body = await send(Ask(size, cursor=page_cursor))
            if body is ABSENT:
                return
            records = self.records_in(ent, body, request)
            for j, raw in enumerate(records):
                if j > skip:
                    yield Row(raw, json.dumps([page_cursor, j]))
            next_cursor = dig(body, plan.next_cursor_path)
            if next_cursor in (None, "") or len(records) < size:
                return
            marker = json.dumps(next_cursor)
            if marker in followed:
                raise SourceUnavailable(
                    self.transport.source,
                    f"{self._shown(request)} returned a cursor it gave before",
                )
            followed.add(marker)
            page_cursor, skip = next_cursor, -1

    def _index_after(self, after: str) -> int:
        try:
            index = int(after)
        except ValueError:
            index = -1
        if index < 0:
            raise ValueError(f"source {self.transport.source!r}: invalid `after` cursor {after!r}")
        return index + 1

    def _page_cursor_after(self, after: str) -> tuple[Any, int]:
        try:
            page_cursor, index = json.loads(after)
        except (ValueError, TypeError):
            index = None
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ValueError(f"source {self.transport.source!r}: invalid `after` cursor {after!r}")
        return page_cursor, index
