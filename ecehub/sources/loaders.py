"""Per-request batch loaders (:mod:`ecehub.sources.batch`): every key asked for in one tick
of the event loop becomes one connector call per source, whatever the number of parents.

A loader covers one entity (and relation) across *all* sources: its keys are
``(source, key)`` pairs, each batch calls every source concerned concurrently, and all of the
batch's waiters wake together once every source has answered. Resolvers of one nesting level
therefore stay in step, and the next level's keys again form one batch per source, instead of
splitting into one batch per "which sources this parent came from".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from ecehub.config.canonical import identifier_field
from ecehub.connectors.base import FieldFilter, Record
from ecehub.sources.batch import BatchLoader
from ecehub.sources.gateway import SourceGateway

__all__ = ["Loaders", "SourceKey", "normalize_identifier"]

SourceKey = tuple[str, str]
"""``(source name, key)``"""

T = TypeVar("T")


def normalize_identifier(value: str) -> str:
    """Identifier values compare trimmed and case-insensitively (``ccl-1`` == ``CCL-1``)."""
    return value.strip().upper()


async def _per_source(
    keys: Sequence[SourceKey],
    call: Callable[[str, list[str]], Awaitable[dict[str, T]]],
    missing: Callable[[], T],
) -> list[T]:
    by_source: dict[str, list[str]] = {}
    for source, key in keys:
        by_source.setdefault(source, []).append(key)
    names = list(by_source)
    answers = await asyncio.gather(*(call(s, by_source[s]) for s in names))
    found = dict(zip(names, answers, strict=True))
    return [found[s][k] if k in found[s] else missing() for s, k in keys]


class Loaders:
    def __init__(self, gateway: SourceGateway) -> None:
        self.gateway = gateway
        self._loaders: dict[tuple[str, ...], BatchLoader[SourceKey, Any]] = {}

    def _get(self, name: tuple[str, ...], load: Any) -> BatchLoader[SourceKey, Any]:
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = BatchLoader(load)
        return loader

    def fetch(self, entity: str) -> BatchLoader[SourceKey, Record | None]:
        """Records by ``(source, key)``; ``None`` where the source has no such key."""

        async def call(source: str, keys: list[str]) -> dict[str, Record | None]:
            return dict(await self.gateway.fetch(source, entity, keys))

        async def load(keys: Sequence[SourceKey]) -> list[Record | None]:
            return await _per_source(keys, call, lambda: None)

        return self._get(("fetch", entity), load)

    def children(self, entity: str, parent_entity: str) -> BatchLoader[SourceKey, list[Record]]:
        """Child records by ``(source, parent key)``."""

        async def call(source: str, parent_keys: list[str]) -> dict[str, list[Record]]:
            return await self.gateway.children(source, entity, parent_entity, parent_keys)

        async def load(keys: Sequence[SourceKey]) -> list[list[Record]]:
            return await _per_source(keys, call, list)

        return self._get(("children", entity, parent_entity), load)

    def by_identifier(self, entity: str, system: str) -> BatchLoader[SourceKey, list[Record]]:
        """Records by ``(source, identifier value)``: those whose identifier ``system`` equals
        the (normalised) value."""

        async def call(source: str, values: list[str]) -> dict[str, list[Record]]:
            flt = FieldFilter(identifier_field(system), "in", values)
            page = await self.gateway.find(source, entity, [flt])
            grouped: dict[str, list[Record]] = {}
            for record in page.records:
                value = record.identifiers.get(system)
                if value is not None:
                    grouped.setdefault(normalize_identifier(value), []).append(record)
            return grouped

        async def load(keys: Sequence[SourceKey]) -> list[list[Record]]:
            return await _per_source(keys, call, list)

        return self._get(("identifier", entity, system), load)
