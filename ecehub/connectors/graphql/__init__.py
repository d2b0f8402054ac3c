"""The ``graphql`` connector: a source that is itself a GraphQL API (aiohttp POST).

- :mod:`~ecehub.connectors.graphql.settings`: the config models (the endpoint, headers, and
  per entity the fields that fetch by keys, list by parent keys and page through records);
- :mod:`~ecehub.connectors.graphql.document`: the documents sent, made from the settings,
  every value a variable;
- :mod:`~ecehub.connectors.graphql.transport`: the session, one POST, and how an answer's
  ``errors`` are read;
- :mod:`~ecehub.connectors.graphql.connector`: :class:`GraphqlConnector`, the contract.
"""

from ecehub.connectors.graphql.connector import GraphqlConnector
from ecehub.connectors.graphql.settings import (
    GraphqlEntityConfig,
    GraphqlFilterArgument,
    GraphqlFindQuery,
    GraphqlKeysQuery,
    GraphqlSourceConfig,
)

__all__ = [
    "GraphqlConnector",
    "GraphqlEntityConfig",
    "GraphqlFilterArgument",
    "GraphqlFindQuery",
    "GraphqlKeysQuery",
    "GraphqlSourceConfig",
]
