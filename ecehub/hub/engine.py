"""The hub store's async engine: where its URL comes from, and how SQLite is made to behave.

On SQLite (a file, by default next to the config) many coroutines write at once. What keeps
"database is locked" from surfacing:

- SQLAlchemy, not the ``sqlite3`` driver, emits ``BEGIN`` (the driver's legacy mode is turned
  off with ``isolation_level = None``), so every transaction really is one;
- a write transaction begins with ``BEGIN IMMEDIATE``: it takes the write lock before its
  first read, so it can never hold a read snapshot that a later write would have to upgrade
  (which SQLite refuses at once, without waiting); read transactions use a plain ``BEGIN``;
- ``busy_timeout`` (30 s) makes a writer wait for the lock instead of failing;
- WAL journaling lets readers go on while one writer writes; foreign keys are enforced.

Write sessions ask for ``BEGIN IMMEDIATE`` with the execution option :data:`WRITE_OPTION`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ecehub.config.model import Config

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "WRITE_OPTION", "create_hub_engine", "hub_url"]

WRITE_OPTION = "ecehub_hub_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def hub_url(config: Config) -> str:
    """The hub store URL of a config (``hub.url``). A relative SQLite path is taken relative
    to the config file's folder, so the store sits next to the config wherever the hub runs."""
    raw = config.hub.url.get_secret_value()
    url = make_url(raw)
    if url.get_backend_name() != "sqlite" or config.file is None:
        return raw
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return raw
    path = Path(database)
    if path.is_absolute():
        return raw
    return _render(url.set(database=str((config.file.parent / path).resolve())))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def create_hub_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for the hub store at ``url`` (SQLite tuned as described above)."""
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
