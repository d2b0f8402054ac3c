"""Persisted queries: in ``allow_list`` mode only the queries of the allow-list file run
(``PERSISTED_QUERY_NOT_ALLOWED`` otherwise), named by their sha256 or sent as that text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from graphql import (
    ExecutionResult,
)
from strawberry.extensions import SchemaExtension

from ecehub.errors import ConfigError
from ecehub.schema.codes import coded

__all__ = [
    "PersistedQueries",
    "load_allow_list",
    "query_hash",
]


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """``{sha256 hex: query text}`` from a JSON file; every hash must match its text."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            str(path), [("server.persisted_queries.file", f"cannot read: {exc}")]
        ) from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigError(
            str(path), [("server.persisted_queries.file", "not a JSON object of hash: query")]
        )
    bad = [k for k, v in raw.items() if query_hash(v) != k.lower()]
    if bad:
        raise ConfigError(
            str(path),
            [("server.persisted_queries.file", f"hash does not match its query: {bad[0]}")],
            suggestion="the key is the sha256 hex digest of the query text, byte for byte",
        )
    return {k.lower(): v for k, v in raw.items()}


_NOT_ALLOWED_PLACEHOLDER = "query PersistedQueryNotAllowed { __typename }"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def _placeholder(operation_name: str | None) -> str:
    """The stand-in, named as the request names its operation: a refused request with an
    ``operationName`` is answered the refusal, not "unknown operation"."""
    if operation_name is not None and _NAME.fullmatch(operation_name):
        return f"query {operation_name} {{ __typename }}"
    return _NOT_ALLOWED_PLACEHOLDER


class PersistedQueries(SchemaExtension):
    """Allow-list mode: a request names an allowed query by
    ``extensions.persistedQuery.sha256Hash`` (its text may be left out) or sends an allowed
    text exactly; anything else is refused with ``PERSISTED_QUERY_NOT_ALLOWED``."""

    def __init__(self, allowed: Mapping[str, str]) -> None:
        self.allowed = allowed
        self.refused = False

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        persisted = (ctx.operation_extensions or {}).get("persistedQuery")
        wanted = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if isinstance(wanted, str):
            text = self.allowed.get(wanted.lower())
            self.refused = text is None or (ctx.query is not None and ctx.query != text)
        else:
            self.refused = ctx.query is None or query_hash(ctx.query) not in self.allowed
            text = ctx.query
        # Refused requests still get parsed and validated as a harmless stand-in, so the
        # answer is a GraphQL error rather than "no query found".
        ctx.query = _placeholder(ctx.operation_name) if self.refused else text
        yield

    def on_execute(self) -> Iterator[None]:
        if self.refused:
            self.execution_context.result = ExecutionResult(
                data=None,
                errors=[
                    coded(
                        "this server only runs allow-listed (persisted) queries",
                        "PERSISTED_QUERY_NOT_ALLOWED",
                    )
                ],
            )
        yield
