"""The committed schema.graphql is the schema this code builds (with the default settings):
a change to the public schema shows in review as a change to that file, and CI fails until
the developer has looked at what it breaks and refreshed it."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema as build_sdl_schema

from ecehub.cli.schema import REFRESH_COMMAND, built_sdl, compare, read_sdl_schema
from ecehub.config import Config, ServerConfig
from ecehub.config.model import FederationConfig
from ecehub.schema import build_schema

COMMITTED = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_the_committed_schema_is_the_built_schema() -> None:
    built = built_sdl(None)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed == built:
        return
    changes = compare(read_sdl_schema(COMMITTED), build_sdl_schema(built)) if committed else None
    listed = "\n".join(changes.lines()) if changes else "(no schema.graphql committed)"
    raise AssertionError(
        "schema.graphql is not the schema this code builds. Review what changes for clients "
        "with `.venv/bin/ecehub schema diff schema.graphql` (exit 1: breaking changes; say so "
        f"in the commit message), then refresh it: `{REFRESH_COMMAND}`\n{listed}"
    )


def test_building_a_federation_schema_leaves_the_plain_one_unchanged() -> None:
    """Federation mode keys Program, Site and Staff only while its own schema is built: a
    plain schema built after it is still the committed one, with no @key anywhere."""
    plain = built_sdl(None)
    federated = build_schema(Config(server=ServerConfig(federation=FederationConfig(enabled=True))))
    assert federated.as_str().count('@key(fields: "id"') == 3
    assert built_sdl(None) == plain == COMMITTED.read_text(encoding="utf-8")
    assert "@key" not in plain and "_entities" not in plain
