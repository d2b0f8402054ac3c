"""Rate limiting per client at the HTTP edge: a token bucket per client, so one client (a
script in a loop, a stolen token) cannot take the server from everyone else.

A client is the verified user of its token (or the development header's user), else its
address as the ASGI server gives it (behind a proxy, run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` so that is the caller's address, not the proxy's). Each may make
``burst`` requests at once, refilled at ``requests_per_minute``; past that the answer is 429
with ``Retry-After`` and a GraphQL-style error (code ``RATE_LIMITED``), before any work.
``/healthz`` and ``/readyz`` are never limited. The buckets live in the process: with several
replicas each keeps its own, so a client's budget is per replica.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ecehub.auth.middleware import OPEN_PATHS, authentication_of
from ecehub.config.model import RateLimitConfig

__all__ = ["RateLimit", "TokenBuckets", "rate_limit_middleware"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per client key, the least recently seen forgotten past
    ``max_clients`` (a forgotten client starts again with a full bucket)."""

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

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0 when there was one, else the seconds until there is."""
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

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_client_key(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = {
            "data": None,
            "errors": [
                {
                    "message": f"too many requests: try again in {retry_after} s",
                    "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": retry_after},
                }
            ],
        }
        response = JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})
        await response(scope, receive, send)


def rate_limit_middleware(config: RateLimitConfig) -> Middleware:
    buckets = TokenBuckets(config.requests_per_minute, config.burst, config.max_clients)
    return Middleware(RateLimit, buckets=buckets)
