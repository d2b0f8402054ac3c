"""Rate limiting per client at the HTTP edge: a token bucket per client, so one client (a
script in a loop, a stolen token) cannot take the server from everyone else.

A client is the verified user of its token (or the development header's user), else its
address as the ASGI server gives it (behind a proxy, run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` so that is the caller's address, not the proxy's). Each may make
``burst`` requests at once, refilled at ``requests_per_minute``; past that the answer is 429
with ``Retry-After`` and a GraphQL-style error (code ``RATE_LIMITED``), before any work.
``/healthz``, ``/readyz`` and ``/metrics`` are never limited.

The buckets live in the process (:class:`TokenBuckets`) or, with ``rate_limit.redis_url``, in
Redis (:class:`RedisBuckets`: one atomic script per request on Redis's own clock, so every
replica draws on the same budget). If Redis cannot be reached the request is served, and the
failure logged: the limit protects the service, it must not become a way to stop it.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ecehub.auth.middleware import OPEN_PATHS, authentication_of
from ecehub.config.model import RateLimitConfig
from ecehub.errors import error_body

__all__ = ["Budgets", "RateLimit", "RedisBuckets", "TokenBuckets", "budgets_for"]

log = logging.getLogger("ecehub.ratelimit")


class Budgets(Protocol):
    async def take(self, key: str) -> float:
        """Take one request from ``key``'s budget: 0 when there was one, else the seconds
        until there is."""
        ...

    async def aclose(self) -> None: ...


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per client key in this process, the least recently seen forgotten
    past ``max_clients`` (a forgotten client starts again with a full bucket)."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        max_clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def take(self, key: str) -> float:
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    async def aclose(self) -> None:
        pass


# One bucket per key as a Redis hash, refilled and taken from atomically on Redis's clock (the
# replicas' clocks need not agree); it expires once it would be full again. The wait is
# returned as text: Redis would truncate a Lua number to an integer.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """The token buckets in Redis, shared by every replica (keys ``ecehub:rate:<client>``)."""

    def __init__(self, redis: Redis, per_minute: int, burst: int) -> None:
        self.redis = redis
        self.rate = per_minute / 60.0
        self.burst = burst
        self._script = redis.register_script(_TAKE)

    async def take(self, key: str) -> float:
        try:
            wait = await self._script(keys=[f"ecehub:rate:{key}"], args=[self.rate, self.burst])
        except (RedisError, OSError) as exc:
            log.warning("rate limit not applied: Redis failed (%s)", type(exc).__name__)
            return 0.0
        return float(wait)

    async def aclose(self) -> None:
        await self.redis.aclose()


@dataclass(frozen=True)
class _ScopeView:
    scope: Scope


def _client_key(scope: Scope) -> str:
    authentication = authentication_of(_ScopeView(scope))
    if authentication is not None and authentication.user:
        return f"user:{authentication.user}"
    client = scope.get("client")
    return f"addr:{client[0]}" if client else "addr:unknown"


class RateLimit:
    """ASGI middleware: answers 429 to a client over its budget (runs after authentication,
    which tells who the client is)."""

    def __init__(self, app: ASGIApp, budgets: Budgets) -> None:
        self.app = app
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        wait = await self.budgets.take(_client_key(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = error_body(
            f"too many requests: try again in {retry_after} s",
            "RATE_LIMITED",
            retryAfterSeconds=retry_after,
        )
        response = JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})
        await response(scope, receive, send)


def budgets_for(config: RateLimitConfig) -> Budgets:
    """The budgets ``config`` asks for: in Redis when it names one, else in this process."""
    if config.redis_url is not None:
        redis = Redis.from_url(config.redis_url.get_secret_value())
        return RedisBuckets(redis, config.requests_per_minute, config.burst)
    return TokenBuckets(config.requests_per_minute, config.burst, config.max_clients)
