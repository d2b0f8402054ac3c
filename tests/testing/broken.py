"""Connectors with one bug each: subclasses of the correct :class:`MemoryConnector`. Each
names, in ``catches``, the words the kit's failure must contain (docs/connectors.md, "What
the kit catches", lists the same bugs)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from ecehub.connectors import FieldFilter, Health, Page, Record, matches
from tests.testing.memory import MemoryConnector

__all__ = ["BROKEN", "Broken"]


class Broken(MemoryConnector):
    """A connector with one bug; ``catches``: words the kit's failure must contain."""

    catches: ClassVar[str] = ""


def _text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


class _Folding(Broken):
    """Text filters folded with ``fold`` instead of ``str.casefold``."""

    @staticmethod
    def fold(text: str) -> str:
        raise NotImplementedError

    def _holds(self, record: Record, flt: FieldFilter) -> bool:
        value = record.get(flt.field)
        if flt.op not in ("contains", "eq") or value is None or not isinstance(value, str):
            return matches(record, [flt])
        wanted = self.fold(str(flt.value).strip())
        got = self.fold(_text(value).strip())
        return wanted in got if flt.op == "contains" else wanted == got

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        page = await super().find(entity, (), first=None)
        kept = [r for r in page.records if all(self._holds(r, f) for f in filters)]
        for index, record in enumerate(kept):
            record.cursor = str(index)
        start = 0 if after is None else int(after) + 1
        end = len(kept) if first is None else start + first
        return Page(kept[start:end], end < len(kept))


class LowerFolding(_Folding):
    catches: ClassVar[str] = "not lower()"

    @staticmethod
    def fold(text: str) -> str:
        return text.lower()


class UpperFolding(_Folding):
    catches: ClassVar[str] = "dotless i"

    @staticmethod
    def fold(text: str) -> str:
        return text.upper()


class NaiveFetchedAt(Broken):
    catches: ClassVar[str] = "timezone-aware"

    def records(self, entity: str) -> Iterator[Record]:
        for record in super().records(entity):
            record.fetched_at = record.fetched_at.replace(tzinfo=None)
            yield record


class StoredDateAsFetchedAt(Broken):
    catches: ClassVar[str] = "is not the time of the call"

    def records(self, entity: str) -> Iterator[Record]:
        for record in super().records(entity):
            record.fetched_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
            yield record


class IgnoresPaging(Broken):
    """Declares paging (the default) and ignores ``first`` and ``after``."""

    catches: ClassVar[str] = "returned more rows"

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        return await super().find(entity, filters)


class UndeclaredNoPaging(IgnoresPaging):
    """The README's old example: the test skips paging, the class still declares it."""

    catches: ClassVar[str] = "capabilities declare ['supports_paging']"


class ValuesNotMapped(Broken):
    catches: ClassVar[str] = "a `values` field"

    def records(self, entity: str) -> Iterator[Record]:
        ent = self.settings.entities[entity]
        for record in super().records(entity):
            for name, mapping in ent.values.items():
                source_value = {v: k for k, v in mapping.items()}
                got = record.fields.get(name)
                record.fields[name] = source_value.get(got, got) if isinstance(got, str) else got
            yield record


class ConstantsDropped(Broken):
    catches: ClassVar[str] = "a `constants` field"

    def records(self, entity: str) -> Iterator[Record]:
        ent = self.settings.entities[entity]
        for record in super().records(entity):
            for name in ent.constants:
                record.fields.pop(name, None)
            yield record


class ConstantFilterSentToTheSource(Broken):
    """A filter on a constant pushed to a source that has no such column: nothing found."""

    catches: ClassVar[str] = "decide filters on `constants`"

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        if any(f.field in self.settings.entities[entity].constants for f in filters):
            return Page([], False)
        return await super().find(entity, filters, first=first, after=after)


class DecimalAsFloat(Broken):
    catches: ClassVar[str] = "(Decimal)"

    def records(self, entity: str) -> Iterator[Record]:
        for record in super().records(entity):
            if record.fields.get("amount") is not None:
                record.fields["amount"] = float(record.fields["amount"])
            yield record


class ListAsText(Broken):
    catches: ClassVar[str] = "(list)"

    def records(self, entity: str) -> Iterator[Record]:
        for record in super().records(entity):
            if record.fields.get("credentials") is not None:
                record.fields["credentials"] = "; ".join(record.fields["credentials"])
            yield record


class FiltersIgnored(Broken):
    catches: ClassVar[str] = "pushed down:"

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        return await super().find(entity, (), first=first, after=after)


class FetchReturnsUnasked(Broken):
    catches: ClassVar[str] = "must return the asked keys that exist"

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        return {r.key: r for r in self.records(entity)} if keys else {}


class ChildlessParentsLeftOut(Broken):
    catches: ClassVar[str] = "every asked parent key"

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        grouped = await super().children(entity, parent_entity, parent_keys)
        return {key: records for key, records in grouped.items() if records}


class UnknownRelationIsEmpty(Broken):
    catches: ClassVar[str] = "must raise ValueError"

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        if self.settings.entities[entity].parent_entity != parent_entity:
            return {key: [] for key in parent_keys}
        return await super().children(entity, parent_entity, parent_keys)


class HasNextWithoutFirst(Broken):
    catches: ClassVar[str] = "without first: has_next False"

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        page = await super().find(entity, filters, first=first, after=after)
        return Page(page.records, True) if first is None else page


class BadCursorCrashes(Broken):
    catches: ClassVar[str] = "raised KeyError"

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        if after is not None and not after.isdigit():
            raise KeyError(after)
        return await super().find(entity, filters, first=first, after=after)


class StuckAfterCancel(Broken):
    """Holds a lock across an await and releases it only when the call is not cancelled."""

    catches: ClassVar[str] = "the connector is stuck"
    _lock: asyncio.Lock | None = None

    def _the_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        await self._the_lock().acquire()
        await asyncio.sleep(0.01)
        self._the_lock().release()
        return await super().find(entity, filters, first=first, after=after)

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        async with self._the_lock():
            return await super().fetch(entity, keys)


class VerifySeesNothing(Broken):
    catches: ClassVar[str] = "must name a field mapped to a column that does not exist"

    async def verify(self) -> list[str]:
        return []


class HealthRaises(Broken):
    catches: ClassVar[str] = "must report, never raise"

    async def health(self) -> Health:
        list(self.records("program"))  # raises when the system is down
        return await super().health()


class PromisesAnotherContract(Broken):
    catches: ClassVar[str] = "major versions differ"
    contract_version = "2.0"


BROKEN: tuple[type[Broken], ...] = (
    LowerFolding,
    UpperFolding,
    NaiveFetchedAt,
    StoredDateAsFetchedAt,
    IgnoresPaging,
    UndeclaredNoPaging,
    ValuesNotMapped,
    ConstantsDropped,
    ConstantFilterSentToTheSource,
    DecimalAsFloat,
    ListAsText,
    FiltersIgnored,
    FetchReturnsUnasked,
    ChildlessParentsLeftOut,
    UnknownRelationIsEmpty,
    HasNextWithoutFirst,
    BadCursorCrashes,
    StuckAfterCancel,
    VerifySeesNothing,
    HealthRaises,
    PromisesAnotherContract,
)
"""Every bug the kit must catch, one connector each."""
