"""Program scope where the data is fetched.

:class:`ScopedIdentity` wraps a request's identity: a program outside the request's scope is
never resolved, so ``program(id)``, reports by program ID and every write naming a program
see only programs in scope. Listing a scoped request does not enumerate the sources at all:
it fetches exactly the programs in scope by key (one batched call per source, see
:func:`ecehub.resolvers.listing.list_scoped`), so pages and counts hold only what the role may
see.

A token may name a program by any of its IDs (``@qris:Q-1`` for a program whose canonical ID
is ``LICENSE_NUMBER:CCL-1``): the scope is made canonical once per request, on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Identity, Merged

__all__ = ["ScopedIdentity"]

PROGRAM = "program"


class ScopedIdentity(Identity):
    def __init__(self, inner: Identity, scope: frozenset[str]) -> None:
        self.inner = inner
        self.scope = scope
        self._canonical: frozenset[str] | None = None
        self._lock = asyncio.Lock()

    async def canonical_scope(self) -> frozenset[str]:
        """The canonical hub IDs of the programs in scope (those some visible source knows)."""
        async with self._lock:
            if self._canonical is None:
                found = await self.inner.resolve(PROGRAM, sorted(self.scope))
                self._canonical = frozenset(m.hub_id for m in found.values())
            return self._canonical

    def hub_id(self, record: Record) -> str:
        return self.inner.hub_id(record)

    def order(self, merged: Merged) -> None:
        self.inner.order(merged)

    async def resolve(self, entity: str, hub_ids: Sequence[str]) -> dict[str, Merged]:
        found = await self.inner.resolve(entity, hub_ids)
        if entity != PROGRAM:
            return found
        allowed = await self.canonical_scope()
        return {h: m for h, m in found.items() if m.hub_id in allowed}

    async def complete(self, entity: str, records: Sequence[Record]) -> list[Merged]:
        groups = await self.inner.complete(entity, records)
        if entity != PROGRAM:
            return groups
        allowed = await self.canonical_scope()
        return [g for g in groups if g.hub_id in allowed]
