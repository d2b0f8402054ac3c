"""Schema migrations of the hub store (Alembic), run from code: no ``alembic.ini`` needed.

The revisions ship inside the package (``ecehub/hub/migrations``). Each command runs in one
transaction on both backends, so a failed upgrade leaves the previous revision in place.
``ecehub db upgrade`` calls :func:`upgrade`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ecehub.hub.engine import WRITE_OPTION, create_hub_engine

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current",
    "downgrade",
    "head",
    "revision_on",
    "upgrade",
]

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """An Alembic config for the shipped revisions; migrations run on ``connection``."""
    config = AlembicConfig(attributes={"connection": connection} if connection else {})
    # configparser interpolation: a literal % in the install path must be doubled
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


@functools.cache
def head() -> str:
    """The newest revision shipped with this version of ecehub."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "the hub store has no migrations"
    return revision


def _revision_of(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


async def _in_transaction(url: str, work: Callable[[Connection], T]) -> T:
    engine = create_hub_engine(url)
    try:
        async with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> str | None:
    """Upgrade the hub store at ``url`` to ``revision``; returns the revision it is now at."""

    def work(connection: Connection) -> str | None:
        command.upgrade(alembic_config(connection), revision)
        return _revision_of(connection)

    return await _in_transaction(url, work)


async def downgrade(url: str, revision: str) -> str | None:
    """Downgrade to ``revision`` (``"base"`` drops every hub table); returns where it is now."""

    def work(connection: Connection) -> str | None:
        command.downgrade(alembic_config(connection), revision)
        return _revision_of(connection)

    return await _in_transaction(url, work)


async def current(url: str) -> str | None:
    """The revision the hub store at ``url`` is at (``None`` for an empty database)."""
    return await _in_transaction(url, _revision_of)


async def revision_on(engine: AsyncEngine) -> str | None:
    """The revision of the hub store ``engine`` reads (a plain read, no write lock)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revision_of)
