"""Which source records are the same real-world object, and the merged view of them.

:class:`Identity` is the one interface the resolvers use to turn hub IDs into source records
and source records into merged objects. The spine's :class:`SharedIdentifierIdentity` merges
on identifiers the config declares in ``merge.<entity>.match_on`` (e.g. ``LICENSE_NUMBER``);
the identity crosswalk replaces it with stored, reviewed links.

Hub IDs: ``<SYSTEM>:<value>`` for an object known by a shared identifier, else
``@<source>:<key>`` for an object known to one source only.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecehub.config.model import Config
from ecehub.connectors.base import Record
from ecehub.crosswalk.merge_policy import FieldValue, MergePolicy
from ecehub.ids import record_hub_id, record_of_hub_id, shared_hub_id
from ecehub.sources.loaders import Loaders, SourceKey, normalize_identifier

__all__ = [
    "FieldValue",
    "Identity",
    "Merged",
    "SharedIdentifierIdentity",
]


_NO_RULES = MergePolicy()


@dataclass
class Merged:
    """One real-world object: its source records in order of source precedence, and the
    policy that picks each field's shown value (default: first non-null by precedence)."""

    entity: str
    hub_id: str
    records: list[Record] = field(default_factory=list)
    policy: MergePolicy = field(default=_NO_RULES, repr=False, compare=False)

    def field(self, name: str) -> FieldValue | None:
        """The value shown for a field (by the policy's rule) and where it came from."""
        return self.policy.pick(self.entity, name, self.records)

    def value(self, name: str) -> Any:
        return self.policy.pick_value(self.entity, name, self.records)

    def values(self, name: str) -> list[FieldValue]:
        """Every source's non-null value of a field, to show conflicts."""
        return [
            FieldValue(r.fields[name], r.source, r.fetched_at)
            for r in self.records
            if r.fields.get(name) is not None
        ]

    def ranked(self, name: str) -> list[FieldValue]:
        """Every source's non-null value of a field, the shown one first, then in the order
        the rule falls back to."""
        return self.policy.rank(self.entity, name, self.records)

    def conflicts(self, name: str) -> list[FieldValue]:
        """Every source's value, ranked, when the non-null values differ; else ``[]``."""
        ranked = self.ranked(name)
        return ranked if self.policy.conflicting(self.entity, name, ranked) else []

    @property
    def hub_ids(self) -> list[str]:
        """Every ID hub data about this object may be stored under: its hub ID, then each of
        its records' own ``@source:key`` (the ID it had before a crosswalk link joined it)."""
        return list(
            dict.fromkeys([self.hub_id, *(record_hub_id(r.source, r.key) for r in self.records)])
        )

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(r.source for r in self.records))


class Identity(ABC):
    """Hub IDs <-> source records. The crosswalk implements this same interface.

    An implementation built from a config sets ``merge_policy`` to
    ``MergePolicy.from_config(config)`` and passes it to every ``Merged`` it makes."""

    merge_policy: MergePolicy = _NO_RULES

    @abstractmethod
    def hub_id(self, record: Record) -> str:
        """The hub ID a record belongs to."""

    @abstractmethod
    async def resolve(self, entity: str, hub_ids: Sequence[str]) -> dict[str, Merged]:
        """Merged objects for hub IDs (all their source records); unknown IDs are absent."""

    @abstractmethod
    async def complete(self, entity: str, records: Sequence[Record]) -> list[Merged]:
        """Group records by identity and add the members other sources hold."""

    def group(self, entity: str, records: Iterable[Record]) -> list[Merged]:
        """Group records by identity (no source calls), in first-seen order."""
        groups: dict[str, Merged] = {}
        for record in records:
            hub_id = self.hub_id(record)
            merged = groups.setdefault(hub_id, Merged(entity, hub_id, [], self.merge_policy))
            merged.records.append(record)
        for merged in groups.values():
            self.order(merged)
        return list(groups.values())

    def fill(self, groups: list[Merged], resolved: dict[str, Merged]) -> list[Merged]:
        """Add to each group the members of its resolved object it does not hold yet."""
        for g in groups:
            full = resolved.get(g.hub_id)
            if full is None:
                continue
            seen = {(r.source, r.key) for r in g.records}
            g.records.extend(r for r in full.records if (r.source, r.key) not in seen)
            self.order(g)
        return groups

    @abstractmethod
    def order(self, merged: Merged) -> None:
        """Sort a merged object's records by source precedence (stable)."""


class SharedIdentifierIdentity(Identity):
    def __init__(self, config: Config, loaders: Loaders) -> None:
        self.config = config
        self.loaders = loaders
        self.precedence = {name: i for i, name in enumerate(config.sources)}
        self.merge_policy = MergePolicy.from_config(config)
        self._match_on_by_entity: dict[str, tuple[str, ...]] = {}
        self._holders_of: dict[tuple[str, str], tuple[str, ...]] = {}

    def _match_on(self, entity: str) -> tuple[str, ...]:
        """``config.match_on`` kept per entity: it is asked once per record."""
        found = self._match_on_by_entity.get(entity)
        if found is None:
            found = self._match_on_by_entity[entity] = tuple(self.config.match_on(entity))
        return found

    def hub_id(self, record: Record) -> str:
        for system in self._match_on(record.entity):
            value = record.identifiers.get(system)
            if value:
                return shared_hub_id(system, normalize_identifier(value))
        return record_hub_id(record.source, record.key)

    def order(self, merged: Merged) -> None:
        if len(merged.records) > 1:  # most objects of a page have one record
            merged.records.sort(key=lambda r: (self.precedence.get(r.source, 1 << 30), r.key))

    def _holders(self, entity: str, system: str) -> tuple[str, ...]:
        """The sources declaring identifier ``system`` for ``entity`` (kept: asked per
        hub ID)."""
        found = self._holders_of.get((entity, system))
        if found is None:
            found = self._holders_of[(entity, system)] = tuple(
                self.config.identifier_holders(entity, system)
            )
        return found

    def complete_in(self, entity: str, records: Iterable[Record]) -> set[str]:
        """The sources whose records for an object are all in ``records``: those declaring
        ``identifiers_unique`` (one record per identifier value), so asking them again for
        the object's identifier would only return what is in hand, and ``list_only`` ones
        (never asked by identifier: a record they listed is taken as all they hold)."""
        out: set[str] = set()
        for record in records:
            source = self.config.sources.get(record.source)
            mapping = None if source is None else source.entities.get(entity)
            if mapping is not None and (mapping.identifiers_unique or mapping.list_only):
                out.add(record.source)
        return out

    async def _members(
        self, entity: str, hub_ids: Sequence[str], known: Mapping[str, Collection[str]]
    ) -> list[list[Record]]:
        """Each hub ID's records, asked for in one batch per loader (not one task per hub
        ID): ``@source:key`` IDs by key, shared-identifier IDs by identifier from every
        source declaring it but the ``known`` ones."""
        by_key: list[SourceKey] = []
        by_system: dict[str, list[SourceKey]] = {}
        plans: list[tuple[str | None, list[SourceKey]]] = []  # (system or None for by key)
        for hub_id in hub_ids:
            alone = record_of_hub_id(hub_id)
            if alone is not None:
                source, key = alone
                source_cfg = self.config.sources.get(source)
                if key and source_cfg is not None and entity in source_cfg.entities:
                    by_key.append(alone)
                    plans.append((None, [alone]))
                else:
                    plans.append((None, []))
                continue
            system, _, value = hub_id.partition(":")
            if system not in self._match_on(entity) or not value:
                plans.append((None, []))
                continue
            skip = known.get(hub_id, ())
            keys = [(s, value) for s in self._holders(entity, system) if s not in skip]
            by_system.setdefault(system, []).extend(keys)
            plans.append((system, keys))
        systems = list(by_system)
        fetched, found = await asyncio.gather(
            self.loaders.fetch(entity).load_many(by_key),
            asyncio.gather(
                *(self.loaders.by_identifier(entity, s).load_many(by_system[s]) for s in systems)
            ),
        )
        records_by_key = dict(zip(by_key, fetched, strict=True))
        records_by_value = {
            system: dict(zip(by_system[system], lists, strict=True))
            for system, lists in zip(systems, found, strict=True)
        }
        out: list[list[Record]] = []
        for kind, keys in plans:
            if kind is None:
                out.append([r for k in keys if (r := records_by_key.get(k)) is not None])
            else:
                out.append([r for k in keys for r in records_by_value[kind][k]])
        return out

    async def resolve(
        self,
        entity: str,
        hub_ids: Sequence[str],
        *,
        known: Mapping[str, Collection[str]] | None = None,
    ) -> dict[str, Merged]:
        """``known``: per hub ID, sources not to ask (their records of it are in hand, see
        :meth:`complete_in`); the result then lacks those records."""
        members = await self._members(entity, hub_ids, known or {})
        out: dict[str, Merged] = {}
        for hub_id, records in zip(hub_ids, members, strict=True):
            if not records:
                continue
            canonical = self.hub_id(records[0])
            if canonical != hub_id:
                # An ``@source:key`` ID of a record that is known by a shared identifier.
                again = (await self.resolve(entity, [canonical])).get(canonical)
                if again is not None:
                    out[hub_id] = again
                continue
            merged = Merged(entity, hub_id, records, self.merge_policy)
            self.order(merged)
            out[hub_id] = merged
        return out

    async def complete(self, entity: str, records: Sequence[Record]) -> list[Merged]:
        groups = self.group(entity, records)
        shared = [g for g in groups if record_of_hub_id(g.hub_id) is None]
        known = {g.hub_id: self.complete_in(entity, g.records) for g in shared}
        return self.fill(
            groups, await self.resolve(entity, [g.hub_id for g in shared], known=known)
        )
