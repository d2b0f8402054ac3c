"""Transforms end to end (issue 11, item 1): through GraphQL on a real SQLite source, a filter
on a transformed field returns what a brute-force filter of the transformed records returns
(evaluated by the hub, or pushed down translated where a ``map`` translates exactly), across
pages; and keys of several columns on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import create_async_engine

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.connectors.base import FieldFilter, Record, matches
from ecehub.connectors.sql import SqlConnector, SqlSourceConfig
from ecehub.connectors.transforms import join_key
from ecehub.errors import ConfigError
from ecehub.resolvers.runtime import Runtime, build_connectors

CITIES = [" SPRINGFIELD, IL", "springfield", "Shelbyville, IL ", "OGDENVILLE", "Springfield , IL"]
ZIPS = ["62701-1234", "62701", "62565-0001", "62702", "62701-9999"]
STATUSES = ["A", "P", "X", "a", "Licensed", "p "]


def _rows() -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f"P{n:02d}",
            f'"Program {n}"' if n % 4 == 0 else f"  program {n} ",
            CITIES[n % len(CITIES)],
            ZIPS[n % len(ZIPS)],
            STATUSES[n % len(STATUSES)],
        )
        for n in range(1, 31)
    ]


def _config(tmp_path: Path) -> dict[str, Any]:
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE provider (id TEXT, name TEXT, city TEXT, zip TEXT, st TEXT)")
        conn.executemany("INSERT INTO provider VALUES (?, ?, ?, ?, ?)", _rows())
    return {
        "sources": {
            "state": {
                "kind": "sql",
                "url": f"sqlite+aiosqlite:///{db}",
                "entities": {
                    "program": {
                        "table": "provider",
                        "key": "id",
                        "fields": {
                            "name": "name",
                            "city": "city",
                            "zip": "zip",
                            "license_status": "st",
                        },
                        "transforms": {
                            "name": ["trim", "strip_quotes", {"case": "title"}],
                            "city": [
                                {"regex_extract": "^\\s*([^,]*?)\\s*(,|$)"},
                                {"case": "title"},
                            ],
                            "zip": [{"regex_replace": {"pattern": "-\\d{4}$", "with": ""}}],
                            "license_status": [
                                {"map": {"A": "Licensed", "P": "Provisional", "X": None}}
                            ],
                        },
                    }
                },
            }
        },
        "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
        "cache": {"backend": "none"},
    }


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[tuple[list[Record], httpx.AsyncClient]]:
    config = parse_config(_config(tmp_path))
    [conn] = build_connectors(config).values()
    try:
        everything = (await conn.find("program")).records
    finally:
        await conn.aclose()
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield everything, client
    finally:
        await runtime.aclose()


QUERY = """query($after: String, $filter: ProgramFilter) {
  programs(first: 4, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { name address { city zip } license { status } }
  }
}"""


async def _all_pages(client: httpx.AsyncClient, flt: dict[str, Any]) -> list[str]:
    names: list[str] = []
    after = None
    for _ in range(20):
        answer = await client.post(
            "/graphql", json={"query": QUERY, "variables": {"after": after, "filter": flt}}
        )
        body = answer.json()
        assert "errors" not in body, body["errors"]
        page = body["data"]["programs"]
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more pages than records")


@pytest.mark.parametrize(
    ("graphql_filter", "field_filter"),
    [
        ({"zip": "62701"}, FieldFilter("zip", "eq", "62701")),
        ({"city": "springfield"}, FieldFilter("city", "eq", "springfield")),
        ({"city": "Shelbyville"}, FieldFilter("city", "eq", "Shelbyville")),
        ({"name": "program 1"}, FieldFilter("name", "contains", "program 1")),
        ({"licenseStatus": "licensed"}, FieldFilter("license_status", "eq", "licensed")),
        ({"licenseStatus": "Provisional"}, FieldFilter("license_status", "eq", "Provisional")),
        (
            {"zip": "62701", "licenseStatus": "Licensed"},
            FieldFilter("zip", "eq", "62701"),
        ),
    ],
)
async def test_filters_on_transformed_fields_answer_as_brute_force_over_the_records(
    graph: tuple[list[Record], httpx.AsyncClient],
    graphql_filter: dict[str, Any],
    field_filter: FieldFilter,
) -> None:
    everything, client = graph
    assert len(everything) == 30
    wanted = [field_filter]
    if "licenseStatus" in graphql_filter and field_filter.field != "license_status":
        wanted.append(FieldFilter("license_status", "eq", graphql_filter["licenseStatus"]))
    expected = sorted(r.fields["name"] for r in everything if matches(r, wanted))
    assert expected, "a filter that matches nothing proves nothing"
    assert len(expected) < len(everything)
    assert sorted(await _all_pages(client, graphql_filter)) == expected


async def test_the_records_show_the_transformed_values(
    graph: tuple[list[Record], httpx.AsyncClient],
) -> None:
    everything, client = graph
    by_name = {r.fields["name"]: r for r in everything}
    assert by_name["Program 4"].fields["city"] == "Springfield"  # '"Program 4"', ' SPRINGFIELD, IL'
    assert by_name["Program 1"].fields["zip"] == "62701"  # 62701-1234
    assert by_name["Program 2"].fields["license_status"] is None  # X: mapped to null
    answer = await client.post(
        "/graphql", json={"query": QUERY, "variables": {"filter": {"zip": "62565"}}}
    )
    nodes = answer.json()["data"]["programs"]["nodes"]
    assert nodes and all(n["address"] == {"city": "Shelbyville", "zip": "62565"} for n in nodes)


# -- keys of several columns ---------------------------------------------------------------------
metadata = MetaData()
report = Table(
    "report",
    metadata,
    Column("grant_number", String(20), primary_key=True),
    Column("program_number", String(20), primary_key=True),
    Column("program_name", String(100)),
)
enrollment = Table(
    "enrollment_by_year",
    metadata,
    Column("grant_number", String(20), primary_key=True),
    Column("report_year", Integer, primary_key=True),
    Column("enrolled", Integer),
)
REPORT_ROWS = [
    ("a|b", "c", "Pipe in the grant"),
    ("a", "b|c", "Pipe in the program"),
    ("g\\", "1", "Backslash at the end"),
    ("g", "\\1", "Backslash at the start"),
    *[(f"09CH{n % 4:04d}", f"{n:03d}", f"Program {n}") for n in range(1, 15)],
]
ENROLLMENT_ROWS = [(f"09CH{n % 3:04d}", 2019 + n % 5, 10 * n) for n in range(1, 13)]


async def _composite_source(url: str) -> SqlConnector:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            insert(report),
            [
                dict(zip(("grant_number", "program_number", "program_name"), r, strict=True))
                for r in REPORT_ROWS
            ],
        )
        await conn.execute(
            insert(enrollment),
            [
                dict(zip(("grant_number", "report_year", "enrolled"), r, strict=True))
                for r in ENROLLMENT_ROWS
            ],
        )
    await engine.dispose()
    settings = SqlSourceConfig.model_validate(
        {
            "kind": "sql",
            "url": url,
            "entities": {
                "program": {
                    "table": "report",
                    "key": ["grant_number", "program_number"],
                    "fields": {"name": "program_name"},
                },
                "enrollment": {
                    "table": "enrollment_by_year",
                    "key": ["grant_number", "report_year"],
                    "fields": {"count": "enrolled", "period": "report_year"},
                },
            },
        }
    )
    return SqlConnector("hsr", settings)


async def test_composite_keys_find_fetch_and_page_on_every_backend(db_url: str) -> None:
    conn = await _composite_source(db_url)
    try:
        assert await conn.verify() == []
        everything = (await conn.find("program")).records
        expected_keys = {join_key([g, p]) for g, p, _ in REPORT_ROWS}
        assert {r.key for r in everything} == expected_keys
        assert len(expected_keys) == len(REPORT_ROWS)  # 'a|b'+'c' is not 'a'+'b|c'
        by_key = {r.key: r for r in everything}
        assert by_key[join_key(["a|b", "c"])].fields["name"] == "Pipe in the grant"
        assert by_key[join_key(["a", "b|c"])].fields["name"] == "Pipe in the program"
        # Pages of 3 follow the cursors to the same records, in the same order, once each.
        walked: list[str] = []
        after = None
        while True:
            page = await conn.find("program", first=3, after=after)
            walked += [r.key for r in page.records]
            if not page.has_next:
                break
            after = page.records[-1].cursor
        assert walked == [r.key for r in everything]
        # Found by key: a condition on each column; keys that are not keys find nothing.
        asked = [join_key(["g\\", "1"]), join_key(["g", "\\1"]), join_key(["09CH0001", "005"])]
        found = await conn.fetch("program", [*asked, "no-such", "a|b|c", "dangling\\"])
        assert sorted(found) == sorted(asked)
        assert found[asked[1]].fields["name"] == "Backslash at the start"
        # An integer key column: keys and cursors in its type.
        years = (await conn.find("enrollment")).records
        assert len(years) == len(ENROLLMENT_ROWS)
        first_two = await conn.find("enrollment", first=2)
        rest = await conn.find("enrollment", after=first_two.records[-1].cursor)
        assert [r.key for r in first_two.records + rest.records] == [r.key for r in years]
        one = years[5]
        assert list(await conn.fetch("enrollment", [one.key, "09CH0001|not-a-year"])) == [one.key]
        # Filters keep working with a composite key.
        named = await conn.find("program", [FieldFilter("name", "contains", "backslash")])
        assert sorted(r.fields["name"] for r in named.records) == [
            "Backslash at the end",
            "Backslash at the start",
        ]
        with pytest.raises(ValueError, match="invalid cursor"):
            await conn.find("program", after="only-one-part")
    finally:
        await conn.aclose()


async def test_children_of_a_composite_key_name_its_columns_on_every_backend(
    db_url: str,
) -> None:
    """A yearly report keyed by grant and program number, with its enrollment rows under it
    through the same two columns: each program's children, one statement for many parents,
    and a parent key that is not one (or a part that does not match) finds none."""
    conn = await _composite_source(db_url)
    settings = conn.sql_config.model_dump()
    settings["entities"]["site"] = {
        "table": "report",
        "key": ["grant_number", "program_number"],
        "parent": {"program": ["grant_number", "program_number"]},
        "fields": {"name": "program_name"},
    }
    settings["url"] = db_url
    child = SqlConnector("hsr", SqlSourceConfig.model_validate(settings))
    try:
        assert await child.verify() == []
        parents = [join_key(["a|b", "c"]), join_key(["g", "\\1"]), join_key(["09CH0001", "005"])]
        asked = [*parents, join_key(["a", "c"]), "no-such"]
        grouped = await child.children("site", "program", asked)
        assert {k: [r.fields["name"] for r in v] for k, v in grouped.items()} == {
            parents[0]: ["Pipe in the grant"],
            parents[1]: ["Backslash at the start"],
            parents[2]: ["Program 5"],
            join_key(["a", "c"]): [],
            "no-such": [],
        }
        assert all(r.parent_key == k for k, v in grouped.items() for r in v)
        [found] = (await child.find("site", [FieldFilter("name", "eq", "Program 5")])).records
        assert found.parent_key == parents[2]
    finally:
        await child.aclose()
        await conn.aclose()


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("program_id", "keyed by several columns"),
        (["a"], "keyed by several columns"),
        (["a", "b", "c"], "keyed by several columns"),
        (["a", "a"], "names a column twice"),
    ],
)
def test_a_child_must_name_as_many_columns_as_its_parent_key(parent: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(
            {
                "sources": {
                    "hsr": {
                        "kind": "sql",
                        "url": "sqlite+aiosqlite:///x.db",
                        "entities": {
                            "program": {"table": "report", "key": ["a", "b"]},
                            "site": {"table": "site", "key": "id", "parent": {"program": parent}},
                        },
                    }
                }
            }
        )


def test_a_child_of_a_one_column_key_names_one_column() -> None:
    with pytest.raises(ConfigError, match="keyed by one column"):
        parse_config(
            {
                "sources": {
                    "hsr": {
                        "kind": "sql",
                        "url": "sqlite+aiosqlite:///x.db",
                        "entities": {
                            "program": {"table": "report", "key": "a"},
                            "site": {
                                "table": "site",
                                "key": "id",
                                "parent": {"program": ["a", "b"]},
                            },
                        },
                    }
                }
            }
        )
