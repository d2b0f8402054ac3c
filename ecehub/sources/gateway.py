"""The per-request gateway to the sources: failure isolation and call accounting.

Every source call of a request goes through one :class:`SourceGateway`, and within it through
the source's app-wide :class:`~ecehub.sources.resilience.SourceGuard` (circuit breaker,
retries, slots, the source's ``timeout_s``). A call that fails yields an empty result, records
one error for the source (``SOURCE_UNAVAILABLE``, ``SOURCE_TIMEOUT`` or
``SOURCE_CIRCUIT_OPEN``) and marks the source failed for the rest of the request, so a dead
source costs its timeout once, not once per nesting level. With the app's
:class:`~ecehub.metrics.Metrics`, every call is counted there too (by source, entity and
method, with its latency and the code it failed with), and traced as a span under the
request's when tracing is on (:func:`ecehub.tracing.source_span`). What a connector's
capabilities leave out (paging, some filters, children) the gateway has
:mod:`ecehub.sources.paging` do for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ecehub.connectors.base import Connector, FieldFilter, Page, Record
from ecehub.errors import SourceCircuitOpen, SourceError, SourceUnavailable
from ecehub.metrics import Metrics
from ecehub.sources.paging import HubPaging, Read, needs_hub_paging
from ecehub.sources.resilience import SourceGuard
from ecehub.tracing import source_span

__all__ = ["SourceFailure", "SourceGateway", "SourceStats"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class SourceStats:
    source: str
    calls: int = 0
    ms: float = 0.0


@dataclass(frozen=True)
class SourceFailure:
    source: str
    code: str
    message: str


class SourceGateway:
    def __init__(
        self,
        connectors: Mapping[str, Connector],
        metrics: Metrics | None = None,
        guards: Mapping[str, SourceGuard] | None = None,
    ) -> None:
        """``guards``: the app's, one per source (the runtime's); a source without one gets
        a guard of this gateway's own, which remembers nothing across requests."""
        self.connectors = connectors
        self.metrics = metrics
        self.guards: dict[str, SourceGuard] = dict(guards or {})
        self.stats: dict[str, SourceStats] = {}
        self.failures: dict[str, SourceFailure] = {}
        self.paging = HubPaging()

    def connector(self, source: str) -> Connector:
        return self.connectors[source]

    async def _call(self, source: str, op: str, call: Callable[[], Awaitable[T]], empty: T) -> T:
        """``op``: the method and the entity, ``"fetch program"``."""
        if source in self.failures:
            return empty
        guard = self.guards.get(source)
        if guard is None:
            guard = self.guards[source] = SourceGuard.for_connector(self.connectors[source])
        stats = self.stats.setdefault(source, SourceStats(source))
        stats.calls += 1
        error: SourceError | None = None
        started = time.perf_counter()
        span = source_span(source, op)  # a child of the request's span; nothing when not traced
        try:
            return span.answered(await guard.run(op, call))
        except SourceError as exc:
            error = exc
        except Exception:
            log.exception("source %s failed in %s", source, op)
            error = SourceUnavailable(source, f"{op} failed; see the hub's log")
        finally:
            seconds = time.perf_counter() - started
            stats.ms += seconds * 1000
            if self.metrics is not None:
                code = None if error is None else error.code
                method, _, entity = op.partition(" ")
                self.metrics.source_call(source, entity, method, seconds, code)
            span.end(None if error is None else error.code)
        assert error is not None  # the call returned unless it failed
        self._fail(error)
        return empty

    def _fail(self, exc: SourceError) -> None:
        if exc.source not in self.failures:
            # An open breaker refuses every request: its opening was logged, once.
            level = logging.DEBUG if isinstance(exc, SourceCircuitOpen) else logging.WARNING
            log.log(level, "%s (%s)", exc.message, exc.code)
            self.failures[exc.source] = SourceFailure(exc.source, exc.code, exc.message)

    async def fetch(self, source: str, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        conn = self.connectors[source]
        return await self._call(source, f"fetch {entity}", lambda: conn.fetch(entity, keys), {})

    async def children(
        self, source: str, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        conn = self.connectors[source]
        if not conn.capabilities.supports_children:
            read = self._whole_read(source, entity)
            return await self.paging.children(conn, entity, parent_entity, parent_keys, read)
        return await self._call(
            source,
            f"children {entity}",
            lambda: conn.children(entity, parent_entity, parent_keys),
            {},
        )

    async def find(
        self,
        source: str,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        conn = self.connectors[source]
        if needs_hub_paging(conn, filters):
            read = self._whole_read(source, entity)
            return await self.paging.find(conn, entity, filters, read, first=first, after=after)

        async def page(first: int | None, after: str | None) -> Page:
            found = await self._call(
                source,
                f"find {entity}",
                lambda: conn.find(entity, filters, first=first, after=after),
                Page([], False),
            )
            if found.has_next and (not found.records or found.records[-1].cursor is None):
                # A next page nobody can ask for: a failure to report, not a loop or a cut.
                self._fail(SourceUnavailable(source, "find answered has_next without a cursor"))
                return Page(found.records, False)
            return found

        largest = conn.capabilities.max_page_size
        if largest is None:
            return await page(first, after)
        return await self.paging.within_page_size(page, largest, first=first, after=after)

    def _whole_read(self, source: str, entity: str) -> Read:
        """``find`` of everything passing some filters, for :class:`HubPaging`."""
        conn = self.connectors[source]

        async def read(pushed: Sequence[FieldFilter]) -> Page:
            return await self._call(
                source, f"find {entity}", lambda: conn.find(entity, pushed), Page([], False)
            )

        return read

    def trace(self) -> list[dict[str, object]]:
        return [
            {"source": s.source, "calls": s.calls, "ms": round(s.ms, 1)}
            for s in sorted(self.stats.values(), key=lambda s: s.source)
        ]
