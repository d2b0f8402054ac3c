"""Schema extensions: source errors into ``errors[]`` and the per-source call trace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

__all__ = ["SourceReport"]


class SourceReport(SchemaExtension):
    """Adds one error per failed source (code SOURCE_UNAVAILABLE / SOURCE_TIMEOUT, with the
    source name) to a result that otherwise carries the data the other sources gave; with
    tracing on, adds ``extensions.sources: [{source, calls, ms}]``."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        gateway = getattr(context, "gateway", None)
        result = self.execution_context.result
        if gateway is None or result is None or not gateway.failures:
            return
        errors = list(getattr(result, "errors", None) or [])
        for failure in gateway.failures.values():
            errors.append(
                GraphQLError(
                    failure.message,
                    extensions={"code": failure.code, "source": failure.source},
                )
            )
        result.errors = errors

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if getattr(context, "trace", False):
            return {"sources": context.gateway.trace()}
        return {}
