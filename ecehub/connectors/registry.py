"""Connector discovery: built-ins and partners register under the entry-point group
``ecehub.connectors`` (name = the ``kind`` used in config, see :mod:`ecehub.config.kinds`);
tests may :func:`register`. A class is checked when it is registered or first loaded, not at
query time: a subclass of :class:`Connector` with a settings model, a
:class:`Capabilities` and a contract version this hub implements."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, entry_points, version

from ecehub.config.kinds import (
    ENTRY_POINT_GROUP,
    available_kinds,
    check_settings_model,
    load_kind,
    remember,
)
from ecehub.connectors.base import Connector
from ecehub.connectors.capabilities import Capabilities, check_contract_version
from ecehub.errors import ConnectorNotFound, EcehubError

__all__ = [
    "ENTRY_POINT_GROUP",
    "InstalledConnector",
    "available_kinds",
    "get_connector_class",
    "installed_connectors",
    "register",
]


def _validate(kind: str, cls: type[Connector]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorNotFound(
            f"connector {kind!r} ({cls!r}) is not a subclass of ecehub.connectors.Connector",
            suggestion="subclass ecehub.connectors.Connector and implement its abstract methods",
        )
    check_settings_model(kind, cls)
    if not isinstance(cls.capabilities, Capabilities):
        raise ConnectorNotFound(
            f"connector {kind!r}: capabilities is a {type(cls.capabilities).__name__}, "
            "not an ecehub.connectors.Capabilities",
            suggestion="declare `capabilities = Capabilities(...)` on the class",
        )
    check_contract_version(kind, cls.contract_version)


def register(kind: str, cls: type[Connector]) -> None:
    """Register a connector class under ``kind`` (validated now, not at query time)."""
    _validate(kind, cls)
    remember(kind, cls)


def get_connector_class(kind: str) -> type[Connector]:
    cls = load_kind(kind)
    _validate(kind, cls)
    return cls


@dataclass(frozen=True)
class InstalledConnector:
    """One kind as ``ecehub connectors`` lists it; ``error`` when it does not load."""

    kind: str
    target: str
    """``module:Class``."""
    distribution: str | None
    """The installed package registering it, with its version (``None``: registered by
    code, or a built-in run from a checkout)."""
    contract_version: str | None = None
    capabilities: Capabilities | None = None
    error: str | None = None


def _distribution(kind: str) -> str | None:
    for point in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        dist = point.dist
        if dist is None:
            return None
        try:
            return f"{dist.name} {version(dist.name)}"
        except PackageNotFoundError:
            return dist.name
    return None


def installed_connectors() -> list[InstalledConnector]:
    """Every kind this hub can load, loaded and checked now (a kind that fails to load is
    listed with its error, so one broken package does not hide the others)."""
    found: list[InstalledConnector] = []
    for kind in available_kinds():
        distribution = _distribution(kind)
        try:
            cls = get_connector_class(kind)
        except (EcehubError, ImportError, AttributeError) as exc:
            found.append(InstalledConnector(kind, "?", distribution, error=str(exc)))
            continue
        found.append(
            InstalledConnector(
                kind,
                f"{cls.__module__}:{cls.__qualname__}",
                distribution,
                cls.contract_version,
                cls.capabilities,
            )
        )
    return found
