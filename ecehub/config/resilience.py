"""A source's ``resilience`` settings: its circuit breaker, retries and calls in flight (used
by :mod:`ecehub.sources.resilience`; ``SourceConfig.resilience`` in :mod:`ecehub.config.model`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["BreakerConfig", "ResilienceConfig", "RetryConfig"]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerConfig(_Settings):
    """A source's circuit breaker: after ``failure_threshold`` failed tries in a row (timeouts,
    errors, unreachable; not a request the source refused as malformed) calls fail fast for
    ``open_s`` seconds, then one probe call at a time decides: success closes it, failure
    opens it again."""

    failure_threshold: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed tries in a row (retries included) that open the breaker",
    )
    open_s: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds calls fail fast before a probe"
    )


class RetryConfig(_Settings):
    """Retries of a failed read (every source call is one): full-jitter exponential backoff,
    a random wait in [0, min(max_s, base_s * 2^retry)]. Not retried: a request the source
    refused as malformed, a call the breaker refused, a try that would pass the source's
    ``timeout_s`` (which bounds all tries of one call together)."""

    attempts: int = Field(
        default=2, ge=1, le=10, description="Tries in all, the first included (1: no retry)"
    )
    base_s: float = Field(default=0.05, ge=0, le=10, description="Backoff of the first retry")
    max_s: float = Field(default=0.5, ge=0, le=60, description="Longest backoff")

    @model_validator(mode="after")
    def _base_within_max(self) -> RetryConfig:
        if self.base_s > self.max_s:
            raise ValueError(f"base_s ({self.base_s:g}) must not be above max_s ({self.max_s:g})")
        return self


class ResilienceConfig(_Settings):
    """How the hub protects itself from one source, across requests: its circuit breaker,
    retries of failed reads and the calls it may have in flight at once."""

    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    max_in_flight: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Calls to this source at once, over all requests; more wait for a slot "
        "(the wait does not count towards timeout_s)",
    )
    slot_wait_s: float | None = Field(
        default=None,
        gt=0,
        le=300,
        description="Longest wait for a slot before the call fails (SOURCE_TIMEOUT); "
        "unset: the source's timeout_s",
    )
