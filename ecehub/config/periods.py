"""Records with a period: one row per object per reporting period (a program year).

A source entity that declares ``period: {column: report_year, format: year}`` holds one row
per key *and* period (the federal Head Start PIR: a row per program per year). The hub reads
those rows as one object: the canonical view is the row of the latest period (listing,
paging, counts and lookups by key or identifier see one record per key), and the other
periods stay queryable as history (``Program.periods``, ``enrollment(period:)``). Nothing is
ever added up across periods.

The period is read as the canonical ``period`` field, normalised by its format so periods
sort as they follow each other:

- ``year``: a calendar or fiscal year: ``2023``, ``"2023"``, ``"FY2023"`` -> ``"2023"``;
- ``school_year``: a program year over two calendar years: ``"2022-2023"``, ``"2022-23"``,
  ``"2022/23"`` -> ``"2022-2023"``;
- ``text``: as the source writes it, trimmed (must sort as text the way periods follow
  each other, e.g. ``2023-Q1``).

A value that does not read in its format is null plus an accounted unparsable value, like any
field; a row without a period is older than every row with one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ecehub.config.canonical import ENTITIES

__all__ = [
    "PERIOD_FIELD",
    "PeriodConfig",
    "PeriodFormat",
    "latest_period",
    "normalize_period",
    "period_coercer",
    "period_order",
    "period_problems",
    "periodic_entities",
    "with_period_field",
]

PERIOD_FIELD = "period"
"""The canonical field a period is read into."""

PeriodFormat = Literal["year", "school_year", "text"]

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_SCHOOL_YEAR = re.compile(r"^\D*(\d{4})\s*[-/\u2013]\s*(\d{2}|\d{4})\D*$")


class PeriodConfig(BaseModel):
    """Where an entity's rows say their reporting period, and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(
        min_length=1,
        description="The column (SQL, CSV) or JSON path (REST) holding the period, as `key` "
        "names one; read as the canonical field `period`",
    )
    format: PeriodFormat = Field(
        default="text",
        description="year: 2023 or FY2023 -> 2023; school_year: 2022-2023, 2022-23 or 2022/23 "
        "-> 2022-2023; text: as written, trimmed (must sort as the periods follow each "
        "other). A value that does not read is null and counted unparsable",
    )


def _year(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"not a year: {value!r}")
    if isinstance(value, int):
        if 1000 <= value <= 9999:
            return str(value)
        raise ValueError(f"not a four-digit year: {value!r}")
    found = _YEAR.findall(str(value))
    if len(found) != 1:
        raise ValueError(f"not a year: {value!r}")
    return str(found[0])


def _school_year(value: Any) -> str:
    match = _SCHOOL_YEAR.match(str(value).strip())
    if match is None:
        raise ValueError(f"not a school year (2022-2023 or 2022-23): {value!r}")
    start, end = int(match.group(1)), match.group(2)
    stop = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
    if len(end) == 2 and stop < start:
        stop += 100  # 1999-00
    if stop != start + 1:
        raise ValueError(f"not a school year (the second year must follow the first): {value!r}")
    return f"{start}-{stop}"


def _text(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("an empty period")
    return text


_READERS: dict[str, Callable[[Any], str]] = {
    "year": _year,
    "school_year": _school_year,
    "text": _text,
}


def normalize_period(fmt: PeriodFormat, value: Any) -> str | None:
    """``value`` as a period text of ``fmt`` (``None`` and ``""`` stay ``None``); raises
    ``ValueError`` for one that does not read."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    return _READERS[fmt](value)


def period_coercer(fmt: PeriodFormat) -> Callable[[Any], Any]:
    """The coercion of the ``period`` field of an entity with a period of ``fmt``."""
    reader = _READERS[fmt]

    def coerce_period(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        return reader(value)

    return coerce_period


def period_order(period: str | None) -> tuple[bool, str]:
    """A sort key: periods in the order they follow each other, no period first (oldest).
    Normalised periods of one format sort as text (four-digit years lead)."""
    return (period is not None, period or "")


def latest_period(periods: Iterable[str | None]) -> str | None:
    """The latest of ``periods`` (``None`` when none is known)."""
    known = [p for p in periods if p is not None]
    return max(known, key=period_order) if known else None


def with_period_field(data: Any) -> Any:
    """An entity's raw settings with its ``period`` read as the canonical field ``period``
    (``fields.period: <column>``), so every connector reads it as it reads any field. A
    column name alone stands for ``{column: <name>}``. Raises ``ValueError`` when ``fields``
    maps ``period`` to another column too."""
    if not isinstance(data, dict) or data.get("period") is None:
        return data
    period = data["period"]
    if isinstance(period, str):
        period = {"column": period}
    column = period.column if isinstance(period, PeriodConfig) else None
    if isinstance(period, dict):
        column = period.get("column")
    if not isinstance(column, str):
        return {**data, "period": period}  # the model reports what is wrong with it
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        return {**data, "period": period}
    mapped = fields.get(PERIOD_FIELD)
    if mapped is not None and mapped != column:
        raise ValueError(
            f"fields.period maps {mapped!r} but period.column is {column!r}: name the "
            "period's column once, in period.column"
        )
    return {**data, "period": period, "fields": {**fields, PERIOD_FIELD: column}}


def periodic_entities() -> list[str]:
    """The canonical entities that have a ``period`` field (and so may declare one)."""
    return [name for name, spec in ENTITIES.items() if PERIOD_FIELD in spec.fields]


def period_problems(entity: str, ent: Any, path: str) -> list[tuple[str, str]]:
    """What is wrong with an entity's ``period`` setting, as (config path, message)."""
    if getattr(ent, "period", None) is None:
        return []
    allowed = periodic_entities()
    if entity not in allowed:
        return [
            (
                f"{path}.period",
                f"entity {entity!r} has no reporting period; periods are for: "
                f"{', '.join(allowed)} (remove `period` here)",
            )
        ]
    return []


def period_coercers(ent: Any) -> dict[str, Callable[[Any], Any]]:
    """``{"period": coercion}`` for an entity config with a period, else ``{}``: merged over
    an entity's coercers where records are built."""
    period: PeriodConfig | None = getattr(ent, "period", None)
    return {} if period is None else {PERIOD_FIELD: period_coercer(period.format)}
