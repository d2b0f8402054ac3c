"""The app-wide cache of source answers, below access control, with stale-if-error.

What is cached is what a connector answered, as it answered it: ``fetch`` per key (a record,
or that the source has no such key), ``children`` per parent key, ``find`` per page (entity,
filters, ``first``, ``after``), for each source and entity. Access rules, suppression and
merging all run after the cache on every request, so one entry serves every role. Nothing
that depends on the hub store (crosswalk links, QIP, notes, ...) is cached here: those reads
stay live, and a hub write or crosswalk decision shows on the next request.

An entry answers without asking the source while it is younger than its ``ttl_s``. When the
source fails (any :class:`~ecehub.errors.SourceError`: unavailable, timeout, an open breaker),
an entry up to ``stale_max_age_s`` old stands in, and the request reports its age. Ages are
counted on this cache's clock from when the answer was read; entries are kept in the backend
``max(ttl_s, stale_max_age_s)``.

Identical concurrent reads in one process make one source call (single flight, per key). Each
source, entity and listing has a generation counter in the backend (:meth:`SourceCache.drop`
bumps it; with Redis every replica sees it at once); a request reads the counters once per
source and entity and uses them in its keys, so dropped entries are never read again.

A backend that fails (Redis down or hung) never fails a request: the read goes to the source,
the error is logged (at most once a minute) and counted, and for the next few seconds requests
do not try the backend at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ecehub.config.model import Config
from ecehub.connectors.base import FieldFilter, Page
from ecehub.errors import ConfigError
from ecehub.metrics import Metrics
from ecehub.sources.cachecodec import (
    BadEntry,
    Uncacheable,
    decode_entry,
    encode_entry,
    encode_value,
)
from ecehub.sources.cachestore import CacheStore

__all__ = ["CACHE_URL_ENV", "CacheRead", "CacheSession", "Failed", "Kind", "SourceCache"]

log = logging.getLogger(__name__)

CACHE_URL_ENV = "ECEHUB_CACHE_URL"
"""Where the Redis URL comes from when ``cache.url`` is not set."""

Kind = Literal["fetch", "children", "find"]

_FORMAT = "v1"  # in every key: entries of another format are never read
_ERROR_LOG_EVERY_S = 60.0
_BACKEND_RETRY_S = 5.0
"""After the backend fails, requests go straight to the sources this long before it is tried
again, so a hung Redis costs one request its ``timeout_s``, not every request."""


@dataclass(frozen=True)
class Failed:
    """A source call that did not answer; ``detail``: the caller's record of why."""

    detail: Any


Outcome = tuple[bool, Any]
"""``(True, answer)`` or ``(False, Failed)`` for one key of a source call."""

Ask = Callable[[list[str]], Awaitable["dict[str, Any] | Failed"]]
"""Asks the source for some keys: their answers by key, or :class:`Failed`."""


@dataclass
class CacheRead:
    """What one read through the cache gave."""

    answers: dict[str, Any] = field(default_factory=dict)
    """Every key answered: from the cache, the source, or stale."""
    failure: Failed | None = None
    """The source failed for some keys (then answered stale, or not at all)."""
    unanswered: list[str] = field(default_factory=list)
    """Keys neither the source nor the cache (within ``stale_max_age_s``) answered."""
    stale_age_s: float | None = None
    """Age of the oldest stale answer served, if any."""


def _empty(kind: Kind) -> Any:
    return [] if kind == "children" else None


def find_key(filters: Sequence[FieldFilter], first: int | None, after: str | None) -> str:
    """The cache key of one ``find`` page (raises :class:`Uncacheable` for a filter value the
    codec does not carry)."""
    spec = [[f.field, f.op, encode_value(f.value)] for f in filters]
    text = json.dumps([spec, first, after], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Kept:
    """An answer as the memory backend keeps it: the objects themselves, and when read."""

    answer: Any
    read_at: float


class SourceCache:
    """Source answers for every request of the app (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        store: CacheStore,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock``: epoch seconds; tests pass one they move by hand."""
        self.config = config
        self.settings = config.cache
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self._prefix = f"{self.settings.key_prefix}:{_FORMAT}"
        self._flights: dict[str, asyncio.Future[Outcome]] = {}
        self._last_error_log = float("-inf")
        self._backend_down_until = float("-inf")

    @classmethod
    def from_config(cls, config: Config, metrics: Metrics | None = None) -> SourceCache | None:
        """The cache ``config.cache`` asks for; ``None`` for ``backend: none``. The Redis URL
        is ``cache.url`` or else the ``ECEHUB_CACHE_URL`` environment variable."""
        settings = config.cache
        if settings.backend == "none":
            return None
        if settings.backend == "memory":
            return cls(config, CacheStore.memory(), metrics)
        url = settings.url.get_secret_value() if settings.url else os.environ.get(CACHE_URL_ENV)
        if not url:
            raise ConfigError(
                str(config.file or "<config>"),
                [("cache.url", "backend redis needs a Redis URL")],
                suggestion=f"set cache.url (e.g. ${{{CACHE_URL_ENV}}}) or the {CACHE_URL_ENV} "
                "environment variable, or use backend: memory",
            )
        return cls(config, CacheStore.redis(url, timeout_s=settings.timeout_s), metrics)

    # -- policy --------------------------------------------------------------------------------

    def timing(self, source: str, entity: str) -> tuple[float, float]:
        """``(ttl_s, stale_max_age_s)`` of a source's entity."""
        return self.settings.timing(source, entity)

    def caches(self, source: str, entity: str) -> bool:
        """Whether answers of this source's entity are kept at all."""
        return max(self.timing(source, entity)) > 0

    def session(self, *, bypass: bool = False) -> CacheSession:
        """The cache as one request uses it; ``bypass``: read every source live (and keep
        what it answers), as an administrator's ``Cache-Control: no-cache`` asks."""
        return CacheSession(self, bypass=bypass)

    # -- keys and generations ----------------------------------------------------------------

    def _generation_keys(self, source: str, entity: str) -> list[str]:
        base = f"{self._prefix}:gen:{source}"
        return [base, f"{base}:{entity}", f"{base}:{entity}:find"]

    async def _namespaces(self, source: str, entity: str) -> tuple[str, str] | None:
        """The key prefixes of a source's entity at its current generations: for ``fetch``
        and ``children``, and for ``find``; ``None`` when the backend cannot say."""
        if time.monotonic() < self._backend_down_until:
            return None
        try:
            g_source, g_entity, g_find = await self.store.counters(
                self._generation_keys(source, entity)
            )
        except Exception as exc:  # the backend's errors are many; a request never fails on them
            self._backend_failed("generations", exc)
            return None
        base = f"{self._prefix}:{source}:{g_source}:{entity}:{g_entity}"
        return base, f"{base}:q{g_find}"

    @staticmethod
    def entry_key(namespaces: tuple[str, str], kind: Kind, key: str, part: str = "") -> str:
        if kind == "fetch":
            return f"{namespaces[0]}:f:{key}"
        if kind == "children":
            return f"{namespaces[0]}:c:{part}:{key}"
        return f"{namespaces[1]}:{key}"

    async def drop(self, source: str, entity: str | None = None, key: str | None = None) -> None:
        """Forget cached answers: all of a source's, of one of its entities, or of one record
        (``key``: its ``fetch`` entry, the children listed under it, and the entity's
        ``find`` pages, which may hold it). With Redis, every replica forgets at once."""
        if entity is None:
            await self.store.bump(self._generation_keys(source, "")[0])
            return
        if key is None:
            await self.store.bump(self._generation_keys(source, entity)[1])
            return
        namespaces = await self._namespaces(source, entity)
        if namespaces is None:
            raise ConnectionError("the cache backend did not answer")
        doomed = [self.entry_key(namespaces, "fetch", key)]
        source_config = self.config.sources.get(source)
        children = source_config.entities if source_config else {}
        for child, mapping in children.items():
            if mapping.parent_entity == entity:
                child_ns = await self._namespaces(source, child)
                if child_ns is not None:
                    doomed.append(self.entry_key(child_ns, "children", key, entity))
        await self.store.delete(doomed)
        await self.store.bump(self._generation_keys(source, entity)[2])

    # -- reads ---------------------------------------------------------------------------------

    async def read(
        self,
        session: CacheSession,
        source: str,
        entity: str,
        kind: Kind,
        keys: Sequence[str],
        ask: Ask,
        part: str = "",
    ) -> CacheRead:
        """Answers for ``keys`` (distinct): fresh entries, then one call (``ask``) for the
        rest, shared with any identical call in flight; where that call fails, entries up to
        ``stale_max_age_s`` old. ``part``: the parent entity of a ``children`` read."""
        namespaces = await session.namespaces(source, entity)
        if namespaces is None:  # the backend is down: straight to the source
            return self._direct(kind, keys, await ask(list(keys)))
        ttl, stale_max = self.timing(source, entity)
        full = {k: self.entry_key(namespaces, kind, k, part) for k in keys}
        cached = await self._get(kind, [full[k] for k in keys])
        now = self.clock()
        result = CacheRead()
        kept: dict[str, tuple[Any, float]] = {}
        for k, entry in zip(keys, cached, strict=True):
            if entry is None:
                continue
            answer, read_at = entry
            if now - read_at < ttl and not session.bypass:
                result.answers[k] = answer
            else:
                kept[k] = entry
        missing = [k for k in keys if k not in result.answers]
        self._count(source, entity, "hit", len(result.answers))
        self._count(source, entity, "miss", len(missing))
        if not missing:
            return result
        outcomes = await self._flight(kind, full, missing, ask, max(ttl, stale_max))
        served_stale = 0
        for k in missing:
            ok, value = outcomes[k]
            if ok:
                result.answers[k] = value
                continue
            result.failure = value
            entry = kept.get(k)
            age = self.clock() - entry[1] if entry is not None else None
            if entry is not None and age is not None and age <= stale_max:
                result.answers[k] = entry[0]
                result.stale_age_s = max(age, result.stale_age_s or 0.0)
                served_stale += 1
            else:
                result.unanswered.append(k)
        self._count(source, entity, "stale", served_stale)
        return result

    def _direct(
        self, kind: Kind, keys: Sequence[str], outcome: dict[str, Any] | Failed
    ) -> CacheRead:
        if isinstance(outcome, Failed):
            return CacheRead(failure=outcome, unanswered=list(keys))
        return CacheRead(answers={k: outcome.get(k, _empty(kind)) for k in keys})

    async def _flight(
        self, kind: Kind, full: dict[str, str], missing: list[str], ask: Ask, keep_s: float
    ) -> dict[str, Outcome]:
        """One source call for the keys no identical call is already fetching; the others
        wait for the call in flight."""
        joined = {k: self._flights[full[k]] for k in missing if full[k] in self._flights}
        own = [k for k in missing if k not in joined]
        outcomes: dict[str, Outcome] = {}
        if own:
            loop = asyncio.get_running_loop()
            futures: dict[str, asyncio.Future[Outcome]] = {}
            for k in own:
                futures[k] = self._flights[full[k]] = loop.create_future()
            try:
                answer = await ask(own)
                if isinstance(answer, Failed):
                    outcomes.update((k, (False, answer)) for k in own)
                else:
                    outcomes.update((k, (True, answer.get(k, _empty(kind)))) for k in own)
                    await self._put(kind, [(full[k], outcomes[k][1]) for k in own], keep_s)
            finally:
                # Also when this request is cancelled: whoever joined gets an answer.
                gone = (False, Failed(None))
                for k, future in futures.items():
                    if not future.done():
                        future.set_result(outcomes.get(k, gone))
                    if self._flights.get(full[k]) is future:
                        del self._flights[full[k]]
        for k, future in joined.items():
            outcomes[k] = await asyncio.shield(future)
        return outcomes

    # -- the backend ----------------------------------------------------------------------------

    async def _get(self, kind: Kind, keys: list[str]) -> list[tuple[Any, float] | None]:
        try:
            texts = await self.store.get_many(keys)
        except Exception as exc:  # the backend's errors are many; a request never fails on them
            self._backend_failed("get", exc)
            return [None] * len(keys)
        entries: list[tuple[Any, float] | None] = []
        for text in texts:
            if isinstance(text, _Kept):  # the memory backend: the answer as it was put
                entries.append((text.answer, text.read_at))
                continue
            try:
                entries.append(None if text is None else decode_entry(kind, text))
            except BadEntry as exc:
                log.warning("a cache entry did not decode (%s); read from the source", exc)
                entries.append(None)
        return entries

    async def _put(self, kind: Kind, answers: Iterable[tuple[str, Any]], keep_s: float) -> None:
        now = self.clock()
        pairs: list[tuple[str, Any]] = []
        for key, answer in answers:
            if not self.store.shared:
                # In this process only: kept as it is. Records are never changed once a
                # connector made them, so every request may share them.
                pairs.append((key, _Kept(answer, now)))
                continue
            try:
                pairs.append((key, encode_entry(kind, answer, now)))
            except Uncacheable as exc:
                log.debug("not cached: %s", exc)
        try:
            await self.store.set_many(pairs, keep_s)
        except Exception as exc:  # the backend's errors are many; a request never fails on them
            self._backend_failed("set", exc)

    def _backend_failed(self, operation: str, exc: Exception) -> None:
        if self.metrics is not None:
            self.metrics.cache_error(operation)
        now = time.monotonic()
        self._backend_down_until = now + _BACKEND_RETRY_S
        if now - self._last_error_log >= _ERROR_LOG_EVERY_S:
            self._last_error_log = now
            # The exception's type only: its text may name the backend's address.
            log.warning(
                "the cache backend failed (%s in %s); reading the sources live",
                type(exc).__name__,
                operation,
            )

    def _count(self, source: str, entity: str, result: str, count: int) -> None:
        if self.metrics is not None and count:
            self.metrics.cache_lookup(source, entity, result, count)

    async def aclose(self) -> None:
        await self.store.aclose()


class CacheSession:
    """The cache as one request sees it: the generations read once per source and entity
    (so a request reads one consistent set), and whether it bypasses cached answers."""

    def __init__(self, cache: SourceCache, *, bypass: bool) -> None:
        self.cache = cache
        self.bypass = bypass
        self._namespaces: dict[tuple[str, str], tuple[str, str] | None] = {}

    async def namespaces(self, source: str, entity: str) -> tuple[str, str] | None:
        key = (source, entity)
        if key not in self._namespaces:
            self._namespaces[key] = await self.cache._namespaces(source, entity)
        return self._namespaces[key]

    def caches(self, source: str, entity: str) -> bool:
        return self.cache.caches(source, entity)

    async def read(
        self,
        source: str,
        entity: str,
        kind: Kind,
        keys: Sequence[str],
        ask: Ask,
        part: str = "",
    ) -> CacheRead:
        return await self.cache.read(self, source, entity, kind, keys, ask, part)

    async def read_page(
        self,
        source: str,
        entity: str,
        filters: Sequence[FieldFilter],
        first: int | None,
        after: str | None,
        ask: Callable[[], Awaitable[Page | Failed]],
    ) -> CacheRead | None:
        """One ``find`` page through the cache (under its one key); ``None`` when its
        filters hold a value the cache cannot key (the caller asks the source itself)."""
        try:
            key = find_key(filters, first, after)
        except Uncacheable:
            return None

        async def ask_page(keys: list[str]) -> dict[str, Any] | Failed:
            page = await ask()
            return page if isinstance(page, Failed) else {key: page}

        return await self.read(source, entity, "find", [key], ask_page)
