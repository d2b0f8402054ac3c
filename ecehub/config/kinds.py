"""Source kinds: which class serves each ``kind`` of source in config, found by name.

Built-ins and partners' connectors are plugins of the entry-point group
``ecehub.connectors`` (name = the ``kind``), loaded on first use, SQLAlchemy-dialect style; the
built-ins also resolve from a checkout that is not installed. Config needs a kind's settings
model only (:func:`settings_model`, to validate a source's settings when it is loaded); the
connector layer (:mod:`ecehub.connectors.registry`) checks that a class is a ``Connector`` and
registers classes for tests.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

from ecehub.config.model import SourceConfig
from ecehub.errors import ConnectorNotFound

__all__ = [
    "CONTRACT_VERSION",
    "ENTRY_POINT_GROUP",
    "available_kinds",
    "check_contract_version",
    "check_settings_model",
    "load_kind",
    "remember",
    "settings_model",
]

ENTRY_POINT_GROUP = "ecehub.connectors"

CONTRACT_VERSION: Final = "1.0"
"""The connector contract this hub implements (docs/connectors.md, "Versions"): a connector
declaring ``1.x`` with ``x`` at most this minor loads; another major is refused at load.
Re-exported as ``ecehub.connectors.CONTRACT_VERSION``."""

_BUILT_IN = {
    "sql": "ecehub.connectors.sql:SqlConnector",
    "rest": "ecehub.connectors.rest:RestConnector",
    "csv": "ecehub.connectors.csv:CsvConnector",
    "graphql": "ecehub.connectors.graphql:GraphqlConnector",
}

_classes: dict[str, type[Any]] = {}


def check_settings_model(kind: str, cls: type[Any]) -> type[SourceConfig]:
    """``cls.settings_model``, or :class:`ConnectorNotFound` when it is not a SourceConfig."""
    model = getattr(cls, "settings_model", None)
    if not (isinstance(model, type) and issubclass(model, SourceConfig)):
        raise ConnectorNotFound(
            f"connector {kind!r} has no settings_model subclassing SourceConfig",
            suggestion="set `settings_model = MySourceConfig` on the connector class",
        )
    return model


def remember(kind: str, cls: type[Any]) -> None:
    """Serve ``kind`` with ``cls`` from now on (checked by the caller)."""
    _classes[kind] = cls


def available_kinds() -> list[str]:
    kinds = set(_classes)
    kinds.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    kinds.update(_BUILT_IN)
    return sorted(kinds)


def load_kind(kind: str) -> type[Any]:
    """The class registered or installed for ``kind``; :class:`ConnectorNotFound` if none."""
    found = _classes.get(kind)
    if found is not None:
        return found
    points = list(entry_points(group=ENTRY_POINT_GROUP, name=kind))
    if not points and kind in _BUILT_IN:
        points = [EntryPoint(kind, _BUILT_IN[kind], ENTRY_POINT_GROUP)]
    for point in points:
        cls = point.load()
        check_settings_model(kind, cls)
        check_contract_version(kind, getattr(cls, "contract_version", None))
        _classes[kind] = cls
        return cls  # type: ignore[no-any-return]
    raise ConnectorNotFound(
        f"no connector of kind {kind!r}",
        suggestion=f"use one of {', '.join(available_kinds())}, or install the package that "
        f"registers {kind!r} under the entry-point group {ENTRY_POINT_GROUP!r}",
    )


def settings_model(kind: str) -> type[SourceConfig]:
    """The settings model that validates a source of ``kind``."""
    return check_settings_model(kind, load_kind(kind))


def _parse(version: object) -> tuple[int, int] | None:
    if not isinstance(version, str):
        return None
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def check_contract_version(kind: str, version: object) -> None:
    """Refuse a connector built for another major version of the contract, or for a newer
    minor one than this hub's (it may rely on what this hub does not have yet)."""
    hub_major, hub_minor = _parse(CONTRACT_VERSION) or (0, 0)
    parsed = _parse(version)
    if parsed is None:
        raise ConnectorNotFound(
            f"connector {kind!r} declares contract_version {version!r}, not 'MAJOR.MINOR'",
            suggestion=f"set `contract_version = {CONTRACT_VERSION!r}` on the connector class",
        )
    major, minor = parsed
    if major != hub_major:
        raise ConnectorNotFound(
            f"connector {kind!r} implements connector contract {version}, this ecehub "
            f"implements {CONTRACT_VERSION}: major versions differ",
            suggestion="install a release of the connector built for contract "
            f"{hub_major}.x, or an ecehub release for contract {major}.x "
            "(docs/connectors.md, 'Versions')",
        )
    if minor > hub_minor:
        raise ConnectorNotFound(
            f"connector {kind!r} implements connector contract {version}, newer than this "
            f"ecehub's {CONTRACT_VERSION}",
            suggestion=f"upgrade ecehub to a release implementing contract {version} or later",
        )
