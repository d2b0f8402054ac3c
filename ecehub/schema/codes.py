"""A GraphQL error with the ``code`` (and details) clients test, for the limits' refusals."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

__all__ = ["coded"]


def coded(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})
