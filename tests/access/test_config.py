"""Malformed access rules fail at load (or, for field patterns, when the schema is built:
`ecehub serve` and `ecehub check`) with the file, the dotted path and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from ecehub.config import parse_config
from ecehub.errors import ConfigError
from ecehub.schema import build_schema
from tests.config.test_loader import ENV, _base


def _with_access(access: dict[str, Any]) -> dict[str, Any]:
    return {**_base(), "access": access}


ROLE = {"programs": "claim", "write": ["qip_task"]}


@pytest.mark.parametrize(
    ("access", "path", "expected"),
    [
        ({"roles": {}}, "access.roles", "at least 1"),
        ({"roles": {"ta": {"programs": "some"}}}, "access.roles.ta.programs", "'all', 'claim'"),
        ({"roles": {"ta": {"write": ["qip_tsk"]}}}, "access.roles.ta.write", "qip_task"),
        ({"roles": {"ta": {"deny": ["birthYear"]}}}, "access.roles.ta.deny", "Type.field"),
        (
            {"roles": {"ta": ROLE}, "anonymous_role": "public"},
            "access",
            "anonymous_role 'public' is not one of the roles: ta",
        ),
        ({"roles": {"ta": {**ROLE, "support_types": ["QRS"]}}}, "<root>", "QRS"),
        ({"roles": {"ta": ROLE}, "sector_fields": {"Program.x": ["NOPE"]}}, "<root>", "NOPE"),
        ({"roles": {"ta": ROLE}, "small_cell_threshold": 0}, "access.small_cell_threshold", "1"),
    ],
)
def test_each_access_mistake_names_the_path(
    access: dict[str, Any], path: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_access(access), file="state.yaml", env=ENV)
    text = str(caught.value)
    assert "state.yaml" in text
    line = next((x for x in text.splitlines() if x.strip().startswith(f"{path}:")), None)
    assert line is not None and expected in line, text


def test_a_field_pattern_that_matches_nothing_is_refused_when_the_schema_is_built() -> None:
    access = {
        "roles": {"ta": {**ROLE, "deny": ["Staff.birthyear", "Staff.birthYear"]}},
        "sector_fields": {"Program.qrisRatings": ["QRIS"], "Program.license": ["LICENSING"]},
    }
    config = parse_config(_with_access(access), file="state.yaml", env=ENV)
    with pytest.raises(ConfigError) as caught:
        build_schema(config)
    text = str(caught.value)
    assert "access.roles.ta.deny[0]: 'Staff.birthyear' matches no Type.field" in text
    assert "access.sector_fields.Program.qrisRatings" in text
    assert "deny[1]" not in text and "Program.license:" not in text


def test_write_all_means_every_kind() -> None:
    access = {"roles": {"admin": {"programs": "all", "write": ["all"]}}}
    config = parse_config(_with_access(access), file="state.yaml", env=ENV)
    assert config.access is not None
    assert "funding_entry" in config.access.roles["admin"].write
    build_schema(config)
