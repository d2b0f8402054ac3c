"""``ecehub schema print`` and ``ecehub schema diff``: the GraphQL schema a config builds, and
what changed between an older schema and it, for the clients that rely on it.

``diff`` uses graphql-core's ``find_breaking_changes`` and ``find_dangerous_changes`` (the
rules graphql-js and its tools apply): breaking changes (a field or type removed, an
argument made required, ...) fail clients that use what changed, so the command exits 1;
dangerous ones (an enum value or an optional argument added, a default changed, ...) may
change what a client gets, and are printed without failing. Both sides are read as SDL, so a
federation subgraph's SDL (with ``@key`` and ``@link``) compares as well as a plain one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    BreakingChange,
    DangerousChange,
    GraphQLError,
    GraphQLSchema,
    build_ast_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    validate_schema,
)

from ecehub.cli.common import config_option

__all__ = [
    "REFRESH_COMMAND",
    "SchemaChanges",
    "SchemaFileError",
    "add_schema_parser",
    "built_sdl",
    "compare",
    "read_sdl_schema",
]

REFRESH_COMMAND = ".venv/bin/ecehub schema print -o schema.graphql"
"""How a developer rewrites the committed schema.graphql (at the repository's root)."""


class SchemaFileError(Exception):
    """An SDL file that is missing, unreadable or not a GraphQL schema; the message names it."""


@dataclass(frozen=True)
class SchemaChanges:
    breaking: Sequence[BreakingChange]
    dangerous: Sequence[DangerousChange]

    def lines(self) -> list[str]:
        """One line per change: ``BREAKING``/``DANGEROUS``, graphql-core's kind, what."""
        return [
            *(f"BREAKING   {c.type.name:<40} {c.description}" for c in self.breaking),
            *(f"DANGEROUS  {c.type.name:<40} {c.description}" for c in self.dangerous),
        ]

    def summary(self) -> str:
        if not self.breaking and not self.dangerous:
            return "no breaking or dangerous changes"
        return f"{len(self.breaking)} breaking, {len(self.dangerous)} dangerous change(s)"


def built_sdl(config_path: str | None) -> str:
    """The SDL the config at ``config_path`` builds (the default config without one), as
    ``ecehub schema print`` writes it."""
    from ecehub.config import load_config
    from ecehub.schema import build_schema

    config = load_config(config_path) if config_path else None
    return build_schema(config).as_str() + "\n"


def _schema_of(sdl: str, where: str) -> GraphQLSchema:
    try:
        document = parse(sdl)
    except GraphQLError as exc:
        raise SchemaFileError(f"{where}: not GraphQL SDL: {exc.message} {_at(exc)}") from None
    try:
        # Directives defined elsewhere (federation's @key, @link) are not an error here.
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except (GraphQLError, TypeError) as exc:
        raise SchemaFileError(f"{where}: not a GraphQL schema: {exc}") from None
    problems = validate_schema(schema)
    if problems:
        first = "; ".join(p.message for p in problems[:3])
        raise SchemaFileError(f"{where}: not a valid GraphQL schema: {first}")
    return schema


def _at(error: GraphQLError) -> str:
    locations = error.locations or []
    return f"(line {locations[0].line}, column {locations[0].column})" if locations else ""


def read_sdl_schema(path: Path) -> GraphQLSchema:
    """The schema an SDL file holds; :class:`SchemaFileError` naming the file otherwise."""
    try:
        sdl = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaFileError(f"{path}: cannot be read: {exc}") from None
    return _schema_of(sdl, str(path))


def compare(old: GraphQLSchema, new: GraphQLSchema) -> SchemaChanges:
    return SchemaChanges(find_breaking_changes(old, new), find_dangerous_changes(old, new))


def cmd_schema_print(args: argparse.Namespace) -> int:
    sdl = built_sdl(args.config)
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)
    return 0


def cmd_schema_diff(args: argparse.Namespace) -> int:
    try:
        old = read_sdl_schema(Path(args.old))
        if args.new:
            new, new_name = read_sdl_schema(Path(args.new)), args.new
        else:
            new_name = f"the schema of {args.config}" if args.config else "the built schema"
            new = _schema_of(built_sdl(args.config), new_name)
    except SchemaFileError as exc:
        print(f"ecehub schema diff: {exc}", file=sys.stderr)
        return 2
    changes = compare(old, new)
    for line in changes.lines():
        print(line)
    print(f"{changes.summary()} from {args.old} to {new_name}")
    return 1 if changes.breaking else 0


def add_schema_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)

    printer = schema_sub.add_parser(
        "print", help="write the GraphQL SDL (of --config's settings, e.g. federation mode)"
    )
    config_option(printer, "YAML config file; without one, the default settings", required=False)
    printer.add_argument("--output", "-o", default=None)
    printer.set_defaults(func=cmd_schema_print)

    diff = schema_sub.add_parser(
        "diff",
        help="breaking and dangerous changes from OLD.graphql to the built schema (or --new); "
        "exit 1 on a breaking change",
    )
    diff.add_argument("old", metavar="OLD.graphql", help="the schema clients were built against")
    diff.add_argument("--new", metavar="NEW.graphql", help="compare with this SDL file instead")
    config_option(diff, "YAML config file the new schema is built with", required=False)
    diff.set_defaults(func=cmd_schema_diff)
