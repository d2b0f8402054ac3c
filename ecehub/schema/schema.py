"""Build the strawberry Schema."""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema.config import StrawberryConfig

from ecehub.config.model import Config, ServerConfig
from ecehub.errors import ConfigError
from ecehub.schema.crosswalk import CrosswalkMutations, CrosswalkQueries
from ecehub.schema.edge import CleanLiterals, EcehubSchema, ErrorCodesOfExceptions, InputGuard
from ecehub.schema.extensions import AccessRules, SourceReport
from ecehub.schema.fastpath import FastExecution, plain_resolvers
from ecehub.schema.federation import build_federated_schema
from ecehub.schema.files import FileMutations
from ecehub.schema.limits import limit_extensions
from ecehub.schema.mutations import HubMutations
from ecehub.schema.query import ProgramQueries
from ecehub.schema.reports import ReportQueries

__all__ = ["Mutation", "Query", "build_schema"]


@strawberry.type
class Query(ProgramQueries, ReportQueries, CrosswalkQueries):
    """Root fields: each area of the schema contributes a base class."""


@strawberry.type
class Mutation(HubMutations, FileMutations, CrosswalkMutations):
    """Root mutations: each area of the schema contributes a base class."""


def _check_access_patterns(config: Config, schema: strawberry.Schema) -> None:
    """Every ``Type.field`` pattern of the access rules must name something in the schema: a
    misspelt rule would otherwise protect nothing, silently."""
    if config.access is None:
        return
    fields = [
        f"{name}.{field_name}"
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
        for field_name in t.fields
    ]
    where: list[tuple[str, str]] = []
    for role, rule in config.access.roles.items():
        for kind in ("allow", "deny"):
            for i, pattern in enumerate(getattr(rule, kind) or []):
                where.append((f"access.roles.{role}.{kind}[{i}]", pattern))
    where += [(f"access.sector_fields.{p}", p) for p in config.access.sector_fields]
    problems = [
        (path, f"{pattern!r} matches no Type.field of the schema (see `ecehub schema print`)")
        for path, pattern in where
        if not any(fnmatch.fnmatchcase(f, pattern) for f in fields)
    ]
    if problems:
        raise ConfigError(str(config.file or "<config>"), problems)


def build_schema(
    config: Config | ServerConfig | None = None, also_allowed: Mapping[str, str] | None = None
) -> strawberry.Schema:
    """The schema with the query limits of ``config.server`` (see :mod:`ecehub.schema.limits`);
    the cost estimate counts the sources of a whole :class:`Config`. ``also_allowed`` joins
    the persisted-query allow list (the served front end's own operations). With
    ``server.federation.enabled``, an Apollo Federation v2 subgraph of the same types."""
    if not isinstance(config, Config):
        config = Config(server=config or ServerConfig())
    base_dir = config.file.parent if config.file else None
    max_chars = config.server.max_input_chars
    clean_literals: CleanLiterals = weakref.WeakKeyDictionary()  # one per schema
    arguments: dict[str, Any] = {
        "query": Query,
        "mutation": Mutation,
        "config": StrawberryConfig(auto_camel_case=True),
        "execution_context_class": FastExecution,
        "extensions": [
            *limit_extensions(config, base_dir, also_allowed),
            lambda: InputGuard(max_chars, clean_literals),
            SourceReport,
            *([AccessRules] if config.access is not None else []),
            # exits before the limit extensions' ErrorCodes and MaskUnexpected
            ErrorCodesOfExceptions,
        ],
    }
    schema: strawberry.Schema
    if config.server.federation.enabled:
        # An Apollo Federation v2 subgraph (ecehub.schema.federation); off, the plain schema.
        schema = build_federated_schema(
            federation_version=config.server.federation.version, **arguments
        )
    else:
        schema = EcehubSchema(**arguments)
    _check_access_patterns(config, schema)
    plain_resolvers(schema)  # the plainest fields without strawberry's wrapping (fastpath)
    return schema
