"""A source call's timeout on its own time: the loop's lag does not count against it, and a
hung call still times out. The loop is made busy by a blocking callback (``time.sleep`` on
the loop), so the lag is there whatever the machine's load."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from ecehub.sources.deadline import LoopLag, own_time

TIMEOUT = 0.2
BUSY = 0.5


async def _answer() -> str:
    """A source that answers in 50 ms; its answer then takes the hub a few turns to read."""
    await asyncio.sleep(0.05)
    for _ in range(5):
        await asyncio.sleep(0)
    return "answer"


async def _while_busy(deadline: Callable[[], contextlib.AbstractAsyncContextManager[Any]]) -> str:
    """The answer read under ``deadline`` while the loop is busy for BUSY seconds with other
    work from 10 ms in: past the deadline, after the answer has arrived."""
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, time.sleep, BUSY)
    async with deadline():
        return await _answer()


async def test_plain_loop_time_counts_the_busy_loop_as_the_sources_time() -> None:
    # The control: asyncio's own timeout fails the call the source answered in 50 ms.
    with pytest.raises(TimeoutError):
        await _while_busy(lambda: asyncio.timeout(TIMEOUT))


async def test_own_time_does_not_count_the_loops_lag() -> None:
    assert await _while_busy(lambda: own_time(TIMEOUT, LoopLag())) == "answer"


async def test_a_hung_call_still_times_out_within_twice_its_time() -> None:
    lag = LoopLag()
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with own_time(TIMEOUT, lag):
            await asyncio.Event().wait()
    elapsed = time.perf_counter() - started
    assert elapsed >= TIMEOUT
    # Bounded: at most TIMEOUT more for lag, plus a wide margin for a loaded machine.
    assert elapsed < 2 * TIMEOUT + 5


async def test_the_watcher_runs_only_while_calls_are_in_flight() -> None:
    lag = LoopLag()

    def watchers() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "ecehub loop lag"]

    async def call() -> None:
        async with own_time(1, lag):
            assert len(watchers()) == 1
            await asyncio.sleep(0.05)

    await asyncio.gather(call(), call(), call())
    await asyncio.sleep(0)  # the cancelled watcher finishes
    assert watchers() == []
