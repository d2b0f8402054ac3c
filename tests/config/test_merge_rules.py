"""Per-field merge rules (``merge.<entity>.fields``): each mistake names its path and fix."""

from __future__ import annotations

from typing import Any

import pytest

from ecehub.config import parse_config
from ecehub.config.model import MergeFieldRule
from ecehub.errors import ConfigError
from tests.config.test_loader import ENV, _base


def _with_rules(fields: dict[str, Any], entity: str = "program") -> dict[str, Any]:
    data = _base()
    qris = data["sources"]["qris"]["entities"]["program"]
    qris["fields"] = {"name": "displayName", "email": "contact.email", "qris_level": "level"}
    qris["fields"]["qris_rated_on"] = "rating.effectiveDate"
    data["sources"]["licensing"]["entities"]["program"]["fields"]["email"] = "email_addr"
    data["merge"].setdefault(entity, {})["fields"] = fields
    return data


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="state.yaml", env=ENV)
    assert info.value.file == "state.yaml"
    return info.value.problems


def test_rules_load_and_fields_without_one_keep_the_default() -> None:
    config = parse_config(
        _with_rules(
            {
                "name": {"prefer": ["licensing", "qris"]},
                "email": {"prefer": ["qris"]},
                "qris_level": {"strategy": "most_recent", "by": "qris_rated_on"},
                "city": {"strategy": "most_recent"},
            }
        ),
        file="state.yaml",
        env=ENV,
    )
    rules = config.merge["program"].fields
    assert rules["email"] == MergeFieldRule(prefer=["qris"])
    assert rules["name"].strategy == "first_non_null"
    assert (rules["qris_level"].strategy, rules["qris_level"].by) == (
        "most_recent",
        "qris_rated_on",
    )
    assert rules["city"].by == "fetched_at"
    assert "phone" not in rules
    assert config.match_on("program") == ["LICENSE_NUMBER"]


@pytest.mark.parametrize(
    ("fields", "where", "expected"),
    [
        (
            {"nmae": {"prefer": ["qris"]}},
            "merge.program.fields.nmae",
            "unknown field 'nmae' for entity 'program'; expected one of: name,",
        ),
        (
            {"name": {"prefer": ["qriss"]}},
            "merge.program.fields.name.prefer.0",
            "unknown source 'qriss'; expected one of: licensing, qris",
        ),
        (
            {"city": {"prefer": ["licensing", "qris"]}},
            "merge.program.fields.city.prefer.0",
            "source 'licensing' does not map program.city",
        ),
        (
            {"name": {"prefer": ["qris", "qris"]}},
            "merge.program.fields.name.prefer",
            "listed twice: qris",
        ),
        (
            {"name": {"strategy": "newest"}},
            "merge.program.fields.name.strategy",
            "'first_non_null' or 'most_recent'",
        ),
        (
            {"name": {"by": "qris_rated_on"}},
            "merge.program.fields.name",
            "`by` applies to strategy most_recent only",
        ),
        (
            {"name": {"strategy": "most_recent", "by": "updated_at"}},
            "merge.program.fields.name.by",
            "'updated_at' is not a date field of 'program'; expected fetched_at or one of: "
            "license_issued,",
        ),
        (
            {"name": {"strategy": "most_recent", "by": "license_issued"}},
            "merge.program.fields.name.by",
            "no source that gives program.name also gives program.license_issued",
        ),
        (
            {"name": {"prefer": ["qris"], "winner": "qris"}},
            "merge.program.fields.name.winner",
            "unknown setting",
        ),
    ],
)
def test_each_mistake_in_a_field_rule_names_its_path_and_fix(
    fields: dict[str, Any], where: str, expected: str
) -> None:
    problems = _problems(_with_rules(fields))
    assert any(p == where and expected in m for p, m in problems), problems


def test_rules_of_an_unknown_entity_report_the_entity_only() -> None:
    data = _with_rules({"name": {"prefer": ["qris"]}}, entity="programme")
    assert _problems(data) == [("merge.programme", "unknown entity 'programme'")]


def test_every_bad_rule_is_reported() -> None:
    problems = _problems(
        _with_rules({"nmae": {}, "name": {"prefer": ["x"]}, "email": {"prefer": ["qris", "y"]}})
    )
    paths = {p for p, _ in problems}
    assert paths == {
        "merge.program.fields.nmae",
        "merge.program.fields.name.prefer.0",
        "merge.program.fields.email.prefer.1",
    }


def test_crosswalk_thresholds_are_read_and_checked() -> None:
    data = _base()
    data["merge"] = {"program": {"match_on": ["LICENSE_NUMBER"], "auto_link": 0.9, "suggest": 0.6}}
    config = parse_config(data, file="state.yaml", env=ENV)
    assert (config.merge["program"].auto_link, config.merge["program"].suggest) == (0.9, 0.6)
    data["merge"]["program"]["suggest"] = 0.95
    with pytest.raises(ConfigError) as caught:
        parse_config(data, file="state.yaml", env=ENV)
    assert "merge.program" in str(caught.value) and "must not be above auto_link" in str(
        caught.value
    )
