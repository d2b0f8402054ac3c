"""Shared small types of the public schema."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry.types import Info as _Info

from ecehub.config.periods import PERIOD_FIELD
from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Merged
from ecehub.crosswalk.merge_policy import FieldValue, describe_rule

if TYPE_CHECKING:
    from ecehub.resolvers.context import RequestContext

    Info: TypeAlias = _Info[RequestContext, None]
else:
    Info: TypeAlias = _Info

__all__ = [
    "Address",
    "FieldConflict",
    "FieldProvenance",
    "Identifier",
    "Info",
    "PageInfo",
    "SourceRecordRef",
    "SupportType",
    "address_of",
    "conflicts_of",
    "identifiers_of",
    "provenance_of",
    "source_refs",
]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A sector, or other kind of support, a program receives.")
class SupportType:
    code: str
    name: str
    description: str


@strawberry.type(description="An identifier a source system holds for an object.")
class Identifier:
    system: str = strawberry.field(description="e.g. LICENSE_NUMBER, HEAD_START_GRANT")
    value: str
    source: str


@strawberry.type(description="One source record behind a merged object.")
class SourceRecordRef:
    source: str
    key: str
    fetched_at: dt.datetime
    period: str | None = strawberry.field(
        default=None,
        description="The reporting period of the record's row, for a source with one row per "
        "key and period (its latest); null otherwise",
    )


@strawberry.type(
    description="One source's value of a field, where it came from and when it was fetched."
)
class FieldProvenance:
    field: str
    source: str
    fetched_at: dt.datetime
    value: str = strawberry.field(description="As text; dates ISO 8601, lists comma-separated")
    wins: bool = strawberry.field(
        description="Whether this value is the one shown, as the config's merge rule for the "
        "field picks it (default: first non-null in source precedence)"
    )
    period: str | None = strawberry.field(
        default=None,
        description="The reporting period of the source row the value is from (a source with "
        "one row per key and period shows its latest); null when the source has none",
    )


@strawberry.type(
    description="A field whose sources disagree: their non-null values differ after "
    "normalising (text trimmed, case-folded, whitespace collapsed; phone numbers by digits; "
    "lists as sets; numbers and dates by value)."
)
class FieldConflict:
    field: str
    rule: str = strawberry.field(
        description="The merge rule that picked the shown value, in words, e.g. "
        "'first non-null: qris, source precedence'"
    )
    values: list[FieldProvenance] = strawberry.field(
        description="Every source's value, the shown one first (wins), then in the order the "
        "rule falls back to"
    )


@strawberry.type
class Address:
    street: str | None
    city: str | None
    county: str | None
    state: str | None
    zip: str | None


@strawberry.enum
class SourceStatus(Enum):
    UP = "UP"
    DOWN = "DOWN"


def address_of(m: Merged) -> Address | None:
    addr = Address(
        street=m.value("address"),
        city=m.value("city"),
        county=m.value("county"),
        state=m.value("state"),
        zip=m.value("zip"),
    )
    if all(v is None for v in vars(addr).values()):
        return None
    return addr


def identifiers_of(records: list[Record]) -> list[Identifier]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for r in records:
        for system, value in r.identifiers.items():
            if (system, value, r.source) not in seen:
                seen.add((system, value, r.source))
                out.append(Identifier(system=system, value=value, source=r.source))
    return out


def source_refs(records: list[Record]) -> list[SourceRecordRef]:
    return [
        SourceRecordRef(
            source=r.source, key=r.key, fetched_at=r.fetched_at, period=r.fields.get(PERIOD_FIELD)
        )
        for r in records
    ]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _entries(name: str, ranked: list[FieldValue], m: Merged) -> list[FieldProvenance]:
    periods: dict[str, str | None] = {}
    for r in m.records:
        periods.setdefault(r.source, r.fields.get(PERIOD_FIELD))
    return [
        FieldProvenance(
            field=name,
            source=fv.source,
            fetched_at=fv.fetched_at,
            value=_text(fv.value),
            wins=i == 0,
            period=periods.get(fv.source),
        )
        for i, fv in enumerate(ranked)
    ]


def _field_names(info: Info, m: Merged, fields: list[str] | None) -> list[str]:
    """The fields asked for (default: every field a source gave) that this request may read
    (:meth:`~ecehub.access.policy.Access.value_denial`, the rule of the field's own schema
    field). Of the default, the others are left out; one asked for by name is left out with
    an error coded FORBIDDEN (and an audited refusal), and the rest of the answer stands."""
    ctx = info.context
    names = fields or sorted({f for r in m.records for f in r.fields})
    if not ctx.access.enabled:
        return names
    shown = []
    for name in names:
        refusal = ctx.access.value_denial(m.entity, name)
        if refusal is None:
            shown.append(name)
        elif fields:
            program = m.hub_id if m.entity == "program" else None
            ctx.refuse(program, name, refusal, info.path.as_list())
    return shown


def provenance_of(info: Info, m: Merged, fields: list[str] | None) -> list[FieldProvenance]:
    """Per field this request may read, every source's non-null value, the shown one first."""
    return [e for name in _field_names(info, m, fields) for e in _entries(name, m.ranked(name), m)]


def conflicts_of(info: Info, m: Merged, fields: list[str] | None) -> list[FieldConflict]:
    """The fields (of those this request may read) whose sources disagree."""
    out = []
    for name in _field_names(info, m, fields):
        ranked = m.conflicts(name)
        if ranked:
            rule = describe_rule(m.policy.rule(m.entity, name))
            out.append(FieldConflict(field=name, rule=rule, values=_entries(name, ranked, m)))
    return out
