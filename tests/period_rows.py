"""A multi-year report, shaped like the federal Head Start PIR: one row per program per
program year (programs, enrollment by age group, funding), written to a SQL database or CSV
files, with what the hub must make of it computed from the rows themselves."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import create_async_engine


@dataclass(frozen=True)
class ProgramYear:
    grant: str
    program: str
    year: int | None
    name: str
    city: str


@dataclass(frozen=True)
class EnrollmentRow:
    row_id: int
    grant: str
    program: str
    year: int
    age_group: str
    count: int


@dataclass(frozen=True)
class FundingRow:
    funding_id: int
    grant: str
    program: str
    year: int
    amount: Decimal


PROGRAM_YEARS: tuple[ProgramYear, ...] = (
    ProgramYear("01CH0001", "001", 2021, "Alpha Early Learning", "Springfield"),
    ProgramYear("01CH0001", "001", 2023, "Alpha Head Start", "Shelbyville"),
    ProgramYear("01CH0001", "001", 2022, "Alpha Early Learning Ctr", "Springfield"),
    ProgramYear("02CH0002", "001", 2022, "Beta Kids", "Ogdenville"),
    ProgramYear("02CH0002", "001", 2023, "Beta Kids Center", "Ogdenville"),
    ProgramYear("03CH0003", "001", 2021, "Gamma Head Start", "Capital City"),
    ProgramYear("04CH0004", "001", None, "Delta (undated)", "Brockway"),
    ProgramYear("04CH0004", "001", 2023, "Delta Early Head Start", "Springfield"),
)
"""Rows out of year order on purpose; one program with one year only; one row without a
year (older than any year)."""

AGE_GROUPS = ("Infant", "Toddler", "Preschool")


def _enrollment() -> tuple[EnrollmentRow, ...]:
    rows: list[EnrollmentRow] = []
    for p in PROGRAM_YEARS:
        if p.year is None:
            continue
        for i, group in enumerate(AGE_GROUPS):
            count = 10 + (p.year - 2020) * 7 + i * 5 + len(p.grant + p.name) % 4
            rows.append(EnrollmentRow(len(rows) + 1, p.grant, p.program, p.year, group, count))
    return tuple(rows)


ENROLLMENT = _enrollment()
FUNDING: tuple[FundingRow, ...] = tuple(
    FundingRow(i + 1, p.grant, p.program, p.year, Decimal(100_000 + p.year * 10 + i) / 100)
    for i, p in enumerate(PROGRAM_YEARS)
    if p.year is not None
)


def latest_years() -> dict[str, ProgramYear]:
    """Each program's row of its latest year (a row without a year is older than any)."""
    out: dict[str, ProgramYear] = {}
    for p in PROGRAM_YEARS:
        held = out.get(p.grant)
        if held is None or (p.year or 0) > (held.year or 0):
            out[p.grant] = p
    return out


def enrollment_of(grant: str, year: int) -> list[EnrollmentRow]:
    return [e for e in ENROLLMENT if e.grant == grant and e.year == year]


SQL_ENTITIES: dict[str, Any] = {
    "program": {
        "table": "pir_program",
        "key": "grant_number",
        "period": {"column": "report_year", "format": "year"},
        "fields": {"name": "program_name", "city": "city"},
        "identifiers": {"HEAD_START_GRANT": "grant_number"},
    },
    "enrollment": {
        "table": "pir_enrollment",
        "key": "row_id",
        "parent": {"program": "grant_number"},
        "period": {"column": "report_year", "format": "year"},
        "fields": {"age_group": "age_group", "count": "cumulative_enrollment"},
    },
    "funding": {
        "table": "pir_funding",
        "key": "funding_id",
        "parent": {"program": "grant_number"},
        "period": {"column": "report_year", "format": "year"},
        "fields": {"amount": "amount"},
        "constants": {"currency": "USD"},
    },
}
"""The report's tables as a ``sql`` source maps them (single-column key: grant number)."""


async def write_sql(url: str) -> None:
    """The report's three tables, filled."""
    meta = MetaData()
    program = Table(
        "pir_program",
        meta,
        Column("grant_number", String(20), nullable=False),
        Column("program_number", String(5), nullable=False),
        Column("report_year", Integer),
        Column("program_name", String(100)),
        Column("city", String(60)),
    )
    enrollment = Table(
        "pir_enrollment",
        meta,
        Column("row_id", Integer, primary_key=True),
        Column("grant_number", String(20)),
        Column("program_number", String(5)),
        Column("report_year", Integer),
        Column("age_group", String(20)),
        Column("cumulative_enrollment", Integer),
    )
    funding = Table(
        "pir_funding",
        meta,
        Column("funding_id", Integer, primary_key=True),
        Column("grant_number", String(20)),
        Column("program_number", String(5)),
        Column("report_year", Integer),
        Column("amount", String(20)),  # as text: exact on SQLite too
    )
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)
            await conn.execute(
                program.insert(),
                [
                    {
                        "grant_number": p.grant,
                        "program_number": p.program,
                        "report_year": p.year,
                        "program_name": p.name,
                        "city": p.city,
                    }
                    for p in PROGRAM_YEARS
                ],
            )
            await conn.execute(
                enrollment.insert(),
                [
                    {
                        "row_id": e.row_id,
                        "grant_number": e.grant,
                        "program_number": e.program,
                        "report_year": e.year,
                        "age_group": e.age_group,
                        "cumulative_enrollment": e.count,
                    }
                    for e in ENROLLMENT
                ],
            )
            await conn.execute(
                funding.insert(),
                [
                    {
                        "funding_id": f.funding_id,
                        "grant_number": f.grant,
                        "program_number": f.program,
                        "report_year": f.year,
                        "amount": str(f.amount),
                    }
                    for f in FUNDING
                ],
            )
    finally:
        await engine.dispose()


def write_csv(folder: Path, extra: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """The program table as a CSV file keyed by grant *and* program number (the year written
    as the PIR's "PY 2023"; ``extra`` rows after them), and the ``csv`` source's entities
    for it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pir_program.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["grant_number", "program_number", "report_year", "program_name", "city"])
        for p in PROGRAM_YEARS:
            year = "" if p.year is None else f"PY {p.year}"
            writer.writerow([p.grant, p.program, year, p.name, p.city])
        writer.writerows(extra)
    return {
        "program": {
            "file": str(path),
            "key": ["grant_number", "program_number"],
            "period": {"column": "report_year", "format": "year"},
            "fields": {"name": "program_name", "city": "city"},
            "identifiers": {"HEAD_START_GRANT": "grant_number"},
        }
    }


def rest_rows() -> list[dict[str, Any]]:
    """The program rows as a JSON API gives them (the year as text, ``null`` where none)."""
    return [
        {
            "grant": p.grant,
            "year": None if p.year is None else str(p.year),
            "program": {"name": p.name, "city": p.city},
        }
        for p in PROGRAM_YEARS
    ]


REST_ENTITIES: dict[str, Any] = {
    "program": {
        "path": "/pir/programs",
        "records_path": "items",
        "key": "grant",
        "period": {"column": "year", "format": "year"},
        "fields": {"name": "program.name", "city": "program.city"},
        "identifiers": {"HEAD_START_GRANT": "grant"},
    }
}
"""The report as a ``rest`` source maps it (the hub keeps each key's latest row)."""
