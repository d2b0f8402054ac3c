"""Records with a period through GraphQL (issue 11, item 3): a multi-year report is one
program per grant showing its latest year, its history is queryable, and nothing is summed
across years: not a program's enrollment, not the enrollment report, not funding."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.config.loader import parse_config
from ecehub.hub.migrate import upgrade
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient
from tests.period_rows import (
    AGE_GROUPS,
    ENROLLMENT,
    FUNDING,
    SQL_ENTITIES,
    enrollment_of,
    latest_years,
    write_sql,
)


@contextlib.asynccontextmanager
async def report_graph(tmp_path: Path, source_url: str) -> AsyncIterator[GraphClient]:
    await write_sql(source_url)
    hub_url = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    await upgrade(hub_url)
    config = parse_config(
        {
            "sources": {
                "pir": {
                    "kind": "sql",
                    "url": source_url,
                    "support_types": ["HEAD_START"],
                    "entities": SQL_ENTITIES,
                }
            },
            "hub": {"url": hub_url},
            "cache": {"backend": "none"},
        }
    )
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield GraphClient(client)
    finally:
        await hub.aclose()


async def _data(client: GraphClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await client.query(query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


PROGRAMS = """query($after: String) { programs(first: 2, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { id name periods sources { source key period }
          provenance(fields: ["name"]) { source value period }
          enrollment { periods total counts { ageGroup count period } }
          older: enrollment(period: "2022") { periods total }
          spelled: enrollment(period: " fy2022 ") { total }
          funding { amount period }
          supportSummary { total { funding { amount lineCount } } } } } }"""


async def test_each_program_once_at_its_latest_year_with_its_history(
    tmp_path: Path, db_url: str
) -> None:
    async with report_graph(tmp_path, db_url) as client:
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            page = (await _data(client, PROGRAMS, {"after": after}))["programs"]
            nodes += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    latest = latest_years()
    by_grant = {n["sources"][0]["key"]: n for n in nodes}
    assert len(nodes) == len(by_grant) == len(latest)
    for grant, want in latest.items():
        node = by_grant[grant]
        year = str(want.year)
        assert node["name"] == want.name
        assert node["sources"][0]["period"] == year
        assert node["provenance"] == [{"source": "pir", "value": want.name, "period": year}]
        years = sorted({str(e.year) for e in ENROLLMENT if e.grant == grant}, reverse=True)
        assert node["periods"] == years
        # The latest year's counts, not the sum of every year's.
        rows = enrollment_of(grant, int(year))
        assert node["enrollment"]["periods"] == [year]
        assert node["enrollment"]["total"] == sum(e.count for e in rows)
        assert sorted(c["ageGroup"] for c in node["enrollment"]["counts"]) == sorted(AGE_GROUPS)
        assert {c["period"] for c in node["enrollment"]["counts"]} == {year}
        # History: the year asked for.
        older = enrollment_of(grant, 2022)
        assert node["older"]["total"] == sum(e.count for e in older)
        assert node["older"]["periods"] == (["2022"] if older else [])
        assert node["spelled"] == {"total": node["older"]["total"]}  # read as a year too
        # Funding: the latest year's line; the summary adds up that year only.
        [line] = [f for f in FUNDING if f.grant == grant and f.year == want.year]
        [(amount, period)] = [(Decimal(f["amount"]), f["period"]) for f in node["funding"]]
        assert (amount, period) == (line.amount, year)
        [total] = node["supportSummary"]["total"]["funding"]
        assert (Decimal(total["amount"]), total["lineCount"]) == (line.amount, 1)


REPORT = """query($period: String) { enrollmentReport(period: $period) {
  programCount total cells { period ageGroup count programCount } } }"""

FUNDING_REPORT = """query($period: String) { fundingReport(filter: {period: $period}) {
  totals { overall { amount lineCount } } } }"""


async def test_reports_sum_within_one_year(tmp_path: Path, sqlite_url: str) -> None:
    async with report_graph(tmp_path, sqlite_url) as client:
        latest = (await _data(client, REPORT))["enrollmentReport"]
        of_2022 = (await _data(client, REPORT, {"period": "2022"}))["enrollmentReport"]
        money = (await _data(client, FUNDING_REPORT))["fundingReport"]["totals"]["overall"]
        money_2021 = (await _data(client, FUNDING_REPORT, {"period": "2021"}))["fundingReport"]
    newest = [enrollment_of(g, int(str(p.year))) for g, p in latest_years().items()]
    assert latest["programCount"] == len(latest_years())
    assert latest["total"] == sum(e.count for rows in newest for e in rows)
    assert latest["total"] < sum(e.count for e in ENROLLMENT)  # three years summed would be more
    for cell in latest["cells"]:
        want = [e for rows in newest for e in rows if e.age_group == cell["ageGroup"]]
        want = [e for e in want if str(e.year) == cell["period"]]
        assert cell["count"] == sum(e.count for e in want)
        assert cell["programCount"] == len(want)
    assert of_2022["total"] == sum(e.count for e in ENROLLMENT if e.year == 2022)
    assert {c["period"] for c in of_2022["cells"]} == {"2022"}
    newest_lines = [f for f in FUNDING if f.year == latest_years()[f.grant].year]
    [overall] = money
    assert Decimal(overall["amount"]) == sum(f.amount for f in newest_lines)
    assert overall["lineCount"] == len(newest_lines)
    [overall_2021] = money_2021["totals"]["overall"]
    assert Decimal(overall_2021["amount"]) == sum(f.amount for f in FUNDING if f.year == 2021)
