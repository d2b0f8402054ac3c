"""The ``ecehub`` command: serve | demo | check | config schema | schema print | schema diff |
db | token | crosswalk suggest | review | apply | export | connectors | connector new |
cache drop."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ecehub.cli.cache import add_cache_parser
from ecehub.cli.common import config_option
from ecehub.cli.connectors import add_connector_parsers
from ecehub.cli.crosswalk import add_crosswalk_parser
from ecehub.cli.db import add_db_parser
from ecehub.cli.demo import cmd_demo
from ecehub.cli.schema import add_schema_parser
from ecehub.cli.server import cmd_check, cmd_config_schema, cmd_serve
from ecehub.cli.token import add_token_parser
from ecehub.errors import ConfigError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL hub for a config file")
    config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--migrate",
        action="store_true",
        help="upgrade the hub store to the newest revision first (else an older one is refused)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on one port (default 1; one per core: README 'Deploy')",
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run the hub over three seeded demo sector systems")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--programs", type=int, default=200, help="how many programs to seed")
    demo.add_argument("--data-dir", default=None, help="where the SQLite files go (default: temp)")
    demo.add_argument(
        "--qris-port", type=int, default=0, help="the demo QRIS API's port (default: a free one)"
    )
    demo.add_argument(
        "--config",
        help="a YAML file whose sources join the demo's (after them) and whose other "
        "sections are merged into the demo config's",
    )
    demo.add_argument(
        "--headstart-url",
        default=os.environ.get("ECEHUB_DEMO_HEADSTART_URL"),
        help="SQLAlchemy URL for the Head Start database (default: SQLite)",
    )
    demo.add_argument(
        "--licensing-url",
        default=os.environ.get("ECEHUB_DEMO_LICENSING_URL"),
        help="SQLAlchemy URL for the licensing database (default: SQLite)",
    )
    demo.set_defaults(func=cmd_demo)

    check = sub.add_parser("check", help="validate a config and ping every source")
    config_option(check, required=False)
    check.add_argument(
        "config_file", nargs="?", help="the config file, as --config (kept for older scripts)"
    )
    check.add_argument(
        "--profile",
        action="store_true",
        help="read a sample of every entity of every source and print, per field, how many "
        "values are filled, empty or unparsable (with examples)",
    )
    check.add_argument(
        "--sample", type=int, default=200, help="records read per entity (default 200)"
    )
    check.set_defaults(func=cmd_check)

    config_cmd = sub.add_parser("config", help="config tools")
    config_sub = config_cmd.add_subparsers(dest="config_command", required=True)
    config_schema = config_sub.add_parser(
        "schema", help="write a JSON Schema of the config file (for editors)"
    )
    config_schema.add_argument("--output", "-o", default=None)
    config_schema.set_defaults(func=cmd_config_schema)

    add_schema_parser(sub)
    add_db_parser(sub)
    add_token_parser(sub)
    add_crosswalk_parser(sub)
    add_connector_parsers(sub)
    add_cache_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
