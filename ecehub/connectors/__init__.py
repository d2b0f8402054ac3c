"""The connector contract and the plugin registry."""

from ecehub.config.canonical import ENTITIES, EntitySpec, identifier_field
from ecehub.connectors.base import (
    CONTRACT_VERSION,
    Capabilities,
    Connector,
    FieldFilter,
    FilterOp,
    Health,
    Page,
    Record,
    SettingsT,
    matches,
)
from ecehub.connectors.registry import (
    ENTRY_POINT_GROUP,
    InstalledConnector,
    available_kinds,
    get_connector_class,
    installed_connectors,
    register,
)

__all__ = [
    "CONTRACT_VERSION",
    "ENTITIES",
    "ENTRY_POINT_GROUP",
    "Capabilities",
    "Connector",
    "EntitySpec",
    "FieldFilter",
    "FilterOp",
    "Health",
    "InstalledConnector",
    "Page",
    "Record",
    "SettingsT",
    "available_kinds",
    "get_connector_class",
    "identifier_field",
    "installed_connectors",
    "matches",
    "register",
]
