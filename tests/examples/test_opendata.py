"""The example open-data API behaves as a Socrata dataset does where the hub depends on it:
text compared exactly, unknown parameters and queries refused with 400, $limit/$offset/$order
paging, a null value left out of its object, and every request counted."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from examples.opendata import DATASET, serve_opendata
from examples.world import generate


async def test_the_api_answers_as_socrata_does() -> None:
    facilities = generate().facilities
    resource = f"/resource/{DATASET}.json"
    async with serve_opendata(facilities) as (api, url), aiohttp.ClientSession(url) as http:

        async def ask(**params: str) -> tuple[int, Any]:
            async with http.get(resource, params=params) as answer:
                return answer.status, await answer.json()

        status, rows = await ask(**{"$where": "city = 'Springfield'", "$limit": "1000"})
        assert status == 200 and isinstance(rows, list)
        assert len(rows) == sum(f.city == "Springfield" for f in facilities)  # exact case
        upper = sum(f.city.upper().find("SPRINGFIELD") >= 0 for f in facilities)
        status, rows = await ask(**{"$where": "upper(city) like '%SPRINGFIELD%'"})
        assert isinstance(rows, list) and len(rows) == upper > len(
            [f for f in facilities if f.city == "Springfield"]
        )
        numbers = [facilities[3].operation_number, facilities[7].operation_number]
        where = f"operation_number in ('{numbers[1]}', '{numbers[0]}') AND zip != 'none'"
        status, rows = await ask(**{"$where": where})
        assert [r["operation_number"] for r in rows] == numbers
        status, rows = await ask(**{"$limit": "5", "$offset": "10", "$order": ":id"})
        assert [r["operation_number"] for r in rows] == [
            f.operation_number for f in facilities[10:15]
        ]
        missing = next(f for f in facilities if f.total_capacity is None)
        status, rows = await ask(operation_number=missing.operation_number)
        assert rows == [missing.as_json()] and "total_capacity" not in rows[0]
        for params in (
            {"$select": "city"},
            {"$where": "city == 'x'"},
            {"$where": "nosuch = 'x'"},
            {"$limit": "-1"},
            {"nosuch": "x"},
        ):
            status, _ = await ask(**params)
            assert status == 400, params
        assert api.served == 10 and len(api.queries) == 10


@pytest.mark.parametrize("text", ["city = 'O''Brien'", "(city = 'a' OR city = 'b') AND zip = '1'"])
def test_where_parses_quotes_and_nesting(text: str) -> None:
    from examples.opendata import parse_where

    test = parse_where(text, frozenset({"city", "zip"}))
    assert test({"city": "O'Brien"}) == ("O''Brien" in text)
