"""``ecehub cache drop``: forget cached source answers (all of a source's, one entity's, or one
record's). It reaches the cache of every replica when the backend is Redis; the memory backend
lives inside each serving process, out of this command's reach."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ecehub.cli.common import config_option
from ecehub.config import load_config

__all__ = ["add_cache_parser", "cmd_cache_drop"]


async def _drop(args: argparse.Namespace) -> int:
    from ecehub.sources.cache import SourceCache

    config = load_config(args.config)
    if args.source not in config.sources:
        print(
            f"ecehub cache drop: unknown source {args.source!r}; sources: "
            f"{', '.join(config.sources)}",
            file=sys.stderr,
        )
        return 2
    entities = config.sources[args.source].entities
    if args.entity is not None and args.entity not in entities:
        print(
            f"ecehub cache drop: source {args.source!r} has no entity {args.entity!r}; it has: "
            f"{', '.join(entities)}",
            file=sys.stderr,
        )
        return 2
    if config.cache.backend != "redis":
        print(
            f"ecehub cache drop: cache.backend is {config.cache.backend}: nothing shared to drop "
            "(the memory cache lives in each serving process: restart it, or send "
            "`Cache-Control: no-cache` with a token of a cache.bypass_roles role)",
            file=sys.stderr,
        )
        return 1
    cache = SourceCache.from_config(config)
    assert cache is not None  # backend redis
    try:
        await cache.drop(args.source, args.entity, args.key)
    except Exception as exc:  # the backend's errors are many; its address never printed
        print(f"ecehub cache drop: the cache backend failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        await cache.aclose()
    what = (
        args.source
        + (f" {args.entity}" if args.entity else "")
        + (f" {args.key}" if args.key else "")
    )
    print(f"dropped the cached answers of {what}")
    return 0


def cmd_cache_drop(args: argparse.Namespace) -> int:
    if args.key is not None and args.entity is None:
        print("ecehub cache drop: --key needs --entity", file=sys.stderr)
        return 2
    return asyncio.run(_drop(args))


def add_cache_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = sub.add_parser("cache", help="the source cache")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    drop = cache_sub.add_parser(
        "drop", help="forget cached answers of a source, one of its entities, or one record"
    )
    config_option(drop)
    drop.add_argument("--source", required=True)
    drop.add_argument("--entity", default=None)
    drop.add_argument("--key", default=None, help="one record's key (with --entity)")
    drop.set_defaults(func=cmd_cache_drop)
