"""Build the strawberry Schema."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from ecehub.config.model import ServerConfig
from ecehub.schema.extensions import SourceReport
from ecehub.schema.files import FileMutations
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


def build_schema(server: ServerConfig | None = None) -> strawberry.Schema:
    server = server or ServerConfig()
    depth = server.max_depth
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=depth),
            lambda: MaxAliasesLimiter(max_alias_count=50),
            SourceReport,
        ],
    )
