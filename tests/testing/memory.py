"""A small, correct in-memory connector: rows in its settings, paging by position, every
filter evaluated with ``matches``. The kit's own tests break it one bug at a time
(test_kit_catches.py); the hub's paging tests use a variant without paging."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import Field

from ecehub.config import SourceConfig
from ecehub.connectors import Connector, FieldFilter, Health, Page, Record, matches
from ecehub.connectors.base import child_mapping, utcnow
from ecehub.errors import SourceUnavailable

__all__ = ["MemoryConnector", "MemorySourceConfig"]


class MemorySourceConfig(SourceConfig):
    rows: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    """Rows by entity, with the columns the entity mapping names."""
    down: bool = False
    """Answer like a system that cannot be reached."""


class MemoryConnector(Connector[MemorySourceConfig]):
    kind = "memory"

    def records(self, entity: str) -> Iterator[Record]:
        if self.settings.down:
            raise SourceUnavailable(self.name, "the system is down")
        ent = self.settings.entities.get(entity)
        if ent is None:
            raise ValueError(f"source {self.name!r} does not map entity {entity!r}")
        fetched_at = utcnow()
        for row in self.settings.rows.get(entity, []):
            yield self.make_record(
                entity,
                row[ent.key],
                {name: row.get(column) for name, column in ent.fields.items()},
                {system: row.get(column) for system, column in ent.identifiers.items()},
                row.get(ent.parent_column) if ent.parent_column else None,
                fetched_at=fetched_at,
            )

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        wanted = set(keys)
        return {r.key: r for r in self.records(entity) if r.key in wanted}

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        child_mapping(self.settings.entities, self.name, entity, parent_entity)  # or ValueError
        grouped: dict[str, list[Record]] = {key: [] for key in parent_keys}
        for record in self.records(entity):
            if record.parent_key in grouped:
                grouped[record.parent_key].append(record)
        return grouped

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        found = [r for r in self.records(entity) if matches(r, filters)]
        for index, record in enumerate(found):
            record.cursor = str(index)
        start = 0
        if after is not None:
            if not after.isdigit():
                raise ValueError(f"source {self.name!r}: invalid cursor {after!r}")
            start = int(after) + 1
        end = len(found) if first is None else start + first
        return Page(found[start:end], end < len(found))

    async def health(self) -> Health:
        started = time.perf_counter()
        detail = "the system is down" if self.settings.down else ""
        return Health(self.name, not detail, (time.perf_counter() - started) * 1000, detail)

    async def verify(self) -> list[str]:
        problems: list[str] = []
        for entity, ent in self.settings.entities.items():
            columns = {column for row in self.settings.rows.get(entity, []) for column in row}
            mapped = [ent.key, *ent.fields.values(), *ent.identifiers.values()]
            problems += [
                f"entity {entity!r}: column {column!r} is in none of its rows"
                for column in mapped
                if column not in columns
            ]
        return problems

    async def aclose(self) -> None:
        return None
