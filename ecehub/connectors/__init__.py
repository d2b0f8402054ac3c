"""The connector contract and the plugin registry."""

from ecehub.config.canonical import ENTITIES, EntitySpec, identifier_field
from ecehub.connectors.base import (
    Connector,
    FieldFilter,
    FilterOp,
    Health,
    Page,
    Record,
    matches,
)
from ecehub.connectors.registry import (
    ENTRY_POINT_GROUP,
    available_kinds,
    get_connector_class,
    register,
)

__all__ = [
    "ENTITIES",
    "ENTRY_POINT_GROUP",
    "Connector",
    "EntitySpec",
    "FieldFilter",
    "FilterOp",
    "Health",
    "Page",
    "Record",
    "available_kinds",
    "get_connector_class",
    "identifier_field",
    "matches",
    "register",
]
