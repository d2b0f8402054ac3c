"""The per-request batch loader (ecehub.sources.batch): what the source loaders rely on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from ecehub.sources.batch import BatchLoader


class Source:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail_batch = False

    async def load(self, keys: list[str]) -> Sequence[str | BaseException]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        if self.fail_batch:
            raise ConnectionError("source down")
        return [KeyError(k) if k.startswith("bad") else k.upper() for k in keys]


async def test_keys_asked_in_one_tick_make_one_call_each_key_once() -> None:
    source = Source()
    loader = BatchLoader(source.load)
    a, b, c = await asyncio.gather(
        loader.load_many(["x", "y"]), loader.load("y"), loader.load_many(["z", "x"])
    )
    assert (a, b, c) == (["X", "Y"], "Y", ["Z", "X"])
    assert source.calls == [["x", "y", "z"]]


async def test_answers_are_kept_and_peeked_without_waiting() -> None:
    source = Source()
    loader = BatchLoader(source.load)
    assert loader.peek("x") == (False, None)
    await loader.load("x")
    assert loader.peek("x") == (True, "X")
    assert await loader.load_many(["x", "x"]) == ["X", "X"]
    assert source.calls == [["x"]]


async def test_a_key_in_flight_is_not_asked_again_by_a_later_batch() -> None:
    source = Source()
    loader = BatchLoader(source.load)
    first = asyncio.ensure_future(loader.load("x"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is now being read
    second = await loader.load_many(["x", "y"])
    assert await first == "X" and second == ["X", "Y"]
    assert source.calls == [["x"], ["y"]]


async def test_an_exception_in_place_of_a_value_fails_that_key_alone() -> None:
    source = Source()
    loader = BatchLoader(source.load)
    ok, bad = await asyncio.gather(loader.load("x"), loader.load("bad1"), return_exceptions=True)
    assert ok == "X" and isinstance(bad, KeyError)
    assert loader.peek("bad1") == (False, None)
    with pytest.raises(KeyError):
        await loader.load("bad1")  # kept: not asked again
    assert source.calls == [["x", "bad1"]]


async def test_a_failed_batch_fails_every_waiter_and_is_kept() -> None:
    source = Source()
    source.fail_batch = True
    loader = BatchLoader(source.load)
    results = await asyncio.gather(
        loader.load("x"), loader.load_many(["y"]), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    source.fail_batch = False
    with pytest.raises(ConnectionError):
        await loader.load("x")
    assert await loader.load("z") == "Z"
    assert source.calls == [["x", "y"], ["z"]]


async def test_a_load_function_answering_the_wrong_number_of_values_fails_loudly() -> None:
    async def short(keys: list[str]) -> list[str]:
        return keys[:-1]

    loader = BatchLoader(short)
    with pytest.raises(RuntimeError, match="1 values for 2 keys"):
        await asyncio.gather(loader.load("a"), loader.load("b"))
