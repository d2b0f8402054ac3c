"""Alembic environment of the hub store.

:mod:`ecehub.hub.migrate` runs it on a connection it hands over in
``config.attributes["connection"]`` (inside one transaction: an upgrade applies whole or not
at all). Run by the ``alembic`` command line instead, it builds an async engine from the
``sqlalchemy.url`` option and migrates through ``connection.run_sync``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from ecehub.hub.engine import WRITE_OPTION, create_hub_engine
from ecehub.hub.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_hub_engine(url)
    try:
        async with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        run_on(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url, or migrate with `ecehub db upgrade`")
    if context.is_offline_mode():
        run_offline(url)
    else:
        asyncio.run(run_on_url(url))


main()
