"""One entity of a ``csv`` source, parsed once into canonical records and indexed, so
``fetch`` and ``children`` cost a lookup per key and ``find`` walks keys in order.

Built from the entity's tables (:mod:`ecehub.connectors.csv.reading`) whenever one of them
changed. Nothing is dropped quietly: a value that is not of its field's canonical type is
read as null and counted, and so are rows without a key, rows whose key came before, rows
with fewer or more cells than the header, and empty files; each count is logged once per
build (never a value: it may be personal data) and kept in :attr:`EntityIndex.warnings`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecehub.config.canonical import ENTITIES
from ecehub.config.periods import PERIOD_FIELD, period_order
from ecehub.connectors.base import FieldFilter, Record
from ecehub.connectors.csv.reading import Table, paused_gc
from ecehub.connectors.csv.settings import CsvEntityConfig
from ecehub.connectors.transforms import join_key

__all__ = ["EntityIndex", "MappingProblem", "build_index", "column_positions"]

log = logging.getLogger("ecehub.connectors.csv")

MakeRecord = Callable[..., Record]
DeclaredNull = Callable[[str, str, Any], bool]
"""``Connector.declared_null``: a value read as null by the config's say-so, not unreadable."""

_BUILT_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""The ``fetched_at`` of the records kept in an index: never handed out (each call hands
out copies stamped with the call's time), so one constant spares a clock read per row."""


class MappingProblem(Exception):
    """The entity's mapping does not fit a file (a column is missing); ``problems`` says
    which file and which column."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def column_positions(entity: str, ent: CsvEntityConfig, table: Table) -> dict[str, int] | list[str]:
    """Where each column the entity reads is in ``table``'s header (an exact name, else the
    one name equal to it trimmed and case-folded), or one problem per column it lacks."""
    exact = {name: i for i, name in reversed(list(enumerate(table.header)))}
    folded: dict[str, list[int]] = {}
    for i, name in enumerate(table.header):
        folded.setdefault(_fold(name), []).append(i)
    found: dict[str, int] = {}
    problems: list[str] = []
    for column in ent.columns():
        if column in exact:
            found[column] = exact[column]
            continue
        candidates = folded.get(_fold(column), [])
        if len(candidates) == 1:
            found[column] = candidates[0]
            continue
        header = ", ".join(table.header) or "(no header: the file is empty)"
        hint = ""
        if len(table.header) == 1 and any(c in table.header[0] for c in ",;\t|"):
            hint = "; the header reads as one column: check `delimiter`"
        problems.append(
            f"entity {entity!r}: file {table.location!r} has no column {column!r} "
            f"(columns: {header}){hint}"
        )
    return problems or found


@dataclass
class EntityIndex:
    """The records of one entity: by key, in key order, by parent key and by identifier."""

    entity: str
    records: dict[str, Record]
    ordered: list[str]
    by_parent: dict[str, list[str]]
    by_identifier: dict[str, dict[str, list[str]]]
    versions: tuple[int, ...]
    warnings: list[str] = field(default_factory=list)
    unreadable: Counter[str] = field(default_factory=Counter)
    """Values read as null because they are not of their field's type, by field."""
    _by_text: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def keys_after(self, after: str | None, among: set[str] | None = None) -> Sequence[str]:
        """The keys in order, from just after ``after`` (a key, present or not); only those
        in ``among`` when given (sorted on their own: a lookup's few keys, not a scan)."""
        if among is not None:
            return sorted(k for k in among if after is None or k > after)
        if after is None:
            return self.ordered
        return self.ordered[bisect.bisect_right(self.ordered, after) :]

    def candidates(self, filters: Iterable[FieldFilter]) -> set[str] | None:
        """The keys an ``eq``/``in`` filter on a text field or identifier can select (the
        smallest such set), or ``None`` when no filter narrows by a lookup."""
        best: set[str] | None = None
        for flt in filters:
            if flt.op not in ("eq", "in"):
                continue
            lookup = self._text_lookup(flt.field)
            if lookup is None:
                continue
            wanted = [flt.value] if flt.op == "eq" else _values(flt.value)
            keys = {k for w in wanted for k in lookup.get(_fold(w), ())}
            if best is None or len(keys) < len(best):
                best = keys
        return best

    def _text_lookup(self, name: str) -> dict[str, list[str]] | None:
        if name.startswith("identifier:"):
            return self.by_identifier.get(name.split(":", 1)[1], {})
        if ENTITIES[self.entity].fields.get(name) != "str":
            return None
        found = self._by_text.get(name)
        if found is None:  # built on first use, then kept with the index
            found = {}
            for key in self.ordered:
                value = self.records[key].fields.get(name)
                if value is not None:
                    found.setdefault(_fold(value), []).append(key)
            self._by_text[name] = found
        return found


def _values(value: Any) -> list[Any]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


@dataclass
class _Tally:
    no_key: int = 0
    duplicate: int = 0
    short: int = 0
    long: int = 0
    no_parent: int = 0
    empty_files: list[str] = field(default_factory=list)
    unreadable: Counter[str] = field(default_factory=Counter)

    def messages(self, entity: str, kinds: dict[str, str]) -> list[str]:
        out = [f"{entity}: file {name!r} has no rows" for name in self.empty_files]
        out += [
            f"{entity}.{name}: {count} value(s) are not a valid {kinds[name]} (read as null)"
            for name, count in sorted(self.unreadable.items())
        ]
        for count, what in (
            (self.no_key, "row(s) without a key (skipped)"),
            (self.duplicate, "row(s) with a key an earlier row has (skipped; the first wins)"),
            (self.short, "row(s) with fewer cells than the header (missing cells read as null)"),
            (self.long, "row(s) with more cells than the header (extra cells ignored)"),
            (self.no_parent, "row(s) without a parent key (listed under no parent)"),
        ):
            if count:
                out.append(f"{entity}: {count} {what}")
        return out


def build_index(
    source: str,
    entity: str,
    ent: CsvEntityConfig,
    tables: Sequence[Table],
    make_record: MakeRecord,
    declared_null: DeclaredNull = lambda _entity, _name, _value: False,
) -> EntityIndex:
    """The index of ``entity`` over its ``tables`` (in file order: the first row of a key
    wins); :class:`MappingProblem` when a file lacks a mapped column."""
    problems: list[str] = []
    positions: list[dict[str, int] | None] = []
    tally = _Tally()
    for table in tables:
        if not table.header:
            tally.empty_files.append(table.location)
            positions.append(None)
            continue
        found = column_positions(entity, ent, table)
        if isinstance(found, list):
            problems.extend(found)
            positions.append(None)
        else:
            positions.append(found)
            if not table.rows:
                tally.empty_files.append(table.location)
    if problems:
        raise MappingProblem(problems)
    records: dict[str, Record] = {}
    by_parent: dict[str, list[str]] = {}
    by_identifier: dict[str, dict[str, list[str]]] = {system: {} for system in ent.identifiers}
    with paused_gc():
        for table, where in zip(tables, positions, strict=True):
            if where is not None:
                _read_rows(entity, ent, table, where, make_record, declared_null, records, tally)
        ordered = sorted(records)
        for key in ordered:
            record = records[key]
            if record.parent_key is not None:
                by_parent.setdefault(record.parent_key, []).append(key)
            for system, value in record.identifiers.items():
                by_identifier[system].setdefault(_fold(value), []).append(key)
    kinds: dict[str, str] = dict(ENTITIES[entity].fields)
    index = EntityIndex(
        entity,
        records,
        ordered,
        by_parent,
        by_identifier,
        tuple(t.version for t in tables),
        warnings=tally.messages(entity, kinds),
        unreadable=tally.unreadable,
    )
    for message in index.warnings:
        log.warning("source %s: %s", source, message)
    return index


def _read_rows(
    entity: str,
    ent: CsvEntityConfig,
    table: Table,
    where: dict[str, int],
    make_record: MakeRecord,
    declared_null: DeclaredNull,
    records: dict[str, Record],
    tally: _Tally,
) -> None:
    width = len(table.header)
    key_at = [where[c] for c in ent.key_columns]
    field_at = {name: where[column] for name, column in ent.fields.items()}
    identifier_at = {system: where[column] for system, column in ent.identifiers.items()}
    parent_at = where[ent.parent_column] if ent.parent_column else None
    kinds = ENTITIES[entity].fields
    formats = {
        name: (form, kinds[name] == "date")
        for name, form in ent.formats.items()
        if name in field_at
    }
    for row in table.rows:
        if len(row) < width:
            tally.short += 1
            row = row + [""] * (width - len(row))
        elif len(row) > width:
            tally.long += 1
        parts = [row[i].strip() for i in key_at]
        if not all(parts):
            tally.no_key += 1
            continue
        key = join_key(parts)  # escaped: ('a|b', 'c') and ('a', 'b|c') differ
        if key in records and ent.period is None:
            tally.duplicate += 1
            continue
        raw: dict[str, Any] = {name: _cell(row[i]) for name, i in field_at.items()}
        for name, (form, as_date) in formats.items():
            text = raw[name]
            if text is not None:
                try:
                    moment = dt.datetime.strptime(text, form)
                except ValueError:
                    continue  # left as text: not ISO either, so read as null and counted
                raw[name] = moment.date() if as_date else moment
        parent = None if parent_at is None else _cell(row[parent_at])
        if parent_at is not None and parent is None:
            tally.no_parent += 1
        record = make_record(
            entity,
            key,
            raw,
            {system: _cell(row[i]) for system, i in identifier_at.items()},
            parent,
            _BUILT_AT,
        )
        for name, value in raw.items():
            if (
                value is not None
                and record.fields.get(name) is None
                and not declared_null(entity, name, value)
            ):
                tally.unreadable[name] += 1
        held = records.get(key)
        if held is not None and not _later(record, held):
            continue  # an entity with a period: a key's latest row is its record
        records[key] = record


def _later(record: Record, held: Record) -> bool:
    """Whether ``record`` is of a later period than ``held`` (of the same key)."""
    return period_order(record.fields.get(PERIOD_FIELD)) > period_order(
        held.fields.get(PERIOD_FIELD)
    )


def _cell(text: str) -> str | None:
    """A cell's text trimmed; an empty cell is null (CSV cannot tell "" from no value)."""
    text = text.strip()
    return text or None
