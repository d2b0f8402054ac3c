"""Each key's latest period, kept by the hub for a connector that cannot keep it itself.

An entity with a ``period`` (see :mod:`ecehub.config.periods`) holds one row per key and
period; the canonical record of a key is its latest row. A connector declaring
``Capabilities.supports_periods`` (``sql``: a ``row_number()`` over the key in the query)
answers ``fetch`` and ``find`` with those rows itself. For any other (``rest``, ``csv``,
``graphql``, partners'), the gateway reads the entity's whole answer once per request (no
filter pushed down: a filter must see the latest row only, and an older row of a key could
pass where its latest does not), keeps each key's latest row, and answers ``fetch`` by key and
``find`` with the filters applied and cursors of the hub's own, so pages and counts are of
keys, not rows, and exact.

The cost, as for a connector without paging: every request that reads such an entity reads
its rows once (all periods), shared by every page, lookup and caller of the request.
``children`` are not narrowed: a program's enrollment rows of every period are its history,
and the resolvers pick the period shown (:mod:`ecehub.resolvers.periods`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from ecehub.config.periods import PERIOD_FIELD, period_order
from ecehub.connectors.base import Connector, FieldFilter, Page, Record
from ecehub.sources.paging import Read, hub_page

__all__ = ["HubPeriods", "hub_keeps_periods", "latest_rows"]


def hub_keeps_periods(connector: Connector, entity: str) -> bool:
    """Whether the hub must keep ``entity``'s latest rows for ``connector``."""
    ent = connector.entities.get(entity)
    return (
        ent is not None and ent.period is not None and not connector.capabilities.supports_periods
    )


def latest_rows(records: Iterable[Record]) -> list[Record]:
    """One record per key, the row of its latest period (the first of equals), in the order
    the keys first appear."""
    best: dict[str, Record] = {}
    for record in records:
        held = best.get(record.key)
        if held is None or period_order(record.fields.get(PERIOD_FIELD)) > period_order(
            held.fields.get(PERIOD_FIELD)
        ):
            best[record.key] = record
    return list(best.values())


class HubPeriods:
    """One request's latest rows of the periodic entities the hub keeps (by the gateway)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], asyncio.Task[list[Record]]] = {}

    def _latest(self, connector: Connector, entity: str, read: Read) -> asyncio.Task[list[Record]]:
        memo = (connector.name, entity)
        task = self._answers.get(memo)
        if task is None:

            async def answer() -> list[Record]:
                return latest_rows((await read(())).records)

            task = self._answers[memo] = asyncio.ensure_future(answer())
        return task

    async def fetch(
        self, connector: Connector, entity: str, keys: Sequence[str], read: Read
    ) -> dict[str, Record]:
        wanted = set(keys)
        latest = await asyncio.shield(self._latest(connector, entity, read))
        return {r.key: r for r in latest if r.key in wanted}

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
        latest = await asyncio.shield(self._latest(connector, entity, read))
        return hub_page(latest, filters, first=first, after=after)
