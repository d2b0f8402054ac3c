"""Every public module declares ``__all__``, and every name in it exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import ecehub

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(ecehub.__path__, "ecehub.") if m.name != "ecehub.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_module_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def test_the_connector_package_exports_the_contract() -> None:
    from ecehub import connectors

    for name in ("Connector", "Record", "FieldFilter", "Page", "Health", "register", "matches"):
        assert name in connectors.__all__
