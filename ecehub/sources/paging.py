"""What the hub does for a connector that cannot: paging, filters and children it does not
declare in its :class:`~ecehub.connectors.Capabilities`.

Such a ``find`` reads the source's whole answer to the filters it can push down, once per
request (gateway) and filter set, shared by every page and caller of the request; the other
filters are applied with :func:`~ecehub.connectors.matches` and the result is sliced with
cursors of the hub's own. A source the config says not to ask by an identifier
(``list_only``, ``identifiers_searchable``) is read the same way, and a ``list_only`` one by
key from that read. The cost (docs/connectors.md, "Capabilities"): every request that lists
from such a source reads all its matching rows, once; pages of one request cost one source
call between them. Without ``supports_children``, children are grouped from the entity's
whole answer the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace

from ecehub.config.canonical import is_identifier_field
from ecehub.connectors.base import Connector, FieldFilter, Page, Record, matches
from ecehub.ids import InvalidCursor

__all__ = ["HubPaging", "asked_by_key", "hub_cursor", "hub_page", "needs_hub_paging", "start_after"]

_PREFIX = "hub:"
_MALFORMED = "the `after` cursor is malformed; pass an endCursor you were given"

PageCall = Callable[[int | None, str | None], Awaitable[Page]]
"""The gateway's call of ``find(entity, filters, first=..., after=...)``."""
Read = Callable[[Sequence[FieldFilter]], Awaitable[Page]]
"""The gateway's call of ``find(entity, pushed)`` without ``first``/``after``."""


def _sent(connector: Connector, entity: str, flt: FieldFilter) -> bool:
    """Whether ``flt`` goes to the source: it can evaluate it, and the config does not
    forbid asking by it (``list_only``, an identifier not in ``identifiers_searchable``)."""
    if not connector.pushes_down(entity, flt):
        return False
    if is_identifier_field(flt.field):
        mapped = connector.entities.get(entity)
        return mapped is None or mapped.searchable(flt.field.split(":", 1)[1])
    return True


def needs_hub_paging(connector: Connector, entity: str, filters: Sequence[FieldFilter]) -> bool:
    """Whether the hub pages (and filters) ``find`` for ``connector``: it cannot page, or a
    filter is one it does not take (its capabilities, a filter on a transformed field it
    cannot evaluate exactly: :meth:`~ecehub.connectors.Connector.pushes_down`; or one the
    config forbids asking by: :func:`_sent`)."""
    return not connector.capabilities.supports_paging or not all(
        _sent(connector, entity, f) for f in filters
    )


def asked_by_key(connector: Connector, entity: str) -> bool:
    """Whether ``fetch`` may be called (else records by key come from the listing)."""
    mapped = connector.entities.get(entity)
    return mapped is None or not mapped.list_only


def hub_page(
    records: Iterable[Record],
    filters: Sequence[FieldFilter],
    *,
    first: int | None,
    after: str | None,
) -> Page:
    """The page after ``after`` of the ``records`` (read whole by the hub) that pass
    ``filters``, each with its hub cursor: the hub's paging of a source that cannot page or
    filter (here) and of an entity with a period (:mod:`ecehub.sources.periods`)."""
    passing = [
        replace(record, cursor=hub_cursor(index, record.key))
        for index, record in enumerate(r for r in records if matches(r, filters))
    ]
    start = start_after(passing, after)
    end = len(passing) if first is None else start + max(first, 0)
    return Page(passing[start:end], end < len(passing))


def hub_cursor(index: int, key: str) -> str:
    """Where the hub continues after the record at ``index`` (whose key is ``key``)."""
    return f"{_PREFIX}{index}:{key}"


def start_after(records: Sequence[Record], after: str | None) -> int:
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
        pushed = [f for f in filters if _sent(connector, entity, f)]
        kept = [f for f in filters if not _sent(connector, entity, f)]
        whole = await asyncio.shield(self._whole(connector, entity, pushed, read))
        return hub_page(whole, kept, first=first, after=after)

    async def fetch(
        self, connector: Connector, entity: str, keys: Sequence[str], read: Read
    ) -> dict[str, Record]:
        """Records by key from the source's whole listing (a ``list_only`` source), read
        once per request."""
        wanted = set(keys)
        whole = await asyncio.shield(self._whole(connector, entity, (), read))
        return {r.key: r for r in whole if r.key in wanted}

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
