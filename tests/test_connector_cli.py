"""``ecehub connector new`` writes a package that passes the conformance kit and mypy
--strict as generated; ``ecehub connectors`` lists what the hub can load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecehub.cli import main
from ecehub.cli.scaffold import ScaffoldError, names_for
from ecehub.connectors import CONTRACT_VERSION, register
from tests.testing.memory import MemoryConnector


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_generated_package_passes_the_kit_and_mypy_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connector", "new", "Acme-QRIS", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "ecehub-acme-qris"
    assert "kind 'acme_qris'" in capsys.readouterr().out
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'acme_qris = "ecehub_acme_qris.connector:AcmeQrisConnector"' in pyproject
    assert f'contract_version = "{CONTRACT_VERSION}"' in (
        root / "src" / "ecehub_acme_qris" / "connector.py"
    ).read_text(encoding="utf-8")

    tests = _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs"], root)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    summary = tests.stdout.strip().splitlines()[-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 65 and "failed" not in summary and "skipped" not in summary, summary

    cache = tmp_path / "mypy-cache"
    typed = _run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)], root)
    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert "Success: no issues found in 4 source files" in typed.stdout


def test_a_package_is_not_written_over_an_existing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ecehub-acme").mkdir()
    assert main(["connector", "new", "acme", "--dir", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", "9lives", "class", "---"])
def test_unusable_names_are_refused(name: str) -> None:
    with pytest.raises(ScaffoldError, match="not a usable connector name"):
        names_for(name)


def test_connectors_lists_kinds_classes_versions_and_capabilities(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register("memory_listed", MemoryConnector)
    assert main(["connectors", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["contract_version"] == CONTRACT_VERSION
    by_kind = {c["kind"]: c for c in listed["connectors"]}
    assert by_kind["sql"]["class"] == "ecehub.connectors.sql:SqlConnector"
    assert by_kind["sql"]["distribution"].startswith("ecehub ")
    assert by_kind["rest"]["capabilities"]["supports_paging"] is True
    memory = by_kind["memory_listed"]
    assert memory["class"] == "tests.testing.memory:MemoryConnector"
    assert memory["distribution"] is None and memory["contract_version"] == "1.0"
    assert memory["capabilities"]["filter_ops"] == ["contains", "eq", "gte", "in", "lte"]
    assert main(["connectors"]) == 0
    text = capsys.readouterr().out
    assert "memory_listed: tests.testing.memory:MemoryConnector" in text
    assert "max_page_size: no limit" in text
