"""Identity from the crosswalk: confirmed links in the hub store decide which source records
are one program (site, staff member); records without one merge on shared identifiers, as
:class:`~ecehub.crosswalk.identity.SharedIdentifierIdentity` does.

Turned on per entity in the config::

    merge:
      program: {match_on: [LICENSE_NUMBER], identity: crosswalk}

Hub IDs: a record with a confirmed link has the link's hub ID; any other record the hub ID
shared identifiers give it (``LICENSE_NUMBER:CCL-104233``, or ``@qris:Q-00012`` alone); a
hub ID that was merged away is replaced by the one it was merged into, and still resolves.
With an empty crosswalk every hub ID and every merged object is exactly what the shared
identifiers give.

Why an index, and how it stays current: :meth:`Identity.hub_id` is synchronous (it runs while
grouping records), so the confirmed links and merged-away hub IDs are held in memory in one
:class:`CrosswalkIndex` per process, kept by the :class:`CrosswalkCache` the ``Runtime`` owns.
Every crosswalk write bumps a generation counter in the same transaction. The first async call
of a request's identity (``resolve`` or ``complete``, which every resolver reaches before it
groups records) reads the generation (one cheap ``SELECT``) and reloads the index only if it
changed; the request then uses that one index throughout, so a request never sees half of a
crosswalk write. A write committed while a request runs shows from the next request on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ecehub.config.model import Config
from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Identity, Merged, SharedIdentifierIdentity
from ecehub.crosswalk.records import CrosswalkLink, CrosswalkSnapshot
from ecehub.crosswalk.store import CrosswalkStore
from ecehub.ids import record_of_hub_id
from ecehub.sources.loaders import Loaders, SourceKey

__all__ = ["CrosswalkCache", "CrosswalkIdentity", "CrosswalkIndex", "identity_for"]

_MAX_CHAIN = 64


@dataclass(frozen=True)
class CrosswalkIndex:
    """The confirmed links and merged-away hub IDs of one crosswalk generation."""

    generation: int = -1
    confirmed: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """``(entity, source, key)`` -> hub ID"""
    merged_into: dict[tuple[str, str], str] = field(default_factory=dict)
    """``(entity, hub ID)`` -> the hub ID it was merged into"""
    members: dict[tuple[str, str], list[SourceKey]] = field(default_factory=dict)
    """``(entity, hub ID)`` -> its confirmed records"""
    retired_from: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """``(entity, hub ID)`` -> the hub IDs merged (directly or not) into it"""
    sites_of: dict[str, list[CrosswalkLink]] = field(default_factory=dict)
    """program hub ID -> the confirmed ``SITE`` links naming it (facilities shown among its
    sites), by source and key"""
    site_link_of: dict[SourceKey, CrosswalkLink] = field(default_factory=dict)
    """a facility's ``(source, key)`` -> its confirmed ``SITE`` link"""

    @classmethod
    def of(cls, snapshot: CrosswalkSnapshot) -> CrosswalkIndex:
        index = cls(snapshot.generation, dict(snapshot.confirmed), dict(snapshot.merged_into))
        for (entity, source, key), hub_id in snapshot.confirmed.items():
            index.members.setdefault((entity, hub_id), []).append((source, key))
        for entity, hub_id in snapshot.merged_into:
            survivor = index.survivor(entity, hub_id)
            index.retired_from.setdefault((entity, survivor), []).append(hub_id)
        for link in snapshot.site_links:
            index.sites_of.setdefault(link.hub_id, []).append(link)
            index.site_link_of[(link.source, link.source_key)] = link
        return index

    def survivor(self, entity: str, hub_id: str) -> str:
        """The hub ID now standing for ``hub_id`` (itself unless it was merged away)."""
        for _ in range(_MAX_CHAIN):  # merges keep chains flat; this only guards a bad row
            into = self.merged_into.get((entity, hub_id))
            if into is None:
                break
            hub_id = into
        return hub_id

    def involves(self, entity: str, hub_id: str) -> bool:
        """Whether the crosswalk says anything about this (surviving) hub ID."""
        return (entity, hub_id) in self.members or (entity, hub_id) in self.retired_from


class CrosswalkCache:
    """The process's current :class:`CrosswalkIndex` (kept by the ``Runtime``)."""

    def __init__(self, store: Callable[[], CrosswalkStore]) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self.index = CrosswalkIndex()
        self.loads = 0
        """How many times the index was (re)loaded: for tests and metrics."""

    async def current(self) -> CrosswalkIndex:
        """The index as of the stored generation: one SELECT, plus a reload when it moved."""
        store = self._store()
        generation = await store.crosswalk_generation()
        if generation == self.index.generation:
            return self.index
        async with self._lock:
            if generation != self.index.generation:
                self.index = CrosswalkIndex.of(await store.crosswalk_snapshot())
                self.loads += 1
        return self.index


class CrosswalkIdentity(Identity):
    """Confirmed crosswalk links first, shared identifiers for the rest (module docstring)."""

    def __init__(self, config: Config, loaders: Loaders, cache: CrosswalkCache) -> None:
        self.shared = SharedIdentifierIdentity(config, loaders)
        self.merge_policy = self.shared.merge_policy
        self.loaders = loaders
        self.cache = cache
        self.entities = frozenset(e for e in config.merge if config.uses_crosswalk(e))
        self._index: CrosswalkIndex | None = None

    @property
    def index(self) -> CrosswalkIndex:
        """This request's index: read at its first async call (before that, the last one
        the process loaded)."""
        return self.cache.index if self._index is None else self._index

    async def current(self) -> CrosswalkIndex:
        """This request's index, read (one generation check) at its first call."""
        if self._index is None:
            self._index = await self.cache.current()
        return self._index

    @property
    def current_now(self) -> CrosswalkIndex | None:
        """This request's index if it has been read already."""
        return self._index

    def hub_id(self, record: Record) -> str:
        fallback = self.shared.hub_id(record)
        if record.entity not in self.entities:
            return fallback
        index = self.index
        linked = index.confirmed.get((record.entity, record.source, record.key))
        return index.survivor(record.entity, fallback if linked is None else linked)

    def order(self, merged: Merged) -> None:
        self.shared.order(merged)

    def _canonical(self, index: CrosswalkIndex, entity: str, hub_id: str) -> str:
        """The surviving hub ID an asked-for one stands for; an ``@source:key`` ID of a
        record that is now linked elsewhere stands for that object."""
        alone = record_of_hub_id(hub_id)
        if alone is not None:
            linked = index.confirmed.get((entity, *alone))
            if linked is not None:
                hub_id = linked
        return index.survivor(entity, hub_id)

    async def resolve(
        self,
        entity: str,
        hub_ids: Sequence[str],
        *,
        known: Mapping[str, Collection[str]] | None = None,
    ) -> dict[str, Merged]:
        """``known``: as for :meth:`SharedIdentifierIdentity.resolve`."""
        if entity not in self.entities:
            return await self.shared.resolve(entity, hub_ids, known=known)
        index = await self.current()
        canonical = {h: self._canonical(index, entity, h) for h in hub_ids}
        groups, redirects = await self._groups(
            index, entity, list(dict.fromkeys(canonical.values())), known or {}
        )
        targets = [t for t in dict.fromkeys(redirects.values()) if t not in groups]
        if targets:
            more, _ = await self._groups(index, entity, targets, {})
            groups.update(more)
        out: dict[str, Merged] = {}
        for asked, hub_id in canonical.items():
            found = groups.get(redirects.get(hub_id, hub_id))
            if found is not None:
                out[asked] = found
        return out

    async def _groups(
        self,
        index: CrosswalkIndex,
        entity: str,
        hub_ids: Sequence[str],
        known: Mapping[str, Collection[str]],
    ) -> tuple[dict[str, Merged], dict[str, str]]:
        """Each surviving hub ID's records: what shared identifiers give it and the hub IDs
        merged into it, plus its confirmed records, less records confirmed elsewhere. Also
        the hub IDs that shared identifiers know under another ID (``@head_start:12`` of a
        center with a license number), with no crosswalk entry of their own: redirects."""
        names = {h: [h, *index.retired_from.get((entity, h), [])] for h in hub_ids}
        asked = list(dict.fromkeys(n for ns in names.values() for n in ns))
        # A link may name a source this config (or this request's view of it) has not got.
        linked = [
            k
            for k in dict.fromkeys(k for h in hub_ids for k in index.members.get((entity, h), []))
            if k[0] in self.shared.config.sources
        ]
        shared, fetched = await asyncio.gather(
            self.shared.resolve(entity, asked, known=known),
            self.loaders.fetch(entity).load_many(linked),
        )
        by_key = {k: r for k, r in zip(linked, fetched, strict=True) if r is not None}
        groups: dict[str, Merged] = {}
        redirects: dict[str, str] = {}
        for hub_id, own in names.items():
            found = shared.get(hub_id)
            if found is not None and found.hub_id != hub_id and not index.involves(entity, hub_id):
                redirects[hub_id] = index.survivor(entity, found.hub_id)
                continue
            records: dict[SourceKey, Record] = {}
            for name in own:
                member = shared.get(name)
                for record in member.records if member is not None else []:
                    records.setdefault((record.source, record.key), record)
            for key in index.members.get((entity, hub_id), []):
                if key in by_key:
                    records.setdefault(key, by_key[key])
            kept = [r for r in records.values() if self._belongs(index, r, hub_id)]
            if kept:
                merged = Merged(entity, hub_id, kept, self.merge_policy)
                self.order(merged)
                groups[hub_id] = merged
        return groups, redirects

    def _belongs(self, index: CrosswalkIndex, record: Record, hub_id: str) -> bool:
        linked = index.confirmed.get((record.entity, record.source, record.key))
        return linked is None or index.survivor(record.entity, linked) == hub_id

    async def complete(self, entity: str, records: Sequence[Record]) -> list[Merged]:
        if entity not in self.entities:
            return await self.shared.complete(entity, records)
        index = await self.current()
        groups = self.group(entity, records)
        wanted = [
            g.hub_id
            for g in groups
            if record_of_hub_id(g.hub_id) is None or index.involves(entity, g.hub_id)
        ]
        known = {
            g.hub_id: self.shared.complete_in(entity, g.records)
            for g in groups
            if not index.involves(entity, g.hub_id)
        }
        return self.fill(groups, await self.resolve(entity, wanted, known=known))


def identity_for(config: Config, loaders: Loaders, cache: CrosswalkCache) -> Identity:
    """The identity a request uses: the crosswalk's when the config turns it on for any
    entity, else the shared identifiers' alone."""
    if any(config.uses_crosswalk(entity) for entity in config.merge):
        return CrosswalkIdentity(config, loaders, cache)
    return SharedIdentifierIdentity(config, loaders)
