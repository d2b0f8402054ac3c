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
:mod:`ecehub.sources.paging` do for it, and each key's latest period
:mod:`ecehub.sources.periods`.

With the app's :class:`~ecehub.sources.cache.SourceCache` (a request's
:class:`~ecehub.sources.cache.CacheSession`), ``fetch``, ``children`` and ``find`` look in the
cache first and ask the source (through :meth:`SourceGateway._call`) only for what it does not
hold fresh. When the source fails, older entries (up to ``stale_max_age_s``) answer instead:
the source is then listed in :attr:`SourceGateway.stale` with their age, and its error is
reported only if something stayed unanswered (:meth:`SourceGateway.reported_failures`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ecehub.connectors.base import Connector, FieldFilter, Page, Record
from ecehub.connectors.scaled import for_source_all
from ecehub.connectors.usage import Usage, counting
from ecehub.errors import SourceCircuitOpen, SourceError, SourceUnavailable
from ecehub.metrics import Metrics
from ecehub.sources.cache import CacheRead, CacheSession, Failed
from ecehub.sources.paging import HubPaging, Read, asked_by_key, needs_hub_paging
from ecehub.sources.periods import HubPeriods, hub_keeps_periods
from ecehub.sources.resilience import SourceGuard
from ecehub.tracing import source_span

__all__ = ["SourceFailure", "SourceGateway", "SourceStats", "UnparsableTally"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class SourceStats:
    """One source's part of a request: connector ``calls`` (and their ``ms``), and what
    they cost the source, as the connector counted it (:mod:`ecehub.connectors.usage`):
    HTTP requests or SQL statements, and rows read."""

    source: str
    calls: int = 0
    ms: float = 0.0
    usage: Usage = field(default_factory=Usage)


@dataclass
class UnparsableTally:
    """The records a request read whose value of one field did not parse (read as null)."""

    count: int = 0
    example: str = ""
    """The first such value this request met (``repr``, cut at 60 characters)."""


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
        cache: CacheSession | None = None,
    ) -> None:
        """``guards``: the app's, one per source (the runtime's); a source without one gets
        a guard of this gateway's own, which remembers nothing across requests. ``cache``:
        the request's session of the app's source cache (none: every read is live)."""
        self.connectors = connectors
        self.metrics = metrics
        self.guards: dict[str, SourceGuard] = dict(guards or {})
        self.cache = cache
        self.paging = HubPaging()
        self.periods = HubPeriods()
        self.stats: dict[str, SourceStats] = {}
        self.failures: dict[str, SourceFailure] = {}
        """Sources that failed in this request (asked no more): the first failure of each."""
        self.stale: dict[str, float] = {}
        """Sources cached answers stood in for while they failed: the oldest one's age (s)."""
        self.unanswered: set[str] = set()
        """Sources that failed leaving something out of the answer (not covered stale)."""
        self.unparsable: dict[str, dict[tuple[str, str], UnparsableTally]] = {}
        """Per source, per ``(entity, field)``: the records this request read (live or from
        the cache) with a value that did not parse, each record counted once."""
        self._tallied: set[tuple[str, str, str]] = set()

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
            with counting(stats.usage):
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
        if hub_keeps_periods(conn, entity):
            whole = self._whole_read(source, entity)
            return self._tally(await self.periods.fetch(conn, entity, keys, whole))
        if not asked_by_key(conn, entity):
            whole = self._whole_read(source, entity)
            return self._tally(await self.paging.fetch(conn, entity, keys, whole))
        op = f"fetch {entity}"
        cache = self._cached(source, entity)
        if cache is None:
            return self._tally(
                await self._uncached(source, op, lambda: conn.fetch(entity, keys), {})
            )

        async def ask(missing: list[str]) -> dict[str, Record] | Failed:
            return await self._ask(source, op, lambda: conn.fetch(entity, missing), {})

        read = await cache.read(source, entity, "fetch", list(dict.fromkeys(keys)), ask)
        self._note(source, read)
        return self._tally({k: r for k, r in read.answers.items() if r is not None})

    async def children(
        self, source: str, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        conn = self.connectors[source]
        if not conn.capabilities.supports_children:
            whole = self._whole_read(source, entity)
            return self._tally_groups(
                await self.paging.children(conn, entity, parent_entity, parent_keys, whole)
            )
        op = f"children {entity}"
        cache = self._cached(source, entity)
        if cache is None:
            return self._tally_groups(
                await self._uncached(
                    source, op, lambda: conn.children(entity, parent_entity, parent_keys), {}
                )
            )

        async def ask(missing: list[str]) -> dict[str, list[Record]] | Failed:
            return await self._ask(
                source, op, lambda: conn.children(entity, parent_entity, missing), {}
            )

        unique = list(dict.fromkeys(parent_keys))
        read = await cache.read(source, entity, "children", unique, ask, parent_entity)
        self._note(source, read)
        return self._tally_groups({k: records for k, records in read.answers.items() if records})

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
        # A filter on a normalised level, in this source's own levels (no connector sees one).
        filters = for_source_all(source, conn.entities.get(entity), filters)
        if hub_keeps_periods(conn, entity):
            whole = self._whole_read(source, entity)
            return self._tally_page(
                await self.periods.find(conn, entity, filters, whole, first=first, after=after)
            )
        if needs_hub_paging(conn, entity, filters):
            whole = self._whole_read(source, entity)
            return self._tally_page(
                await self.paging.find(conn, entity, filters, whole, first=first, after=after)
            )
        op = f"find {entity}"
        empty = Page([], False)
        cache = self._cached(source, entity)

        async def page(first: int | None, after: str | None) -> Page:
            def call() -> Awaitable[Page]:
                return conn.find(entity, filters, first=first, after=after)

            async def ask() -> Page | Failed:
                return await self._ask(source, op, call, empty)

            read = (
                None
                if cache is None
                else await cache.read_page(source, entity, filters, first, after, ask)
            )
            if read is None:
                found = await self._uncached(source, op, call, empty)
            else:
                self._note(source, read)
                answer = next(iter(read.answers.values()), None)
                found = answer if isinstance(answer, Page) else empty
            if found.has_next and (not found.records or found.records[-1].cursor is None):
                # A next page nobody can ask for: a failure to report, not a loop or a cut.
                self._fail(SourceUnavailable(source, "find answered has_next without a cursor"))
                self.unanswered.add(source)
                return Page(found.records, False)
            return found

        largest = conn.capabilities.max_page_size
        if largest is None:
            return self._tally_page(await page(first, after))
        return self._tally_page(
            await self.paging.within_page_size(page, largest, first=first, after=after)
        )

    def _whole_read(self, source: str, entity: str) -> Read:
        """``find`` of everything passing some filters, for :class:`HubPaging` (live: a
        whole read is this request's own)."""
        conn = self.connectors[source]

        async def read(pushed: Sequence[FieldFilter]) -> Page:
            return await self._uncached(
                source, f"find {entity}", lambda: conn.find(entity, pushed), Page([], False)
            )

        return read

    def trace(self, shows: Callable[[str, str], bool] | None = None) -> list[dict[str, object]]:
        """Per source asked: connector ``calls``, the HTTP ``requests`` (SQL statements,
        file reads) and ``rows`` they cost, as the connector counted them (``None``: a
        connector that does not count), ``ms`` spent in the calls, and (``unparsable``) the
        values of the records read that did not parse, by entity and field, with the first
        one as an example where ``shows(entity, field)`` (the reader may read that field;
        default: no examples). A source that only the cache answered is listed (0 calls)
        when records it gave hold such values."""
        entries: list[dict[str, object]] = [
            {
                "source": s.source,
                "calls": s.calls,
                "requests": s.usage.requests if s.usage.counted else None,
                "rows": s.usage.rows if s.usage.counted else None,
                "ms": round(s.ms, 1),
            }
            for s in sorted(self.stats.values(), key=lambda s: s.source)
        ]
        for entry in entries:
            entry["unparsable"] = self._unparsable_trace(str(entry["source"]), shows)
        return entries

    def _unparsable_trace(
        self, source: str, shows: Callable[[str, str], bool] | None
    ) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for (entity, name), tally in sorted(self.unparsable.get(source, {}).items()):
            item: dict[str, object] = {"entity": entity, "field": name, "count": tally.count}
            if shows is not None and shows(entity, name):
                item["example"] = tally.example
            out.append(item)
        return out

    # -- values that did not parse, per request -------------------------------------------
    def _tally_records(self, records: Iterable[Record]) -> None:
        for record in records:
            if not record.unparsable:
                continue
            seen = (record.source, record.entity, record.key)
            if seen in self._tallied:
                continue
            self._tallied.add(seen)
            self.stats.setdefault(record.source, SourceStats(record.source))
            tallies = self.unparsable.setdefault(record.source, {})
            for name, example in record.unparsable.items():
                tally = tallies.setdefault((record.entity, name), UnparsableTally(example=example))
                tally.count += 1

    def _tally(self, found: dict[str, Record]) -> dict[str, Record]:
        self._tally_records(found.values())
        return found

    def _tally_groups(self, found: dict[str, list[Record]]) -> dict[str, list[Record]]:
        for records in found.values():
            self._tally_records(records)
        return found

    def _tally_page(self, found: Page) -> Page:
        self._tally_records(found.records)
        return found
