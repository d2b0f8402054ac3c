"""Rate limiting per client: a token bucket per user (else address), 429 with Retry-After and
a coded error past the budget, before any work; health checks never limited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.config.model import RateLimitConfig, ServerConfig
from ecehub.ratelimit import TokenBuckets

QUERY = {"query": "{ supportTypes { code } }"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, max_clients=10, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)  # one token a second
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, not beyond


def test_the_least_recent_clients_are_forgotten() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, max_clients=2, clock=Clock())
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0
    assert buckets.take("c") == 0.0  # forgets "a"
    assert buckets.take("a") == 0.0  # a full bucket again; forgets "b"
    assert buckets.take("c") > 0


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


async def test_a_client_over_its_budget_gets_429_and_others_are_served(tmp_path: Path) -> None:
    app = _app(tmp_path, requests_per_minute=60, burst=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        alice = {"X-Ecehub-User": "alice@state.example"}
        answers = [await client.post("/graphql", json=QUERY, headers=alice) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["Retry-After"] == "1"
        [error] = refused.json()["errors"]
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 1}
        # Another user, and anonymous callers by address, have budgets of their own.
        bob = await client.post("/graphql", json=QUERY, headers={"X-Ecehub-User": "bob"})
        assert bob.status_code == 200
        assert (await client.post("/graphql", json=QUERY)).status_code == 200
        # Health checks are never limited.
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200
