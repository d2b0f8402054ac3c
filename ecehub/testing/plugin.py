"""The pytest plugin ``ecehub_conformance`` (entry point ``pytest11``), loaded wherever ecehub
is installed: it registers the ``conformance`` marker the kit's tests carry, so suites run
with ``--strict-markers`` accept them and ``-m conformance`` selects them."""

from __future__ import annotations

import pytest

__all__ = ["pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "conformance: a test of the ecehub connector conformance kit (ecehub.testing)",
    )
