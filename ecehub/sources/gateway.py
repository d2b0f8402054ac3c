"""The per-request gateway to the sources: timeouts, failure isolation and call accounting.

Every source call of a request goes through one :class:`SourceGateway`. A call that fails or
exceeds the source's ``timeout_s`` yields an empty result, records one error for the source
(``SOURCE_UNAVAILABLE`` or ``SOURCE_TIMEOUT``) and marks the source failed for the rest of the
request, so a dead source costs its timeout once, not once per nesting level.
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
    def __init__(self, connectors: Mapping[str, Connector]) -> None:
        self.connectors = connectors
        self.stats: dict[str, SourceStats] = {}
        self.failures: dict[str, SourceFailure] = {}

    def connector(self, source: str) -> Connector:
        return self.connectors[source]

    async def _call(self, source: str, op: str, call: Callable[[], Awaitable[T]], empty: T) -> T:
        if source in self.failures:
            return empty
        connector = self.connectors[source]
        stats = self.stats.setdefault(source, SourceStats(source))
        stats.calls += 1
        started = time.perf_counter()
        try:
            async with asyncio.timeout(connector.timeout_s):
                return await call()
        except TimeoutError:
            self._fail(SourceTimeout(source, f"no answer within {connector.timeout_s:g} s ({op})"))
        except SourceError as exc:
            self._fail(exc)
        except Exception:
            log.exception("source %s failed in %s", source, op)
            self._fail(SourceUnavailable(source, f"{op} failed; see the hub's log"))
        finally:
            stats.ms += (time.perf_counter() - started) * 1000
        return empty

    def _fail(self, exc: SourceError) -> None:
        if exc.source not in self.failures:
            log.warning("%s (%s)", exc.message, exc.code)
            self.failures[exc.source] = SourceFailure(exc.source, exc.code, exc.message)

    async def fetch(self, source: str, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        conn = self.connectors[source]
        return await self._call(source, f"fetch {entity}", lambda: conn.fetch(entity, keys), {})

    async def children(
        self, source: str, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        conn = self.connectors[source]
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
        return await self._call(
            source,
            f"find {entity}",
            lambda: conn.find(entity, filters, first=first, after=after),
            Page([], False),
        )

    def trace(self) -> list[dict[str, object]]:
        return [
            {"source": s.source, "calls": s.calls, "ms": round(s.ms, 1)}
            for s in sorted(self.stats.values(), key=lambda s: s.source)
        ]
