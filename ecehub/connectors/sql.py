"""The ``sql`` connector: SQLAlchemy async over PostgreSQL, MySQL/MariaDB and SQLite."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.base import Connector

__all__ = ["SqlConnector", "SqlEntityConfig", "SqlSourceConfig"]


class SqlEntityConfig(EntityConfig):
    """``table`` is a table or view name (optionally ``schema.table``); ``key``, ``fields``,
    ``identifiers`` and ``parent`` name its columns."""

    table: str


class SqlSourceConfig(SourceConfig):
    url: SecretStr = Field(description="SQLAlchemy async URL, e.g. postgresql+asyncpg://...")
    pool_size: int = Field(default=5, ge=1, le=100)
    entities: dict[str, SqlEntityConfig] = Field(default_factory=dict)  # type: ignore[assignment]


class SqlConnector(Connector):
    kind = "sql"
    settings_model: ClassVar[type[SourceConfig]] = SqlSourceConfig
