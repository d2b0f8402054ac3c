"""Each source's guard, app-wide: a circuit breaker, bounded retries and a limit on the calls
in flight, so a failing or hung source costs every request little and cannot starve the others.

The :class:`~ecehub.resolvers.runtime.Runtime` keeps one :class:`SourceGuard` per source and
hands them to each request's gateway (:mod:`ecehub.sources.gateway`); every source call runs
through its source's guard::

    breaker open?  -> refused at once (SourceCircuitOpen, no I/O)
    a slot         -> at most max_in_flight calls per source; the wait is bounded by
                      slot_wait_s (SourceTimeout) and measured apart
    admission      -> half-open: exactly one call (the probe) goes through, the others are
                      refused at once
    the call       -> under what is left of the source's timeout_s
    the outcome    -> to the breaker; a retriable failure is tried again after a
                      full-jitter backoff while tries, time and the breaker allow

**What timeout_s counts.** The source's own time: every try of one call plus the backoff
between them, from the moment the call holds a slot. Time spent waiting for a slot (queued
behind this hub's other calls to the same source) is not in it; it has its own bound. The
event loop's lag is excluded as far as it is measured (:mod:`ecehub.sources.deadline`): when
a try's deadline comes, it moves on by the lag the loop had meanwhile, at most the try's time
again, so a hung source still fails within twice its timeout. Lag in the last ~20 ms before
the deadline is not yet measured, and a connector's own limits inside the call (the rest
connector's ``max_concurrency`` of HTTP requests) are part of the source's time.

**What counts as a failure.** A :class:`~ecehub.errors.SourceError` whose ``source_fault`` is
set (a timeout, an error answer, a source that cannot be reached) counts towards opening the
breaker and may be retried when ``retriable``. A request the source refused as malformed
(:class:`~ecehub.errors.SourceRejected`), an exception of the hub's own (a bad cursor) and a
cancelled call neither count nor are retried. Every source call is a read (``fetch``,
``children``, ``find``), so every one may be retried; writes never reach a source.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TypeVar

from ecehub.config.resilience import BreakerConfig, ResilienceConfig
from ecehub.connectors.base import Connector
from ecehub.errors import SourceCircuitOpen, SourceError, SourceTimeout
from ecehub.metrics import Metrics
from ecehub.sources.deadline import own_time

__all__ = ["BreakerState", "CircuitBreaker", "SourceGuard", "guards_for"]

log = logging.getLogger(__name__)

T = TypeVar("T")

Clock = Callable[[], float]
Deadline = Callable[[float], contextlib.AbstractAsyncContextManager[object]]


class BreakerState(enum.IntEnum):
    """A breaker's state; the value is the ``ecehub_source_breaker_state`` gauge's."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """One source's breaker. Closed: calls go through and failures in a row are counted;
    ``failure_threshold`` of them open it. Open: every call is refused at once for
    ``open_s``. Then half-open: the next call is the probe and the only call let through
    until it ends; its success closes the breaker, its failure opens it again, and a probe
    that ends without a verdict (a malformed request, a cancelled call) lets the next call
    probe.

    Calls admitted while closed that end after the breaker opened do not move it: only the
    probe decides. Every failed try counts, retries included. One event loop uses a
    breaker, so its state changes need no lock."""

    def __init__(
        self,
        source: str,
        settings: BreakerConfig,
        metrics: Metrics | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.source = source
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.state = BreakerState.CLOSED
        self.failures = 0
        """Failures in a row while closed."""
        self.opened_at = 0.0
        self._probing = False
        if metrics is not None:
            metrics.breaker_changed(source, self.state, None)

    def check(self) -> None:
        """Raise :class:`SourceCircuitOpen` if a call would be refused now (no side effect)."""
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.OPEN:
            wait = self.opened_at + self.settings.open_s - self.clock()
            if wait > 0:
                raise SourceCircuitOpen(
                    self.source,
                    f"circuit open after {self.settings.failure_threshold} failures in a row; "
                    f"calls fail fast, the next try in {wait:.1f} s",
                    retry_in_s=wait,
                )
            return  # due: admit() makes this call the probe
        if self._probing:
            raise SourceCircuitOpen(
                self.source,
                "circuit half-open: one probe call is under way; calls fail fast until it answers",
                retry_in_s=0.0,
            )

    def admit(self) -> bool:
        """Let a call through or raise :class:`SourceCircuitOpen`; ``True``: the call is the
        probe, and must be ended with :meth:`succeeded`, :meth:`failed` or :meth:`released`."""
        self.check()
        if self.state is BreakerState.CLOSED:
            return False
        if self.state is BreakerState.OPEN:
            self._move(BreakerState.HALF_OPEN)
        self._probing = True
        return True

    def succeeded(self, probe: bool) -> None:
        if probe:
            self._probing = False
            self.failures = 0
            self._move(BreakerState.CLOSED)
        elif self.state is BreakerState.CLOSED:
            self.failures = 0

    def failed(self, probe: bool) -> None:
        if probe:
            self._probing = False
            self._open()
        elif self.state is BreakerState.CLOSED:
            self.failures += 1
            if self.failures >= self.settings.failure_threshold:
                self._open()

    def released(self, probe: bool) -> None:
        """The call ended without saying anything about the source's health."""
        if probe:
            self._probing = False

    def _open(self) -> None:
        self.opened_at = self.clock()
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        if state is self.state:
            return
        self.state = state
        level = logging.INFO if state is BreakerState.HALF_OPEN else logging.WARNING
        log.log(
            level,
            "source %s: circuit %s%s",
            self.source,
            state.name.lower().replace("_", "-"),
            f" for {self.settings.open_s:g} s" if state is BreakerState.OPEN else "",
        )
        if self.metrics is not None:
            self.metrics.breaker_changed(self.source, state, state.name.lower())


class SourceGuard:
    """The breaker, retries and slots of one source (see the module's docstring)."""

    def __init__(
        self,
        source: str,
        timeout_s: float,
        settings: ResilienceConfig,
        metrics: Metrics | None = None,
        *,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
        deadline: Deadline = own_time,
    ) -> None:
        """``jitter``: a uniform draw in [0, 1) scaling each backoff (full jitter).
        ``deadline``: the timeout of one try, given the seconds left (on the source's own
        time; ``asyncio.timeout`` counts the loop's lag too, as a benchmark compares)."""
        self.source = source
        self.timeout_s = timeout_s
        self.settings = settings
        self.metrics = metrics
        self.breaker = CircuitBreaker(source, settings.breaker, metrics, clock)
        self.slot_wait_s = settings.slot_wait_s or timeout_s
        self.in_flight = 0
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._jitter = jitter
        self.deadline = deadline

    @classmethod
    def for_connector(cls, connector: Connector, metrics: Metrics | None = None) -> SourceGuard:
        return cls(connector.name, connector.timeout_s, connector.config.resilience, metrics)

    async def run(self, op: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call``'s result, or the :class:`SourceError` of its last try (a refusal by the
        breaker, a slot not had in time, or the source's own failure). ``op`` names the call
        in messages: ``"fetch program"``."""
        retry = self.settings.retry
        spent = 0.0  # the source's own time so far: tries and backoffs
        tries = 0
        while True:
            tries += 1
            self._check()
            async with self._slot():
                probe = self._admit()
                started = time.perf_counter()
                try:
                    async with self.deadline(self.timeout_s - spent):
                        result = await call()
                except TimeoutError:
                    error: SourceError = SourceTimeout(
                        self.source, f"no answer within {self.timeout_s:g} s ({op})"
                    )
                except SourceError as exc:
                    error = exc
                except BaseException:
                    self.breaker.released(probe)
                    raise
                else:
                    self.breaker.succeeded(probe)
                    return result
                finally:
                    spent += time.perf_counter() - started
            if error.source_fault:
                self.breaker.failed(probe)
            else:
                self.breaker.released(probe)
            backoff = self._jitter() * min(retry.max_s, retry.base_s * 2 ** (tries - 1))
            if (
                not error.retriable
                or tries >= retry.attempts
                or spent + backoff >= self.timeout_s
                or self.breaker.state is not BreakerState.CLOSED
            ):
                raise error
            log.debug("source %s: %s failed (%s), retrying", self.source, op, error.code)
            if self.metrics is not None:
                self.metrics.source_retry(self.source)
            await asyncio.sleep(backoff)
            spent += backoff

    def _check(self) -> None:
        try:
            self.breaker.check()
        except SourceCircuitOpen:
            self._refused("circuit_open")
            raise

    def _admit(self) -> bool:
        try:
            return self.breaker.admit()
        except SourceCircuitOpen:
            self._refused("circuit_open")
            raise

    def _refused(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.source_refusal(self.source, reason)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Hold one of the source's ``max_in_flight`` slots; waiting for it is bounded by
        ``slot_wait_s`` and measured apart from the call."""
        if self._slots.locked():
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.slot_wait_s):
                    await self._slots.acquire()
            except TimeoutError:
                self._refused("no_slot")
                raise SourceTimeout(
                    self.source,
                    f"no free slot within {self.slot_wait_s:g} s: "
                    f"{self.settings.max_in_flight} calls to it in flight "
                    "(resilience.max_in_flight)",
                ) from None
            finally:
                if self.metrics is not None:
                    self.metrics.slot_waited(self.source, time.perf_counter() - started)
        else:
            await self._slots.acquire()  # free: taken without a wait
            if self.metrics is not None:
                self.metrics.slot_waited(self.source, 0.0)
        self.in_flight += 1
        if self.metrics is not None:
            self.metrics.in_flight(self.source, 1)
        try:
            yield
        finally:
            self._slots.release()
            self.in_flight -= 1
            if self.metrics is not None:
                self.metrics.in_flight(self.source, -1)


def guards_for(
    connectors: Mapping[str, Connector], metrics: Metrics | None = None
) -> dict[str, SourceGuard]:
    """One guard per source, each from its own ``timeout_s`` and ``resilience`` settings."""
    return {name: SourceGuard.for_connector(conn, metrics) for name, conn in connectors.items()}
