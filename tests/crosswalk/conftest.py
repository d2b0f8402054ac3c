"""Crosswalk-store fixtures: a fresh SQLite file and a fresh PostgreSQL database per test,
migrated to head (the hub store's fixtures), with the crosswalk store on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ecehub.crosswalk.store import CrosswalkStore
from tests.hub.conftest import SUPPORT_TYPES, hub_db_url, migrated_url

__all__ = ["hub_db_url", "migrated_url"]


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[CrosswalkStore]:
    async with CrosswalkStore(migrated_url, support_types=SUPPORT_TYPES) as crosswalk:
        yield crosswalk
