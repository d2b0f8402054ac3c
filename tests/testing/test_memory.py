"""The kit passes the in-memory connector the kit's own tests break one bug at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ecehub.connectors import Connector, register
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, build_connector, entity_mapping
from tests.testing.memory import MemoryConnector

register("memory", MemoryConnector)


def memory_source(*, down: bool = False) -> dict[str, object]:
    return {
        "kind": "memory",
        "entities": {entity: entity_mapping(entity) for entity in CONFORMANCE_DATA},
        "rows": CONFORMANCE_DATA,
        "down": down,
    }


class TestMemoryConformance(ConnectorConformance):
    @pytest.fixture
    async def connector(self) -> AsyncIterator[Connector]:
        connector = build_connector("memory_src", memory_source())
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self) -> AsyncIterator[Connector]:
        connector = build_connector("memory_src", memory_source(down=True))
        yield connector
        await connector.aclose()
