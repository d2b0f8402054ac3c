"""The connector contract: what every source adapter (built-in or partner) implements.

A connector is built from one ``sources.<name>`` entry of the config and answers, for the
canonical entities it maps (see :mod:`ecehub.config.canonical`):

- ``fetch(entity, keys)``: records for many source keys in one call;
- ``children(entity, parent_entity, parent_keys)``: child records grouped by parent key;
- ``find(entity, filters, first, after)``: a page of records, filters pushed down where the
  source can, keyset/cursor paging;
- ``health()`` and ``aclose()``.

Every call is batched: a connector never makes one source round trip per key unless its
source offers nothing better (then with bounded concurrency).
"""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from ecehub.config.canonical import ENTITIES, FieldType, coerce, is_identifier_field

if TYPE_CHECKING:
    from ecehub.config.model import EntityConfig, SourceConfig

log = logging.getLogger(__name__)

__all__ = [
    "Connector",
    "FieldFilter",
    "FilterOp",
    "Health",
    "Page",
    "Record",
    "matches",
    "utcnow",
]

FilterOp = Literal["eq", "in", "contains", "gte", "lte"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class FieldFilter:
    """One condition on a canonical field (or ``identifier:<SYSTEM>``).

    ``contains`` is a case-insensitive substring match; ``in`` takes a list of values.
    """

    field: str
    op: FilterOp
    value: Any


@dataclass
class Record:
    """One source row in canonical form, with its provenance."""

    source: str
    entity: str
    key: str
    fields: dict[str, Any]
    identifiers: dict[str, str] = field(default_factory=dict)
    parent_key: str | None = None
    fetched_at: dt.datetime = field(default_factory=utcnow)
    cursor: str | None = None
    """Opaque position *after* this record in a ``find`` result, for the next page."""

    def get(self, name: str) -> Any:
        if is_identifier_field(name):
            return self.identifiers.get(name.split(":", 1)[1])
        return self.fields.get(name)


@dataclass
class Page:
    records: list[Record]
    has_next: bool


@dataclass
class Health:
    source: str
    ok: bool
    latency_ms: float
    detail: str = ""


def _kind(record: Record, field_name: str) -> FieldType:
    if is_identifier_field(field_name):
        return "str"
    spec = ENTITIES.get(record.entity)
    return spec.fields.get(field_name, "str") if spec else "str"


def _same(value: Any, wanted: Any, kind: FieldType) -> bool:
    if kind == "list":
        return any(_same(v, wanted, "str") for v in value)
    if kind == "str":
        return str(value).strip().casefold() == str(wanted).strip().casefold()
    try:
        return bool(value == coerce(kind, wanted))
    except (ValueError, TypeError, ArithmeticError):
        return False


def _compare(value: Any, op: FilterOp, wanted: Any, kind: FieldType) -> bool:
    if value is None:
        return False
    if op == "eq":
        return _same(value, wanted, kind)
    if op == "in":
        pool = [wanted] if isinstance(wanted, str) or not hasattr(wanted, "__iter__") else wanted
        return any(_same(value, w, kind) for w in pool)
    if op == "contains":
        text = ", ".join(value) if kind == "list" else str(value)
        return str(wanted).casefold() in text.casefold()
    try:
        bound = coerce(kind, wanted)
        if op == "gte":
            return bool(value >= bound)
        return bool(value <= bound)
    except (TypeError, ValueError, ArithmeticError):
        return False


def matches(record: Record, filters: Iterable[FieldFilter]) -> bool:
    """Evaluate filters in Python, with the meaning a source must give them when pushed down:
    ``eq``/``in`` compare text trimmed and case-insensitively and other types by value (the
    filter value coerced to the field's canonical type), ``contains`` is a case-insensitive
    substring, ``gte``/``lte`` compare in the field's type."""
    return all(
        _compare(record.get(f.field), f.op, f.value, _kind(record, f.field)) for f in filters
    )


class Connector(ABC):
    """Base class of every connector. Subclasses implement the five abstract methods.

    Use it as an async context manager or call :meth:`aclose` when done.
    """

    kind: ClassVar[str] = ""
    settings_model: ClassVar[type[SourceConfig]]

    def __init__(self, name: str, config: SourceConfig) -> None:
        self.name = name
        self.config = config
        self.support_types: list[str] = list(config.support_types)
        self.entities: Mapping[str, EntityConfig] = config.entities
        self.timeout_s: float = config.timeout_s

    # -- the contract -------------------------------------------------------------------
    @abstractmethod
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        """Records by source key; missing keys are absent from the result."""

    @abstractmethod
    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        """Child records of many parents at once, grouped by parent key; every parent key
        asked for is in the result, with ``[]`` when it has no children."""

    @abstractmethod
    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        """Records passing ``filters``, in a stable order, at most ``first`` of them,
        starting after the record whose ``cursor`` is ``after``. ``first=None``: all."""

    @abstractmethod
    async def health(self) -> Health:
        """Ping the source; never raises."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections and sessions."""

    async def verify(self) -> list[str]:
        """Problems with the mapping (missing tables/columns, ...) for ``ecehub check``;
        override where the source can tell. Default: none known."""
        return []

    # -- shared helpers ---------------------------------------------------------------
    def can_filter(self, entity: str, field_name: str) -> bool:
        """Whether this source maps ``field_name`` for ``entity`` (so a filter on it applies)."""
        ent = self.entities.get(entity)
        if ent is None:
            return False
        if is_identifier_field(field_name):
            return field_name.split(":", 1)[1] in ent.identifiers
        return field_name in ent.fields or field_name in ent.constants

    def source_filters(
        self, entity: str, filters: Sequence[FieldFilter]
    ) -> list[FieldFilter] | None:
        """Filters in the source's own terms, for connectors that push every filter down:
        filters on ``constants`` are decided here (dropped when they hold; ``None`` when one
        cannot, so nothing matches) and ``eq``/``in`` on fields with ``values`` are turned
        into the source values that map to the wanted canonical ones.

        Raises ``ValueError`` for another operator on a field with ``values``."""
        ent = self.entities[entity]
        out: list[FieldFilter] = []
        for flt in filters:
            if flt.field in ent.constants:
                probe = self.make_record(entity, "", {}, {})
                if not matches(probe, [flt]):
                    return None
                continue
            mapping = ent.values.get(flt.field)
            if not mapping:
                out.append(flt)
                continue
            if flt.op not in ("eq", "in"):
                raise ValueError(
                    f"source {self.name}: {entity}.{flt.field} has a value mapping, so only "
                    f"eq/in filters can be pushed down, not {flt.op}"
                )
            wanted = [flt.value] if flt.op == "eq" else list(flt.value)
            folded = {str(w).strip().casefold() for w in wanted}
            source_values = [k for k, v in mapping.items() if v.strip().casefold() in folded]
            # A source value not in the mapping passes through unchanged, so it may match too.
            passthrough = [w for w in wanted if str(w) not in mapping]
            out.append(FieldFilter(flt.field, "in", source_values + passthrough))
        return out

    def make_record(
        self,
        entity: str,
        key: Any,
        raw_fields: Mapping[str, Any],
        raw_identifiers: Mapping[str, Any],
        parent_key: Any = None,
        fetched_at: dt.datetime | None = None,
    ) -> Record:
        """Build a canonical record from raw values, coercing each to its canonical type."""
        spec = ENTITIES[entity]
        ent = self.entities.get(entity)
        values = ent.values if ent is not None else {}
        raw = dict(raw_fields)
        for name, mapping in values.items():
            if name in raw and raw[name] is not None:
                raw[name] = mapping.get(str(raw[name]).strip(), raw[name])
        if ent is not None:
            for name, constant in ent.constants.items():
                raw.setdefault(name, constant)
        fields = {
            name: _coerce_named(self.name, entity, name, spec.fields[name], value)
            for name, value in raw.items()
        }
        identifiers = {
            system: str(value).strip()
            for system, value in raw_identifiers.items()
            if value is not None and str(value).strip() != ""
        }
        return Record(
            source=self.name,
            entity=entity,
            key=str(key),
            fields=fields,
            identifiers=identifiers,
            parent_key=None if parent_key is None else str(parent_key),
            fetched_at=fetched_at or utcnow(),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _coerce_named(source: str, entity: str, name: str, kind: Any, value: Any) -> Any:
    try:
        return coerce(kind, value)
    except (ValueError, TypeError, ArithmeticError):
        # A bad value in one cell must not fail the record: leave it null, and say where
        # (never the value: it may be personal data).
        log.debug("source %s: %s.%s is not a valid %s; read as null", source, entity, name, kind)
        return None
