"""The ``csv`` connector over local files: the conformance kit, and what a CSV source adds:
encodings, delimiters, change detection, composite keys, date formats, and accounted values
that do not parse (over HTTP: ``test_csv_http.py``)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecehub.config import load_config
from ecehub.connectors import Connector, FieldFilter
from ecehub.connectors.csv import CsvConnector, CsvEntityConfig
from ecehub.errors import ConfigError, SourceUnavailable
from ecehub.testing import (
    CONFORMANCE_DATA,
    ConnectorConformance,
    Requirements,
    build_connector,
    entity_mapping,
)
from tests.test_cli import run


def _cell_text(value: Any) -> str:
    """A value as a spreadsheet writes it: lists as "a, b", dates in ISO form, null empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_text(rows: list[dict[str, Any]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell_text(v) for k, v in row.items()})
    return out.getvalue()


def write_conformance_files(folder: Path) -> dict[str, Path]:
    paths = {}
    for entity, rows in CONFORMANCE_DATA.items():
        paths[entity] = folder / f"{entity}.csv"
        paths[entity].write_text(csv_text(rows), encoding="utf-8")
    return paths


def csv_source(locations: dict[str, str], **settings: Any) -> dict[str, Any]:
    return {
        "kind": "csv",
        "support_types": ["LICENSING"],
        **settings,
        "entities": {
            entity: {"file": location, **entity_mapping(entity)}
            for entity, location in locations.items()
        },
    }


class TestCsvFileConformance(ConnectorConformance):
    requirements = Requirements()

    @pytest.fixture
    async def connector(self, tmp_path: Path) -> AsyncIterator[Connector]:
        paths = write_conformance_files(tmp_path)
        connector = build_connector(
            "conformance_csv", csv_source({e: str(p) for e, p in paths.items()})
        )
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, tmp_path: Path) -> AsyncIterator[Connector]:
        missing = tmp_path / "gone"
        connector = build_connector(
            "conformance_csv",
            csv_source({"program": str(missing / "p.csv"), "site": str(missing / "s.csv")}),
        )
        yield connector
        await connector.aclose()


# -- what a CSV source adds -------------------------------------------------------------------


def csv_connector(name: str, source: dict[str, Any]) -> CsvConnector:
    connector = build_connector(name, source)
    assert isinstance(connector, CsvConnector)
    return connector


def program_source(location: str, **settings: Any) -> dict[str, Any]:
    return {"kind": "csv", **settings, "entities": {"program": {"file": location, **PROGRAM}}}


PROGRAM: dict[str, Any] = {
    "key": "id",
    "fields": {"name": "Name", "city": "City", "qris_level": "Level"},
    "identifiers": {"LICENSE_NUMBER": "License"},
}


async def test_a_latin_1_file_with_accents(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        "id,Name,City,Level,License\nP6,Pequeños Pasos,Española,2,L-6\n".encode("latin-1")
    )
    async with csv_connector("csv_latin", program_source(str(path), encoding="latin-1")) as conn:
        record = (await conn.fetch("program", ["P6"]))["P6"]
        assert record.fields["name"] == "Pequeños Pasos" and record.fields["city"] == "Española"
        found = await conn.find("program", [FieldFilter("name", "contains", "PEQUEÑOS")])
        assert [r.key for r in found.records] == ["P6"]
    # Read as UTF-8 it is refused, with the file and the fix, not turned into mojibake.
    async with csv_connector("csv_utf8", program_source(str(path))) as conn:
        with pytest.raises(SourceUnavailable, match=r"not valid utf-8 .*set `encoding`"):
            await conn.fetch("program", ["P6"])


async def test_a_utf_8_bom_and_a_semicolon_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    text = (
        'id;Name;City;Level;License\nP1;"Sunny; Bright";Springfield;3;L-1\n'
        "P2;Acorns;Shelbyville;;L-2\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    source = program_source(str(path), delimiter=";", encoding="utf-8-sig")
    async with csv_connector("csv_semicolon", source) as connector:
        records = await connector.fetch("program", ["P1", "P2"])
    assert records["P1"].fields == {"name": "Sunny; Bright", "city": "Springfield", "qris_level": 3}
    assert records["P2"].fields["qris_level"] is None  # an empty cell is null, not a problem
    assert connector.warnings() == {}


async def test_a_rewritten_file_gives_new_data_on_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n")
    async with csv_connector("csv_change", program_source(str(path))) as connector:
        assert (await connector.fetch("program", ["P1"]))["P1"].fields["name"] == "Sunny"
        # Same size, same second: only the bytes tell the change (a "racily clean" file).
        path.write_text("id,Name,City,Level,License\nP1,Rainy,Springfield,3,L-1\n")
        assert (await connector.fetch("program", ["P1"]))["P1"].fields["name"] == "Rainy"
        # Replaced by a new file with another row.
        replacement = tmp_path / "p.csv.new"
        replacement.write_text("id,Name,City,Level,License\nP2,Acorns,Shelbyville,1,L-2\n")
        os.replace(replacement, path)
        assert list(await connector.fetch("program", ["P1", "P2"])) == ["P2"]
        page = await connector.find(
            "program", [FieldFilter("identifier:LICENSE_NUMBER", "eq", "l-2")]
        )
        assert [r.key for r in page.records] == ["P2"]


async def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n")
    old = 1_600_000_000_000_000_000  # long ago: the file is settled
    os.utime(path, ns=(old, old))
    async with csv_connector("csv_same", program_source(str(path))) as connector:
        await connector.fetch("program", ["P1"])
        index = connector._indexes["program"]
        await connector.fetch("program", ["P1"])
        await connector.find("program")
        assert connector._indexes["program"] is index


async def test_values_that_do_not_parse_are_null_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.csv"
    rows = ["id,Name,City,Level,License"]
    rows += [f"P{i},Name {i},Town,{'high' if i % 2 else i % 5},L-{i}" for i in range(1, 11)]
    rows += ["P1,Duplicate,Town,1,L-X", ",No key,Town,1,L-Y", "P20,Short"]
    path.write_text("\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING, logger="ecehub.connectors.csv"):
        async with csv_connector("csv_bad", program_source(str(path))) as connector:
            records = await connector.fetch("program", ["P1", "P2", "P20"])
            await connector.find("program")
            health = await connector.health()
    assert records["P1"].fields["qris_level"] is None and records["P2"].fields["qris_level"] == 2
    assert records["P1"].fields["name"] == "Name 1"  # the first row of a key wins
    assert records["P20"].fields == {"name": "Short", "city": None, "qris_level": None}
    assert connector.warnings() == {}  # aclose forgets the files
    expected = [
        "program.qris_level: 5 value(s) are not a valid int (read as null)",
        "program: 1 row(s) without a key (skipped)",
        "program: 1 row(s) with a key an earlier row has (skipped; the first wins)",
        "program: 1 row(s) with fewer cells than the header (missing cells read as null)",
    ]
    assert health.ok and health.detail == "; ".join(expected)
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [f"source csv_bad: {m}" for m in expected]  # once, however many calls
    assert not any("high" in m for m in logged)  # counts, never the values


async def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,Name,Town,Level,License\nP1,Sunny,Springfield,3,L-1\n")
    async with csv_connector("csv_cols", program_source(str(path))) as connector:
        problems = await connector.verify()
        assert problems == [
            f"entity 'program': file {str(path)!r} has no column 'City' "
            "(columns: id, Name, Town, Level, License)"
        ]
        with pytest.raises(SourceUnavailable, match="has no column 'City'"):
            await connector.fetch("program", ["P1"])
        assert not (await connector.health()).ok


async def test_columns_match_trimmed_and_case_folded(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(" ID ,NAME,city,level,LICENSE\nP1,Sunny,Springfield,3,L-1\n")
    async with csv_connector("csv_case", program_source(str(path))) as connector:
        assert (await connector.fetch("program", ["P1"]))["P1"].identifiers == {
            "LICENSE_NUMBER": "L-1"
        }


async def test_an_empty_file_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("")
    async with csv_connector("csv_empty", program_source(str(path))) as connector:
        assert (await connector.find("program")).records == []
        assert connector.warnings() == {"program": [f"program: file {str(path)!r} has no rows"]}
        health = await connector.health()
        assert health.ok and "has no rows" in health.detail


async def test_several_files_and_a_key_of_two_columns(tmp_path: Path) -> None:
    (tmp_path / "2024.csv").write_text("program,year,kids\nP1,2024,10\nP2,2024,12\n")
    (tmp_path / "2025.csv").write_text("year,program,kids\n2025,P1,11\n")
    (tmp_path / "p.csv").write_text("id,Name\nP1,Sunny\nP2,Acorns\n")
    source = {
        "kind": "csv",
        "entities": {
            "program": {"file": str(tmp_path / "p.csv"), "key": "id", "fields": {"name": "Name"}},
            "enrollment": {
                "file": [str(tmp_path / "2024.csv"), str(tmp_path / "2025.csv")],
                "key": ["program", "year"],
                "parent": {"program": "program"},
                "fields": {"count": "kids", "period": "year"},
                "constants": {"age_group": "PRESCHOOL"},
            },
        },
    }
    async with csv_connector("csv_multi", source) as connector:
        grouped = await connector.children("enrollment", "program", ["P1", "P2", "P3"])
        assert {p: [(r.key, r.fields["count"]) for r in rs] for p, rs in grouped.items()} == {
            "P1": [("P1|2024", 10), ("P1|2025", 11)],
            "P2": [("P2|2024", 12)],
            "P3": [],
        }
        assert grouped["P1"][0].fields["age_group"] == "PRESCHOOL"
        page = await connector.find("enrollment", [FieldFilter("age_group", "eq", "preschool")])
        assert len(page.records) == 3


async def test_every_canonical_type_values_and_constants(tmp_path: Path) -> None:
    (tmp_path / "staff.csv").write_text(
        "id,first,credentials,hours,hired,role\n"
        'T1,Ann,"CDA; BA",12.5,2020-08-01,LT\n'
        "T2,Bo,,x,08/01/2020,AT\n"
    )
    (tmp_path / "funding.csv").write_text(
        "id,program,amount,start,kind\nF1,P1,1234.50,2025-07-01,CCDF\nF2,P1,lots,2025-07-01,X\n"
    )
    (tmp_path / "p.csv").write_text("id,Name\nP1,Sunny\n")
    source = {
        "kind": "csv",
        "entities": {
            "program": {"file": str(tmp_path / "p.csv"), "key": "id", "fields": {"name": "Name"}},
            "staff": {
                "file": str(tmp_path / "staff.csv"),
                "key": "id",
                "fields": {
                    "first_name": "first",
                    "credentials": "credentials",
                    "pd_hours": "hours",
                    "hire_date": "hired",
                    "role": "role",
                },
                "values": {"role": {"LT": "LeadTeacher", "AT": "AssistantTeacher"}},
            },
            "funding": {
                "file": str(tmp_path / "funding.csv"),
                "key": "id",
                "parent": {"program": "program"},
                "fields": {"amount": "amount", "period_start": "start", "funding_type": "kind"},
                "constants": {"currency": "USD"},
            },
        },
    }
    async with csv_connector("csv_types", source) as connector:
        staff = await connector.fetch("staff", ["T1", "T2"])
        funding = await connector.fetch("funding", ["F1", "F2"])
        assert staff["T1"].fields == {
            "first_name": "Ann",
            "credentials": ["CDA", "BA"],
            "pd_hours": 12.5,
            "hire_date": dt.date(2020, 8, 1),
            "role": "LeadTeacher",
        }
        assert staff["T2"].fields["pd_hours"] is None and staff["T2"].fields["hire_date"] is None
        assert staff["T2"].fields["credentials"] is None
        assert funding["F1"].fields["amount"] == Decimal("1234.50")
        assert funding["F1"].fields["currency"] == "USD"
        assert funding["F2"].fields["amount"] is None
        by_role = await connector.find("staff", [FieldFilter("role", "eq", "leadteacher")])
        assert [r.key for r in by_role.records] == ["T1"]
        assert connector.warnings() == {
            "staff": [
                "staff.hire_date: 1 value(s) are not a valid date (read as null)",
                "staff.pd_hours: 1 value(s) are not a valid float (read as null)",
            ],
            "funding": ["funding.amount: 1 value(s) are not a valid decimal (read as null)"],
        }


async def test_dates_in_a_declared_format(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "id,Name,Expires,Rated\nP1,A,06/30/2025,2024-05-01T09:30\nP2,B,2025-13-45,\n"
        "P3,C,2025-07-01,\n"
    )
    entity = {
        "file": str(path),
        "key": "id",
        "fields": {"name": "Name", "license_expires": "Expires"},
        "formats": {"license_expires": "%m/%d/%Y"},
    }
    async with csv_connector("csv_dates", {"kind": "csv", "entities": {"program": entity}}) as c:
        records = await c.fetch("program", ["P1", "P2", "P3"])
        assert records["P1"].fields["license_expires"] == dt.date(2025, 6, 30)
        assert records["P2"].fields["license_expires"] is None
        assert records["P3"].fields["license_expires"] == dt.date(2025, 7, 1)  # ISO still reads
        assert c.warnings() == {
            "program": ["program.license_expires: 1 value(s) are not a valid date (read as null)"]
        }


async def test_records_are_fresh_copies(tmp_path: Path) -> None:
    paths = write_conformance_files(tmp_path)
    source = csv_source({e: str(p) for e, p in paths.items()})
    async with csv_connector("csv_fresh", source) as connector:
        first = (await connector.fetch("program", ["P1"]))["P1"]
        first.fields["name"] = "changed by a caller"
        await asyncio.sleep(0.01)
        second = (await connector.fetch("program", ["P1"]))["P1"]
        assert second.fields["name"] == "Sunshine Kids"
        assert second.fetched_at > first.fetched_at and second.fetched_at.tzinfo is dt.UTC


async def test_a_cursor_not_made_by_the_csv_connector_is_refused(tmp_path: Path) -> None:
    paths = write_conformance_files(tmp_path)
    async with build_connector(
        "csv_cursor", csv_source({e: str(p) for e, p in paths.items()})
    ) as c:
        for bad in ("P1", "not-base64-!", "WyJyZXN0IiwiUDEiXQ"):  # the last: another kind's
            with pytest.raises(ValueError, match="invalid `after` cursor"):
                await c.find("program", first=2, after=bad)


def test_a_relative_path_is_taken_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        "sources:\n  registry:\n    kind: csv\n    entities:\n"
        "      program: {file: data/p.csv, key: id, fields: {name: Name}}\n"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("state/config.yaml"))
    ent = config.sources["registry"].entities["program"]
    assert isinstance(ent, CsvEntityConfig)
    assert ent.file == str(folder / "data" / "p.csv")


@pytest.mark.parametrize(
    ("settings", "path", "message"),
    [
        ({"encoding": "utf-9"}, "sources.registry.encoding", "unknown encoding 'utf-9'"),
        ({"delimiter": ";;"}, "sources.registry.delimiter", "not a single character"),
        ({"quotechar": ","}, "sources.registry", "the delimiter and quotechar must differ"),
        ({"file": "ftp://host/p.csv"}, "sources.registry.entities.program.file", "ftp://"),
        ({"file": []}, "sources.registry.entities.program.file", "at least one file"),
        ({"key": []}, "sources.registry.entities.program", "non-empty list"),
        ({"sheet": "A"}, "sources.registry.entities.program.sheet", "unknown setting"),
        (
            {"formats": {"name": "%m/%d/%Y"}},
            "sources.registry",
            "formats.name: only date and datetime fields take a format",
        ),
        (
            {"formats": {"license_expires": "%m/%d/%Y"}},
            "sources.registry.entities.program",
            "not mapped in `fields`: license_expires",
        ),
    ],
)
def test_settings_are_checked_when_the_config_loads(
    settings: dict[str, Any], path: str, message: str
) -> None:
    entity: dict[str, Any] = {"file": "p.csv", "key": "id", "fields": {"name": "Name"}}
    source: dict[str, Any] = {"kind": "csv", "entities": {"program": entity}}
    for name, value in settings.items():
        (entity if name in {"file", "key", "sheet", "formats"} else source)[name] = value
    with pytest.raises(ConfigError) as caught:
        build_connector("registry", source)
    assert any(p == path and message in m for p, m in caught.value.problems), caught.value.problems


def test_a_validated_entity_validates_again_from_its_dump() -> None:
    entity = {"file": "/d/e.csv", "key": ["program", "year"], "fields": {"count": "kids"}}
    first = CsvEntityConfig.model_validate(entity)
    again = CsvEntityConfig.model_validate(first.model_dump())
    assert again == first and again.key_columns == ("program", "year")
    with pytest.raises(ValueError, match="key: \\[column"):
        CsvEntityConfig.model_validate({**entity, "key": "program", "key_columns": ["x"]})


async def test_ecehub_check_shows_what_was_counted_and_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("id,Name,City,Level,License\nP1,A,X,high,L-1\nP2,B,Y,2,\n")
    (tmp_path / "bad.csv").write_text("id,Name,Town,Level,License\nP1,A,X,1,L-1\n")
    (tmp_path / "state.yaml").write_text(
        "sources:\n"
        + "".join(
            f"  {name}:\n    kind: csv\n    entities:\n      program:\n"
            f"        file: {name}.csv\n        key: id\n"
            "        fields: {name: Name, city: City, qris_level: Level}\n"
            for name in ("good", "bad")
        )
        + f"hub: {{url: 'sqlite+aiosqlite:///{tmp_path}/hub.db'}}\n"
    )
    code, out, err = await run("check", "--config", str(tmp_path / "state.yaml"))
    assert code == 1, err
    good, bad = out.strip().splitlines()
    assert good.split()[:3] == ["ok", "good", "csv"]
    assert good.endswith("program.qris_level: 1 value(s) are not a valid int (read as null)")
    assert bad.split()[:3] == ["FAIL", "bad", "csv"]
    assert bad.endswith(
        "entity 'program': file '" + str(tmp_path / "bad.csv") + "' has no "
        "column 'City' (columns: id, Name, Town, Level, License)"
    )


async def test_two_entities_read_one_file_once_and_its_rows_are_let_go(tmp_path: Path) -> None:
    path = tmp_path / "facility.csv"
    path.write_text("license,name,seats\nL-1,Sunny,40\nL-2,Acorns,30\n")
    old = 1_600_000_000_000_000_000
    os.utime(path, ns=(old, old))
    mapping = {"file": str(path), "key": "license", "fields": {"name": "name"}}
    source = {
        "kind": "csv",
        "entities": {
            "program": mapping,
            "site": {**mapping, "parent": {"program": "license"}, "fields": {"capacity": "seats"}},
        },
    }
    async with csv_connector("csv_shared", source) as connector:
        await connector.fetch("program", ["L-1"])
        [cached] = connector.files._cache.values()
        assert len(cached.table.rows) == 2  # the site entity has not read it yet
        grouped = await connector.children("site", "program", ["L-1", "L-2"])
        assert cached.table.rows == []  # both indexed: the rows are only in the indexes now
        assert {p: [r.fields["capacity"] for r in rs] for p, rs in grouped.items()} == {
            "L-1": [40],
            "L-2": [30],
        }
        assert (await connector.fetch("program", ["L-2"]))["L-2"].fields["name"] == "Acorns"
        path.write_text("license,name,seats\nL-1,Sunny,45\n")
        grouped = await connector.children("site", "program", ["L-1", "L-2"])
        assert grouped == {"L-1": grouped["L-1"], "L-2": []}
        assert grouped["L-1"][0].fields["capacity"] == 45
        assert list(await connector.fetch("program", ["L-1", "L-2"])) == ["L-1"]
