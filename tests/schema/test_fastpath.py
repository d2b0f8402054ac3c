"""FastExecution completes plain object and list fields itself: every answer (data, errors and
their paths, nulls bubbling up) must be graphql-core's own, which a schema without the fast
path gives for the same operation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from ecehub.schema.fastpath import FastExecution, plain_resolvers


@dataclass
class Ctx:
    asked: list[str] = field(default_factory=list)


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    label: str | None
    must: str = "ok"

    @strawberry.field
    def fails(self) -> str | None:
        if self.name == "boom":
            raise ValueError(f"no value for {self.name}")
        return self.name

    @strawberry.field
    def fails_hard(self) -> str:
        if self.name == "boom":
            raise ValueError(f"hard failure for {self.name}")
        return self.name


@strawberry.type
class Box:
    key: str
    items_data: strawberry.Private[list[Item | None]]

    @strawberry.field
    def items(self, info: Info[Ctx, None]) -> list[Item | None]:
        info.context.asked.append(f"items:{self.key}")
        return self.items_data

    @strawberry.field
    def strict_items(self) -> list[Item]:
        return [i for i in self.items_data if i is not None]

    @strawberry.field
    def required_items(self) -> list[Item]:
        return self.items_data  # type: ignore[return-value]  # may hold a null: an error

    @strawberry.field
    def first(self) -> Item | None:
        return self.items_data[0] if self.items_data else None

    @strawberry.field
    def required_first(self) -> Item:
        return self.items_data[0]  # type: ignore[return-value]

    @strawberry.field(graphql_type=list[Item | None])  # type: ignore[untyped-decorator]
    def later(self) -> Awaitable[list[Item | None]]:
        async def read() -> list[Item | None]:
            await asyncio.sleep(0)
            return self.items_data

        return read()

    @strawberry.field(graphql_type=list[Item | None])  # type: ignore[untyped-decorator]
    def later_with_info(self, info: Info[Ctx, None]) -> Awaitable[list[Item | None]]:
        async def read() -> list[Item | None]:
            await asyncio.sleep(0)
            # asked of the info once the resolver has returned: still the full one
            info.context.asked.append(f"later:{info.path.as_list()}:{info.field_name}")
            return self.items_data

        return read()

    @strawberry.field
    def by_path(self, info: Info[Ctx, None]) -> list[Item | None]:
        info.context.asked.append(f"by_path:{info.field_name}")  # more than the context
        return self.items_data

    @strawberry.field
    def named(self) -> list[Named]:
        return [i for i in self.items_data if i is not None]


def boxes() -> list[Box | None]:
    return [
        Box(key="a", items_data=[Item(name="x", label="X"), None, Item(name="boom", label=None)]),
        Box(key="b", items_data=[Item(name="y", label=None)]),
        Box(key="c", items_data=[]),
        Box(key="d", items_data=[None]),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[Box | None]:
        return list(boxes())

    @strawberry.field
    async def box(self, key: str) -> Box | None:
        return next((b for b in boxes() if b is not None and b.key == key), None)


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    fast = strawberry.Schema(query=Query, types=[Item], execution_context_class=FastExecution)
    plain_resolvers(fast)
    return fast, strawberry.Schema(query=Query, types=[Item])


QUERIES = {
    "nested lists": "{ boxes { key items { name label fails } first { name } } }",
    "item error nulls the item": "{ boxes { key items { name failsHard } } }",
    "non-null items: the error nulls the list": "{ boxes { key strictItems { failsHard } } }",
    "null in a non-null list": "{ boxes { key requiredItems { name } } }",
    "null in a non-null field bubbles to the box": "{ boxes { key requiredFirst { name } } }",
    "awaitable list": "{ boxes { key later { name fails } } }",
    "resolver asks info for more than the context": "{ boxes { byPath { name } } }",
    "a coroutine asks info later": "{ boxes { key laterWithInfo { name } } }",
    "aliases and fragments merge": """
        { boxes { ...F one: items { name } items { label } } }
        fragment F on Box { items { name } key }
    """,
    "interface list": "{ boxes { named { name ... on Item { label } __typename } } }",
    "async root": '{ box(key: "a") { items { name failsHard } } }',
    "include and skip": """
        query($on: Boolean!) {
          boxes { items @include(if: $on) { name } first @skip(if: $on) { name } }
        }
    """,
}


def _errors(result: Any) -> list[tuple[str, list[Any] | None]]:
    return sorted((e.message, e.path) for e in result.errors or [])


@pytest.mark.parametrize("name", list(QUERIES))
async def test_fast_completion_answers_as_graphql_core_does(name: str) -> None:
    fast, plain = schemas()
    fast_ctx, plain_ctx = Ctx(), Ctx()
    variables = {"on": True}
    got = await fast.execute(QUERIES[name], context_value=fast_ctx, variable_values=variables)
    want = await plain.execute(QUERIES[name], context_value=plain_ctx, variable_values=variables)
    assert want.data is not None  # the query itself is sound (null bubbling stops below)
    assert got.data == want.data
    assert _errors(got) == _errors(want)
    assert sorted(set(fast_ctx.asked)) == sorted(set(plain_ctx.asked))


async def test_the_fast_path_is_taken_for_plain_object_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The toy schema's lists are completed without graphql-core's list completion (so the
    comparison above compares two different paths)."""
    fast, _ = schemas()
    calls: list[str] = []
    original = FastExecution.complete_list_value

    def spy(self: FastExecution, *args: Any, **kwargs: Any) -> Any:
        calls.append("slow")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FastExecution, "complete_list_value", spy)
    result = await fast.execute("{ boxes { items { name } } }", context_value=Ctx())
    assert result.errors is None
    assert calls == ["slow"]  # the root list only: its resolver is strawberry's, not plain
