"""Capabilities, the contract version and the typed connector base."""

from __future__ import annotations

from typing import get_args

import pytest

from ecehub.config import EntityConfig, SourceConfig
from ecehub.connectors import CONTRACT_VERSION, Capabilities, FieldFilter, FilterOp, register
from ecehub.connectors.capabilities import ALL_FILTER_OPS, check_contract_version
from ecehub.errors import ConnectorNotFound
from tests.testing.memory import MemoryConnector, MemorySourceConfig


def test_the_operators_are_the_filter_ops_of_the_contract() -> None:
    assert frozenset(get_args(FilterOp)) == ALL_FILTER_OPS


@pytest.mark.parametrize("version", ["1.0", "1", "1.x", "one", 1.0])
def test_contract_versions(version: object) -> None:
    if version == CONTRACT_VERSION:
        check_contract_version("k", version)
        return
    with pytest.raises(ConnectorNotFound, match=r"not 'MAJOR\.MINOR'"):
        check_contract_version("k", version)


def test_a_newer_minor_or_another_major_is_refused_with_the_fix() -> None:
    with pytest.raises(ConnectorNotFound, match="newer than this ecehub") as newer:
        check_contract_version("k", "1.99")
    assert "upgrade ecehub" in str(newer.value)
    with pytest.raises(ConnectorNotFound, match="major versions differ") as other:
        check_contract_version("k", "0.9")
    assert "docs/connectors.md" in str(other.value)


def test_what_a_capability_pushes_down() -> None:
    caps = Capabilities(
        filter_ops={"eq"}, identifier_filters=False, filterable_fields={"name", "city"}
    )
    assert caps.pushes_down(FieldFilter("name", "eq", "x"))
    assert not caps.pushes_down(FieldFilter("name", "contains", "x"))
    assert not caps.pushes_down(FieldFilter("county", "eq", "x"))
    assert not caps.pushes_down(FieldFilter("identifier:LIC", "eq", "x"))
    assert caps.summary()["filterable_fields"] == ["city", "name"]
    with pytest.raises(ValueError, match="unknown operators"):
        Capabilities(filter_ops={"like"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_page_size"):
        Capabilities(max_page_size=0)


class TableEntity(EntityConfig):
    table: str


class TableSettings(SourceConfig[TableEntity]):
    database: str


def test_the_generic_argument_is_the_settings_model_and_types_entities() -> None:
    assert MemoryConnector.settings_model is MemorySourceConfig
    settings = TableSettings.model_validate(
        {"kind": "t", "database": "db", "entities": {"program": {"key": "k", "table": "x"}}}
    )
    table: str = settings.entities["program"].table  # typed: no cast, no type: ignore
    assert table == "x"
    with pytest.raises(ValueError, match="table"):
        TableSettings.model_validate(
            {"kind": "t", "database": "db", "entities": {"p": {"key": "k"}}}
        )


def test_a_connector_refuses_settings_of_another_model() -> None:
    with pytest.raises(TypeError, match="needs a MemorySourceConfig"):
        MemoryConnector("src", SourceConfig(kind="memory"))  # type: ignore[arg-type]


def test_capabilities_must_be_capabilities() -> None:
    class Sloppy(MemoryConnector):
        capabilities = {"supports_paging": False}  # type: ignore[assignment]

    with pytest.raises(ConnectorNotFound, match=r"not an ecehub\.connectors\.Capabilities"):
        register("sloppy", Sloppy)


def test_a_config_naming_a_connector_of_another_contract_fails_to_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import EntryPoint

    from ecehub.config import kinds, parse_config
    from ecehub.errors import ConfigError

    future = EntryPoint("future", "tests.testing.broken:PromisesAnotherContract", "x")

    def installed(**selection: str) -> list[EntryPoint]:
        return [future] if selection.get("name") in (None, "future") else []

    monkeypatch.setattr(kinds, "entry_points", installed)
    with pytest.raises(ConfigError) as refused:
        parse_config({"sources": {"acme": {"kind": "future"}}}, file="state.yaml")
    text = str(refused.value)
    assert "state.yaml" in text and "sources.acme.kind" in text
    assert "implements connector contract 2.0, this ecehub implements 1.0" in text
