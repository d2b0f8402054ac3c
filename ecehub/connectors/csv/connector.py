"""The ``csv`` connector: the connector contract over CSV files held in memory.

Each call first checks the entity's files for changes (see
:mod:`ecehub.connectors.csv.reading`) and rebuilds the entity's index only when one changed;
then:

- ``fetch`` / ``children``: a dictionary lookup per key (by key, by parent key);
- ``find``: keys in order (text order of the key), narrowed through a lookup when a filter is
  ``eq``/``in`` on an identifier or a text field, every filter applied with
  :func:`~ecehub.connectors.base.matches` (so its meaning is exactly the contract's), and
  keyset-paged: a record's cursor is its key, opaque (:func:`ecehub.ids.encode_source_cursor`).

Records handed out are copies made at the call, with the call's ``fetched_at``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from typing import ClassVar

from ecehub.config.model import SourceConfig
from ecehub.connectors.base import (
    Capabilities,
    Connector,
    FieldFilter,
    Health,
    Page,
    Record,
    child_mapping,
    entity_mapping,
    utcnow,
)
from ecehub.connectors.csv.index import EntityIndex, MappingProblem, build_index
from ecehub.connectors.csv.reading import CsvFiles, Dialect, Table
from ecehub.connectors.csv.settings import CsvEntityConfig, CsvSourceConfig
from ecehub.connectors.usage import count
from ecehub.errors import EcehubError, SourceUnavailable
from ecehub.ids import decode_source_cursor, encode_source_cursor

__all__ = ["CsvConnector"]


def _copy(record: Record, fetched_at: dt.datetime, cursor: str | None = None) -> Record:
    fields = {k: list(v) if isinstance(v, list) else v for k, v in record.fields.items()}
    return Record(
        record.source,
        record.entity,
        record.key,
        fields,
        dict(record.identifiers),
        record.parent_key,
        fetched_at,
        cursor,
        dict(record.unparsable),
    )


def _retrieve(task: asyncio.Future[EntityIndex]) -> None:
    """Mark a load's failure as seen: its callers may all have stopped waiting."""
    if not task.cancelled():
        task.exception()


class CsvConnector(Connector):
    """A source of CSV files (local or over HTTP), one or more per entity."""

    logs_unparsable = False  # it reports unreadable values per read itself
    evaluates_transformed = True  # filters are evaluated on the records

    kind = "csv"
    settings_model: ClassVar[type[SourceConfig]] = CsvSourceConfig
    capabilities = Capabilities(supports_periods=True)  # the index keeps a key's latest row

    def __init__(self, name: str, config: SourceConfig) -> None:
        if not isinstance(config, CsvSourceConfig):
            raise TypeError(f"source {name!r}: CsvConnector needs a CsvSourceConfig")
        super().__init__(name, config)
        self.settings: CsvSourceConfig = config
        self.files = CsvFiles(name, config)
        self._indexes: dict[str, EntityIndex] = {}
        self._loads: dict[str, asyncio.Future[EntityIndex]] = {}
        self._readers: dict[tuple[str, Dialect], list[str]] = {}
        for entity, ent in config.entities.items():
            for location in ent.locations:
                self._readers.setdefault((location, self._dialect(ent)), []).append(entity)

    # -- the index ---------------------------------------------------------------------------
    def _entity(self, entity: str) -> CsvEntityConfig:
        return entity_mapping(self.settings.entities, self.name, entity)

    def _dialect(self, ent: CsvEntityConfig) -> Dialect:
        s = self.settings
        return Dialect(
            ent.encoding or s.encoding, ent.delimiter or s.delimiter, ent.quotechar or s.quotechar
        )

    async def _tables(self, ent: CsvEntityConfig) -> list[Table]:
        dialect = self._dialect(ent)
        return list(
            await asyncio.gather(*(self.files.table(loc, dialect) for loc in ent.locations))
        )

    async def _index(self, entity: str) -> EntityIndex:
        """The entity's index, rebuilt when one of its files changed since it was built.

        The check (and a read) runs as a task of its own that callers share and wait for
        shielded: a call that times out (the gateway's ``timeout_s``) while a large file is
        read does not waste the read, the next call finds it done or waits for the rest."""
        self._entity(entity)
        task = self._loads.get(entity)
        if task is None or task.done():
            task = asyncio.ensure_future(self._load(entity))
            task.add_done_callback(_retrieve)
            self._loads[entity] = task
        return await asyncio.shield(task)

    async def _load(self, entity: str) -> EntityIndex:
        ent = self._entity(entity)
        tables = await self._tables(ent)
        versions = tuple(t.version for t in tables)
        index = self._indexes.get(entity)
        if index is None or index.versions != versions:
            try:
                index = await asyncio.to_thread(
                    build_index,
                    self.name,
                    entity,
                    ent,
                    tables,
                    self.make_record,
                    self.declared_null,
                )
            except MappingProblem as exc:
                raise SourceUnavailable(self.name, str(exc)) from None
            self._indexes[entity] = index
            self._release(tables)
            count(requests=len(tables))  # files read anew
        return index

    def _release(self, tables: list[Table]) -> None:
        """Let go of the rows of each table every entity reading it has indexed (the index
        holds the records; an unchanged file is not parsed again, a changed one is read
        anew). Halves what a large file costs in memory."""
        for table in tables:
            readers = self._readers.get(table.location_key, ())
            if all(
                (index := self._indexes.get(e)) is not None and table.version in index.versions
                for e in readers
            ):
                table.rows.clear()

    def warnings(self) -> dict[str, list[str]]:
        """What the last read of each entity's files could not take as it is (values read as
        null, rows skipped, empty files), by entity; also logged when the files are read."""
        return {e: list(i.warnings) for e, i in self._indexes.items() if i.warnings}

    # -- the contract ------------------------------------------------------------------------
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        self._entity(entity)
        if not keys:
            return {}
        index = await self._index(entity)
        fetched_at = utcnow()
        out: dict[str, Record] = {}
        for key in keys:
            record = index.records.get(str(key))
            if record is not None:
                out[record.key] = _copy(record, fetched_at)
        count(rows=len(out))
        return out

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        # ValueError for a relation the config does not declare
        child_mapping(self.settings.entities, self.name, entity, parent_entity)
        if not parent_keys:
            return {}
        index = await self._index(entity)
        fetched_at = utcnow()
        count(rows=sum(len(index.by_parent.get(str(p), ())) for p in parent_keys))
        return {
            str(parent): [
                _copy(index.records[k], fetched_at) for k in index.by_parent.get(str(parent), ())
            ]
            for parent in parent_keys
        }

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        self._entity(entity)
        self.check_find(entity, filters, first)
        position = None if after is None else str(decode_source_cursor("csv", after, 1)[0])
        index = await self._index(entity)
        keys = index.keys_after(position, index.candidates(filters))
        # Each filter compiled once, as matches() does, then applied to each record.
        tests = [flt.predicate(entity) for flt in filters]
        fetched_at = utcnow()
        out: list[Record] = []
        read = 0
        for key in keys:
            record = index.records[key]
            read += 1
            if not all(test(record) for test in tests):
                continue
            if first is not None and len(out) >= first:
                count(rows=read)
                return Page(out, has_next=True)
            out.append(_copy(record, fetched_at, encode_source_cursor("csv", key)))
        count(rows=read)
        return Page(out, has_next=False)

    async def health(self) -> Health:
        """Every entity's files read (and parsed where they changed); the detail lists what
        was read as null or skipped."""
        started = time.perf_counter()
        try:
            for entity in self.settings.entities:
                await self._index(entity)
        except Exception as exc:  # health never raises (CancelledError still propagates)
            detail = exc.message if isinstance(exc, EcehubError) else type(exc).__name__
            return Health(self.name, False, (time.perf_counter() - started) * 1000, detail)
        detail = "; ".join(w for ws in self.warnings().values() for w in ws)
        return Health(self.name, True, (time.perf_counter() - started) * 1000, detail)

    async def verify(self) -> list[str]:
        """What keeps an entity from loading: a file that cannot be read or parsed, a mapped
        column a file lacks (by file and column); empty when all is well."""
        problems: list[str] = []
        for entity in self.settings.entities:
            try:
                await self._index(entity)
            except SourceUnavailable as exc:
                problems.append(exc.message.removeprefix(f"source {self.name!r}: "))
        return problems

    async def aclose(self) -> None:
        loads = [task for task in self._loads.values() if not task.done()]
        self._loads.clear()
        for task in loads:
            task.cancel()
        if loads:
            await asyncio.wait(loads)
        self._indexes.clear()
        await self.files.aclose()
