"""Create a demo database from a SQLAlchemy ``MetaData`` and fill it from world records, on
SQLite, PostgreSQL or MariaDB alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Float, MetaData, Numeric, Select, String, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["CHUNK_ROWS", "ExactDecimal", "score_type", "seed_database"]

CHUNK_ROWS = 1000


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(precision, scale)`` for money. SQLite has no exact decimal (a NUMERIC column
    there turns "2500.10" into a float), so on SQLite the value is stored as its text."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return f"{Decimal(value):.{self.scale}f}"
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def score_type(precision: int = 4, scale: int = 2) -> TypeEngine[float]:
    """A small scored number (1-7 scales, risk weights): ``NUMERIC`` where the database has
    it, read back as ``float``; plain ``REAL`` on SQLite, where NUMERIC means float anyway."""
    return Numeric(precision, scale, asdecimal=False).with_variant(Float(), "sqlite")


def _rows(records: Sequence[Any], columns: list[str]) -> list[dict[str, Any]]:
    if not records:
        return []
    names = {f.name for f in dataclasses.fields(records[0])}
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{type(records[0]).__name__} has no field for columns {missing}")
    return [{c: getattr(r, c) for c in columns} for r in records]


async def _drop_views(conn: AsyncConnection, views: Mapping[str, Select[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for name in views:
        await conn.execute(text(f"DROP VIEW IF EXISTS {quote(name)}"))


async def _create_views(conn: AsyncConnection, views: Mapping[str, Select[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for name, select in views.items():
        body = select.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        await conn.execute(text(f"CREATE VIEW {quote(name)} AS {body}"))


async def seed_database(
    url: str,
    metadata: MetaData,
    records: Mapping[str, Sequence[Any]],
    views: Mapping[str, Select[Any]] | None = None,
) -> None:
    """Drop and recreate every table (and view) of ``metadata`` at ``url``, then insert
    ``records`` (table name -> dataclass records whose field names are the column names) in
    chunks. Running it twice leaves the same database."""
    views = views or {}
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _drop_views(conn, views)
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
            for table in metadata.sorted_tables:
                rows = _rows(records.get(table.name, ()), [c.name for c in table.columns])
                for start in range(0, len(rows), CHUNK_ROWS):
                    await conn.execute(table.insert(), rows[start : start + CHUNK_ROWS])
            await _create_views(conn, views)
    finally:
        await engine.dispose()
