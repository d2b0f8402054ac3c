"""From source records to the matchers' input, from their results to crosswalk proposals, and
the crosswalk's links as CSV: the glue of ``ecehub crosswalk suggest | export``."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

from ecehub.connectors.base import Record
from ecehub.crosswalk import MatchRecord, MatchResult, StaffRecord
from ecehub.crosswalk.records import CrosswalkLink, LinkProposal

__all__ = [
    "EXPORT_COLUMNS",
    "export_row",
    "match_record",
    "proposals",
    "staff_record",
    "write_links_csv",
]

EXPORT_COLUMNS = (
    "entity",
    "hub_id",
    "source",
    "source_key",
    "status",
    "score",
    "auto",
    "reasons",
    "decided_by",
    "decided_at",
    "version",
    "link_id",
    "kind",
)
"""``kind`` last (``SAME`` or ``SITE``), so readers of the earlier columns are unchanged."""


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def match_record(record: Record) -> MatchRecord:
    """A program record as the matcher compares it (canonical field names)."""
    fields = record.fields
    return MatchRecord(
        source=record.source,
        key=record.key,
        name=_text(fields.get("name")) or "",
        address=_text(fields.get("address")),
        city=_text(fields.get("city")),
        zip=_text(fields.get("zip")),
        phone=_text(fields.get("phone")),
        email=_text(fields.get("email")),
        identifiers=dict(record.identifiers),
        state=_text(fields.get("state")),
    )


def staff_record(record: Record, program: str | None) -> StaffRecord:
    """A staff record as the staff matcher compares it; ``program`` is the key of the program
    the person works at in a key space both sides share (the program's hub ID), ``None``
    when unknown (the person is then matched on identifiers only)."""
    fields = record.fields
    birth_year = fields.get("birth_year")
    credentials = fields.get("credentials")
    return StaffRecord(
        source=record.source,
        key=record.key,
        first_name=_text(fields.get("first_name")) or "",
        last_name=_text(fields.get("last_name")) or "",
        program=program,
        birth_year=birth_year if isinstance(birth_year, int) else None,
        education=_text(fields.get("education_level")),
        credentials=(
            [str(c) for c in credentials] if isinstance(credentials, list) else _text(credentials)
        ),
        identifiers=dict(record.identifiers),
    )


def proposals(
    results: Iterable[MatchResult],
    right_source: str,
    left_hub_ids: Mapping[str, str],
    right_hub_ids: Mapping[str, str],
) -> Iterator[LinkProposal]:
    """One proposal per match: the right record belongs to the left record's hub ID. Pairs
    that already are one object (same hub ID, e.g. by a shared license number) are skipped:
    there is nothing to decide about them."""
    for result in results:
        hub_id = left_hub_ids[result.left_key]
        if right_hub_ids.get(result.right_key) == hub_id:
            continue
        yield LinkProposal(
            hub_id,
            right_source,
            result.right_key,
            result.score,
            tuple(result.reasons),
            auto=result.status == "auto",
        )


def export_row(link: CrosswalkLink) -> list[str | int]:
    """One CSV row (columns :data:`EXPORT_COLUMNS`): reasons joined with ``; ``, times in
    ISO 8601."""
    return [
        link.entity,
        link.hub_id,
        link.source,
        link.source_key,
        link.status.value,
        "" if link.score is None else f"{link.score:.4f}",
        "yes" if link.auto else "no",
        "; ".join(link.reasons),
        link.decided_by or "",
        "" if link.decided_at is None else link.decided_at.isoformat(),
        link.version,
        link.id,
        link.kind.value,
    ]


def write_links_csv(links: Iterable[CrosswalkLink], out: TextIO) -> int:
    """Write a header and one row per link; returns how many links."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for link in links:
        writer.writerow(export_row(link))
        count += 1
    return count
