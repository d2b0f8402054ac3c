"""Schema extensions: source errors into ``errors[]``, the per-source call trace, and the
access rules of fields."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from ecehub.crosswalk.identity import Merged
from ecehub.hub.enums import ObjectType

__all__ = ["UNAUTHENTICATED", "AccessRules", "SourceReport", "client_message", "unauthenticated"]

UNAUTHENTICATED = (
    "writes need an acting user: send a bearer token (auth mode jwt) or, in the "
    "development header mode, the X-Ecehub-User header"
)


def unauthenticated() -> GraphQLError:
    """The error of a write without an acting user: every mutation answers it, before its
    input is looked at (here for anonymous requests under access rules, in
    :func:`ecehub.schema.arguments.acting_user` otherwise)."""
    return GraphQLError(UNAUTHENTICATED, extensions={"code": "UNAUTHENTICATED"})


def client_message(code: str, source: str, message: str) -> str:
    """What a client reads of a source failure: a timeout and an open circuit breaker say
    ecehub's own words (the breaker's: when it tries the source again); any other failure
    only that the source is unavailable, never the source's or the database's message (the
    gateway has logged it)."""
    if code in ("SOURCE_TIMEOUT", "SOURCE_CIRCUIT_OPEN"):
        return message
    return f"source {source!r} is unavailable; its data is missing from this answer"


class SourceReport(SchemaExtension):
    """Adds one error per failed source (code SOURCE_UNAVAILABLE / SOURCE_TIMEOUT /
    SOURCE_CIRCUIT_OPEN, with the source name) to a result that otherwise carries the data
    the other sources gave; with tracing on, adds ``extensions.sources: [{source, calls,
    ms}]``.

    A source whose failure cached answers fully stood in for (stale-if-error) gets no error:
    it is listed in ``extensions.stale: [{source, ageSeconds}]`` (the oldest answer's age,
    whole seconds) instead. One that failed leaving something unanswered gets its error and,
    if stale answers stood in for part of it, is listed there too.

    With tracing on, each source's entry also has ``unparsable``: per entity and field, how
    many records this request read from it with a value that did not parse (read as null),
    and one such value as ``example`` when the request's role may read that field."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        gateway = getattr(context, "gateway", None)
        result = self.execution_context.result
        if gateway is None or result is None:
            return
        failures = gateway.reported_failures()
        if not failures:
            return
        errors = list(getattr(result, "errors", None) or [])
        for failure in failures:
            errors.append(
                GraphQLError(
                    client_message(failure.code, failure.source, failure.message),
                    extensions={"code": failure.code, "source": failure.source},
                )
            )
        result.errors = errors

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        gateway = getattr(context, "gateway", None)
        results: dict[str, Any] = {}
        if gateway is not None and gateway.stale:
            results["stale"] = [
                {"source": source, "ageSeconds": int(age)}
                for source, age in sorted(gateway.stale.items())
            ]
        if getattr(context, "trace", False):
            access = getattr(context, "access", None)

            def shows(entity: str, name: str) -> bool:
                # An example is a source value: shown only to a reader who may read the
                # field it belongs to (the one access rule), never to others.
                return access is None or access.value_denial(entity, name) is None

            results["sources"] = context.gateway.trace(shows)
        return results


class AccessRules(SchemaExtension):
    """Every field a request's role may not read (``allow``/``deny``/``sector_fields``)
    resolves to null with an error coded FORBIDDEN naming the rule, and is noted for the
    audit log; every mutation of an anonymous request is UNAUTHENTICATED (and noted too);
    values left out of an answer that goes on (``provenance(fields: [...])``, see
    ``RequestContext.refuse``) add an error coded FORBIDDEN each; at the end of the operation
    the request's refused accesses are written to the audit log (action DENY). Only
    installed when the config has an ``access`` section."""

    field_denial_only = True
    """Its :meth:`resolve` passes a query field through exactly when
    ``Access.field_denial`` finds nothing: :class:`~ecehub.schema.fastpath.FastExecution`
    asks that itself for the fields it completes (mutations are never completed there)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        refused = getattr(context, "refused", None)
        if result is None or not refused:
            return
        errors = list(getattr(result, "errors", None) or [])
        errors += [
            GraphQLError(message, path=path, extensions={"code": "FORBIDDEN"})
            for message, path in refused
        ]
        result.errors = errors

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        name = self.execution_context.operation_name
        if context is not None and hasattr(context, "operation"):
            kind = self.execution_context.operation_type.value
            context.operation = f"{kind} {name}" if name else kind
        yield
        if context is not None and hasattr(context, "flush_denials"):
            await context.flush_denials()

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        context = info.context
        access = context.access
        if access.enabled:
            type_name, field_name = info.parent_type.name, info.field_name
            if context.actor is None and info.parent_type is info.schema.mutation_type:
                # A write without an acting user: UNAUTHENTICATED (as README "Authentication"
                # says), whatever the anonymous role may read; refused, so audited too.
                context.deny(None, ObjectType.FIELD, f"{type_name}.{field_name}", UNAUTHENTICATED)
                raise unauthenticated()
            reason = access.field_denial(type_name, field_name)
            if reason is not None:
                # Program, Site and Staff carry their merged object: a refused program field
                # is audited under that program.
                merged = getattr(root, "merged", None)
                program = None
                if isinstance(merged, Merged) and merged.entity == "program":
                    program = merged.hub_id
                context.deny(program, ObjectType.FIELD, f"{type_name}.{field_name}", reason)
                raise GraphQLError(reason, extensions={"code": "FORBIDDEN"})
        return _next(root, info, *args, **kwargs)
