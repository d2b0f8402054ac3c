"""The funding report and the support summaries, over the demo graph (SQLite)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecehub.resolvers import reports
from tests.graph_helpers import GraphClient, calls_by_source, demo_graph

COACH = "coach@qris.example"

PROGRAM_IN_ALL = """{ programs(first: 1, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4})
  { nodes { id name staff { id } } } }"""

CREATE_FUNDING = """mutation($p: ID!, $in: FundingInput!) {
  createFunding(programId: $p, input: $in) { id } }"""
LOG_ACTIVITY = """mutation($p: ID!, $in: ActivityInput!) {
  logActivity(programId: $p, input: $in) { id } }"""
CREATE_GOAL = """mutation($p: ID!, $in: QipGoalInput!) {
  createQipGoal(programId: $p, input: $in) { id } }"""
CREATE_TASK = """mutation($g: ID!, $in: QipTaskInput!) {
  createQipTask(goalId: $g, input: $in) { id version } }"""
UPDATE_TASK = """mutation($id: ID!, $v: Int!, $patch: QipTaskPatch!) {
  updateQipTask(id: $id, version: $v, patch: $patch) { version } }"""

LINES = """
  programCount
  lines { id programId programName amount currency supportType purpose periodStart periodEnd
          month source fundingType }
  totals {
    overall { currency amount lineCount }
    bySupportType { supportType currency amount lineCount }
    byPurpose { purpose currency amount lineCount }
    byMonth { month currency amount lineCount }
    bySource { source currency amount lineCount }
  }
"""
REPORT = "query($f: FundingReportFilter) { fundingReport(filter: $f) {" + LINES + "} }"

TALLY = """supportType visits activityCount minutes hours funding { currency amount lineCount }
  checklistsCompleted qipTasksOpen qipTasksDone staffSupported staffSupportedIds lastContact"""
SUMMARY = "{ bySupportType { " + TALLY + " } total { " + TALLY + " } }"
PROGRAM_SUMMARY = (
    """query($id: ID!) { program(id: $id) {
  activity { kind minutes occurredOn supportType source }
  checklists { conductedOn status supportType }
  funding { amount currency supportType source }
  supportSummary """
    + SUMMARY
    + " } }"
)
SET_SUMMARY = (
    """query($ids: [ID!], $f: ProgramFilter) { supportSummary(programIds: $ids, filter: $f) {
  programCount programs { program { id name } summary """
    + SUMMARY
    + " } total "
    + SUMMARY
    + " } }"
)


async def _ok(
    client: GraphClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = await client.query(query, variables or {}, user=COACH)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def _error(client: GraphClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await client.query(query, variables, user=COACH)
    assert body["errors"] and body["data"] is None, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def _program(client: GraphClient) -> dict[str, Any]:
    node: dict[str, Any] = (await _ok(client, PROGRAM_IN_ALL))["programs"]["nodes"][0]
    return node


async def _fund(
    client: GraphClient,
    pid: str,
    amount: str,
    support_type: str,
    purpose: str,
    start: str,
    end: str,
    currency: str = "USD",
) -> None:
    entry = {
        "amount": amount,
        "supportType": support_type,
        "purpose": purpose,
        "periodStart": start,
        "periodEnd": end,
        "currency": currency,
    }
    await _ok(client, CREATE_FUNDING, {"p": pid, "in": entry})


def _sums(lines: list[dict[str, Any]], key: str | None) -> dict[tuple[Any, str], Decimal]:
    out: dict[tuple[Any, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        out[(line[key] if key else None, line["currency"])] += Decimal(line["amount"])
    return dict(out)


def _totals(rows: list[dict[str, Any]], key: str | None) -> dict[tuple[Any, str], Decimal]:
    return {(r[key] if key else None, r["currency"]): Decimal(r["amount"]) for r in rows}


def _assert_totals_are_the_sum_of_lines(report: dict[str, Any]) -> None:
    lines, totals = report["lines"], report["totals"]
    assert _totals(totals["overall"], None) == _sums(lines, None)
    assert _totals(totals["bySupportType"], "supportType") == _sums(lines, "supportType")
    assert _totals(totals["byPurpose"], "purpose") == _sums(lines, "purpose")
    assert _totals(totals["byMonth"], "month") == _sums(lines, "month")
    assert _totals(totals["bySource"], "source") == _sums(lines, "source")
    assert sum(t["lineCount"] for t in totals["overall"]) == len(lines)
    for line in lines:  # a line counts in the month its period starts
        assert line["month"] == (line["periodStart"][:7] if line["periodStart"] else None)


async def test_funding_report_combines_sector_and_hub_lines_with_exact_totals(
    tmp_path: Path,
) -> None:
    async with demo_graph(tmp_path, programs=40) as (_, client):
        program = await _program(client)
        pid = program["id"]
        # 0.10 + 0.20 is 0.30000000000000004 in floating point.
        await _fund(client, pid, "0.10", "QRIS", "MATERIALS", "2040-01-15", "2040-03-31")
        await _fund(client, pid, "0.20", "QRIS", "MATERIALS", "2040-02-01", "2040-02-29")
        await _fund(
            client,
            pid,
            "0.05",
            "HEAD_START",
            "PROFESSIONAL_DEVELOPMENT",
            "2040-02-10",
            "2040-06-30",
        )
        await _fund(client, pid, "7.00", "QRIS", "SCHOLARSHIP", "2040-04-01", "2040-04-30", "CAD")
        everything = (await _ok(client, REPORT))["fundingReport"]
        all_programs = await _ok(client, "{ programs(first: 500) { nodes { id } } }")
        one = (await _ok(client, REPORT, {"f": {"programIds": [pid]}}))["fundingReport"]
        in_2040 = (
            await _ok(
                client,
                REPORT,
                {"f": {"programIds": [pid], "from": "2040-01-01", "to": "2040-12-31"}},
            )
        )["fundingReport"]
        in_march = (
            await _ok(
                client,
                REPORT,
                {"f": {"programIds": [pid], "from": "2040-03-01", "to": "2040-03-31"}},
            )
        )["fundingReport"]
        materials = (
            await _ok(
                client,
                REPORT,
                {"f": {"programIds": [pid], "purposes": ["MATERIALS"], "from": "2040-01-01"}},
            )
        )["fundingReport"]
        head_start = (
            await _ok(
                client,
                REPORT,
                {
                    "f": {
                        "programs": {"supportTypes": ["HEAD_START"]},
                        "supportTypes": ["HEAD_START"],
                    }
                },
            )
        )["fundingReport"]
        hs_programs = await _ok(
            client,
            '{ programs(first: 500, filter: {supportTypes: ["HEAD_START"]}) { nodes { id } } }',
        )
        before_2030 = (await _ok(client, REPORT, {"f": {"to": "2029-12-31"}}))["fundingReport"]
        as_listed = await _ok(
            client,
            "query($id: ID!) { program(id: $id) { funding { id amount source purpose } } }",
            {"id": pid},
        )

    # The whole demo: sector lines (Head Start grants, QRIS awards) and hub lines.
    assert everything["programCount"] == len(all_programs["programs"]["nodes"])
    _assert_totals_are_the_sum_of_lines(everything)
    sources = {line["source"] for line in everything["lines"]}
    assert {"head_start", "qris", "hub"} <= sources
    for line in everything["lines"]:
        expected_type = {"head_start": "HEAD_START", "qris": "QRIS"}.get(line["source"])
        if expected_type:
            assert line["supportType"] == expected_type
    assert {ln["fundingType"] for ln in everything["lines"] if ln["source"] == "head_start"} <= {
        "HeadStart",
        "EarlyHeadStart",
    }
    assert {t["currency"] for t in everything["totals"]["overall"]} == {"USD", "CAD"}

    # One program: its lines are exactly Program.funding's.
    assert one["programCount"] == 1
    assert {ln["programId"] for ln in one["lines"]} == {pid}
    assert {ln["programName"] for ln in one["lines"]} == {program["name"]}
    listed = {
        (f["id"], f["amount"], f["source"], f["purpose"]) for f in as_listed["program"]["funding"]
    }
    assert {(ln["id"], ln["amount"], ln["source"], ln["purpose"]) for ln in one["lines"]} == listed
    _assert_totals_are_the_sum_of_lines(one)

    # A time frame only the hub entries fall in: exact sums, by month of the period start.
    assert {ln["source"] for ln in in_2040["lines"]} == {"hub"}
    totals = in_2040["totals"]
    assert totals["overall"] == [
        {"currency": "CAD", "amount": "7.00", "lineCount": 1},
        {"currency": "USD", "amount": "0.35", "lineCount": 3},
    ]
    assert totals["byMonth"] == [
        {"month": "2040-01", "currency": "USD", "amount": "0.10", "lineCount": 1},
        {"month": "2040-02", "currency": "USD", "amount": "0.25", "lineCount": 2},
        {"month": "2040-04", "currency": "CAD", "amount": "7.00", "lineCount": 1},
    ]
    by_type = {(t["supportType"], t["currency"]): t["amount"] for t in totals["bySupportType"]}
    assert by_type == {
        ("QRIS", "USD"): "0.30",
        ("HEAD_START", "USD"): "0.05",
        ("QRIS", "CAD"): "7.00",
    }
    by_purpose = {(t["purpose"], t["currency"]): t["amount"] for t in totals["byPurpose"]}
    assert by_purpose == {
        ("MATERIALS", "USD"): "0.30",
        ("PROFESSIONAL_DEVELOPMENT", "USD"): "0.05",
        ("SCHOLARSHIP", "CAD"): "7.00",
    }
    _assert_totals_are_the_sum_of_lines(in_2040)

    # A line is in when its period overlaps the time frame.
    assert sorted(ln["amount"] for ln in in_march["lines"]) == ["0.05", "0.10"]
    assert materials["totals"]["overall"] == [{"currency": "USD", "amount": "0.30", "lineCount": 2}]
    assert {ln["purpose"] for ln in materials["lines"]} == {"MATERIALS"}
    assert before_2030["lines"] and all(
        ln["periodStart"] is None or ln["periodStart"] <= "2029-12-31"
        for ln in before_2030["lines"]
    )
    assert "hub" not in {ln["source"] for ln in before_2030["lines"]}

    # Programs by filter, lines by support type.
    hs_ids = {n["id"] for n in hs_programs["programs"]["nodes"]}
    assert head_start["programCount"] == len(hs_ids)
    assert {ln["programId"] for ln in head_start["lines"]} <= hs_ids
    assert {ln["supportType"] for ln in head_start["lines"]} == {"HEAD_START"}
    assert {ln["source"] for ln in head_start["lines"]} == {"head_start", "hub"}
    _assert_totals_are_the_sum_of_lines(head_start)


async def test_funding_report_input_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with demo_graph(tmp_path, programs=20) as (_, client):
        unknown_type = await _error(client, REPORT, {"f": {"supportTypes": ["NOPE"]}})
        backwards = await _error(client, REPORT, {"f": {"from": "2026-02-01", "to": "2026-01-01"}})
        bad_id = await _error(client, REPORT, {"f": {"programIds": ["not-an-id"]}})
        monkeypatch.setattr(reports, "MAX_REPORT_PROGRAMS", 10)
        too_many = await _error(client, REPORT, {"f": {"programs": {}}})
        too_many_summary = await _error(client, SET_SUMMARY, {})
        monkeypatch.undo()
        everything = (await _ok(client, REPORT, {"f": {"programs": {}}}))["fundingReport"]
        all_programs = await _ok(client, "{ programs(first: 500) { nodes { id } } }")
    for error in (unknown_type, backwards, bad_id, too_many, too_many_summary):
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NOPE" in unknown_type["message"]
    assert "more than 10 programs" in too_many["message"]
    assert "more than 10 programs" in too_many_summary["message"]
    assert everything["programCount"] == len(all_programs["programs"]["nodes"]) > 10


def _tally(summary: dict[str, Any], support_type: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        t for t in summary["bySupportType"] if t["supportType"] == support_type
    )
    return found


def _usd(tally: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(f["amount"]) for f in tally["funding"] if f["currency"] == "USD"), Decimal(0)
    )


async def test_support_summary_per_sector_and_total_after_hub_work(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=40) as (_, client):
        program = await _program(client)
        pid = program["id"]
        s1, s2 = program["staff"][0]["id"], program["staff"][1]["id"]
        before = (await _ok(client, PROGRAM_SUMMARY, {"id": pid}))["program"]
        for kind, minutes, support_type, staff, day in (
            ("SITE_VISIT", 120, "QRIS", [s1], "2040-05-01T15:00:00Z"),
            ("COACHING", 45, "HEAD_START", [s1, s2], "2040-04-01T15:00:00Z"),
            ("PHONE_VIRTUAL", 30, None, [], "2040-03-01T15:00:00Z"),
        ):
            entry = {
                "kind": kind,
                "minutes": minutes,
                "supportType": support_type,
                "staffIds": staff,
                "occurredAt": day,
            }
            await _ok(client, LOG_ACTIVITY, {"p": pid, "in": entry})
        goal = await _ok(client, CREATE_GOAL, {"p": pid, "in": {"title": "Interactions"}})
        gid = goal["createQipGoal"]["id"]
        for title, support_type, status in (
            ("Coach teachers", "QRIS", "IN_PROGRESS"),
            ("Buy materials", "QRIS", "DONE"),
            ("Review curriculum", "HEAD_START", None),
            ("Dropped idea", "QRIS", "DROPPED"),
        ):
            task = (
                await _ok(
                    client,
                    CREATE_TASK,
                    {"g": gid, "in": {"title": title, "supportType": support_type}},
                )
            )["createQipTask"]
            if status:
                patch = {"status": status}
                await _ok(
                    client, UPDATE_TASK, {"id": task["id"], "v": task["version"], "patch": patch}
                )
        await _fund(client, pid, "0.10", "QRIS", "MATERIALS", "2040-01-01", "2040-01-31")
        await _fund(client, pid, "0.20", "QRIS", "PROGRAM_SUPPORT", "2040-01-01", "2040-01-31")
        after = (await _ok(client, PROGRAM_SUMMARY, {"id": pid}))["program"]
        others = await _ok(client, "{ programs(first: 3) { nodes { id } } }")
        other = next(n["id"] for n in others["programs"]["nodes"] if n["id"] != pid)
        pair = (await _ok(client, SET_SUMMARY, {"ids": [pid, other]}))["supportSummary"]
        alone = (await _ok(client, PROGRAM_SUMMARY, {"id": other}))["program"]

    summary, was = after["supportSummary"], before["supportSummary"]
    # Every sector that knows the program has a line, in declared order, and so does the total.
    codes = [t["supportType"] for t in summary["bySupportType"]]
    assert {"HEAD_START", "QRIS", "LICENSING"} <= set(codes)
    assert summary["total"]["supportType"] is None

    # Drawn from sector data and hub data: the figures match the program's own lists.
    total = summary["total"]
    activity = after["activity"]
    assert total["activityCount"] == len(activity)
    assert total["minutes"] == sum(a["minutes"] or 0 for a in activity)
    assert Decimal(total["hours"]) == (Decimal(total["minutes"]) / 60).quantize(Decimal("0.01"))
    assert total["visits"] == sum(
        1 for a in activity if (a["kind"] or "").upper().replace(" ", "_") == "SITE_VISIT"
    )
    assert total["lastContact"] == "2040-05-01"
    for code in ("QRIS", "HEAD_START"):
        mine = [a for a in activity if a["supportType"] == code]
        assert _tally(summary, code)["activityCount"] == len(mine)
        assert _tally(summary, code)["minutes"] == sum(a["minutes"] or 0 for a in mine)
    today = dt.date.today().isoformat()
    done_checklists = [
        c for c in after["checklists"] if c["conductedOn"] and c["conductedOn"] <= today
    ]
    assert total["checklistsCompleted"] == len(done_checklists) > 0
    for code in ("LICENSING", "HEAD_START"):
        assert _tally(summary, code)["checklistsCompleted"] == sum(
            1 for c in done_checklists if c["supportType"] == code
        )
    assert _usd(total) == sum(
        (Decimal(f["amount"]) for f in after["funding"] if f["currency"] == "USD"), Decimal(0)
    )
    assert _usd(_tally(summary, "HEAD_START")) > 0  # Head Start grant funding

    # What the hub work added, per sector and in total.
    qris, hs = _tally(summary, "QRIS"), _tally(summary, "HEAD_START")
    qris_was, hs_was = _tally(was, "QRIS"), _tally(was, "HEAD_START")
    assert qris["visits"] - qris_was["visits"] == 1
    assert qris["minutes"] - qris_was["minutes"] == 120
    assert hs["minutes"] - hs_was["minutes"] == 45
    assert total["minutes"] - was["total"]["minutes"] == 195
    assert total["activityCount"] - was["total"]["activityCount"] == 3
    assert (qris["qipTasksOpen"] - qris_was["qipTasksOpen"], qris["qipTasksDone"]) == (
        1,
        qris_was["qipTasksDone"] + 1,
    )
    assert hs["qipTasksOpen"] - hs_was["qipTasksOpen"] == 1
    assert total["qipTasksOpen"] - was["total"]["qipTasksOpen"] == 2
    assert total["qipTasksDone"] - was["total"]["qipTasksDone"] == 1
    assert _usd(qris) - _usd(qris_was) == Decimal("0.30")
    assert str(_usd(qris) - _usd(qris_was)) == "0.30"
    assert {s1} <= set(qris["staffSupportedIds"])
    assert {s1, s2} <= set(hs["staffSupportedIds"])
    assert {s1, s2} <= set(total["staffSupportedIds"])
    assert total["staffSupported"] == len(total["staffSupportedIds"])
    assert qris["lastContact"] == "2040-05-01" and hs["lastContact"] == "2040-04-01"

    # The state-level view: each program's summary, and both together.
    assert pair["programCount"] == 2
    assert [p["program"]["id"] for p in pair["programs"]] == [pid, other]
    assert pair["programs"][0]["summary"] == summary
    assert pair["programs"][1]["summary"] == alone["supportSummary"]
    both, mine_, theirs = pair["total"]["total"], total, alone["supportSummary"]["total"]
    for figure in ("visits", "activityCount", "minutes", "checklistsCompleted", "qipTasksOpen"):
        assert both[figure] == mine_[figure] + theirs[figure], figure
    assert _usd(both) == _usd(mine_) + _usd(theirs)
    assert both["lastContact"] == "2040-05-01"


REPORT_COST = (
    "query($ids: [ID!]) { fundingReport(filter: {programIds: $ids}) { lines { amount } } }"
)
SET_COST = """query($ids: [ID!]) { supportSummary(programIds: $ids) {
  programs { summary { total { visits } } } total { total { minutes } } } }"""
NESTED_COST = """query($n: Int!) { programs(first: $n) { nodes { supportSummary {
  bySupportType { visits funding { amount } } total { checklistsCompleted } } } } }"""


async def test_source_calls_do_not_grow_with_the_number_of_programs(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=40, live=True) as (_, client):
        listed = await _ok(client, "{ programs(first: 40) { nodes { id } } }")
        ids = [n["id"] for n in listed["programs"]["nodes"]]
        assert len(ids) == 40
        costs: dict[str, list[dict[str, int]]] = defaultdict(list)
        for chosen in (ids[:5], ids):
            for name, query, variables in (
                ("report", REPORT_COST, {"ids": chosen}),
                ("set", SET_COST, {"ids": chosen}),
                ("nested", NESTED_COST, {"n": len(chosen)}),
            ):
                body = await client.query(query, variables)
                assert "errors" not in body, body
                costs[name].append(calls_by_source(body))
    for name, (five, forty) in costs.items():
        assert five == forty, (name, five, forty)
        assert set(five) == {"licensing", "head_start", "qris"}, name
