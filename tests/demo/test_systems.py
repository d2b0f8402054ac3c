"""DemoSystems: seeds both databases, serves QRIS, and gives the demo config its env."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ecehub.config import load_config
from ecehub.demo import DEMO_CONFIG, DemoSystems

ENV_NAMES = {
    "HEADSTART_DB_URL",
    "LICENSING_DB_URL",
    "QRIS_API_URL",
    "QRIS_API_KEY",
    "ECEHUB_HUB_URL",
    "ECEHUB_FILES_DIR",
}


async def _count(url: str, table: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
    finally:
        await engine.dispose()


async def test_demo_systems_on_sqlite(tmp_path: Path) -> None:
    async with DemoSystems(programs=40, data_dir=tmp_path) as demo:
        assert set(demo.env) == ENV_NAMES
        assert (tmp_path / "headstart.db").is_file()
        assert (tmp_path / "licensing.db").is_file()
        assert demo.env["LICENSING_DB_URL"].startswith("sqlite+aiosqlite:///")
        assert await _count(demo.env["LICENSING_DB_URL"], "facility") == 40
        centers = len(demo.world.head_start.centers)
        assert await _count(demo.env["HEADSTART_DB_URL"], "center_program") == centers
        assert demo.config_path == DEMO_CONFIG

        config = load_config(demo.config_path, env=demo.env)
        assert list(config.sources) == ["licensing", "head_start", "qris"]

        key = {"X-API-Key": demo.env["QRIS_API_KEY"]}
        async with aiohttp.ClientSession(demo.env["QRIS_API_URL"], headers=key) as session:
            async with session.get("/v1/providers") as resp:
                assert resp.status == 200
                total = (await resp.json())["meta"]["total"]
            assert total == len(demo.world.qris.providers)

            await demo.stop_qris()
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get("/v1/health"):
                    pass
            await demo.start_qris()
            async with session.get("/v1/health") as resp:
                assert resp.status == 200
        url = demo.env["QRIS_API_URL"]

    assert len(demo.world.licensing.facilities) == 40  # the data outlives the systems
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(f"{url}/v1/health"):
                pass


def test_nothing_to_read_before_the_systems_start() -> None:
    demo = DemoSystems(programs=5)
    with pytest.raises(RuntimeError, match="async with"):
        _ = demo.world
    with pytest.raises(RuntimeError, match="async with"):
        _ = demo.qris


async def test_each_run_has_its_own_api_key(tmp_path: Path) -> None:
    async with (
        DemoSystems(programs=5, data_dir=tmp_path / "a") as one,
        DemoSystems(programs=5, data_dir=tmp_path / "b") as two,
    ):
        assert one.env["QRIS_API_KEY"] != two.env["QRIS_API_KEY"]
        assert one.env["QRIS_API_URL"] != two.env["QRIS_API_URL"]
        assert len(one.env["QRIS_API_KEY"]) >= 32


async def test_without_a_data_dir_the_files_are_temporary() -> None:
    async with DemoSystems(programs=5) as demo:
        data_dir = demo.data_dir
        assert data_dir is not None and (data_dir / "licensing.db").is_file()
    assert not data_dir.exists()


async def test_given_database_urls_are_used(tmp_path: Path, sqlite_url: str) -> None:
    headstart = f"sqlite+aiosqlite:///{tmp_path}/hs-elsewhere.db"
    async with DemoSystems(
        programs=10, data_dir=tmp_path / "unused", headstart_url=headstart, licensing_url=sqlite_url
    ) as demo:
        assert demo.env["HEADSTART_DB_URL"] == headstart
        assert demo.env["LICENSING_DB_URL"] == sqlite_url
        assert await _count(sqlite_url, "facility") == 10
    assert not (tmp_path / "unused" / "headstart.db").exists()


async def test_slow_qris(tmp_path: Path) -> None:
    async with DemoSystems(programs=5, data_dir=tmp_path, qris_delay_s=0.3) as demo:
        assert demo.qris.delay_s == 0.3
        timeout = aiohttp.ClientTimeout(total=0.1)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(TimeoutError):
                async with session.get(demo.env["QRIS_API_URL"] + "/v1/health"):
                    pass
