"""Connector discovery: built-ins and partners register under the entry-point group
``ecehub.connectors`` (name = the ``kind`` used in config, see :mod:`ecehub.config.kinds`);
tests may :func:`register`. A class is checked when it is registered or first loaded, not at
query time."""

from __future__ import annotations

from ecehub.config.kinds import (
    ENTRY_POINT_GROUP,
    available_kinds,
    check_settings_model,
    load_kind,
    remember,
)
from ecehub.connectors.base import Connector
from ecehub.errors import ConnectorNotFound

__all__ = ["ENTRY_POINT_GROUP", "available_kinds", "get_connector_class", "register"]


def _validate(kind: str, cls: type[Connector]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorNotFound(
            f"connector {kind!r} ({cls!r}) is not a subclass of ecehub.connectors.Connector",
            suggestion="subclass ecehub.connectors.Connector and implement its abstract methods",
        )
    check_settings_model(kind, cls)


def register(kind: str, cls: type[Connector]) -> None:
    """Register a connector class under ``kind`` (validated now, not at query time)."""
    _validate(kind, cls)
    remember(kind, cls)


def get_connector_class(kind: str) -> type[Connector]:
    cls = load_kind(kind)
    _validate(kind, cls)
    return cls
