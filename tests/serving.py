"""Serving on loopback in tests: a free port, ``ecehub serve`` as a subprocess waited for until
it answers (bounded generously: CI shares two cores), and an aiohttp app (a fake upstream
source, identity provider or collector) on a port of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from aiohttp import web

__all__ = ["free_port", "loopback", "serving"]


@contextlib.asynccontextmanager
async def loopback(app: web.Application) -> AsyncIterator[str]:
    """``app`` served by aiohttp on 127.0.0.1, on a free port, until the block ends; yields
    its base URL (``http://127.0.0.1:PORT``)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(
    config: Path, *args: str, stderr: int | None = asyncio.subprocess.DEVNULL
) -> AsyncIterator[tuple[asyncio.subprocess.Process, httpx.AsyncClient]]:
    """``ecehub serve --config CONFIG [ARGS]`` on a free port, once it answers /healthz; a
    client for it. Terminated on leaving."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ecehub", "serve", "--config", str(config)),
        *("--port", str(port), *args),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
        env=dict(os.environ),
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):  # up to 30 s on a loaded machine
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("ecehub serve never answered /healthz")
            yield proc, client
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
