"""The kit catches every kind of bug it claims to (docs/connectors.md, "What the kit
catches"): each connector of tests/testing/broken.py has one bug, and the kit, run on it as a
partner runs it, fails with a message naming that bug; the correct connector passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecehub.connectors import register
from ecehub.errors import ConnectorNotFound
from tests.testing.broken import BROKEN, PromisesAnotherContract

pytest_plugins = ["pytester"]

KIT_RUN = """
from collections.abc import AsyncIterator

from pathlib import Path

import pytest

from ecehub.config import parse_config
from ecehub.connectors import Connector, register
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements, entity_mapping
from tests.testing.broken import BROKEN, UndeclaredNoPaging
from tests.testing.memory import MemoryConnector

register("memory", MemoryConnector)


def build(cls, *, down=False):
    source = {
        "kind": "memory",
        "entities": {entity: entity_mapping(entity) for entity in CONFORMANCE_DATA},
        "rows": CONFORMANCE_DATA,
        "down": down,
    }
    config = parse_config({"sources": {"memory_src": source}}, file="<kit>")
    return cls("memory_src", config.sources["memory_src"])


class KitRun(ConnectorConformance):
    cls = MemoryConnector
    call_bound_s = 2.0

    @pytest.fixture
    async def connector(self):
        connector = build(self.cls)
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self):
        connector = build(self.cls, down=True)
        yield connector
        await connector.aclose()


class TestMemoryConnector(KitRun):
    pass


for broken in BROKEN:
    requirements = Requirements(supports_paging=broken is not UndeclaredNoPaging)
    name = f"Test{broken.__name__}"
    globals()[name] = type(name, (KitRun,), {"cls": broken, "requirements": requirements})
"""


def test_the_kit_fails_each_broken_connector_naming_its_bug(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_kit_run=KIT_RUN)
    run = pytester.inline_run(
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=session",
        "-o",
        "asyncio_default_test_loop_scope=session",
        "-q",
    )
    failures: dict[str, list[str]] = {}
    passed: dict[str, int] = {}
    for report in run.getreports("pytest_runtest_logreport"):
        owner = report.nodeid.split("::")[1]
        if report.failed:
            failures.setdefault(owner, []).append(report.longreprtext)
        elif report.passed and report.when == "call":
            passed[owner] = passed.get(owner, 0) + 1
    assert "TestMemoryConnector" not in failures, failures.get("TestMemoryConnector")
    assert passed["TestMemoryConnector"] >= 60, "the correct connector ran the whole kit"
    missed = {
        broken.__name__: broken.catches
        for broken in BROKEN
        if not any(broken.catches in text for text in failures.get(f"Test{broken.__name__}", []))
    }
    assert not missed, f"the kit did not fail with these messages: {missed}"


def test_a_connector_of_another_contract_version_is_refused_when_registered() -> None:
    with pytest.raises(ConnectorNotFound, match="major versions differ"):
        register("memory_v2", PromisesAnotherContract)


def test_the_contract_document_lists_every_bug_the_kit_catches() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "connectors.md").read_text()
    section = doc[doc.index("### What the kit catches") : doc.index("## 7. Versions")]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]  # no header
    assert len(rows) == len(BROKEN)
    unlisted = [b.__name__ for b in BROKEN if b.catches not in section]
    assert not unlisted, f"docs/connectors.md does not quote what the kit says for {unlisted}"
