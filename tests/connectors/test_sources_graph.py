"""End to end through the GraphQL API: a state's config mixing a SQL database and CSV files
(relative to the config file's folder, one in latin-1 with ``;``) merged into programs, with
filters on values only the CSV gives and a CSV file changed while the hub runs; and a SQL
database with a partner's GraphQL API."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import load_config, parse_config
from ecehub.resolvers.runtime import Runtime
from ecehub.testing import CONFORMANCE_DATA
from tests.connectors.graphql_upstream import ENV, Upstream, graphql_source, serving_upstream
from tests.graph_helpers import GraphClient, calls_by_source

# -- sql + csv -------------------------------------------------------------------------

CONFIG = """
support_types:
  - {code: LICENSING, name: Child-care licensing}
  - {code: QRIS, name: Quality rating}
sources:
  licensing:
    kind: sql
    url: sqlite+aiosqlite:///{db}
    support_types: [LICENSING]
    entities:
      program:
        table: facility
        key: license_no
        fields: {name: facility_name, city: city, license_status: status}
        identifiers: {LICENSE_NUMBER: license_no}
  qris:
    kind: csv
    support_types: [QRIS]
    encoding: latin-1
    delimiter: ";"
    entities:
      program:
        file: data/providers.csv
        key: Provider ID
        fields: {name: Provider Name, qris_level: Star Level, email: Email}
        identifiers: {LICENSE_NUMBER: License No, QRIS_PROVIDER_ID: Provider ID}
      site:
        file: data/sites.csv
        delimiter: ","                   # this file is written with commas, in UTF-8
        encoding: utf-8
        key: [Provider ID, Site No]
        parent: {program: Provider ID}
        fields: {name: Site Name, capacity: Seats}
merge:
  program: {match_on: [LICENSE_NUMBER]}
hub: {url: "sqlite+aiosqlite:///{hub}"}
cache: {backend: none}   # a changed file shows on the next query, not after the cache's ttl
"""

PROVIDERS = (
    "Provider ID;Provider Name;Star Level;Email;License No\n"
    "Q1;Sunshine Kids;4;sun@example.org;LIC-1\n"
    "Q2;Pequeños Pasos;2;pasos@example.org;LIC-2\n"
    "Q3;Home Care Only;3;home@example.org;\n"
)
SITES = "Provider ID,Site No,Site Name,Seats\nQ1,1,Main,40\nQ1,2,Annex,12\nQ2,1,Casa,18\n"

PROGRAMS = """
query($filter: ProgramFilter) {
  programs(first: 10, filter: $filter) {
    nodes {
      name email
      supportTypes { code }
      license { number status }
      qrisRating { level source }
      sites { name }
    }
  }
}
"""


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[tuple[Path, GraphClient]]:
    db = tmp_path / "licensing.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE facility (license_no TEXT PRIMARY KEY, facility_name TEXT, "
            "city TEXT, status TEXT)"
        )
        conn.executemany(
            "INSERT INTO facility VALUES (?, ?, ?, ?)",
            [
                ("LIC-1", "Sunshine Kids Center", "Springfield", "Licensed"),
                ("LIC-2", "Pequenos Pasos", "Shelbyville", "Licensed"),
                ("LIC-9", "Unrated Place", "Ogdenville", "Provisional"),
            ],
        )
    data = tmp_path / "state" / "data"
    data.mkdir(parents=True)
    (data / "providers.csv").write_bytes(PROVIDERS.encode("latin-1"))
    (data / "sites.csv").write_text(SITES, encoding="utf-8")
    config_file = tmp_path / "state" / "state.yaml"
    config_file.write_text(
        CONFIG.replace("{db}", str(db)).replace("{hub}", str(tmp_path / "hub.db"))
    )
    config = load_config(config_file)
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield data, GraphClient(client)
    finally:
        await hub.aclose()


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert "errors" not in body, body
    return {p["name"]: p for p in body["data"]["programs"]["nodes"]}


async def test_sql_and_csv_programs_merge_on_the_license_number(
    graph: tuple[Path, GraphClient],
) -> None:
    _, client = graph
    body = await client.query(PROGRAMS)
    programs = _by_name(body)
    assert set(programs) == {
        "Sunshine Kids Center",
        "Pequenos Pasos",
        "Unrated Place",
        "Home Care Only",
    }
    sunshine = programs["Sunshine Kids Center"]  # licensing is listed first: its name wins
    assert sunshine["email"] == "sun@example.org"
    assert {s["code"] for s in sunshine["supportTypes"]} == {"LICENSING", "QRIS"}
    assert sunshine["license"] == {"number": "LIC-1", "status": "Licensed"}
    assert sunshine["qrisRating"] == {"level": 4, "source": "qris"}
    assert sorted(s["name"] for s in sunshine["sites"]) == ["Annex", "Main"]
    assert programs["Pequenos Pasos"]["sites"] == [{"name": "Casa"}]
    assert programs["Unrated Place"]["qrisRating"] is None
    assert programs["Home Care Only"]["license"] is None  # no licensing record to merge with
    # The sites of every program: one csv call, not one per program.
    assert calls_by_source(body)["qris"] <= 3


async def test_filters_on_csv_values_and_a_changed_file(graph: tuple[Path, GraphClient]) -> None:
    data, client = graph
    rated = _by_name(await client.query(PROGRAMS, {"filter": {"qrisLevelMin": 3}}))
    assert set(rated) == {"Sunshine Kids Center", "Home Care Only"}
    by_accent = _by_name(await client.query(PROGRAMS, {"filter": {"name": "PEQUEÑOS"}}))
    assert set(by_accent) == {"Pequenos Pasos"}  # the csv's name matched; licensing's shows
    (data / "providers.csv").write_bytes(PROVIDERS.replace(";2;", ";5;").encode("latin-1"))
    rated = _by_name(await client.query(PROGRAMS, {"filter": {"qrisLevelMin": 3}}))
    assert set(rated) == {"Sunshine Kids Center", "Home Care Only", "Pequenos Pasos"}
    assert rated["Pequenos Pasos"]["qrisRating"]["level"] == 5


# -- sql + graphql -----------------------------------------------------------------------

GRAPH = """
{ programs(first: 20) { nodes { name license { number status } qrisRating { level source }
    sites { name } } } }
"""


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    async with serving_upstream() as state:
        yield state


async def test_a_graphql_source_merges_with_sql_through_the_api(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "licensing.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE facility (license_no TEXT PRIMARY KEY, status TEXT)")
        conn.executemany(
            "INSERT INTO facility VALUES (?, ?)", [("LIC-100", "Licensed"), ("LIC-800", "Closed")]
        )
    partner = graphql_source(f"{upstream.url}/graphql")
    config = parse_config(
        {
            "sources": {
                "licensing": {
                    "kind": "sql",
                    "url": f"sqlite+aiosqlite:///{db}",
                    "support_types": ["LICENSING"],
                    "entities": {
                        "program": {
                            "table": "facility",
                            "key": "license_no",
                            "fields": {"license_status": "status"},
                            "identifiers": {"LICENSE_NUMBER": "license_no"},
                        }
                    },
                },
                "partner": partner,
            },
            "merge": {"program": {"match_on": ["LICENSE_NUMBER"]}},
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path}/hub.db"},
        },
        env=ENV,
    )
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            body = await GraphClient(client).query(GRAPH)
    finally:
        await hub.aclose()
    assert "errors" not in body, body
    programs = {p["name"]: p for p in body["data"]["programs"]["nodes"]}
    assert len(programs) == len(CONFORMANCE_DATA["program"])
    sunshine = programs["Sunshine Kids"]
    assert sunshine["license"] == {"number": "LIC-100", "status": "Licensed"}
    assert sunshine["qrisRating"] == {"level": 3, "source": "partner"}
    assert sorted(s["name"] for s in sunshine["sites"]) == [
        "Sunshine Main",
        "Sunshine North Room",
        "sunshine annex",
    ]
    assert programs["Stepping Stones"]["license"]["status"] == "Closed"
    # The sites of every program: one request (sitesOf, aliased by 3 keys), not one per program.
    children = [b for b in upstream.bodies if b.get("operationName") == "EcehubChildren"]
    assert len(children) == 1
    # The listing (pages of 4), finding by license number, the children: a handful of
    # requests besides the listing's pages, whatever the number of programs.
    pages = -(-len(CONFORMANCE_DATA["program"]) // 4)
    assert calls_by_source(body)["partner"] <= 4 and upstream.requests <= pages + 5
