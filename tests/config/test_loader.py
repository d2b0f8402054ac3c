"""Malformed configs fail at load with the file, the dotted path and what is expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ecehub.config import Config, load_config, parse_config
from ecehub.errors import ConfigError


def _base() -> dict[str, Any]:
    return {
        "sources": {
            "licensing": {
                "kind": "sql",
                "url": "${LIC_URL}",
                "support_types": ["LICENSING"],
                "entities": {
                    "program": {
                        "table": "facility",
                        "key": "license_no",
                        "fields": {"name": "facility_name"},
                        "identifiers": {"LICENSE_NUMBER": "license_no"},
                    },
                    "site": {
                        "table": "facility",
                        "key": "license_no",
                        "parent": {"program": "license_no"},
                    },
                },
            },
            "qris": {
                "kind": "rest",
                "base_url": "${QRIS_URL:-http://127.0.0.1:9}",
                "auth": {"type": "api_key", "header": "X-API-Key", "value": "${QRIS_KEY}"},
                "support_types": ["QRIS"],
                "entities": {
                    "program": {
                        "path": "/v1/providers",
                        "key": "providerId",
                        "identifiers": {"LICENSE_NUMBER": "licenseNumber"},
                    }
                },
            },
        },
        "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
    }


ENV = {"LIC_URL": "sqlite+aiosqlite:///x.db", "QRIS_KEY": "s3cret-key-value"}


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        data = data[part]
    if value is _DELETE:
        del data[parts[-1]]
    else:
        data[parts[-1]] = value


_DELETE = object()


def test_a_valid_config_loads_with_defaults() -> None:
    config = parse_config(_base(), file="state.yaml", env=ENV)
    assert isinstance(config, Config)
    assert [st.code for st in config.support_types] == [
        "QRIS",
        "HEAD_START",
        "EARLY_INTERVENTION",
        "PRE_K",
        "ACCREDITATION",
        "LICENSING",
    ]
    assert list(config.sources) == ["licensing", "qris"]  # precedence = file order
    assert config.sources["qris"].base_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    assert config.match_on("program") == ["LICENSE_NUMBER"]


def test_secrets_do_not_appear_in_the_config_repr() -> None:
    config = parse_config(_base(), file="state.yaml", env=ENV)
    assert "s3cret-key-value" not in repr(config)
    assert "s3cret-key-value" not in str(config.model_dump())


@pytest.mark.parametrize(
    ("path", "value", "where", "expected"),
    [
        (
            "sources.qris.entities.program.key",
            _DELETE,
            "sources.qris.entities.program.key",
            "required setting is missing",
        ),
        (
            "sources.qris.entities.program.fields",
            {"nmae": "displayName"},
            "sources.qris.entities.program.fields.nmae",
            "unknown field 'nmae'",
        ),
        (
            "sources.qris.entities.programme",
            {"path": "/x", "key": "id"},
            "sources.qris.entities.programme",
            "unknown entity 'programme'",
        ),
        (
            "sources.licensing.entities.site.parent",
            {"room": "license_no"},
            "sources.licensing.entities.site.parent.room",
            "cannot hang under 'room'",
        ),
        ("sources.licensing.timeout_s", "soon", "sources.licensing.timeout_s", "valid number"),
        (
            "sources.licensing.kind",
            "oracle",
            "sources.licensing.kind",
            "no connector of kind 'oracle'",
        ),
        (
            "sources.licensing.support_types",
            ["LICENCING"],
            "sources.licensing.support_types.0",
            "support type 'LICENCING' is not declared",
        ),
        ("sources.qris.auth.type", "magic", "sources.qris.auth", "type"),
        ("sources.qris.retries", 3, "sources.qris.retries", "unknown setting"),
        (
            "merge.program.match_on",
            ["FEIN"],
            "merge.program.match_on.0",
            "no source declares identifier 'FEIN'",
        ),
        (
            "sources.licensing.entities.site.table",
            _DELETE,
            "sources.licensing.entities.site.table",
            "required setting is missing",
        ),
        (
            "sources.licensing.entities.program.values",
            {"nmae": {"a": "b"}},
            "sources.licensing.entities.program.values.nmae",
            "unknown field 'nmae'",
        ),
        (
            "sources.licensing.entities.program.values",
            {"city": {"a": "b"}},
            "sources.licensing.entities.program.values.city",
            "not mapped in `fields`",
        ),
        (
            "sources.licensing.entities.program.constants",
            {"name": "X"},
            "sources.licensing.entities.program.constants.name",
            "also mapped in `fields`",
        ),
        ("support_types", [{"code": "pre-k", "name": "Pre-K"}], "support_types.0.code", "pattern"),
    ],
)
def test_each_mistake_names_file_path_and_expectation(
    path: str, value: Any, where: str, expected: str
) -> None:
    data = _base()
    _set(data, path, value)
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="state.yaml", env=ENV)
    err = info.value
    assert err.file == "state.yaml"
    assert any(p == where and expected in m for p, m in err.problems), err.problems
    assert str(err).startswith("state.yaml: invalid configuration")


def test_missing_environment_variable_names_the_variable_and_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_base(), file="state.yaml", env={"LIC_URL": "sqlite+aiosqlite://"})
    [(path, message)] = info.value.problems
    assert path == "sources.qris.auth.value"
    assert "QRIS_KEY is not set" in message and "${QRIS_KEY:-default}" in message


def test_every_problem_is_reported_not_just_the_first() -> None:
    data = _base()
    _set(data, "sources.qris.entities.program.key", _DELETE)
    _set(data, "sources.licensing.timeout_s", -1)
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="state.yaml", env=ENV)
    paths = {p for p, _ in info.value.problems}
    assert {"sources.qris.entities.program.key", "sources.licensing.timeout_s"} <= paths


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("sources:\n  qris: {kind: rest\n  other: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert info.value.file == str(f)
    assert "YAML syntax error at line" in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.yaml")


def test_load_config_reads_yaml_and_interpolates(tmp_path: Path) -> None:
    f = tmp_path / "state.yaml"
    f.write_text(yaml.safe_dump(_base()))
    config = load_config(f, env=ENV)
    assert config.file == f
    url = config.sources["licensing"].url.get_secret_value()  # type: ignore[attr-defined]
    assert url == ENV["LIC_URL"]


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config(["sources"], file="list.yaml", env=ENV)


def test_a_rest_filter_on_an_unknown_field_is_named() -> None:
    data = _base()
    program = data["sources"]["qris"]["entities"]["program"]
    program["filters"] = {"qris_levle": {"param": "level"}}
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="state.yaml", env=ENV)
    assert any(
        p == "sources.qris.entities.program.filters.qris_levle" for p, _ in info.value.problems
    )


def test_a_rejected_secret_is_not_echoed() -> None:
    data = _base()
    data["sources"]["licensing"]["url"] = "postgres://user:hunter2@db/x"
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="state.yaml", env=ENV)
    assert "hunter2" not in str(info.value)


def test_variables_work_inside_flow_mappings(tmp_path: Path) -> None:
    """``{value: ${KEY}}`` is a flow mapping whose value is the variable: the variable's braces
    never reach the YAML parser, nor does its value (a value with YAML syntax stays text)."""
    f = tmp_path / "state.yaml"
    f.write_text(
        "sources:\n"
        "  qris:\n"
        "    kind: rest\n"
        "    base_url: ${QRIS_URL}\n"
        "    auth: {type: api_key, header: X-API-Key, value: ${QRIS_KEY}}\n"
        "    entities: {program: {path: /p, key: id, fields: {name: '${NAME_FIELD:-name}'}}}\n"
    )
    env = {"QRIS_URL": "http://qris.example", "QRIS_KEY": "k: {not, yaml]"}
    config = load_config(f, env=env)
    auth = config.sources["qris"].auth  # type: ignore[attr-defined]
    assert auth.value.get_secret_value() == "k: {not, yaml]"
    assert config.sources["qris"].entities["program"].fields == {"name": "name"}


def test_yaml_errors_show_the_line_and_a_fix(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("hub:\n  url: sqlite+aiosqlite:///h.db\nserver:\n\tmode: production\n")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    message = str(info.value)
    assert "YAML syntax error at line 4" in message
    assert "\tmode: production" in message
    assert "fix: YAML indents with spaces only" in message
    f.write_text("server:\n  cors_origins: [https://a.example]\n  mode: dev: x\n")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert "must be quoted" in str(info.value) and "mode: dev: x" in str(info.value)


def test_a_missing_variable_is_the_one_problem_at_its_path(tmp_path: Path) -> None:
    f = tmp_path / "state.yaml"
    f.write_text(
        "sources:\n"
        "  qris:\n"
        "    kind: rest\n"
        "    base_url: ${QRIS_URL}\n"
        "    timeout_s: -1\n"
        "    entities: {program: {path: /p, key: id}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(f, env={})
    problems = dict(info.value.problems)
    assert problems["sources.qris.base_url"].startswith("environment variable QRIS_URL is not set")
    assert [path for path, _ in info.value.problems].count("sources.qris.base_url") == 1
    assert "sources.qris.timeout_s" in problems  # a problem of its own still shows
