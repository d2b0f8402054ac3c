"""The `period` setting of an entity: read at load (shorthand, formats, clear errors naming
the path), and the period formats' reading and order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecehub.config.loader import parse_config
from ecehub.config.periods import latest_period, normalize_period, period_order
from ecehub.connectors.sql import SqlEntityConfig
from ecehub.errors import ConfigError


@pytest.mark.parametrize(
    ("fmt", "raw", "want"),
    [
        ("year", 2023, "2023"),
        ("year", "2023", "2023"),
        ("year", "FY2023", "2023"),
        ("year", " PY 2021 ", "2021"),
        ("school_year", "2022-2023", "2022-2023"),
        ("school_year", "2022-23", "2022-2023"),
        ("school_year", "2022/23", "2022-2023"),
        ("school_year", "1999-00", "1999-2000"),
        ("school_year", "SY 2022\u20132023", "2022-2023"),
        ("text", " 2023-Q1 ", "2023-Q1"),
        ("year", None, None),
        ("year", "  ", None),
    ],
)
def test_periods_read_in_their_format(fmt: Any, raw: Any, want: str | None) -> None:
    assert normalize_period(fmt, raw) == want


@pytest.mark.parametrize(
    ("fmt", "raw"),
    [
        ("year", "sometime"),
        ("year", "2022-2023"),  # two years: not one
        ("year", 123),
        ("year", True),
        ("school_year", "2023"),
        ("school_year", "2022-2024"),
        ("school_year", "2023-22"),
    ],
)
def test_a_period_not_in_its_format_is_refused(fmt: Any, raw: Any) -> None:
    with pytest.raises(ValueError, match=r"not a"):
        normalize_period(fmt, raw)


def test_periods_order_as_they_follow_each_other_and_none_is_oldest() -> None:
    years = ["2021", None, "2023", "2022"]
    assert sorted(years, key=period_order) == [None, "2021", "2022", "2023"]
    assert latest_period(years) == "2023"
    assert latest_period([None, None]) is None
    school = [normalize_period("school_year", v) for v in ("2022-23", "2009-2010", "2019/20")]
    assert latest_period(school) == "2022-2023"


def _source(entity: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "sources": {
            "pir": {
                "kind": "sql",
                "url": "sqlite+aiosqlite:///pir.db",
                "entities": {entity: {"table": "t", "key": "id", **settings}},
            }
        }
    }


def test_the_period_is_read_as_the_period_field() -> None:
    config = parse_config(_source("program", {"period": {"column": "yr", "format": "year"}}))
    ent = config.sources["pir"].entities["program"]
    assert ent.period is not None and (ent.period.column, ent.period.format) == ("yr", "year")
    assert ent.fields == {"period": "yr"}
    shorthand = parse_config(_source("enrollment", {"period": "program_year"}))
    ent = shorthand.sources["pir"].entities["enrollment"]
    assert ent.period is not None and ent.period.format == "text"
    assert ent.fields["period"] == "program_year"
    # The same column under fields.period too is no conflict.
    same = _source("program", {"period": "yr", "fields": {"period": "yr", "name": "n"}})
    assert parse_config(same).sources["pir"].entities["program"].fields["period"] == "yr"


@pytest.mark.parametrize(
    ("entity", "settings", "path", "message"),
    [
        (
            "room",
            {"period": "yr"},
            "sources.pir.entities.room.period",
            "entity 'room' has no reporting period; periods are for: program, site, "
            "enrollment, funding",
        ),
        (
            "program",
            {"period": {"column": "yr", "format": "fiscal"}},
            "sources.pir.entities.program.period.format",
            "Input should be 'year', 'school_year' or 'text'",
        ),
        (
            "program",
            {"period": {"format": "year"}},
            "sources.pir.entities.program.period.column",
            "required setting is missing",
        ),
        (
            "program",
            {"period": {"column": "yr", "every": "year"}},
            "sources.pir.entities.program.period.every",
            "unknown setting",
        ),
        (
            "program",
            {"period": "yr", "fields": {"period": "other"}},
            "sources.pir.entities.program",
            "fields.period maps 'other' but period.column is 'yr'",
        ),
    ],
)
def test_a_wrong_period_setting_is_a_clear_error(
    entity: str, settings: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_source(entity, settings), file="state.yaml")
    text = str(raised.value)
    assert "state.yaml" in text
    assert any(p == path and message in m for p, m in raised.value.problems), text


def test_the_readme_example_loads() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Records with a period")
    found = re.search(r"```yaml\n(.*?)```", readme[start:], re.S)
    assert found is not None
    sources = yaml.safe_load(found.group(1))
    config = parse_config({"sources": sources}, env={"PIR_DB_URL": "sqlite+aiosqlite:///pir.db"})
    entities = config.sources["head_start_pir"].entities
    assert isinstance(entities["program"], SqlEntityConfig)
    assert {name: e.period is not None for name, e in entities.items()} == {
        "program": True,
        "enrollment": True,
        "funding": True,
    }
