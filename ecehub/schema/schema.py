"""Build the strawberry Schema."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from ecehub.config.model import Config, ServerConfig
from ecehub.schema.extensions import AccessRules, SourceReport
from ecehub.schema.files import FileMutations
from ecehub.schema.limits import limit_extensions
from ecehub.schema.mutations import HubMutations
from ecehub.schema.query import ProgramQueries
from ecehub.schema.reports import ReportQueries

__all__ = ["Mutation", "Query", "build_schema"]


@strawberry.type
class Query(ProgramQueries, ReportQueries):
    """Root fields: each area of the schema contributes a base class."""


@strawberry.type
class Mutation(HubMutations, FileMutations):
    """Root mutations: each area of the schema contributes a base class."""


def build_schema(config: Config | ServerConfig | None = None) -> strawberry.Schema:
    """The schema with the query limits of ``config.server`` (see :mod:`ecehub.schema.limits`);
    the cost estimate counts the sources of a whole :class:`Config`."""
    if not isinstance(config, Config):
        config = Config(server=config or ServerConfig())
    base_dir = config.file.parent if config.file else None
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            *limit_extensions(config, base_dir),
            SourceReport,
            *([AccessRules] if config.access is not None else []),
        ],
    )
