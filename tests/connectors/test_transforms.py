"""Field transforms (issue 11, item 1): every step on good and bad values, the checks made
when the config loads, and composite keys' escaping. A value a step cannot read is null and
accounted as unparsable (never silent); records are built by a real SQLite source."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from ecehub.config import parse_config
from ecehub.config.canonical import FieldType
from ecehub.config.transforms import TransformList
from ecehub.connectors.base import Connector, FieldFilter
from ecehub.connectors.transforms import (
    TransformFailed,
    compile_pipeline,
    join_key,
    split_key,
)
from ecehub.errors import ConfigError
from ecehub.resolvers.runtime import build_connectors

STEPS: TypeAdapter[list[Any]] = TypeAdapter(TransformList)


def run(steps: Any, value: Any, kind: FieldType = "str") -> Any:
    """``value`` through ``steps`` (as written in YAML) compiled for a field of ``kind``."""
    return compile_pipeline(STEPS.validate_python(steps), kind)(value)


@pytest.mark.parametrize(
    ("steps", "value", "expected"),
    [
        (["trim"], "  Sunny Days \t", "Sunny Days"),
        (["strip_quotes"], '"Sunny Days"', "Sunny Days"),
        (["strip_quotes"], "'Sunny Days'", "Sunny Days"),
        (["strip_quotes"], '"Sunny Days', "Sunny Days"),  # a stray quote at one end
        (["strip_quotes"], '"The ""Best"" Care"', 'The "Best" Care'),
        (["strip_quotes"], "Kids' Place", "Kids' Place"),  # a possessive stays
        (["strip_quotes"], "\u201cSmart Start\u201d", "Smart Start"),
        ([{"unescape": "backslash"}], 'O\\"Hara\\\\s \\n', 'O"Hara\\s \n'),
        (["unescape"], "A\\'s", "A's"),
        ([{"unescape": "html"}], "Tots &amp; Toddlers", "Tots & Toddlers"),
        (["upper"], "l-100a", "L-100A"),
        (["lower"], "SPRINGFIELD", "springfield"),
        ([{"case": "title"}], "O'BRIEN-SMITH CHILD CARE", "O'Brien-Smith Child Care"),
        ([{"case": "title"}], "kid's world 2", "Kid's World 2"),
        ([{"regex_extract": "([0-9]{6})"}], "Lic# 123456-B", "123456"),
        ([{"regex_extract": "[A-Z]-[0-9]+"}], "see L-100 (old)", "L-100"),
        ([{"regex_extract": {"pattern": "(\\w+)-(\\d+)", "group": 2}}], "L-100", "100"),
        ([{"regex_replace": {"pattern": "-\\d{4}$", "with": ""}}], "20001-1234", "20001"),
        (
            [{"regex_replace": {"pattern": "(\\d{3})(\\d{4})", "with": "\\1-\\2"}}],
            "5551234",
            "555-1234",
        ),
        (
            [{"split": ";"}, "trim", {"join": ", "}],
            "Infant; Toddler ;;Preschool",
            "Infant, Toddler, Preschool",
        ),
        ([{"map": {"CTR": "ChildCare", "FCC": "FamilyChildCare"}}], " ctr ", "ChildCare"),
        ([{"map": {"CTR": "ChildCare"}}], "Other", "Other"),  # not listed: passes through
        ([{"map": {"CTR": "ChildCare", "N/A": None}}], "n/a", None),  # to null, as declared
        (["trim", {"regex_extract": "(\\d+)"}, "number"], " about 40 seats", Decimal(40)),
    ],
)
def test_each_step_reads_what_it_says(steps: Any, value: Any, expected: Any) -> None:
    assert run(steps, value) == expected


@pytest.mark.parametrize(
    ("steps", "value", "kind", "expected"),
    [
        (["number"], "1,234", "int", Decimal(1234)),
        (["number"], "$5.00", "decimal", Decimal("5.00")),
        (["number"], "(12.50)", "decimal", Decimal("-12.50")),
        (["number"], "\u20ac 1.234,5", "decimal", None),  # default separators: not a number
        (
            [{"number": {"thousands": ".", "decimal": ","}}],
            "\u20ac 1.234,5",
            "decimal",
            Decimal("1234.5"),
        ),
        (["number"], 42, "int", Decimal(42)),
        (["number"], "3.5", "float", Decimal("3.5")),
        ([{"date": ["%m/%d/%y", "%m/%d/%Y"]}], "3/31/22", "date", dt.date(2022, 3, 31)),
        ([{"date": ["%m/%d/%y", "%m/%d/%Y"]}], "03/31/2015", "date", dt.date(2015, 3, 31)),
        ([{"date": "%m/%d/%Y"}], "2015-03-31", "date", dt.date(2015, 3, 31)),  # ISO always
        (
            [{"date": "%m/%d/%Y %H:%M"}],
            "03/31/2015 14:05",
            "datetime",
            dt.datetime(2015, 3, 31, 14, 5),
        ),
        ([{"split": ";"}, "trim"], "a; b ;", "list", ["a", "b", ""]),
    ],
)
def test_typed_steps(steps: Any, value: Any, kind: FieldType, expected: Any) -> None:
    if expected is None:
        with pytest.raises(TransformFailed):
            run(steps, value, kind)
        return
    assert run(steps, value, kind) == expected


@pytest.mark.parametrize(
    ("steps", "value", "kind", "failing"),
    [
        ([{"regex_extract": "([0-9]{6})"}], "pending", "str", "regex_extract"),
        (["number"], "NA", "int", "number"),
        (["number"], "12 seats", "int", "number"),
        (["number"], "12.5", "int", "number"),  # an int field takes whole numbers only
        (["number"], "nan", "float", "number"),
        (["number"], "(-5)", "decimal", "number"),
        ([{"date": ["%m/%d/%y"]}], "31/3/22", "date", "date"),
        ([{"date": ["%m/%d/%y"]}], "soon", "date", "date"),
    ],
)
def test_a_value_a_step_cannot_read_fails_loudly(
    steps: Any, value: Any, kind: FieldType, failing: str
) -> None:
    with pytest.raises(TransformFailed) as caught:
        run(steps, value, kind)
    assert caught.value.step == failing


@given(st.lists(st.text(alphabet="ab|\\", max_size=4), min_size=2, max_size=4))
def test_composite_keys_split_back_into_their_parts(parts: list[str]) -> None:
    assert split_key(join_key(parts), len(parts)) == parts


@given(
    st.lists(st.text(alphabet="ab|\\", max_size=3), min_size=2, max_size=3),
    st.lists(st.text(alphabet="ab|\\", max_size=3), min_size=2, max_size=3),
)
def test_different_parts_make_different_keys(left: list[str], right: list[str]) -> None:
    if len(left) == len(right) and left != right:
        assert join_key(left) != join_key(right)


def test_separator_in_a_part_does_not_collide() -> None:
    assert join_key(["a|b", "c"]) != join_key(["a", "b|c"])
    assert join_key(["a\\", "b"]) != join_key(["a", "\\b"])
    with pytest.raises(ValueError, match="has 3"):
        split_key("a|b|c", 2)
    with pytest.raises(ValueError, match="escape"):
        split_key("a|b\\", 2)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_numbers_written_for_people_read_back_exactly(number: int) -> None:
    written = f"${abs(number):,}" if number >= 0 else f"(${abs(number):,})"
    assert run(["number"], written, "int") == number


# -- checked at load -------------------------------------------------------------------------
def _source(transforms: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "sources": {
            "state": {
                "kind": "sql",
                "url": "sqlite+aiosqlite:///state.db",
                "entities": {
                    "program": {
                        "table": "provider",
                        "key": "id",
                        "fields": {
                            "name": "name",
                            "licensed_capacity": "seats",
                            "license_expires": "expires",
                            "ages_served": "ages",
                        },
                        "identifiers": {"LICENSE_NUMBER": "lic"},
                        "transforms": transforms,
                        **extra,
                    }
                },
            }
        }
    }


@pytest.mark.parametrize(
    ("transforms", "extra", "path", "says"),
    [
        ({"name": ["trimm"]}, {}, "transforms.name.0", "unknown transform 'trimm'"),
        ({"name": ["split"]}, {}, "transforms.name.0", "write {split: ...}"),
        ({"name": [{"regex_extract": "(["}]}, {}, "transforms.name.0", "not a regular expression"),
        (
            {"name": [{"regex_extract": {"pattern": "(a)", "group": 2}}]},
            {},
            "transforms.name.0",
            "the pattern has 1 group",
        ),
        (
            {"name": [{"regex_replace": {"pattern": "a", "with": "\\2"}}]},
            {},
            "transforms.name.0",
            "does not fit the pattern",
        ),
        ({"licensed_capacity": [{"split": ";"}]}, {}, "transforms.licensed_capacity.0", "join"),
        ({"license_expires": ["number"]}, {}, "transforms.license_expires.0", "cannot hold"),
        ({"licensed_capacity": [{"date": "%Y"}]}, {}, "transforms.licensed_capacity.0", "date"),
        ({"name": [{"join": ","}]}, {}, "transforms.name.0", "join takes a list"),
        ({"name": ["number", {"split": ";"}]}, {}, "transforms.name.1", "split takes"),
        ({"county": ["trim"]}, {}, "transforms.county", "not mapped in `fields`"),
        ({"nickname": ["trim"]}, {}, "transforms.nickname", "unknown field"),
        ({"identifier:STATE_ID": ["trim"]}, {}, "transforms.identifier:STATE_ID", "not mapped"),
        (
            {"name": [{"map": {"a": "x", " A ": "y"}}]},
            {},
            "transforms.name.0",
            "the same source value",
        ),
        (
            {"name": ["trim"]},
            {"values": {"name": {"a": "b"}}},
            "values.name",
            "{map: {...}} step",
        ),
        (
            {"license_expires": [{"date": "%m/%d/%y"}]},
            {"date_formats": {"license_expires": ["%m/%d/%Y"]}},
            "date_formats.license_expires",
            "{date: [formats]} step",
        ),
        (
            {"name": [{"number": {"thousands": ".", "decimal": "."}}]},
            {},
            "transforms.name.0",
            "must differ",
        ),
    ],
)
def test_bad_transforms_are_refused_at_load_naming_file_path_and_fix(
    transforms: dict[str, Any], extra: dict[str, Any], path: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_source(transforms, **extra), file="state.yaml")
    message = str(caught.value)
    assert "state.yaml" in message
    assert f"sources.state.entities.program.{path}" in message, message
    assert says in message, message


def test_good_transforms_load_in_their_short_and_long_forms() -> None:
    config = parse_config(
        _source(
            {
                "name": ["trim", "strip_quotes", {"unescape": "backslash"}, {"case": "title"}],
                "licensed_capacity": [{"number": {}}],
                "ages_served": [{"split": ";"}, {"join": ", "}],
                "license_expires": {"date": ["%m/%d/%y", "%m/%d/%Y"]},  # one step, no list
                "identifier:LICENSE_NUMBER": [{"regex_extract": "([0-9]{6})"}, "upper"],
            }
        )
    )
    steps = config.sources["state"].entities["program"].transforms
    assert [s.op for s in steps["name"]] == ["trim", "strip_quotes", "unescape", "case"]
    assert [s.op for s in steps["license_expires"]] == ["date"]


# -- applied when records are built, bad values accounted -------------------------------------
ROWS = [
    ("1", '"sunny days"', "1,234", "3/31/22", "Infant;Toddler", "Lic 123456", "CTR"),
    ("2", "O\\'Hara Tots", "$40.00", "03/31/2015", "Preschool", "no number", "n/a"),
    ("3", "  bright start ", "forty", "someday", "", "L-654321", "FCC"),
    ("4", "'Acorns", "12.5", "NA", None, None, "ctr"),
]


def _sqlite_source(tmp_path: Path) -> dict[str, Any]:
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE provider (id TEXT, name TEXT, seats TEXT, expires TEXT, ages TEXT, "
            "lic TEXT, kind TEXT)"
        )
        conn.executemany("INSERT INTO provider VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    return {
        "sources": {
            "state": {
                "kind": "sql",
                "url": f"sqlite+aiosqlite:///{db}",
                "entities": {
                    "program": {
                        "table": "provider",
                        "key": "id",
                        "fields": {
                            "name": "name",
                            "licensed_capacity": "seats",
                            "license_expires": "expires",
                            "ages_served": "ages",
                            "program_type": "kind",
                        },
                        "identifiers": {"LICENSE_NUMBER": "lic"},
                        "null_values": ["NA"],
                        "transforms": {
                            "name": ["trim", "strip_quotes", "unescape", {"case": "title"}],
                            "licensed_capacity": ["number"],
                            "license_expires": [{"date": ["%m/%d/%y", "%m/%d/%Y"]}],
                            "ages_served": [{"split": ";"}, "trim", {"join": ", "}],
                            "program_type": [
                                {"map": {"CTR": "ChildCare", "FCC": "FamilyChildCare", "N/A": None}}
                            ],
                            "identifier:LICENSE_NUMBER": [{"regex_extract": "([0-9]{6})"}],
                        },
                    }
                },
            }
        },
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
    }


async def _connector(tmp_path: Path) -> Connector:
    [conn] = build_connectors(parse_config(_sqlite_source(tmp_path))).values()
    return conn


async def test_records_carry_transformed_values_and_every_bad_value_is_accounted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await _connector(tmp_path)
    try:
        with caplog.at_level("WARNING", logger="ecehub.connectors"):
            page = await conn.find("program")
    finally:
        await conn.aclose()
    by_key = {r.key: r for r in page.records}
    one, two, three, four = (by_key[k] for k in "1234")
    assert one.fields == {
        "name": "Sunny Days",
        "licensed_capacity": 1234,
        "license_expires": dt.date(2022, 3, 31),
        "ages_served": "Infant, Toddler",
        "program_type": "ChildCare",
    }
    assert one.identifiers == {"LICENSE_NUMBER": "123456"}
    assert two.fields["name"] == "O'Hara Tots"
    assert two.fields["licensed_capacity"] == 40
    assert two.fields["license_expires"] == dt.date(2015, 3, 31)
    assert two.fields["program_type"] is None  # mapped to null: declared, not unparsable
    assert two.identifiers == {}  # "no number": accounted below
    assert three.fields["name"] == "Bright Start"
    assert three.fields["licensed_capacity"] is None and three.fields["license_expires"] is None
    assert three.identifiers == {"LICENSE_NUMBER": "654321"}
    assert four.fields["licensed_capacity"] is None  # 12.5 seats: not a whole number
    assert four.fields["license_expires"] is None  # NA: the source's declared no value
    assert four.fields["program_type"] == "ChildCare"
    unparsable = conn.unparsable()
    counts = {key: u.count for key, u in unparsable.items()}
    assert counts == {
        ("program", "licensed_capacity"): 2,
        ("program", "license_expires"): 1,
        ("program", "identifier:LICENSE_NUMBER"): 1,
    }
    assert unparsable[("program", "licensed_capacity")].examples == ["'forty'", "'12.5'"]
    assert (
        "transforms.licensed_capacity.0: number"
        in unparsable[("program", "licensed_capacity")].kind
    )
    lines = [r.getMessage() for r in caplog.records if "read as null" in r.getMessage()]
    assert len(lines) == 3, lines  # one sampled line per field, never the value
    assert not any("forty" in line or "someday" in line for line in lines)


async def test_filters_on_transformed_fields_are_not_pushed_down_unless_exact(
    tmp_path: Path,
) -> None:
    conn = await _connector(tmp_path)
    try:
        assert not conn.pushes_down("program", FieldFilter("licensed_capacity", "eq", 40))
        assert conn.pushes_down("program", FieldFilter("program_type", "in", ["ChildCare"]))
        assert not conn.pushes_down("program", FieldFilter("program_type", "contains", "care"))
        assert not conn.pushes_down("program", FieldFilter("name", "eq", "Sunny Days"))
        with pytest.raises(ValueError, match="transformed"):
            await conn.find("program", [FieldFilter("name", "eq", "Sunny Days")])
        # A map translates exactly for eq/in: the source values that become the wanted ones.
        translated = conn.source_filters(
            "program", [FieldFilter("program_type", "eq", "childcare")]
        )
        assert translated == [FieldFilter("program_type", "in", ["CTR", "childcare"])]
        page = await conn.find("program", [FieldFilter("program_type", "eq", "ChildCare")])
        assert sorted(r.key for r in page.records) == ["1", "4"]
        page = await conn.find("program", [FieldFilter("program_type", "in", ["familychildcare"])])
        assert [r.key for r in page.records] == ["3"]
    finally:
        await conn.aclose()


async def test_check_profile_counts_what_transforms_cannot_read(tmp_path: Path) -> None:
    import yaml

    from tests.test_cli import run as run_cli

    path = tmp_path / "state.yaml"
    path.write_text(yaml.safe_dump(_sqlite_source(tmp_path)), encoding="utf-8")
    code, out, err = await run_cli("check", "--config", str(path), "--profile")
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("    ")}
    # filled, empty, unparsable, as the records above hold them
    assert rows["licensed_capacity"][1:4] == ["2", "0", "2"]
    assert "'forty', '12.5'" in out
    assert rows["license_expires"][1:4] == ["2", "1", "1"]
    assert rows["program_type"][1:4] == ["3", "1", "0"]  # mapped to null: empty, not bad
    identifier = next(line for line in out.splitlines() if "identifier LICENSE_NUMBER" in line)
    assert identifier.split()[2:5] == ["2", "1", "1"]


def test_the_readme_transforms_example_loads_and_its_steps_read_its_examples() -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Field transforms")
    found = re.search(r"```yaml\n(.*?)```", readme[start:], re.S)
    assert found is not None
    import yaml

    config = parse_config(
        yaml.safe_load(found.group(1)), env={"HSR_DB_URL": "sqlite+aiosqlite:///hsr.db"}
    )
    program = config.sources["hsr"].entities["program"]
    assert getattr(program, "key_columns", None) == ("grant_number", "program_number")
    kinds: dict[str, FieldType] = {"licensed_capacity": "int", "license_expires": "date"}

    def read(name: str, value: str) -> Any:
        steps = program.transforms[name]
        return compile_pipeline(steps, kinds.get(name, "str"))(value)

    assert read("name", '"o\\\'HARA tots"') == "O'Hara Tots"
    assert read("license_number", "Lic# 123456-B") == "123456"
    assert read("licensed_capacity", "1,234") == 1234
    assert read("ages_served", "Infant; Toddler") == "Infant, Toddler"
    assert read("program_type", "ctr") == "ChildCare" and read("program_type", "N/A") is None
    assert read("zip", "20001-1234") == "20001"
    assert read("license_expires", "3/31/22") == dt.date(2022, 3, 31)


def test_the_config_schema_takes_the_written_forms_and_flags_unknown_steps() -> None:
    import jsonschema

    from ecehub.config.schema import config_json_schema

    validator = jsonschema.Draft202012Validator(config_json_schema())
    written = _source(
        {
            "name": ["trim", "strip_quotes", {"unescape": "backslash"}, {"case": "title"}],
            "licensed_capacity": [{"number": {}}],
            "ages_served": [{"split": ";"}, {"join": ", "}],
            "license_expires": [{"date": ["%m/%d/%y"]}],
            "identifier:LICENSE_NUMBER": [{"regex_extract": "([0-9]{6})"}, "upper"],
        }
    )
    written["sources"]["state"]["entities"]["program"]["key"] = ["id", "year"]
    assert list(validator.iter_errors(written)) == []
    assert list(validator.iter_errors(_source({"name": ["trimm"]})))
    assert list(validator.iter_errors(_source({"name": [{"frobnicate": 1}]})))


async def test_csv_sources_transform_too_and_warn_only_of_what_is_unreadable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "p.csv").write_text(
        "grant,number,name,kind,seats\n"
        'a|b,c,"""Sunny""",CTR,NA\n'
        "a,b|c,Acorns,N/A,1 234\n"
        'g,1,Bright,FCC,"1,234"\n'
        "h,2,Tree,FCC,lots\n",
        encoding="utf-8",
    )
    config = parse_config(
        {
            "sources": {
                "files": {
                    "kind": "csv",
                    "entities": {
                        "program": {
                            "file": str(tmp_path / "p.csv"),
                            "key": ["grant", "number"],
                            "fields": {
                                "name": "name",
                                "program_type": "kind",
                                "licensed_capacity": "seats",
                            },
                            "null_values": ["NA"],
                            "transforms": {
                                "name": ["strip_quotes"],
                                "program_type": [{"map": {"CTR": "ChildCare", "N/A": None}}],
                                "licensed_capacity": ["number"],
                            },
                        }
                    },
                }
            }
        }
    )
    [conn] = build_connectors(config).values()
    try:
        with caplog.at_level("WARNING", logger="ecehub.connectors"):
            records = (await conn.find("program")).records
        by_key = {r.key: r for r in records}
        assert set(by_key) == {join_key(["a|b", "c"]), join_key(["a", "b|c"]), "g|1", "h|2"}
        sunny = by_key[join_key(["a|b", "c"])]
        assert sunny.fields == {
            "name": "Sunny",
            "program_type": "ChildCare",
            "licensed_capacity": None,  # NA: declared
        }
        acorns = by_key[join_key(["a", "b|c"])]
        assert acorns.fields["program_type"] is None  # mapped to null: declared
        assert acorns.fields["licensed_capacity"] == 1234  # spaces dropped
        assert by_key["g|1"].fields["licensed_capacity"] == 1234
        page = await conn.find("program", [FieldFilter("program_type", "eq", "childcare")])
        assert [r.key for r in page.records] == [sunny.key]
    finally:
        await conn.aclose()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    # NA and N/A are declared, not unreadable; "lots" is not a number: warned, counted
    assert len(warned) == 1 and "program.licensed_capacity: 1 value" in warned[0], warned
    assert "lots" not in warned[0]
    assert {k: u.count for k, u in conn.unparsable().items()} == {
        ("program", "licensed_capacity"): 1
    }


_CODES = st.sampled_from(["CTR", "ctr ", "FCC", "Fcc", "N/A", "ChildCare", "childcare", "Other"])


@given(
    st.dictionaries(
        st.sampled_from(["CTR", "FCC", "N/A", "Other"]),
        st.one_of(st.none(), st.sampled_from(["ChildCare", "FamilyChildCare", "CTR", "Other"])),
        min_size=1,
    ),
    st.lists(_CODES, min_size=1, max_size=3),
    _CODES,
)
def test_a_map_filter_translates_exactly(
    table: dict[str, str | None], wanted: list[str], source_value: str
) -> None:
    """A source row matches the translated (pushed-down) filter, compared as the sql
    connector compares text (trimmed, case-insensitive), exactly when its transformed value
    matches the filter: the translation loses and adds nothing."""
    from ecehub.config.transforms import MapValues
    from ecehub.connectors.base import Record, matches
    from ecehub.connectors.transforms import unmap

    step = MapValues(values=table)
    canonical = compile_pipeline([step], "str")(source_value)
    record = Record("s", "program", "1", {"program_type": canonical})
    expected = canonical is not None and matches(
        record, [FieldFilter("program_type", "in", wanted)]
    )
    sent = {v.strip().casefold() for v in unmap(step, wanted)}
    assert (source_value.strip().casefold() in sent) == expected


async def test_an_entity_without_transforms_still_accounts_every_bad_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A plain entity (no null words, transforms, date formats or scales) has its values
    coerced in one pass; a value that does not coerce is still null and accounted, and the
    record's other values are kept."""
    (tmp_path / "p.csv").write_text(
        "id,name,seats,expires\n"
        "1, Sunny ,40,2026-05-01\n"
        "2,Acorns,lots,2026-06-01\n"
        "3,Tree,12,someday\n",
        encoding="utf-8",
    )
    config = parse_config(
        {
            "sources": {
                "files": {
                    "kind": "csv",
                    "entities": {
                        "program": {
                            "file": str(tmp_path / "p.csv"),
                            "key": "id",
                            "fields": {
                                "name": "name",
                                "licensed_capacity": "seats",
                                "license_expires": "expires",
                            },
                        }
                    },
                }
            }
        }
    )
    [conn] = build_connectors(config).values()
    try:
        with caplog.at_level("WARNING", logger="ecehub.connectors"):
            records = {r.key: r for r in (await conn.find("program")).records}
    finally:
        await conn.aclose()
    assert records["1"].fields == {
        "name": "Sunny",
        "licensed_capacity": 40,
        "license_expires": dt.date(2026, 5, 1),
    }
    assert records["1"].unparsable == {}
    assert records["2"].fields == {
        "name": "Acorns",
        "licensed_capacity": None,
        "license_expires": dt.date(2026, 6, 1),
    }
    assert records["2"].unparsable == {"licensed_capacity": "'lots'"}
    assert records["3"].fields["license_expires"] is None
    assert records["3"].fields["licensed_capacity"] == 12
    assert {k: u.count for k, u in conn.unparsable().items()} == {
        ("program", "licensed_capacity"): 1,
        ("program", "license_expires"): 1,
    }
