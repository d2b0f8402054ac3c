"""The conformance kit's dataset: rows to load into a source, how a source maps them
(:func:`entity_mapping`), the canonical records every connector must return for them, and
the filter cases with what :func:`ecehub.connectors.matches` selects for each.

``program`` (14 rows)
    ``program_key`` (the source key: ``"P1"`` ... ``"P14"``), ``name``, ``city``, ``county``
    (text), ``qris_level`` (int), ``license_expires`` (date), ``license_number`` (text,
    mapped as the identifier ``LICENSE_NUMBER``; ``P3`` has none). Some values are ``None``.
    ``P13`` and ``P14`` test case folding (``Großmann``; ``Alt\u0131n`` with a dotless i).
``site`` (20 rows, parent ``program``)
    ``site_key`` (``"S1"`` ... ``"S20"``), ``program_key`` (the parent key), ``name``,
    ``city`` (text), ``capacity`` (int). ``P4``, ``P9``, ``P13`` and ``P14`` have no sites.
``staff`` (8 rows, parent ``program``)
    ``staff_key`` (``"T1"`` ...), ``program_key``, ``first_name``, ``last_name`` (text),
    ``role_code`` (source codes ``LT``/``AT``/``DIR``, mapped by ``values`` to ``Lead
    Teacher``/``Assistant Teacher``/``Director``; a code not listed passes through),
    ``credentials`` (text ``"CDA; BA"``: a list field), ``pd_hours`` (float),
    ``hire_date`` (date).
``funding`` (6 rows, parent ``program``)
    ``funding_key`` (``"F1"`` ...), ``program_key``, ``amount`` (exact decimal, as text
    ``"12500.50"`` or a DECIMAL column), ``type_code`` (``G``/``C``, mapped by ``values`` to
    ``Grant``/``Contract``), ``purpose`` (text), ``period_start`` (date); ``currency`` has no
    column: the mapping gives it as the constant ``USD``.

Load every row as it is (dates as dates or ISO ``YYYY-MM-DD`` text, amounts as DECIMAL or
text, as the system stores them; ``None`` as the system's null). ``program`` and ``site``
are required; ``staff`` and ``funding`` carry the float, decimal and list fields and the
``values``/``constants`` mappings, and their tests are skipped (with the reason) where a
connector does not map them. The kit assumes nothing about the order of keys beyond "stable
and complete".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ecehub.config.canonical import ENTITIES, coerce
from ecehub.connectors.base import FieldFilter, Record, matches

__all__ = [
    "CONFORMANCE_DATA",
    "EXPECTED",
    "FILTER_CASES",
    "OPTIONAL_ENTITIES",
    "REQUIRED_ENTITIES",
    "FilterCase",
    "entity_mapping",
]

_D = dt.date
# One row per line reads best as a table.
_PROGRAMS = [
    ("P1", "Sunshine Kids", "Springfield", "Adams", 3, _D(2025, 6, 30), "LIC-100"),
    ("P2", "Little Acorns 100% Care", "springfield", "Adams", 1, _D(2024, 1, 31), "LIC-200"),
    ("P3", "Bright Start", "Shelbyville", "Baker", 5, _D(2026, 12, 31), None),
    ("P4", "ACORN Academy", "Capital City", "Clark", 4, None, "LIC-400"),
    ("P5", "Tiny_Steps Learning", "Ogdenville", "Baker", 2, _D(2025, 1, 1), "LIC-500"),
    ("P6", "Pequeños Pasos", "Springfield", "Adams", None, _D(2025, 9, 15), "LIC-600"),
    ("P7", "little acorns annex", "North Haverbrook", "Clark", 2, _D(2025, 6, 30), "LIC-700"),
    ("P8", "Stepping Stones", "Shelbyville", "Baker", 5, _D(2027, 3, 1), "LIC-800"),
    ("P9", "Kids First", "Capital City", "Clark", 3, _D(2024, 12, 31), "LIC-900"),
    ("P10", "The Learning Tree", "Ogdenville", "Baker", 1, _D(2025, 1, 2), "LIC-1000"),
    ("P11", "Rainbow Room", "SPRINGFIELD", "Adams", 4, _D(2026, 6, 30), "LIC-1100"),
    ("P12", "Happy Hearts", "Brockway", None, 3, _D(2025, 12, 31), "LIC-1200"),
    ("P13", "Großmann Kinderhaus", "Brockway", "Clark", 2, _D(2026, 3, 31), "LIC-1300"),
    ("P14", "Alt\u0131n Yuva", "Ogdenville", "Baker", 4, _D(2026, 8, 31), "LIC-1400"),
]
_SITES = [
    ("S1", "P1", "Sunshine Main", "Springfield", 40),
    ("S2", "P1", "Sunshine North Room", "Springfield", 12),
    ("S3", "P1", "sunshine annex", "Springfield", 8),
    ("S4", "P2", "Acorns Center", "springfield", 30),
    ("S5", "P3", "Bright Start East", "Shelbyville", 55),
    ("S6", "P3", "Bright Start West", "Shelbyville", None),
    ("S7", "P5", "Tiny Steps Room 1", "Ogdenville", 10),
    ("S8", "P5", "Tiny Steps Room 2", "Ogdenville", 10),
    ("S9", "P6", "Casa Pequeña", "Springfield", 18),
    ("S10", "P7", "Annex A", "North Haverbrook", 20),
    ("S11", "P7", "Annex B", "North Haverbrook", 22),
    ("S12", "P8", "Stones Infant House", "Shelbyville", 16),
    ("S13", "P8", "Stones Preschool", "Shelbyville", 48),
    ("S14", "P8", "STONES ROOM 3", "Shelbyville", 24),
    ("S15", "P10", "Learning Tree Oak", "Ogdenville", 36),
    ("S16", "P10", "Learning Tree Elm", "Ogdenville", 36),
    ("S17", "P11", "Rainbow Red", "SPRINGFIELD", 14),
    ("S18", "P11", "Rainbow Blue", "Springfield", 14),
    ("S19", "P11", "Rainbow Green Room", "Springfield", 60),
    ("S20", "P12", "Happy Hearts Center", "Brockway", 45),
]
_STAFF = [
    ("T1", "P1", "Ana", "Weiß", "LT", "CDA; BA", 12.5, _D(2019, 8, 1)),
    ("T2", "P1", "Ben", "Weiss", "AT", "CDA", 4.25, _D(2022, 1, 10)),
    ("T3", "P3", "I\u015f\u0131l", "Alt\u0131n", "DIR", "BA, MA", 30.0, _D(2015, 3, 2)),
    ("T4", "P3", "Ilir", "Altin", "LT", None, 0.0, None),
    ("T5", "P6", "Lucía", "Peña", "AT", "cda", None, _D(2021, 9, 1)),
    ("T6", "P8", "Sam", "Stone", "LT", "AA; CDA", 18.75, _D(2020, 6, 15)),
    ("T7", "P8", "Kim", "Lee", "SUB", None, 2.0, _D(2024, 2, 29)),
    ("T8", "P11", "Jo", "Rainer", "DIR", "MA", 40.5, _D(2010, 1, 4)),
]
_FUNDING = [
    ("F1", "P1", "12500.50", "G", "Classroom materials", _D(2025, 7, 1)),
    ("F2", "P1", "0.10", "C", "Coaching", _D(2025, 7, 1)),
    ("F3", "P3", "99999.99", "G", "Facility repair", _D(2024, 10, 1)),
    ("F4", "P8", "2500.00", "C", "Training", _D(2026, 1, 1)),
    ("F5", "P8", "10000.01", "X", "Pilot", None),
    ("F6", "P11", "0.30", "G", "Books", _D(2025, 12, 1)),
]


def _rows(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


CONFORMANCE_DATA: Final[dict[str, list[dict[str, Any]]]] = {
    "program": _rows(
        (
            "program_key",
            "name",
            "city",
            "county",
            "qris_level",
            "license_expires",
            "license_number",
        ),
        _PROGRAMS,
    ),
    "site": _rows(("site_key", "program_key", "name", "city", "capacity"), _SITES),
    "staff": _rows(
        (
            "staff_key",
            "program_key",
            "first_name",
            "last_name",
            "role_code",
            "credentials",
            "pd_hours",
            "hire_date",
        ),
        _STAFF,
    ),
    "funding": _rows(
        ("funding_key", "program_key", "amount", "type_code", "purpose", "period_start"),
        _FUNDING,
    ),
}
"""The standard dataset, by canonical entity: rows to load into the source (do not mutate)."""

REQUIRED_ENTITIES: Final = ("program", "site")
OPTIONAL_ENTITIES: Final = ("staff", "funding")

_MAPPINGS: Final[dict[str, dict[str, Any]]] = {
    "program": {
        "key": "program_key",
        "fields": {
            name: name for name in ("name", "city", "county", "qris_level", "license_expires")
        },
        "identifiers": {"LICENSE_NUMBER": "license_number"},
    },
    "site": {
        "key": "site_key",
        "parent": {"program": "program_key"},
        "fields": {name: name for name in ("name", "city", "capacity")},
    },
    "staff": {
        "key": "staff_key",
        "parent": {"program": "program_key"},
        "fields": {
            "first_name": "first_name",
            "last_name": "last_name",
            "role": "role_code",
            "credentials": "credentials",
            "pd_hours": "pd_hours",
            "hire_date": "hire_date",
        },
        "values": {"role": {"LT": "Lead Teacher", "AT": "Assistant Teacher", "DIR": "Director"}},
    },
    "funding": {
        "key": "funding_key",
        "parent": {"program": "program_key"},
        "fields": {
            "amount": "amount",
            "funding_type": "type_code",
            "purpose": "purpose",
            "period_start": "period_start",
        },
        "values": {"funding_type": {"G": "Grant", "C": "Contract"}},
        "constants": {"currency": "USD"},
    },
}


def entity_mapping(entity: str) -> dict[str, Any]:
    """The ``key``/``fields``/``identifiers``/``parent``/``values``/``constants`` settings of
    ``entity`` for a source whose columns (or JSON properties) are named as in
    :data:`CONFORMANCE_DATA`."""
    mapping = _MAPPINGS[entity]
    return {k: dict(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def _expected_records(entity: str) -> dict[str, Record]:
    """The dataset as the canonical records every connector must return."""
    mapping = _MAPPINGS[entity]
    kinds = ENTITIES[entity].fields
    parent_column = next(iter(mapping.get("parent", {}).values()), None)
    values: Mapping[str, Mapping[str, str]] = mapping.get("values", {})
    out: dict[str, Record] = {}
    for row in CONFORMANCE_DATA[entity]:
        key = str(row[mapping["key"]])
        fields: dict[str, Any] = {}
        for name, column in mapping["fields"].items():
            raw = row[column]
            if raw is not None and name in values:
                raw = values[name].get(str(raw), raw)
            fields[name] = coerce(kinds[name], raw)
        for name, constant in mapping.get("constants", {}).items():
            fields[name] = coerce(kinds[name], constant)
        out[key] = Record(
            source="",
            entity=entity,
            key=key,
            fields=fields,
            identifiers={
                system: str(row[col])
                for system, col in mapping.get("identifiers", {}).items()
                if row[col] is not None
            },
            parent_key=None if parent_column is None else str(row[parent_column]),
        )
    return out


EXPECTED: Final[dict[str, dict[str, Record]]] = {e: _expected_records(e) for e in _MAPPINGS}
"""The canonical records of the dataset, by entity and key."""


@dataclass(frozen=True)
class FilterCase:
    id: str
    entity: str
    filters: tuple[FieldFilter, ...]
    hint: str = ""
    """What a connector failing this case most likely does wrong."""
    casefold: bool = False
    """Needs ``str.casefold`` folding (skipped where capabilities declare ``casefold=False``)."""
    expected: tuple[str, ...] = field(init=False)
    """Keys of the dataset rows ``matches`` selects."""

    def __post_init__(self) -> None:
        rows = EXPECTED[self.entity].values()
        object.__setattr__(self, "expected", tuple(r.key for r in rows if matches(r, self.filters)))


_F = FieldFilter
_LOWER = "fold case with str.casefold (ß = ss), not lower()"
_UPPER = "fold case with str.casefold: '\u0131' (dotless i) is not 'i', so not upper()"
_MAPPED = "compare with the canonical values: translate them with the entity's `values`"
_CONSTANT = "decide filters on `constants` (Connector.source_filters does)"
FILTER_CASES: Final[tuple[FilterCase, ...]] = (
    FilterCase("eq-text-ignores-case", "program", (_F("name", "eq", "sunshine KIDS"),)),
    FilterCase("eq-text-trims-the-value", "program", (_F("name", "eq", "  Bright Start "),)),
    FilterCase("eq-text-in-three-spellings", "program", (_F("city", "eq", "springfield"),)),
    FilterCase("eq-int", "program", (_F("qris_level", "eq", "3"),)),
    FilterCase("eq-int-unreadable-value", "program", (_F("qris_level", "eq", "high"),)),
    FilterCase("eq-date", "program", (_F("license_expires", "eq", "2025-06-30"),)),
    FilterCase(
        "in-text-ignores-case", "program", (_F("city", "in", ["SPRINGFIELD", "ogdenville"]),)
    ),
    FilterCase("in-int", "program", (_F("qris_level", "in", [1, "5"]),)),
    FilterCase("in-empty", "program", (_F("city", "in", []),)),
    FilterCase("contains-ignores-case", "program", (_F("name", "contains", "acorn"),)),
    FilterCase("contains-percent-is-literal", "program", (_F("name", "contains", "%"),)),
    FilterCase("contains-underscore-is-literal", "program", (_F("name", "contains", "_"),)),
    FilterCase("contains-beyond-ascii", "program", (_F("name", "contains", "PEQUEÑOS"),)),
    FilterCase(
        "contains-casefold-sharp-s",
        "program",
        (_F("name", "contains", "GROSSMANN"),),
        _LOWER,
        casefold=True,
    ),
    FilterCase(
        "eq-casefold-sharp-s",
        "program",
        (_F("name", "eq", "grossmann kinderhaus"),),
        _LOWER,
        casefold=True,
    ),
    FilterCase(
        "contains-dotless-i-is-not-i",
        "program",
        (_F("name", "contains", "ALTIN"),),
        _UPPER,
        casefold=True,
    ),
    FilterCase("gte-int", "program", (_F("qris_level", "gte", 4),)),
    FilterCase("lte-int", "program", (_F("qris_level", "lte", "2"),)),
    FilterCase("gte-date", "program", (_F("license_expires", "gte", "2025-06-30"),)),
    FilterCase("lte-date", "program", (_F("license_expires", "lte", dt.date(2025, 1, 1)),)),
    FilterCase("identifier-eq", "program", (_F("identifier:LICENSE_NUMBER", "eq", "lic-400"),)),
    FilterCase(
        "identifier-in",
        "program",
        (_F("identifier:LICENSE_NUMBER", "in", ["lic-100", "LIC-1000", "LIC-999"]),),
    ),
    FilterCase(
        "every-filter-applies",
        "program",
        (_F("city", "eq", "Springfield"), _F("qris_level", "gte", 3)),
    ),
    FilterCase("site-contains", "site", (_F("name", "contains", "ROOM"),)),
    FilterCase("site-gte-int", "site", (_F("capacity", "gte", 40),)),
    FilterCase(
        "staff-casefold-sharp-s", "staff", (_F("last_name", "eq", "WEISS"),), _LOWER, casefold=True
    ),
    FilterCase(
        "staff-dotless-i-is-not-i",
        "staff",
        (_F("last_name", "contains", "altin"),),
        _UPPER,
        casefold=True,
    ),
    FilterCase("staff-eq-mapped-value", "staff", (_F("role", "eq", "lead teacher"),), _MAPPED),
    FilterCase(
        "staff-in-mapped-and-unmapped-values",
        "staff",
        (_F("role", "in", ["Director", "SUB"]),),
        _MAPPED,
    ),
    FilterCase("staff-gte-float", "staff", (_F("pd_hours", "gte", 12.5),)),
    FilterCase("staff-lte-float-as-text", "staff", (_F("pd_hours", "lte", "4.25"),)),
    FilterCase("staff-contains-list", "staff", (_F("credentials", "contains", "cda"),)),
    FilterCase("staff-lte-date", "staff", (_F("hire_date", "lte", "2019-08-01"),)),
    FilterCase("funding-gte-decimal", "funding", (_F("amount", "gte", "10000.01"),)),
    FilterCase("funding-lte-decimal-exact", "funding", (_F("amount", "lte", "0.3"),)),
    FilterCase("funding-eq-mapped-value", "funding", (_F("funding_type", "eq", "GRANT"),), _MAPPED),
    FilterCase("funding-eq-constant", "funding", (_F("currency", "eq", "usd"),), _CONSTANT),
    FilterCase("funding-other-constant", "funding", (_F("currency", "eq", "EUR"),), _CONSTANT),
)
"""Every filter the kit checks, with the dataset keys ``matches`` selects for it."""
