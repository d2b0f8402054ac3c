"""The one place ecehub touches aiocache: a small key-value store of text entries, in the
process (``SimpleMemoryCache``) or in Redis (``RedisCache``), so the library can be replaced
without touching the cache's logic.

In Redis, values are text the caller encoded (:mod:`ecehub.sources.cachecodec`); aiocache's
own serializers are not used (its pickle serializer least of all). In the process's memory,
values are the caller's objects as they are (no serializer at all): nothing leaves the
process, so encoding them would only cost a decode on every read. Counters (the cache's
generations) live in the same store, so with Redis every replica sees one bump at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import NullSerializer, StringSerializer
from redis.asyncio.connection import parse_url

__all__ = ["CacheStore"]

log = logging.getLogger(__name__)


class CacheStore:
    """Text values by key, with a time to live; integer counters that never expire."""

    def __init__(self, backend: BaseCache, *, shared: bool) -> None:
        self._backend = backend
        self.shared = shared
        """Whether other processes see the same entries (Redis)."""

    @classmethod
    def memory(cls) -> CacheStore:
        return cls(SimpleMemoryCache(serializer=NullSerializer(), timeout=None), shared=False)

    @classmethod
    def redis(cls, url: str, *, timeout_s: float) -> CacheStore:
        """A store in the Redis at ``url`` (``redis://`` or ``rediss://``; its password never
        reaches a log). Each operation waits at most ``timeout_s``."""
        options: dict[str, Any] = dict(parse_url(url))
        backend = RedisCache(
            serializer=StringSerializer(),
            timeout=timeout_s,
            endpoint=options.pop("host", "127.0.0.1"),
            port=options.pop("port", 6379),
            db=options.pop("db", 0),
            password=options.pop("password", None),
            create_connection_timeout=timeout_s,
            connection_pool_kwargs={"socket_timeout": timeout_s, **options},
        )
        return cls(backend, shared=True)

    async def get_many(self, keys: Sequence[str]) -> list[Any]:
        """The values of ``keys`` (``None`` where absent): text from Redis, the objects put
        from memory."""
        if not keys:
            return []
        values = await self._backend.multi_get(list(keys))
        if self.shared:
            return [v if isinstance(v, str) else None for v in values]
        return list(values)

    async def set_many(self, pairs: Sequence[tuple[str, Any]], ttl_s: float) -> None:
        """Keeps each pair ``ttl_s`` seconds (a float: millisecond precision in Redis)."""
        if pairs:
            await self._backend.multi_set(list(pairs), ttl=float(ttl_s))

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            await self._backend.delete(key)

    async def counters(self, keys: Sequence[str]) -> list[int]:
        """The counters at ``keys`` (0 for one never bumped)."""
        values = await self._backend.multi_get(list(keys))
        return [_integer(v) for v in values]

    async def bump(self, key: str) -> int:
        """Adds one to the counter at ``key`` (atomically in Redis) and returns it."""
        return int(await self._backend.increment(key, 1))

    async def aclose(self) -> None:
        client = getattr(self._backend, "client", None)
        if client is not None:
            # redis-py's own aclose: aiocache 0.12's close() calls the deprecated close().
            await client.aclose()
        else:
            await self._backend.close()


def _integer(value: Any) -> int:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
