"""``ecehub schema diff`` and ``schema print --config``: breaking and dangerous changes
between an older SDL and the built schema (or ``--new``), exit 1 on a breaking one, and clear
errors (exit 2) for a file that is missing or not a schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecehub.cli import main
from ecehub.cli.schema import built_sdl


@pytest.fixture(autouse=True)
def _no_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECEHUB_CONFIG", raising=False)


@pytest.fixture
def current(tmp_path: Path) -> Path:
    path = tmp_path / "current.graphql"
    assert main(["schema", "print", "-o", str(path)]) == 0
    return path


def edited(path: Path, pattern: str, replacement: str) -> Path:
    """A copy of the SDL at ``path`` with the one match of ``pattern`` replaced."""
    text, count = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), flags=re.M)
    assert count == 1, pattern
    out = path.with_name(f"edited-{path.name}")
    out.write_text(text, encoding="utf-8")
    return out


def test_an_identical_schema_is_clean(current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "diff", str(current)]) == 0
    out = capsys.readouterr().out
    assert out == f"no breaking or dangerous changes from {current} to the built schema\n"


def test_a_removed_field_is_breaking(current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The old schema had ``Program.legacyCode``; the built one has not: clients asking for it
    break, so the command fails."""
    old = edited(current, r"^(type Program \{\n)", r"\1  legacyCode: String\n")
    assert main(["schema", "diff", str(old)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["BREAKING", "FIELD_REMOVED"]
    assert lines[0].endswith("Program.legacyCode was removed.")
    assert lines[-1] == f"1 breaking, 0 dangerous change(s) from {old} to the built schema"


def test_an_added_enum_value_is_dangerous(
    current: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = edited(current, r"^(enum ActivityKind \{\n(?:  \w+\n)*?)  OTHER\n", r"\1")
    assert main(["schema", "diff", str(old)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"DANGEROUS  {'VALUE_ADDED_TO_ENUM':<40} Enum value ActivityKind.OTHER was added.",
        f"0 breaking, 1 dangerous change(s) from {old} to the built schema",
    ]


def test_new_compares_two_files(current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = edited(current, r"^  programType: String\n  address: Address\n", "  address: Address\n")
    assert main(["schema", "diff", str(current), "--new", str(new)]) == 1
    out = capsys.readouterr().out
    assert "FIELD_REMOVED" in out and "Program.programType was removed." in out
    assert main(["schema", "diff", str(new), "--new", str(current)]) == 0


def test_federation_mode_adds_and_removing_it_breaks(
    tmp_path: Path, current: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A federation subgraph's SDL (with @key, @link) compares like any other."""
    config = tmp_path / "federated.yaml"
    config.write_text("server: {federation: {enabled: true}}\n", encoding="utf-8")
    federated = tmp_path / "federated.graphql"
    assert main(["schema", "print", "--config", str(config), "-o", str(federated)]) == 0
    assert 'type Program @key(fields: "id"' in federated.read_text(encoding="utf-8")
    assert main(["schema", "diff", str(current), "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("no breaking or dangerous changes")
    assert main(["schema", "diff", str(federated)]) == 1
    out = capsys.readouterr().out
    assert "Query._entities was removed." in out and "Query._service was removed." in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "no such file"),
        ("type Query { a: Int", "not GraphQL SDL: Syntax Error"),
        ("type Query { a: Nope }", "not a GraphQL schema: "),
        ("type Foo { a: Int }", "not a valid GraphQL schema: Query root type must be provided"),
        ("query { programs { id } }", "not a valid GraphQL schema"),
    ],
)
def test_a_missing_or_invalid_file_is_a_clear_error(
    tmp_path: Path, text: str | None, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.graphql"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    assert main(["schema", "diff", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"ecehub schema diff: {path}: {says}"), captured.err


def test_print_writes_what_build_schema_builds(current: Path) -> None:
    assert current.read_text(encoding="utf-8") == built_sdl(None)
