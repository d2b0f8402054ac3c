"""The source roles an entity declares (``lookup_only``, ``list_only``) and the identifiers it
can be asked by (``identifiers_searchable``) are checked when the config loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ecehub.config import load_config
from ecehub.errors import ConfigError


def _write(tmp_path: Path, **program: Any) -> Path:
    config = {
        "sources": {
            "licensing": {
                "kind": "sql",
                "url": f"sqlite+aiosqlite:///{tmp_path}/l.db",
                "entities": {
                    "program": {
                        "table": "facility",
                        "key": "license_no",
                        "fields": {"name": "name"},
                        "identifiers": {"LICENSE_NUMBER": "license_no"},
                        **program,
                    }
                },
            }
        },
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
    }
    path = tmp_path / "ecehub.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_source_both_list_only_and_lookup_only_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, list_only=True, lookup_only=True))
    message = str(caught.value)
    assert "ecehub.yaml" in message and "sources.licensing.entities.program" in message
    assert "lookup_only and list_only exclude each other" in message


def test_searchable_identifiers_must_be_declared_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, identifiers_searchable=["LICENCE_NUMBER"]))
    assert "LICENCE_NUMBER" in str(caught.value) and "LICENSE_NUMBER" in str(caught.value)


def test_what_a_source_may_be_asked_by(tmp_path: Path) -> None:
    def program(**declared: Any) -> Any:
        return load_config(_write(tmp_path, **declared)).sources["licensing"].entities["program"]

    assert program().searchable("LICENSE_NUMBER")
    assert not program(identifiers_searchable=[]).searchable("LICENSE_NUMBER")
    assert program(identifiers_searchable=["LICENSE_NUMBER"]).searchable("LICENSE_NUMBER")
    assert not program(list_only=True).searchable("LICENSE_NUMBER")
