"""The per-request gateway to the sources: timeouts, failure isolation and call accounting.

Every source call of a request goes through one :class:`SourceGateway`. A call that fails or
exceeds the source's ``timeout_s`` yields an empty result, records one error for the source
(``SOURCE_UNAVAILABLE`` or ``SOURCE_TIMEOUT``) and marks the source failed for the rest of the
request, so a dead source costs its timeout once, not once per nesting level. With the app's
:class:`~ecehub.metrics.Metrics`, every call is counted there too (by source, entity and
method, with its latency and the code it failed with).

With the app's :class:`~ecehub.sources.cache.SourceCache` (a request's
:class:`~ecehub.sources.cache.CacheSession`), ``fetch``, ``children`` and ``find`` look in the
cache first and ask the source (through :meth:`SourceGateway._call`) only for what it does not
hold fresh. When the source fails, older entries (up to ``stale_max_age_s``) answer instead:
the source is then listed in :attr:`SourceGateway.stale` with their age, and its error is
reported only if something stayed unanswered (:meth:`SourceGateway.reported_failures`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ecehub.connectors.base import Connector, FieldFilter, Page, Record
from ecehub.errors import SourceError, SourceTimeout, SourceUnavailable
from ecehub.metrics import Metrics
from ecehub.sources.cache import CacheRead, CacheSession, Failed

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
        cache: CacheSession | None = None,
    ) -> None:
        self.connectors = connectors
        self.metrics = metrics
        self.cache = cache
        self.stats: dict[str, SourceStats] = {}
        self.failures: dict[str, SourceFailure] = {}
        """Sources that failed in this request (asked no more): the first failure of each."""
        self.stale: dict[str, float] = {}
        """Sources cached answers stood in for while they failed: the oldest one's age (s)."""
        self.unanswered: set[str] = set()
        """Sources that failed leaving something out of the answer (not covered stale)."""

    def connector(self, source: str) -> Connector:
        return self.connectors[source]

    async def _call(self, source: str, op: str, call: Callable[[], Awaitable[T]], empty: T) -> T:
        """``op``: the method and the entity, ``"fetch program"``."""
        if source in self.failures:
            return empty
        connector = self.connectors[source]
        stats = self.stats.setdefault(source, SourceStats(source))
        stats.calls += 1
        error: SourceError | None = None
        started = time.perf_counter()
        try:
            async with asyncio.timeout(connector.timeout_s):
                return await call()
        except TimeoutError:
            error = SourceTimeout(source, f"no answer within {connector.timeout_s:g} s ({op})")
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
        assert error is not None  # the call returned unless it failed
        self._fail(error)
        return empty

    def _fail(self, exc: SourceError) -> None:
        if exc.source not in self.failures:
            log.warning("%s (%s)", exc.message, exc.code)
            self.failures[exc.source] = SourceFailure(exc.source, exc.code, exc.message)

    def reported_failures(self) -> list[SourceFailure]:
        """The failures to report in ``errors[]``: those of sources whose failure left
        something out of the answer (not those stale entries fully stood in for)."""
        return [f for source, f in self.failures.items() if source in self.unanswered]

    async def _ask(
        self, source: str, op: str, call: Callable[[], Awaitable[T]], empty: T
    ) -> T | Failed:
        """:meth:`_call`, telling a real answer from the ``empty`` of a failed (or skipped)
        call: by whether ``call`` returned, so :meth:`_call` itself stays as it is."""
        answered = False

        async def tracked() -> T:
            nonlocal answered
            result = await call()
            answered = True
            return result

        result = await self._call(source, op, tracked, empty)
        if answered:
            return result
        failure = self.failures.get(source) or SourceFailure(
            source, "SOURCE_UNAVAILABLE", f"{op} failed"
        )
        return Failed(failure)

    def _note(self, source: str, read: CacheRead) -> None:
        """What a read through the cache tells about the source for this request."""
        if read.failure is not None and isinstance(read.failure.detail, SourceFailure):
            # A call this request joined (single flight) may have failed in another request.
            self.failures.setdefault(source, read.failure.detail)
        elif read.failure is not None:
            self.failures.setdefault(
                source, SourceFailure(source, "SOURCE_UNAVAILABLE", "a shared call failed")
            )
        if read.unanswered:
            self.unanswered.add(source)
        if read.stale_age_s is not None:
            self.stale[source] = max(read.stale_age_s, self.stale.get(source, 0.0))

    def _cached(self, source: str, entity: str) -> CacheSession | None:
        if self.cache is not None and self.cache.caches(source, entity):
            return self.cache
        return None

    async def _uncached(
        self, source: str, op: str, call: Callable[[], Awaitable[T]], empty: T
    ) -> T:
        answer = await self._ask(source, op, call, empty)
        if isinstance(answer, Failed):
            self.unanswered.add(source)
            return empty
        return answer

    async def fetch(self, source: str, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        conn = self.connectors[source]
        op = f"fetch {entity}"
        cache = self._cached(source, entity)
        if cache is None:
            return await self._uncached(source, op, lambda: conn.fetch(entity, keys), {})

        async def ask(missing: list[str]) -> dict[str, Record] | Failed:
            return await self._ask(source, op, lambda: conn.fetch(entity, missing), {})

        read = await cache.read(source, entity, "fetch", list(dict.fromkeys(keys)), ask)
        self._note(source, read)
        return {k: r for k, r in read.answers.items() if r is not None}

    async def children(
        self, source: str, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        conn = self.connectors[source]
        op = f"children {entity}"
        cache = self._cached(source, entity)
        if cache is None:
            return await self._uncached(
                source, op, lambda: conn.children(entity, parent_entity, parent_keys), {}
            )

        async def ask(missing: list[str]) -> dict[str, list[Record]] | Failed:
            return await self._ask(
                source, op, lambda: conn.children(entity, parent_entity, missing), {}
            )

        unique = list(dict.fromkeys(parent_keys))
        read = await cache.read(source, entity, "children", unique, ask, parent_entity)
        self._note(source, read)
        return {k: records for k, records in read.answers.items() if records}

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
        op = f"find {entity}"

        async def ask() -> Page | Failed:
            return await self._ask(
                source, op, lambda: conn.find(entity, filters, first=first, after=after), empty
            )

        empty = Page([], False)
        cache = self._cached(source, entity)
        read = (
            None
            if cache is None
            else await cache.read_page(source, entity, filters, first, after, ask)
        )
        if read is None:
            return await self._uncached(
                source, op, lambda: conn.find(entity, filters, first=first, after=after), empty
            )
        self._note(source, read)
        page = next(iter(read.answers.values()), None)
        return page if isinstance(page, Page) else Page([], False)

    def trace(self) -> list[dict[str, object]]:
        return [
            {"source": s.source, "calls": s.calls, "ms": round(s.ms, 1)}
            for s in sorted(self.stats.values(), key=lambda s: s.source)
        ]
