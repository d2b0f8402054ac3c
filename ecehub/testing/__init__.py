"""Testing tools for connector authors: the conformance kit (:mod:`ecehub.testing.conformance`).

Needs pytest and pytest-asyncio (``pip install "ecehub[test]"``); installing ecehub also
installs the pytest plugin ``ecehub_conformance`` (:mod:`ecehub.testing.plugin`).

The kit is imported on first use, not with this package: pytest loads the plugin at start-up
in every session where ecehub is installed, and should not import the hub's modules then
(coverage would miss their import-time lines).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ecehub.testing.conformance import (
        ALL_FILTER_OPS,
        CONFORMANCE_DATA,
        FILTER_CASES,
        ConnectorConformance,
        FilterCase,
        Requirements,
        build_connector,
        entity_mapping,
    )

__all__ = [
    "ALL_FILTER_OPS",
    "CONFORMANCE_DATA",
    "FILTER_CASES",
    "ConnectorConformance",
    "FilterCase",
    "Requirements",
    "build_connector",
    "entity_mapping",
]

# Before the kit is imported: pytest rewrites its asserts so a failure shows the values.
pytest.register_assert_rewrite("ecehub.testing.conformance")


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("ecehub.testing.conformance"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
