"""``ecehub db upgrade | downgrade | current | prune-audit``: the hub store's migrations and
retention."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from ecehub.cli.common import CONFIG_MISSING, config_option
from ecehub.config import load_config

if TYPE_CHECKING:
    pass


__all__ = [
    "add_db_parser",
    "cmd_db",
    "cmd_prune_audit",
]


def _hub_store_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    if not args.config:
        raise SystemExit(f"ecehub db: {CONFIG_MISSING}, or --url")
    from ecehub.hub import hub_url

    return hub_url(load_config(args.config))


async def _db(args: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from ecehub.hub import migrate

    url = _hub_store_url(args)
    try:
        if args.db_command == "upgrade":
            revision = await migrate.upgrade(url, args.revision)
        elif args.db_command == "downgrade":
            revision = await migrate.downgrade(url, args.revision)
        else:
            revision = await migrate.current(url)
    except (CommandError, SQLAlchemyError, OSError) as exc:
        # The message names the failure, never the URL (it may hold a password).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"hub store {args.db_command} failed: {type(exc).__name__}: {reason}", file=sys.stderr
        )
        return 1
    print(f"hub store at revision {revision or '<empty>'} (newest: {migrate.head()})")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    return asyncio.run(_db(args))


async def _prune_audit(args: argparse.Namespace) -> int:
    import datetime as dt

    from ecehub.hub import HubStore

    days = args.days
    if days is None and args.config:
        days = load_config(args.config).hub.audit_retention_days
    if days is None or days < 1:
        print(
            "prune-audit: no retention: pass --days N (1 or more), or set "
            "hub.audit_retention_days in the config",
            file=sys.stderr,
        )
        return 2
    older_than = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    async with HubStore(_hub_store_url(args)) as store:
        deleted = await store.prune_audit(args.actor, older_than)
        expired = await store.prune_idempotency_keys()
    print(f"deleted {deleted} audit entries from before {older_than:%Y-%m-%d %H:%M} UTC")
    print(f"deleted {expired} expired idempotency keys")
    return 0


def cmd_prune_audit(args: argparse.Namespace) -> int:
    return asyncio.run(_prune_audit(args))


def add_db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="hub store migrations (Alembic, shipped in the package)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    commands = {
        "upgrade": ("upgrade the hub store (default: to the newest revision)", "head"),
        "downgrade": ("downgrade the hub store to a revision (base: drop all)", None),
        "current": ("print the hub store's revision", None),
    }
    for name, (help_text, default) in commands.items():
        command = db_sub.add_parser(name, help=help_text)
        where = command.add_mutually_exclusive_group()
        config_option(where, "YAML config file: its hub.url", required=False)
        where.add_argument("--url", help="SQLAlchemy URL of the hub store")
        if name == "upgrade":
            command.add_argument("--revision", default=default, help="target (default: head)")
        elif name == "downgrade":
            command.add_argument("--revision", required=True, help="target, e.g. base or -1")
        command.set_defaults(func=cmd_db)
    prune = db_sub.add_parser(
        "prune-audit",
        help="delete audit entries older than the retention (itself audited) and expired "
        "idempotency keys",
    )
    where = prune.add_mutually_exclusive_group()
    config_option(where, "YAML config file: its hub.url and audit_retention_days", required=False)
    where.add_argument("--url", help="SQLAlchemy URL of the hub store")
    prune.add_argument("--days", type=int, help="keep this many days (default: the config's)")
    prune.add_argument("--actor", default="ecehub-retention", help="who the audit names")
    prune.set_defaults(func=cmd_prune_audit)
