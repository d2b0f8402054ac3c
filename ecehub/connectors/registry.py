"""Connector discovery: built-ins and partners register under the entry-point group
``ecehub.connectors`` (name = the ``kind`` used in config); tests may :func:`register`."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ecehub.errors import ConnectorNotFound

if TYPE_CHECKING:
    from ecehub.connectors.base import Connector

__all__ = ["ENTRY_POINT_GROUP", "available_kinds", "get_connector_class", "register"]

ENTRY_POINT_GROUP = "ecehub.connectors"

_registered: dict[str, type[Connector]] = {}


def _validate(kind: str, cls: type[Connector]) -> None:
    from ecehub.config.model import SourceConfig
    from ecehub.connectors.base import Connector

    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorNotFound(
            f"connector {kind!r} ({cls!r}) is not a subclass of ecehub.connectors.Connector",
            suggestion="subclass ecehub.connectors.Connector and implement its abstract methods",
        )
    model = getattr(cls, "settings_model", None)
    if not (isinstance(model, type) and issubclass(model, SourceConfig)):
        raise ConnectorNotFound(
            f"connector {kind!r} has no settings_model subclassing SourceConfig",
            suggestion="set `settings_model = MySourceConfig` on the connector class",
        )


def register(kind: str, cls: type[Connector]) -> None:
    """Register a connector class under ``kind`` (validated now, not at query time)."""
    _validate(kind, cls)
    _registered[kind] = cls


def available_kinds() -> list[str]:
    kinds = set(_registered)
    kinds.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    kinds.update({"sql", "rest"})
    return sorted(kinds)


def get_connector_class(kind: str) -> type[Connector]:
    if kind in _registered:
        return _registered[kind]
    # Built-ins resolve even when the package is not installed (e.g. run from a checkout).
    if kind == "sql":
        from ecehub.connectors.sql import SqlConnector

        register(kind, SqlConnector)
        return SqlConnector
    if kind == "rest":
        from ecehub.connectors.rest import RestConnector

        register(kind, RestConnector)
        return RestConnector
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        cls = ep.load()
        register(kind, cls)
        return cls  # type: ignore[no-any-return]
    raise ConnectorNotFound(
        f"no connector of kind {kind!r}",
        suggestion=f"use one of {', '.join(available_kinds())}, or install the package that "
        f"registers {kind!r} under the entry-point group {ENTRY_POINT_GROUP!r}",
    )
