"""Walking a ``rest`` listing page by page in the source's paging style (``page``, ``offset``,
``cursor`` or ``none``), from just after a ``Record.cursor``.

``Record.cursor`` (where a ``find`` continues): for the ``page``, ``offset`` and ``none``
styles the record's absolute index in the listing; for ``cursor`` the JSON
``[page cursor, index within page]``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ecehub.connectors.rest.paths import ABSENT, dig, lookup
from ecehub.connectors.rest.settings import RestEntityConfig
from ecehub.connectors.rest.transport import Query, RestTransport, pairs
from ecehub.connectors.usage import count
from ecehub.errors import SourceUnavailable

__all__ = ["RestPaging", "Row"]


@dataclass(frozen=True)
class Row:
    """One raw record of a listing and where a listing continues after it."""

    raw: Any
    cursor: str


class RestPaging:
    """The listings of one ``rest`` source: the record array of each answer and the rows of a
    listing in the source's paging style, read through ``transport``."""

    def __init__(self, transport: RestTransport) -> None:
        self.transport = transport
        self.settings = transport.settings

    def records_in(self, ent: RestEntityConfig, body: Any, path: str) -> list[Any]:
        records_path = (
            ent.records_path if ent.records_path is not None else self.settings.records_path
        )
        records = lookup(body, records_path)
        if records is None:
            return []
        if not isinstance(records, list):
            raise SourceUnavailable(
                self.transport.source,
                f"no record list at {records_path or '<body>'!r} in the answer to GET "
                f"{self.transport.shown_prefix}{path} (check records_path)",
            )
        count(rows=len(records))
        return records

    # -- paging ------------------------------------------------------------------------------
    async def rows(
        self,
        ent: RestEntityConfig,
        path: str,
        params: Query,
        after: str | None,
        *,
        missing_ok: bool = False,
        want: int | None = None,
    ) -> AsyncGenerator[Row, None]:
        """Every raw record of a listing from just after ``after``, page by page.
        With ``missing_ok`` a 404 ends the listing instead of failing it.

        ``want``: how many rows the caller expects to read (``None``: unknown). Pages are
        then asked for that many, up to ``page_size``, not always ``page_size``: a first
        page of 20 costs 20 rows of the source, not its maximum page. The ``page`` style
        does so only where the pages of that size line up with the start."""
        pag = self.settings.pagination
        size = pag.page_size if want is None else max(1, min(want, pag.page_size))
        if pag.style == "cursor":
            rows_after = self._cursor_rows(
                ent, path, params, after, missing_ok=missing_ok, size=size
            )
            async with aclosing(rows_after) as rows:
                async for row in rows:
                    yield row
            return
        start = 0 if after is None else self._index_after(after)
        if pag.style == "page" and start % size:
            size = pag.page_size
        page = start // size
        offset = start
        order = self.settings.order_of(ent)
        while True:
            query = pairs(params)
            if order is not None and pag.order_param is not None:
                query.append((pag.order_param, order))
            if pag.style == "page":
                query.append((pag.page_param, str(pag.first_page + page)))
                query.append((pag.size_param, str(size)))
                base = page * size
            elif pag.style == "offset":
                query.append((pag.offset_param, str(offset)))
                query.append((pag.limit_param, str(size)))
                base = offset
            else:
                base = 0
            body = await self.transport.get(path, query, missing_ok=missing_ok)
            if body is ABSENT:
                return
            records = self.records_in(ent, body, path)
            for i, raw in enumerate(records, base):
                if i >= start:
                    yield Row(raw, str(i))
            if pag.style == "none" or not records:
                return
            if len(records) < size and not self._more(body):
                return
            if pag.style == "page" and len(records) < size:
                # A server capping pages below the size asked: pages no longer line up.
                raise SourceUnavailable(
                    self.transport.source,
                    f"GET {self.transport.shown_prefix}{path} answered a short page with more "
                    f"to follow: page paging cannot continue it (page_size too large?)",
                )
            page += 1
            offset += len(records)

    def _more(self, body: Any) -> bool:
        """Whether the answer says more records follow (``more_path``, e.g. OData's
        ``@odata.nextLink``: a key, looked up as it is, dots and all)."""
        more = self.settings.pagination.more_path
        if more is None or not isinstance(body, dict):
            return False
        value = body[more] if more in body else dig(body, more)
        return value not in (None, "", False, [])

    async def _cursor_rows(
        self,
        ent: RestEntityConfig,
        path: str,
        params: Query,
        after: str | None,
        *,
        missing_ok: bool,
        size: int,
    ) -> AsyncGenerator[Row, None]:
        pag = self.settings.pagination
        page_cursor, skip = (None, -1) if after is None else self._page_cursor_after(after)
        followed: set[str] = set()
        while True:
            query = [*pairs(params), (pag.limit_param, str(size))]
            if page_cursor is not None:
                query.append((pag.cursor_param, str(page_cursor)))
            body = await self.transport.get(path, query, missing_ok=missing_ok)
            if body is ABSENT:
                return
            records = self.records_in(ent, body, path)
            for j, raw in enumerate(records):
                if j > skip:
                    yield Row(raw, json.dumps([page_cursor, j]))
            next_cursor = dig(body, pag.next_cursor_path)
            if next_cursor in (None, "") or len(records) < size:
                return
            marker = json.dumps(next_cursor)
            if marker in followed:
                raise SourceUnavailable(
                    self.transport.source,
                    f"GET {self.transport.shown_prefix}{path} returned a cursor it gave before",
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
