"""GraphQL-over-HTTP conformance: the audits of the npm package graphql-http
(``serverAudits``, pinned in tests/graphql_http/package-lock.json) against ``ecehub serve``,
in a subprocess on a loopback port, as a deployment runs it. All 61 must pass, the SHOULDs
and MAYs too. In production mode four audits ask ``__type(name: $name)`` to check variables,
which production refuses (no introspection, INTROSPECTION_DISABLED): those four fail there and
only for that reason; the other 57 pass.

Needs node and npm (``npm ci`` installs the pinned packages into tests/graphql_http/ once, from
the registry npm is configured for); without them the test is skipped, with CI=true it fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ON_CI
from tests.serving import free_port

AUDIT_DIR = Path(__file__).resolve().parent / "graphql_http"
AUDITS = 61
SUMMARY = re.compile(
    r"^graphql-http: (\d+) passed, (\d+) warnings, (\d+) notices, (\d+) errors \(of (\d+)\)$",
    re.MULTILINE,
)
AUDIT_LINE = re.compile(r"^([0-9A-Z]{4}) (ok|warn|notice|error) ", re.MULTILINE)
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
INTROSPECTING = {"2EA1", "28B9", "D6D5", "6A70"}
"""The audits whose query is ``__type(name: $name)``: refused in production mode."""


def require_node() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed for the graphql-http audit (e.g. apt-get install npm)"
        if ON_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return node, npm


def installed_at_lockfile(folder: Path) -> bool:
    """Whether ``folder/node_modules`` holds exactly the versions its package-lock.json names."""
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    for path, entry in lock["packages"].items():
        if not path:
            continue
        try:
            manifest = json.loads((folder / path / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if manifest.get("version") != entry.get("version"):
            return False
    return True


def npm_ci(npm: str, folder: Path) -> None:
    package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    pins = package["dependencies"]
    assert all(EXACT_VERSION.match(v) for v in pins.values()), f"pin exact versions: {pins}"
    assert lock["packages"][""]["dependencies"] == pins, "package-lock.json is not package.json's"
    if installed_at_lockfile(folder):
        return
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    assert installed_at_lockfile(folder)


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ecehub serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"ecehub serve never answered {url}:\n{log.read_text()}")


@pytest.mark.parametrize("mode", ["development", "production"])
def test_graphql_http_audits_pass(
    tmp_path: Path, mode: str, record_property: Callable[[str, object], None]
) -> None:
    node, npm = require_node()
    npm_ci(npm, AUDIT_DIR)
    # No access section: the audits ask `{ __typename }` anonymously; the view is the real one.
    config = tmp_path / "hub.yaml"
    config.write_text(
        f"hub: {{url: 'sqlite+aiosqlite:///{tmp_path / 'hub.db'}'}}\nserver: {{mode: {mode}}}\n"
    )
    port = free_port()
    log = tmp_path / "serve.log"
    serve = ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecehub", *serve, "--migrate"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc, log)
        audit = subprocess.run(
            [node, "audit.mjs", f"http://127.0.0.1:{port}/graphql"],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report = audit.stdout + audit.stderr
    found = SUMMARY.search(audit.stdout)
    assert found, f"no summary line from audit.mjs:\n{report}"
    # Printed at the end of the run (tests/conftest.py), so CI's output shows the audit's line.
    record_property("summary", f"{found.group(0)} [{mode} mode]")
    statuses = dict(AUDIT_LINE.findall(audit.stdout))
    assert len(statuses) == int(found.group(5)) == AUDITS, report
    failed = {audit_id for audit_id, status in statuses.items() if status != "ok"}
    if mode == "development":
        assert found.groups() == (str(AUDITS), "0", "0", "0", str(AUDITS)), report
        assert not failed and audit.returncode == 0, report
    else:
        assert failed == INTROSPECTING, report
        for block in re.split(r"\n(?=\S)", audit.stdout):
            if block[:4] in INTROSPECTING:
                assert "INTROSPECTION_DISABLED" in block, block
