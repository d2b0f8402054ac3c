"""What a source call cost the source: HTTP requests (or SQL statements, or file reads) and
rows read, counted by the connector and reported per source in a request's trace
(``extensions.sources``) next to the hub's own count of connector calls.

The gateway opens a :class:`Usage` per source call (:func:`counting`); a connector calls
:func:`count` wherever it sends a request or reads rows. The count follows the call into the
tasks it starts (a context variable), and a connector call outside a gateway (a script, a
test) counts nothing. A connector that never calls :func:`count` reports ``null``, not 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Usage", "count", "counting"]


@dataclass
class Usage:
    """``requests``: HTTP requests sent (REST, GraphQL, a CSV file over HTTP), SQL statements
    run, or files read; ``rows``: records the source sent (REST: records received in the
    answers, before the hub's own filtering; SQL: rows the statements returned).
    ``counted``: whether the connector reports at all."""

    requests: int = 0
    rows: int = 0
    counted: bool = False


_current: ContextVar[Usage | None] = ContextVar("ecehub_source_usage", default=None)


def count(*, requests: int = 0, rows: int = 0) -> None:
    """Add to the usage of the source call running (nothing outside one)."""
    usage = _current.get()
    if usage is not None:
        usage.requests += requests
        usage.rows += rows
        usage.counted = True


@contextmanager
def counting(usage: Usage) -> Iterator[Usage]:
    """Count the connector's requests and rows into ``usage`` until the block ends."""
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)
