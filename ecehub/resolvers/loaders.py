"""Per-request DataLoaders, keyed by (source, entity): every key asked for in one tick of the
event loop becomes one connector call, whatever the number of parent objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from ecehub.connectors.base import FieldFilter, Record
from ecehub.connectors.canonical import identifier_field
from ecehub.resolvers.gateway import SourceGateway

__all__ = ["Loaders", "normalize_identifier"]


def normalize_identifier(value: str) -> str:
    """Identifier values compare trimmed and case-insensitively (``ccl-1`` == ``CCL-1``)."""
    return value.strip().upper()


class Loaders:
    def __init__(self, gateway: SourceGateway) -> None:
        self.gateway = gateway
        self._loaders: dict[tuple[str, ...], DataLoader[str, Any]] = {}

    def fetch(self, source: str, entity: str) -> DataLoader[str, Record | None]:
        key = ("fetch", source, entity)
        if key not in self._loaders:

            async def load(keys: Sequence[str]) -> list[Record | None]:
                found = await self.gateway.fetch(source, entity, list(keys))
                return [found.get(k) for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def children(
        self, source: str, entity: str, parent_entity: str
    ) -> DataLoader[str, list[Record]]:
        key = ("children", source, entity, parent_entity)
        if key not in self._loaders:

            async def load(parent_keys: Sequence[str]) -> list[list[Record]]:
                found = await self.gateway.children(
                    source, entity, parent_entity, list(parent_keys)
                )
                return [found.get(k, []) for k in parent_keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def by_identifier(self, source: str, entity: str, system: str) -> DataLoader[str, list[Record]]:
        """Records whose identifier ``system`` equals the (normalised) key."""
        key = ("identifier", source, entity, system)
        if key not in self._loaders:

            async def load(values: Sequence[str]) -> list[list[Record]]:
                flt = FieldFilter(identifier_field(system), "in", list(values))
                page = await self.gateway.find(source, entity, [flt])
                grouped: dict[str, list[Record]] = {}
                for record in page.records:
                    value = record.identifiers.get(system)
                    if value is not None:
                        grouped.setdefault(normalize_identifier(value), []).append(record)
                return [grouped.get(v, []) for v in values]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def prime_fetch(self, record: Record) -> None:
        """Remember a record found another way so a later fetch of it costs no call."""
        self.fetch(record.source, record.entity).prime(record.key, record)
