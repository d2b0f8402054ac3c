"""No silent loss of a value that does not parse (issue 11, item 2): it is read as null and
accounted (a count per source and field, a sampled log line without the value), and
`ecehub check --profile` shows per field what a sample of each source holds."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from ecehub.config import load_config
from ecehub.resolvers.runtime import build_connectors
from tests.test_cli import run

ROWS = [
    ("P1", "Sunshine", "2025-06-30", "12"),
    ("P2", "Acorns", "3/31/22", "NA"),
    ("P3", "Bright", "NA", "40"),
    ("P4", "Stepping", None, None),
    ("P5", "Tree", "2026-01-02", "7"),
]


def _config(tmp_path: Path) -> Path:
    db = tmp_path / "registry.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE IF EXISTS provider")
        conn.execute("CREATE TABLE provider (id TEXT, name TEXT, expires TEXT, seats TEXT)")
        conn.executemany("INSERT INTO provider VALUES (?, ?, ?, ?)", ROWS)
    path = tmp_path / "state.yaml"
    path.write_text(
        f"""
sources:
  registry:
    kind: sql
    url: "sqlite+aiosqlite:///{db}"
    entities:
      program:
        table: provider
        key: id
        fields: {{name: name, license_expires: expires, licensed_capacity: seats}}
        identifiers: {{LICENSE_NUMBER: id}}
hub: {{url: "sqlite+aiosqlite:///{tmp_path / "hub.db"}"}}
""",
        encoding="utf-8",
    )
    return path


async def test_unparsable_values_are_counted_and_logged_without_the_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(_config(tmp_path))
    [conn] = build_connectors(config).values()
    try:
        with caplog.at_level(logging.WARNING, logger="ecehub.connectors"):
            page = await conn.find("program")
            again = await conn.find("program")
    finally:
        await conn.aclose()
    by_key = {r.key: r for r in page.records}
    assert by_key["P2"].fields["license_expires"] is None  # read as null ...
    assert by_key["P1"].fields["licensed_capacity"] == 12
    counts = {key: u.count for key, u in conn.unparsable().items()}
    # ... and accounted: two unreadable dates and one unreadable number per read.
    assert counts == {("program", "license_expires"): 4, ("program", "licensed_capacity"): 2}
    assert conn.unparsable()[("program", "license_expires")].examples == [
        "'3/31/22'",
        "'NA'",
        "'3/31/22'",
    ]
    assert len(again.records) == 5
    lines = [r.getMessage() for r in caplog.records if "not a valid" in r.getMessage()]
    # The first of each field, not one line per value; never the value itself.
    assert len(lines) == 2, lines
    assert all("3/31/22" not in line and "NA" not in line for line in lines)
    assert any(
        "program.license_expires: 1 value(s) so far are not a valid date" in line for line in lines
    )


async def test_check_profile_prints_filled_empty_and_unparsable_per_field(tmp_path: Path) -> None:
    code, out, err = await run("check", "--config", str(_config(tmp_path)), "--profile")
    assert code == 0, err
    assert "registry.program: 5 records read" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("    ")}
    assert rows["name"][1:4] == ["5", "0", "0"]
    assert rows["license_expires"][1:4] == ["2", "1", "2"]
    assert "'3/31/22', 'NA'" in out
    assert rows["licensed_capacity"][1:4] == ["3", "1", "1"]
    identifier = next(line for line in out.splitlines() if "identifier LICENSE_NUMBER" in line)
    assert identifier.split()[2:5] == ["5", "0", "0"]


async def test_check_profile_reads_only_the_sample(tmp_path: Path) -> None:
    code, out, _ = await run(
        "check", "--config", str(_config(tmp_path)), "--profile", "--sample", "2"
    )
    assert code == 0
    assert "registry.program: 2 records read (more not read)" in out
    code, _, err = await run("check", "--config", str(_config(tmp_path)), "--sample", "0")
    assert code == 2 and "--sample must be at least 1" in err


def _declared(tmp_path: Path, extra: str) -> Path:
    path = _config(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "        identifiers: {LICENSE_NUMBER: id}\n",
        "        identifiers: {LICENSE_NUMBER: id}\n" + extra,
    )
    path.write_text(text, encoding="utf-8")
    return path


async def test_declared_formats_and_null_values_read_what_the_source_means(
    tmp_path: Path,
) -> None:
    import datetime as dt

    path = _declared(
        tmp_path,
        "        null_values: [NA, ' n/a ']\n"
        "        date_formats: {license_expires: ['%m/%d/%Y', '%m/%d/%y']}\n",
    )
    [conn] = build_connectors(load_config(path)).values()
    try:
        page = await conn.find("program")
    finally:
        await conn.aclose()
    by_key = {r.key: r for r in page.records}
    assert by_key["P2"].fields["license_expires"] == dt.date(2022, 3, 31)  # M/D/YY
    assert by_key["P1"].fields["license_expires"] == dt.date(2025, 6, 30)  # ISO still read
    assert by_key["P3"].fields["license_expires"] is None  # NA: declared no value
    assert by_key["P2"].fields["licensed_capacity"] is None
    assert conn.unparsable() == {}  # nothing unparsable left: nothing lost


async def test_an_na_identifier_joins_nothing(tmp_path: Path) -> None:
    path = _declared(tmp_path, "        null_values: [P4]\n")  # here the key column says it
    [conn] = build_connectors(load_config(path)).values()
    try:
        page = await conn.find("program")
    finally:
        await conn.aclose()
    assert next(r for r in page.records if r.key == "P4").identifiers == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "        date_formats: {name: ['%Y']}\n",
            "formats are for the date and datetime fields of 'program'",
        ),
        ("        date_formats: {license_expires: ['MM/DD/YYYY']}\n", "not a strptime format"),
    ],
)
async def test_a_wrong_date_format_is_refused_at_load(
    tmp_path: Path, extra: str, message: str
) -> None:
    code, _, err = await run("check", "--config", str(_declared(tmp_path, extra)))
    assert code != 0 and message in err and "date_formats" in err, err


def _csv_config(tmp_path: Path) -> Path:
    rows = [("P1", "3/31/22"), ("P2", "31/3/22"), ("P3", "NA"), ("P4", "2025-06-30")]
    rows += [(f"P{n}", "13/13/13") for n in range(5, 9)]  # four more that no format reads
    (tmp_path / "providers.csv").write_text(
        "id,rated\n" + "".join(f"{key},{rated}\n" for key, rated in rows), encoding="utf-8"
    )
    path = tmp_path / "state.yaml"
    path.write_text(
        f"""
sources:
  registry:
    kind: csv
    entities:
      program:
        file: providers.csv
        key: id
        fields: {{qris_rated_on: rated}}
        null_values: [NA]
        date_formats: {{qris_rated_on: ['%m/%d/%y']}}
hub: {{url: "sqlite+aiosqlite:///{tmp_path / "hub.db"}"}}
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("sample", "bad", "empty"), [("200", 5, 1), ("2", 1, 0), ("3", 1, 1)])
async def test_the_profile_counts_the_unparsable_values_of_the_records_it_shows(
    tmp_path: Path, sample: str, bad: int, empty: int
) -> None:
    """A CSV file is parsed whole, by `check` before the profile reads it: the unparsable
    values are those of the sampled records, not a difference of the connector's counters
    (which had counted the whole file already, and showed 0)."""
    code, out, err = await run(
        "check", "--config", str(_csv_config(tmp_path)), "--profile", "--sample", sample
    )
    assert code == 0, err
    [row] = [line.split() for line in out.splitlines() if line.startswith("    qris_rated_on")]
    filled = min(int(sample), 8) - bad - empty
    assert row[1:4] == [str(filled), str(empty), str(bad)], out
    assert "'31/3/22'" in row[4]
