"""Hub-store fixtures: each test runs on a fresh SQLite file and a fresh PostgreSQL database,
migrated to head by the shipped Alembic revisions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ecehub.config.model import DEFAULT_SUPPORT_TYPES
from ecehub.hub import HubStore, upgrade

SUPPORT_TYPES = [s.code for s in DEFAULT_SUPPORT_TYPES]
PROGRAM = "LICENSE_NUMBER:CCL-104233"
OTHER_PROGRAM = "@head_start:12"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each backend (SQLite is a file, never ``:memory:``)."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    return str(request.getfixturevalue(fixture))


@pytest.fixture
async def migrated_url(hub_db_url: str) -> str:
    await upgrade(hub_db_url)
    return hub_db_url


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[HubStore]:
    async with HubStore(migrated_url, support_types=SUPPORT_TYPES) as hub_store:
        yield hub_store
