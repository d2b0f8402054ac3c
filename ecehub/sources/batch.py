"""A per-request batch loader: every key asked for in one tick of the event loop becomes one
call of the load function, and every answer (or failure) is kept for the request.

It does what strawberry's ``DataLoader`` (with its cache) does for the source loaders, with
one future per *batch* instead of one per key: a nested page asks for thousands of keys, and
a future, a done-callback and a scheduled handle per key (``load_many`` gathering them) were
a tenth of a warm request's work. A key already read answers at once
(:meth:`BatchLoader.peek`), which is what lets the read-ahead's resolvers stay synchronous.

The timing is the DataLoader's: the batch is sent one loop iteration after its first key
(``call_soon``), so resolvers of one nesting level share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["BatchLoader"]

K = TypeVar("K")
V = TypeVar("V")


class BatchLoader(Generic[K, V]):
    """Keys to values through ``load_fn`` (one value per key, in order; an exception in
    place of a value fails that key alone; an exception raised fails the whole batch).
    Answers and failures are kept: a key is read at most once per loader."""

    def __init__(
        self, load_fn: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]
    ) -> None:
        self._load_fn = load_fn
        self._values: dict[K, V] = {}
        self._errors: dict[K, BaseException] = {}
        self._in_flight: dict[K, asyncio.Future[None]] = {}
        self._batch: list[K] = []
        self._batch_done: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def peek(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` has been read (successfully), else
        ``(False, None)``: not asked yet, still in flight, or failed."""
        if key in self._values:
            return True, self._values[key]
        return False, None

    async def load(self, key: K) -> V:
        return (await self.load_many((key,)))[0]

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        keys = list(keys)
        waits: dict[asyncio.Future[None], None] = {}  # each batch's future once
        for key in keys:
            if key in self._values or key in self._errors:
                continue
            done = self._in_flight.get(key)
            waits[self._enqueue(key) if done is None else done] = None
        for done in waits:
            await done
        found: list[V] = []
        for key in keys:
            error = self._errors.get(key)
            if error is not None:
                raise error
            found.append(self._values[key])
        return found

    def _enqueue(self, key: K) -> asyncio.Future[None]:
        if self._batch_done is None:
            loop = asyncio.get_running_loop()
            self._batch_done = loop.create_future()
            loop.call_soon(self._dispatch)
        self._batch.append(key)
        self._in_flight[key] = self._batch_done
        return self._batch_done

    def _dispatch(self) -> None:
        keys, done = self._batch, self._batch_done
        assert done is not None
        self._batch, self._batch_done = [], None
        task = asyncio.ensure_future(self._run(keys, done))
        self._tasks.add(task)  # a strong reference until it ends
        task.add_done_callback(self._tasks.discard)

    async def _run(self, keys: list[K], done: asyncio.Future[None]) -> None:
        try:
            values = await self._load_fn(keys)
            if len(values) != len(keys):
                raise RuntimeError(
                    f"a batch load answered {len(values)} values for {len(keys)} keys"
                )
            for key, value in zip(keys, values, strict=True):
                if isinstance(value, BaseException):
                    self._errors[key] = value
                else:
                    self._values[key] = value
        except BaseException as error:  # cancelled too: no waiter may hang
            for key in keys:
                self._errors.setdefault(key, error)
            if not isinstance(error, Exception):
                raise
        finally:
            for key in keys:
                self._in_flight.pop(key, None)
            if not done.done():
                done.set_result(None)
