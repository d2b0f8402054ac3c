"""Run the three demo sector systems together: seeded Head Start and Licensing databases and
a live QRIS API, with the environment the demo config (``demo.yaml``) reads."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from ecehub.demo.headstart import seed_headstart
from ecehub.demo.hub_seed import SeedSummary, seed_hub
from ecehub.demo.levels import NoiseLevel
from ecehub.demo.licensing import seed_licensing
from ecehub.demo.qris import QrisServer
from ecehub.demo.world import World, generate_world
from ecehub.hub.migrate import upgrade

__all__ = ["DEMO_CONFIG", "DemoSystems"]

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")
"""The packaged demo config (a copy of the repository's ``config/demo.yaml``)."""


class DemoSystems:
    """Seed and run the demo systems for the duration of an ``async with`` block::

        async with DemoSystems(programs=200, data_dir=tmp_path) as demo:
            config = load_config(demo.config_path, env=demo.env)

    Head Start and Licensing are SQLite files in ``data_dir`` (a temporary directory when
    none is given) unless ``headstart_url`` / ``licensing_url`` name other databases (e.g.
    PostgreSQL or MariaDB, which are then dropped and re-created table by table). QRIS is
    served on a loopback port (``qris_port``, default a free one) with a fresh random API key.

    ``hub_programs`` > 0 seeds the hub store (QIPs, notes, activity, funding) for that many
    programs, the first ones the sample query of ``ecehub demo`` lists among them
    (:func:`ecehub.demo.hub_seed.seed_hub`; programs that already have a QIP are left alone).

    ``noise`` is how much the systems' records drift from the truth (a level of
    :data:`~ecehub.demo.NOISE_LEVELS`, e.g. ``"hardest"``; see ``generate_world``).
    """

    def __init__(
        self,
        programs: int = 200,
        data_dir: Path | None = None,
        headstart_url: str | None = None,
        licensing_url: str | None = None,
        qris_delay_s: float = 0.0,
        seed: int = 7,
        hub_url: str | None = None,
        hub_programs: int = 0,
        noise: str | NoiseLevel = "default",
        qris_port: int = 0,
    ) -> None:
        self.programs = programs
        self.qris_port = qris_port
        self.seed = seed
        self.noise = noise
        self.data_dir = data_dir
        self._headstart_url = headstart_url
        self._licensing_url = licensing_url
        self._qris_delay_s = qris_delay_s
        self._hub_url = hub_url
        self.hub_programs = hub_programs
        self.hub_seed: SeedSummary | None = None
        """What seeding the hub store wrote (``None`` when ``hub_programs`` is 0)."""
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._qris: QrisServer | None = None
        self._world: World | None = None
        self.env: dict[str, str] = {}
        """HEADSTART_DB_URL, LICENSING_DB_URL, QRIS_API_URL, QRIS_API_KEY and ECEHUB_HUB_URL
        (the hub store, migrated to the newest revision)."""
        self.config_path = DEMO_CONFIG

    @property
    def world(self) -> World:
        """The data the systems were seeded with (still readable after the block ends)."""
        if self._world is None:
            raise RuntimeError("the demo systems have not been started; use `async with`")
        return self._world

    @property
    def qris(self) -> QrisServer:
        """The QRIS server: ``demo.qris.delay_s = 5`` makes it slow from now on."""
        if self._qris is None:
            raise RuntimeError("the demo systems are not running; use `async with`")
        return self._qris

    def _data_path(self, name: str) -> Path:
        """A path in the data dir (a temporary one when none was given)."""
        if self.data_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="ecehub-demo-")
            self.data_dir = Path(self._tempdir.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return (self.data_dir / name).resolve()

    def _sqlite_url(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{self._data_path(name)}"

    async def __aenter__(self) -> Self:
        world = generate_world(self.programs, self.seed, noise=self.noise)
        headstart_url = self._headstart_url or self._sqlite_url("headstart.db")
        licensing_url = self._licensing_url or self._sqlite_url("licensing.db")
        hub_url = self._hub_url or self._sqlite_url("hub.db")
        try:
            await seed_headstart(headstart_url, world)
            await seed_licensing(licensing_url, world)
            await upgrade(hub_url)
            if self.hub_programs > 0:
                self.hub_seed = await seed_hub(hub_url, world, programs=self.hub_programs)
            api_key = secrets.token_urlsafe(24)
            self._qris = QrisServer(world, api_key, delay_s=self._qris_delay_s, port=self.qris_port)
            qris_url = await self._qris.start()
        except BaseException:
            self._cleanup()
            raise
        self._world = world
        self.env = {
            "HEADSTART_DB_URL": headstart_url,
            "LICENSING_DB_URL": licensing_url,
            "QRIS_API_URL": qris_url,
            "QRIS_API_KEY": api_key,
            "ECEHUB_HUB_URL": hub_url,
            # Uploads go beside the demo's databases, never inside the package.
            "ECEHUB_FILES_DIR": str(self._data_path("files")),
        }
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._qris is not None:
                await self._qris.stop()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None
            self.data_dir = None

    async def stop_qris(self) -> None:
        """Take the QRIS API down (connections are refused until :meth:`start_qris`)."""
        await self.qris.stop()

    async def start_qris(self) -> None:
        """Bring the QRIS API back on the same URL."""
        await self.qris.start()
