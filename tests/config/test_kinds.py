"""The built-in source kinds resolve two ways, and both must agree: the entry points an
install registers (pyproject) and the map a checkout that is not installed falls back on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ecehub.config import kinds
from ecehub.config.model import SourceConfig
from ecehub.connectors import Connector, get_connector_class

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_points_and_the_built_in_map_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"][kinds.ENTRY_POINT_GROUP] == kinds._BUILT_IN


@pytest.mark.parametrize("kind", ["sql", "rest", "csv", "graphql"])
def test_every_built_in_kind_loads(kind: str) -> None:
    cls = get_connector_class(kind)
    assert issubclass(cls, Connector) and cls.kind == kind
    assert issubclass(kinds.settings_model(kind), SourceConfig)
    assert kind in kinds.available_kinds()
