"""What the hub does for a connector that cannot: paging, filters and children it does not
declare in its :class:`~ecehub.connectors.Capabilities`.

Such a ``find`` reads the source's whole answer to the filters it can push down, once per
request (gateway) and filter set, shared by every page and caller of the request; the other
filters are applied with :func:`~ecehub.connectors.matches` and the result is sliced with
cursors of the hub's own. The cost (docs/connectors.md, "Capabilities"): every request that
lists from such a source reads all its matching rows, once; pages of one request cost one
source call between them. Without ``supports_children``, children are grouped from the
entity's whole answer the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from ecehub.connectors.base import Connector, FieldFilter, Page, Record, matches
from ecehub.ids import InvalidCursor

__all__ = ["HubPaging", "hub_cursor", "needs_hub_paging"]

_PREFIX = "hub:"
_MALFORMED = "the `after` cursor is malformed; pass an endCursor you were given"

PageCall = Callable[[int | None, str | None], Awaitable[Page]]
"""The gateway's call of ``find(entity, filters, first=..., after=...)``."""
Read = Callable[[Sequence[FieldFilter]], Awaitable[Page]]
"""The gateway's call of ``find(entity, pushed)`` without ``first``/``after``."""


def needs_hub_paging(connector: Connector, entity: str, filters: Sequence[FieldFilter]) -> bool:
    caps = connector.capabilities
    return not caps.supports_paging or not all(connector.pushes_down(entity, f) for f in filters)


def hub_cursor(index: int, key: str) -> str:
    """Where the hub continues after the record at ``index`` (whose key is ``key``)."""
    return f"{_PREFIX}{index}:{key}"


def _start(records: Sequence[Record], after: str | None) -> int:
    """The index right after ``after``'s record: found by key (so rows added or removed
    before it since do not shift it); a key gone since continues at its old index."""
    if after is None:
        return 0
    index_text, colon, key = after.removeprefix(_PREFIX).partition(":")
    if not (after.startswith(_PREFIX) and colon and index_text.isdigit()):
        raise InvalidCursor(_MALFORMED)
    index = int(index_text)
    if index < len(records) and records[index].key == key:
        return index + 1
    for position, record in enumerate(records):
        if record.key == key:
            return position + 1
    return min(index, len(records))


class HubPaging:
    """One request's whole answers of sources the hub pages for (kept by the gateway)."""

    def __init__(self) -> None:
        self._answers: dict[str, asyncio.Task[list[Record]]] = {}

    def _whole(
        self, connector: Connector, entity: str, pushed: Sequence[FieldFilter], read: Read
    ) -> asyncio.Task[list[Record]]:
        """The source's answer to ``pushed``, read once per request: every filter set the
        hub applies itself on top of it (an identifier lookup, say) shares the one read."""
        memo = repr((connector.name, entity, list(pushed)))
        task = self._answers.get(memo)
        if task is None:

            async def answer() -> list[Record]:
                return (await read(pushed)).records

            task = self._answers[memo] = asyncio.ensure_future(answer())
        return task

    async def _records(
        self, connector: Connector, entity: str, filters: Sequence[FieldFilter], read: Read
    ) -> list[Record]:
        pushed = [f for f in filters if connector.pushes_down(entity, f)]
        kept = [f for f in filters if not connector.pushes_down(entity, f)]
        whole = await asyncio.shield(self._whole(connector, entity, pushed, read))
        return [
            replace(record, cursor=hub_cursor(index, record.key))
            for index, record in enumerate(r for r in whole if matches(r, kept))
        ]

    async def find(
        self,
        connector: Connector,
        entity: str,
        filters: Sequence[FieldFilter],
        read: Read,
        *,
        first: int | None,
        after: str | None,
    ) -> Page:
        records = await self._records(connector, entity, filters, read)
        start = _start(records, after)
        end = len(records) if first is None else start + max(first, 0)
        return Page(records[start:end], end < len(records))

    async def within_page_size(
        self, page: PageCall, largest: int, *, first: int | None, after: str | None
    ) -> Page:
        """A ``find`` of a connector with a ``max_page_size``: a larger ``first`` asks for
        ``largest`` (``has_next`` stays true, callers follow it); ``first=None`` (all) reads
        every page."""
        if first is not None:
            return await page(min(first, largest), after)
        records: list[Record] = []
        while True:
            found = await page(largest, after)
            records.extend(found.records)
            if not found.has_next:
                return Page(records, False)
            after = found.records[-1].cursor  # the gateway's page() makes sure there is one

    async def children(
        self,
        connector: Connector,
        entity: str,
        parent_entity: str,
        parent_keys: Sequence[str],
        read: Read,
    ) -> dict[str, list[Record]]:
        mapped = connector.entities.get(entity)
        if mapped is None or mapped.parent_entity != parent_entity:
            raise ValueError(
                f"source {connector.name!r}: {entity} does not hang under {parent_entity}"
            )
        grouped: dict[str, list[Record]] = {key: [] for key in parent_keys}
        for record in await asyncio.shield(self._whole(connector, entity, (), read)):
            if record.parent_key in grouped:
                grouped[record.parent_key].append(record)
        return grouped
