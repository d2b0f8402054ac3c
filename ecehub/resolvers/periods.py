"""Which period's rows a program shows: nothing is ever added up across periods.

A program's child rows that carry a ``period`` (enrollment, funding; see
:mod:`ecehub.config.periods`) are its history. What is shown, and summed, is one period at a
time: by default each source's latest period of the program (a program whose Head Start PIR
has 2021, 2022 and 2023 rows shows 2023's), or the period asked for. Rows without a period
are older than any with one: kept where a program's rows of that source have no period at
all (a source that keeps no history), left out where some do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ecehub.config.periods import PERIOD_FIELD, latest_period, normalize_period, period_order
from ecehub.connectors.base import Record

__all__ = ["in_period", "periods_of", "same_period"]


def _spellings(period: str) -> frozenset[str]:
    """``period`` as asked (trimmed, case-folded) and as each period format reads it, so
    ``2022-23`` finds a school year stored as ``2022-2023`` and ``FY2023`` a year."""
    out = {period.strip().casefold()}
    for fmt in ("year", "school_year"):
        try:
            read = normalize_period(fmt, period)
        except ValueError:
            continue
        if read is not None:
            out.add(read.casefold())
    return frozenset(out)


def same_period(record: Record, period: str) -> bool:
    """Whether ``record`` is of ``period`` (compared trimmed and case-insensitively, in any
    spelling a period format reads)."""
    own = record.fields.get(PERIOD_FIELD)
    return own is not None and str(own).strip().casefold() in _spellings(period)


def in_period(rows: Sequence[Record], period: str | None = None) -> list[Record]:
    """The rows of ``period``, or (``None``) of each program's latest period per source
    (rows grouped by source and parent key), in the order given."""
    if period is not None:
        wanted = _spellings(period)
        return [
            r
            for r in rows
            if r.fields.get(PERIOD_FIELD) is not None
            and str(r.fields[PERIOD_FIELD]).strip().casefold() in wanted
        ]
    latest: dict[tuple[str, str | None], str | None] = {}
    for r in rows:
        group = (r.source, r.parent_key)
        latest[group] = latest_period([latest.get(group), r.fields.get(PERIOD_FIELD)])
    return [r for r in rows if r.fields.get(PERIOD_FIELD) == latest[(r.source, r.parent_key)]]


def periods_of(records: Iterable[Record]) -> list[str]:
    """The distinct periods of ``records``, newest first."""
    found = {r.fields.get(PERIOD_FIELD) for r in records}
    return sorted((p for p in found if p is not None), key=period_order, reverse=True)
