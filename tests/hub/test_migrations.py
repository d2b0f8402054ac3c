"""The shipped Alembic revisions: from empty to head, down to base and up again, the models
and the migrations agree, and ``ecehub db`` runs them without printing the URL."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Connection

from ecehub.cli import main
from ecehub.config import parse_config
from ecehub.hub import HubStore, create_hub_engine, current, downgrade, head, hub_url, upgrade
from ecehub.hub.models import Base

HUB_TABLES = {
    "activity_entry",
    "audit_entry",
    "crosswalk_hub_id",
    "crosswalk_link",
    "crosswalk_state",
    "file_attachment",
    "funding_entry",
    "idempotency_key",
    "note",
    "pd_plan",
    "pd_plan_goal",
    "pd_training",
    "qip",
    "qip_goal",
    "qip_task",
}


async def _on(url: str, work: Any) -> Any:
    engine = create_hub_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _differences(metadata: MetaData) -> Any:
    def work(connection: Connection) -> Any:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    return work


async def test_upgrade_from_empty_then_down_to_base_and_up_again(hub_db_url: str) -> None:
    assert await current(hub_db_url) is None
    assert await upgrade(hub_db_url) == head() == "0004"
    assert await current(hub_db_url) == "0004"
    assert await _on(hub_db_url, _tables) == HUB_TABLES

    assert await downgrade(hub_db_url, "base") is None
    assert await _on(hub_db_url, _tables) == set()

    assert await upgrade(hub_db_url) == "0004"
    assert await _on(hub_db_url, _tables) == HUB_TABLES
    assert await upgrade(hub_db_url) == "0004"  # already at head: nothing to do


async def test_0003_adds_and_removes_only_the_idempotency_keys(migrated_url: str) -> None:
    async with HubStore(migrated_url) as store:
        goal = await store.create_goal("coach", "P-1", {"title": "Kept"}, idempotency_key="k")
    assert await downgrade(migrated_url, "0002") == "0002"
    assert await _on(migrated_url, _tables) == HUB_TABLES - {"idempotency_key"}
    async with HubStore(migrated_url) as store:
        assert await store.get_goal(goal.id) == goal  # the objects stay; only the keys go
    assert await upgrade(migrated_url) == "0004"
    assert await _on(migrated_url, _tables) == HUB_TABLES
    async with HubStore(migrated_url) as store:  # the key is gone: a new goal
        again = await store.create_goal("coach", "P-1", {"title": "Kept"}, idempotency_key="k")
    assert again.id != goal.id


async def test_models_and_migrations_agree(migrated_url: str) -> None:
    assert await _on(migrated_url, _differences(Base.metadata)) == []

    # The comparison is not blind: a column the migrations lack shows up.
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["qip"].append_column(Column("extra", Integer))
    differences = await _on(migrated_url, _differences(drifted))
    assert [d[0] for d in differences] == ["add_column"]


def test_a_relative_sqlite_hub_url_sits_next_to_the_config(tmp_path: Path) -> None:
    config = parse_config(
        {"hub": {"url": "sqlite+aiosqlite:///./state-hub.db"}}, file=str(tmp_path / "s.yaml")
    )
    assert hub_url(config) == f"sqlite+aiosqlite:///{tmp_path.resolve()}/state-hub.db"
    absolute = parse_config({"hub": {"url": "postgresql+asyncpg://u:p@db/hub"}}, file="s.yaml")
    assert hub_url(absolute) == "postgresql+asyncpg://u:p@db/hub"


async def _ecehub(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ecehub",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_db_upgrade_uses_the_configs_hub_url(tmp_path: Path) -> None:
    """Run as users run it: ``python -m ecehub`` in a subprocess."""
    config = tmp_path / "state.yaml"
    config.write_text("hub:\n  url: sqlite+aiosqlite:///./hub.db\n", encoding="utf-8")
    code, out, err = await _ecehub("db", "upgrade", "--config", str(config))
    assert (code, err) == (0, "")
    assert out == "hub store at revision 0004 (newest: 0004)\n"
    assert (tmp_path / "hub.db").exists()
    assert "sqlite" not in out

    code, out, _ = await _ecehub("db", "downgrade", "--config", str(config), "--revision", "base")
    assert (code, out) == (0, "hub store at revision <empty> (newest: 0004)\n")


async def test_db_upgrade_failure_never_prints_the_url(
    unused_tcp_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+asyncpg://hub:s3cret-pw@127.0.0.1:{unused_tcp_port}/hub"
    assert await asyncio.to_thread(main, ["db", "upgrade", "--url", url]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("hub store upgrade failed: ")
    assert "s3cret-pw" not in out + err and url not in out + err


async def test_db_upgrade_and_current_by_url(
    hub_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["db", "current", "--url", hub_db_url]) == 0
    assert await asyncio.to_thread(main, ["db", "upgrade", "--url", hub_db_url]) == 0
    assert await asyncio.to_thread(main, ["db", "current", "--url", hub_db_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "hub store at revision <empty> (newest: 0004)",
        "hub store at revision 0004 (newest: 0004)",
        "hub store at revision 0004 (newest: 0004)",
    ]
    assert await current(hub_db_url) == "0004"
