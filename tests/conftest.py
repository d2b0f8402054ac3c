"""Shared fixtures: fresh databases on the real services, reset per test.

Service URLs come from the environment (defaults are the local services). Off CI a missing
service skips its tests with the reason; under CI=true it fails them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("ECEHUB_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("ECEHUB_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("ECEHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(url: str, what: str) -> None:
    """Skip (off CI) or fail (under CI=true) when the service at ``url`` is not listening."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port or 0), timeout=2):
            return
    except OSError as exc:
        reason = f"{what} not reachable at {host}:{port} ({exc}); set the URL env var or start it"
        if ON_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def _fresh_database(admin_url: str, what: str, create: str, drop: str) -> AsyncIterator[str]:
    """A new database on the server at ``admin_url`` (``create``/``drop`` are SQL templates
    taking ``{name}``), dropped afterwards."""
    require_service(admin_url, what)
    name = f"ecehub_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(create.format(name=name)))
    try:
        yield _with_database(admin_url, name)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(drop.format(name=name)))
        await admin.dispose()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    async for url in _fresh_database(
        PG_URL,
        "PostgreSQL",
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    ):
        yield url


@pytest.fixture
async def mariadb_url() -> AsyncIterator[str]:
    """URL of a new, empty MariaDB database, dropped after the test."""
    async for url in _fresh_database(
        MYSQL_URL,
        "MariaDB",
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
        "DROP DATABASE IF EXISTS `{name}`",
    ):
        yield url


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/source.db"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL on each of the three SQL backends (the test runs three times)."""
    name = {"sqlite": "sqlite_url", "postgresql": "postgres_url", "mariadb": "mariadb_url"}
    return str(request.getfixturevalue(name[request.param]))


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database for the hub store, on SQLite and on PostgreSQL (runs twice)."""
    name = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}
    return str(request.getfixturevalue(name[request.param]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Lines a test recorded as its ``summary`` property (the graphql-http audit's result),
    at the end of the run; they reach here from xdist workers too."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "summary":
                terminalreporter.write_line(str(value))
