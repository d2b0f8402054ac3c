"""``ecehub serve``, ``check`` and ``config schema``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ecehub.cli.common import CONFIG_ENV, CONFIG_MISSING, serve_app, settle_heap
from ecehub.config import load_config
from ecehub.logs import setup_logging

if TYPE_CHECKING:
    pass


__all__ = [
    "cmd_check",
    "cmd_config_schema",
    "cmd_serve",
    "worker_app",
]


async def _store_ready(url: str, migrate_it: bool) -> str | None:
    """Why the hub store at ``url`` cannot be served (``None``: it is at the newest
    revision, after upgrading it when ``migrate_it``)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from ecehub.hub import migrate

    try:
        revision = await (migrate.upgrade(url) if migrate_it else migrate.current(url))
    except (CommandError, SQLAlchemyError, OSError) as exc:
        # The message names the failure, never the URL (it may hold a password).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"the hub store could not be read: {type(exc).__name__}: {reason}"
    if revision != migrate.head():
        return (
            f"the hub store is at revision {revision or '<empty>'}, this ecehub needs "
            f"{migrate.head()}: run `ecehub db upgrade --config CONFIG` first, or serve with "
            "--migrate"
        )
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from ecehub.app import create_app
    from ecehub.hub import hub_url

    if args.workers < 1:
        print("ecehub serve: --workers must be at least 1", file=sys.stderr)
        return 2
    config = load_config(args.config)
    setup_logging(config.server.log_format)
    refused = asyncio.run(_store_ready(hub_url(config), args.migrate))
    if refused is not None:
        print(f"ecehub serve: {refused}", file=sys.stderr)
        return 1
    if args.workers > 1:
        # Each worker process builds its own app from the same file (worker_app).
        os.environ[CONFIG_ENV] = str(Path(args.config).resolve())
        serve_app(f"{__name__}:worker_app", args.host, args.port, workers=args.workers)
        return 0
    serve_app(create_app(config), args.host, args.port)
    return 0


def worker_app() -> object:
    """The app of one ``serve --workers N`` worker process: the config named by
    ``$ECEHUB_CONFIG`` (set by ``cmd_serve``), logging as configured, the heap settled as in
    a single process."""
    from ecehub.app import create_app

    config = load_config(os.environ[CONFIG_ENV])
    setup_logging(config.server.log_format)
    app = create_app(config)
    settle_heap()
    return app


async def _check(config_path: str, profile_sample: int | None) -> int:
    from ecehub.resolvers.runtime import Runtime
    from ecehub.schema import build_schema

    config = load_config(config_path)
    build_schema(config)  # the access rules' field patterns are checked against the schema
    runtime = Runtime(config)
    failed = 0
    try:
        healthy = []
        for health in await runtime.health():
            conn = runtime.connectors[health.source]
            problems = await conn.verify() if health.ok else []
            ok = health.ok and not problems
            failed += not ok
            if health.ok:
                healthy.append(conn)
            detail = "; ".join(problems) or health.detail
            print(
                f"{'ok  ' if ok else 'FAIL'}  {health.source:<20} {conn.kind:<6} "
                f"{health.latency_ms:8.1f} ms  {detail}".rstrip()
            )
        if profile_sample is not None:
            from ecehub.cli.profile import profile

            for conn in healthy:
                failed += await profile(conn, profile_sample)
    finally:
        await runtime.aclose()
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    config = args.config_file or args.config
    if not config:
        print(f"ecehub check: {CONFIG_MISSING}", file=sys.stderr)
        return 2
    if args.sample < 1:
        print("ecehub check: --sample must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(_check(config, args.sample if args.profile else None))


def cmd_config_schema(args: argparse.Namespace) -> int:
    import json

    from ecehub.config.schema import config_json_schema

    text = json.dumps(config_json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
