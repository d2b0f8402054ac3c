"""Rate limiting per client: a token bucket per user (else address), 429 with Retry-After and
a coded error past the budget, before any work; health checks never limited."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.config.model import RateLimitConfig, ServerConfig
from ecehub.ratelimit import RedisBuckets, TokenBuckets
from tests.conftest import REDIS_URL, require_service

QUERY = {"query": "{ supportTypes { code } }"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, max_clients=10, clock=clock)
    assert [await buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await buckets.take("a") == pytest.approx(1.0)  # one token a second
    assert await buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert await buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert await buckets.take("a") == 0.0
    clock.now += 3600
    assert [await buckets.take("a") for _ in range(4)][-1] > 0  # refilled to the burst only


async def test_the_least_recent_clients_are_forgotten() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, max_clients=2, clock=Clock())
    assert await buckets.take("a") == 0.0
    assert await buckets.take("b") == 0.0
    assert await buckets.take("c") == 0.0  # forgets "a"
    assert await buckets.take("a") == 0.0  # a full bucket again; forgets "b"
    assert await buckets.take("c") > 0


async def test_replicas_share_one_budget_in_redis() -> None:
    """Two processes' budgets on one Redis draw on the same bucket (Redis's clock)."""
    require_service(REDIS_URL, "Redis")
    key = f"test-{uuid.uuid4()}"
    one, two = (RedisBuckets(Redis.from_url(REDIS_URL), per_minute=60, burst=3) for _ in range(2))
    try:
        taken = [await one.take(key), await two.take(key), await one.take(key)]
        assert taken == [0.0, 0.0, 0.0]
        assert 0.9 < await two.take(key) <= 1.0  # the fourth waits about a second
        assert await one.take(f"{key}-other") == 0.0
        assert 0 < await one.redis.ttl(f"ecehub:rate:{key}") <= 4  # gone once full again
    finally:
        await one.aclose()
        await two.aclose()


async def test_an_unreachable_redis_serves_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    budgets = RedisBuckets(
        Redis.from_url("redis://127.0.0.1:9", socket_connect_timeout=1), per_minute=1, burst=1
    )
    try:
        assert [await budgets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    finally:
        await budgets.aclose()
    assert "rate limit not applied: Redis failed" in caplog.text


def test_on_by_default_in_production_only() -> None:
    assert ServerConfig(mode="production").rate_limited
    assert not ServerConfig().rate_limited
    assert not ServerConfig(
        mode="production", rate_limit=RateLimitConfig(enabled=False)
    ).rate_limited
    assert ServerConfig(rate_limit=RateLimitConfig(enabled=True)).rate_limited


def _app(tmp_path: Path, **limit: Any) -> Any:
    config = parse_config(
        {
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
            "server": {"rate_limit": {"enabled": True, **limit}},
        },
        env={},
    )
    return create_app(config)


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_client_over_its_budget_gets_429_and_others_are_served(
    tmp_path: Path, store: str
) -> None:
    limit: dict[str, Any] = {"requests_per_minute": 60, "burst": 3}
    users = {"alice": f"alice-{uuid.uuid4()}@state.example", "bob": f"bob-{uuid.uuid4()}"}
    if store == "redis":
        require_service(REDIS_URL, "Redis")
        limit["redis_url"] = REDIS_URL
    app = _app(tmp_path, **limit)
    transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{len(store)}", 1234))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub") as client,
    ):
        alice = {"X-Ecehub-User": users["alice"]}
        answers = [await client.post("/graphql", json=QUERY, headers=alice) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["Retry-After"] == "1"
        [error] = refused.json()["errors"]
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 1}
        # Another user, and anonymous callers by address, have budgets of their own.
        bob = await client.post("/graphql", json=QUERY, headers={"X-Ecehub-User": users["bob"]})
        assert bob.status_code == 200
        assert (await client.post("/graphql", json=QUERY)).status_code == 200
        # Health checks are never limited.
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200
