"""A timeout on a source call's own time: the event loop's lag while the call runs does not
count against it.

A loop busy with other requests' work runs a woken task late: an answer the source gave in
20 ms may wait in the ready queue behind hundreds of milliseconds of other work, and the
timeout's timer, on the same loop clock, fires as if the source were slow. So while calls are
in flight a watcher measures the loop's lag (how late a short sleep wakes, every
:data:`INTERVAL` seconds), and when a call's deadline comes, the deadline moves on by the lag
measured since the call began (once more each time it comes again), at most ``seconds`` more
in all: a hung source still fails within twice its timeout on the worst loop.

When the deadline comes, the decision waits one turn of the loop, so a watcher that is late
itself measures first and an answer already woken goes on. What this does not do: it cannot
tell a slow source from a busy loop when both happen at once (the call gets the loop's lag
back, up to ``seconds``); the lag counted is the loop's, for every call alike; a connector's
own timers inside the call (aiohttp's per-read timeout) run on loop time, though data that
has arrived resets them before a late timer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator

__all__ = ["INTERVAL", "LoopLag", "own_time", "thread_lag"]

INTERVAL = 0.02
"""Seconds between the watcher's measurements: its cost while calls are in flight (50
wake-ups a second) against how fresh the measured lag is."""

_EPSILON = 0.001


class LoopLag:
    """The lag of the running loop, summed while someone watches (one watcher task, started
    by the first :meth:`watch`, cancelled when the last one ends)."""

    def __init__(self) -> None:
        self.total = 0.0
        """Seconds the watcher's wake-ups came late, summed."""
        self._users = 0
        self._task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        if self._task is not None and self._task.get_loop() is not loop:
            self._task, self._users = None, 0  # left over from a loop that has ended
        self._users += 1
        if self._task is None:
            self._task = loop.create_task(self._watch(loop), name="ecehub loop lag")
        try:
            yield
        finally:
            self._users -= 1
            if self._users == 0 and self._task is not None:
                self._task.cancel()
                self._task = None

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            before = loop.time()
            await asyncio.sleep(INTERVAL)
            self.total += max(0.0, loop.time() - before - INTERVAL)


_PER_THREAD = threading.local()


def thread_lag() -> LoopLag:
    """This thread's watcher (a thread runs one loop at a time; a later loop starts afresh)."""
    lag: LoopLag | None = getattr(_PER_THREAD, "lag", None)
    if lag is None:
        lag = _PER_THREAD.lag = LoopLag()
    return lag


@contextlib.asynccontextmanager
async def own_time(seconds: float, lag: LoopLag | None = None) -> AsyncIterator[None]:
    """Like ``asyncio.timeout(seconds)`` (``TimeoutError`` when it runs out), with the
    deadline moved on by the loop's lag meanwhile, up to ``seconds`` more. ``lag``: by
    default this thread's watcher."""
    loop = asyncio.get_running_loop()
    if lag is None:
        lag = thread_lag()
    with lag.watch():
        seen = lag.total
        extended = 0.0
        scope = asyncio.timeout(None)
        handle: asyncio.Handle | None = None

        def due() -> None:
            nonlocal handle
            # One turn of the loop first: a late watcher, due no later than this, measures
            # the lag behind it, and an answer that woke its task with this timer goes on.
            handle = loop.call_soon(decide)

        def decide() -> None:
            nonlocal seen, extended, handle
            extra = min(lag.total - seen, seconds - extended)
            seen = lag.total
            if extra > _EPSILON:
                extended += extra
                handle = loop.call_at(loop.time() + extra, due)
            else:
                scope.reschedule(loop.time())

        try:
            async with scope:
                handle = loop.call_at(loop.time() + seconds, due)
                yield
        finally:
            if handle is not None:
                handle.cancel()
