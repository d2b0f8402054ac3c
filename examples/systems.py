"""The three example systems, written and served: the Head Start report as a database table
(SQLite, or PostgreSQL/MariaDB by URL), the state provider file as CSV, the open-data API on
a loopback port; and the environment the example configs read (``EXAMPLE_*``)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import create_async_engine

from examples.opendata import OpenDataApi, serve_opendata
from examples.world import PirRow, StateProvider, World, generate

__all__ = [
    "CONFIGS",
    "EXAMPLES_DIR",
    "PIR_TABLE",
    "STATE_FILE_COLUMNS",
    "ExampleSystems",
    "write_pir",
    "write_state_file",
]

EXAMPLES_DIR = Path(__file__).resolve().parent
CONFIGS = {
    "opendata": EXAMPLES_DIR / "opendata.yaml",
    "pir": EXAMPLES_DIR / "pir.yaml",
    "statefile": EXAMPLES_DIR / "statefile.yaml",
    "state": EXAMPLES_DIR / "state.yaml",
}
"""One config per system, and ``state``: the three together, merged on license number."""

STATE_FILE_COLUMNS = {
    "provider_id": "Provider ID",
    "provider_name": "Provider Name",
    "license_number": "License #",
    "city": "City",
    "qris_level": "QRIS Level",
    "rating_date": "Rating Date",
    "license_expires": "License Expires",
    "capacity": "Capacity",
}
"""The file's header, as the registry exports it."""

_metadata = MetaData()
PIR_TABLE = Table(
    "pir_program",
    _metadata,
    Column("grant_number", String(12), primary_key=True),
    Column("program_number", String(3), primary_key=True),
    Column("report_year", Integer, primary_key=True),
    Column("program_name", String(120)),
    Column("program_city", String(60)),
    Column("program_state", String(2)),
    Column("license_no", String(20)),
    Column("cumulative_enrollment", Integer),
    Column("funded_slots", Integer),
)


async def write_pir(url: str, rows: list[PirRow]) -> None:
    """The report table at ``url`` (dropped and created again)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_metadata.drop_all)
            await conn.run_sync(_metadata.create_all)
            await conn.execute(insert(PIR_TABLE), [dataclasses.asdict(r) for r in rows])
    finally:
        await engine.dispose()


def write_state_file(path: Path, providers: list[StateProvider]) -> None:
    """The provider file, quoted as spreadsheets quote (only where a cell needs it)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(STATE_FILE_COLUMNS.values())
        for provider in providers:
            writer.writerow(getattr(provider, name) for name in STATE_FILE_COLUMNS)


class ExampleSystems:
    """The three systems for the length of an ``async with`` block, with their data in
    ``data_dir``::

        async with ExampleSystems(tmp_path) as systems:
            config = load_config(CONFIGS["state"], env=systems.env)

    ``pir_url``: the report table's database (default a SQLite file in ``data_dir``).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        seed: int = 11,
        pir_url: str | None = None,
        port: int = 0,
        world: World | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.world = world if world is not None else generate(seed)
        self.pir_url = pir_url or f"sqlite+aiosqlite:///{data_dir / 'pir.db'}"
        self.state_file = data_dir / "providers.csv"
        self.port = port
        self.api: OpenDataApi | None = None
        self.url = ""
        self._serving = serve_opendata(self.world.facilities, port=port)

    @property
    def opendata(self) -> OpenDataApi:
        assert self.api is not None, "use ExampleSystems in `async with`"
        return self.api

    @property
    def env(self) -> dict[str, str]:
        """What the example configs read: ``${EXAMPLE_SODA_URL}`` and the others."""
        return {
            "EXAMPLE_SODA_URL": self.url,
            "EXAMPLE_PIR_URL": self.pir_url,
            "EXAMPLE_STATE_FILE": str(self.state_file),
            "EXAMPLE_HUB_URL": f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}",
        }

    async def __aenter__(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await write_pir(self.pir_url, self.world.pir)
        write_state_file(self.state_file, self.world.providers)
        self.api, self.url = await self._serving.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._serving.__aexit__(exc_type, exc, tb)
