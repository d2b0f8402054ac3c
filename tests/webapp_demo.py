"""The demo world served in-process for the front end's tests: the three demo sector systems,
the hub seeded and its crosswalk suggestions made, ``create_app`` with the demo's token roster
(as ``ecehub demo`` builds it), served by uvicorn on a free loopback port. In-process so a
test can stop one sector system (the QRIS API) while the hub keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from ecehub.app import create_app
from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import parse_config, read_yaml
from ecehub.config.model import CacheConfig
from ecehub.crosswalk.suggest import suggest_links
from ecehub.demo import DemoSystems
from ecehub.demo.hub_seed import DEFAULT_HUB_PROGRAMS
from ecehub.demo.tokens import DemoTokens
from ecehub.resolvers.runtime import Runtime
from tests.serving import free_port

__all__ = ["ServedDemo", "serve_in_process", "served_demo"]


@dataclass
class ServedDemo:
    url: str
    """The server's root, ending in a slash."""
    demo: DemoSystems
    roster: DemoTokens


@contextlib.asynccontextmanager
async def served_demo(data_dir: Path, programs: int = 30) -> AsyncIterator[ServedDemo]:
    async with DemoSystems(
        programs=programs, data_dir=data_dir, hub_programs=DEFAULT_HUB_PROGRAMS
    ) as demo:
        data = read_yaml(demo.config_path)
        config = parse_config(data, file=str(demo.config_path), env={**os.environ, **demo.env})
        key = DevKey.load_or_create(data_dir / "dev-keys")
        # No cache: a sector system stopped in a test is seen at once (with the demo's memory
        # cache its records would still answer for up to cache.ttl_s, as they should).
        config = config.model_copy(
            update={"auth": dev_auth_config(key), "cache": CacheConfig(backend="none")}
        )
        runtime = Runtime(config)
        roster = DemoTokens(key, demo.world)
        app = create_app(config, runtime, dev_tokens=roster)
        await suggest_links(runtime, "program", actor="matcher@ecehub-test")
        async with serve_in_process(app) as url:
            yield ServedDemo(url, demo, roster)


@contextlib.asynccontextmanager
async def serve_in_process(app: ASGIApp) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port in this event loop; its root URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await serving
