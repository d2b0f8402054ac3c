"""Reports over programs: ``Query.fundingReport``, ``Query.supportSummary`` and
``Program.supportSummary``. The figures are computed in :mod:`ecehub.resolvers.reports` (its
docstring gives the counting rules); this module is their GraphQL shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from graphql import GraphQLError

from ecehub.access.suppression import suppress
from ecehub.crosswalk.identity import Merged
from ecehub.hub.enums import ObjectType
from ecehub.ids import decode_global_id
from ecehub.resolvers.periods import in_period
from ecehub.resolvers.reports import (
    MAX_REPORT_PROGRAMS,
    FundingCriteria,
    FundingLine,
    FundingSums,
    TooManyPrograms,
    check_program_ids,
    collective,
    declared_order,
    funding_lines,
    funding_sums,
    list_programs,
    purpose_of,
    resolve_programs,
    support_of,
    support_summaries,
)
from ecehub.schema.arguments import Period, global_id, user_error
from ecehub.schema.common import Info
from ecehub.schema.graph import Program
from ecehub.schema.query import ProgramFilter, check_filter
from ecehub.schema.support import (
    FundingPurpose,
    FundingTotal,
    SupportSummary,
    funding_total,
)

__all__ = [
    "FundingReport",
    "FundingReportFilter",
    "FundingReportLine",
    "ProgramSupportSummary",
    "ReportQueries",
    "SupportSummaryReport",
]


# -- funding report ------------------------------------------------------------------------------


@strawberry.input(description="Which programs and which funding lines a funding report covers.")
class FundingReportFilter:
    program_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="These programs (with `programs` too: those in both); IDs no source "
        "knows are left out (see `programCount`)",
    )
    programs: ProgramFilter | None = strawberry.field(
        default=None,
        description=f"Programs matching this filter (at most {MAX_REPORT_PROGRAMS}); "
        "neither this nor `programIds`: all programs",
    )
    support_types: list[str] | None = strawberry.field(
        default=None, description="Lines of these support types"
    )
    purposes: list[FundingPurpose] | None = strawberry.field(
        default=None, description="Lines for these purposes"
    )
    from_: dt.date | None = strawberry.field(
        default=None,
        name="from",
        description="Lines whose period overlaps [from, to] (both inclusive); a line without "
        "dates is left out when a time frame is given",
    )
    to: dt.date | None = None
    period: str | None = strawberry.field(
        default=None,
        description="Sector lines of this reporting period only (e.g. 2022 or 2022-2023; hub "
        "entries and lines without a period are left out). Null: each program's latest "
        "period per source, with hub entries; several periods of one source are never "
        "added up",
    )


@strawberry.type(description="One funding line: a sector source's record or a hub entry.")
class FundingReportLine:
    line: strawberry.Private[FundingLine]

    @strawberry.field(description="The line's Funding ID (as in Program.funding)")
    def id(self) -> strawberry.ID:
        return global_id("Funding", self.line.id)

    @strawberry.field
    def program_id(self) -> strawberry.ID:
        return global_id("Program", self.line.program_id)

    @strawberry.field(description="As Program.name: only for roles that may read that")
    def program_name(self, info: Info) -> str | None:
        refusal = info.context.access.value_denial("program", "name")
        if refusal is not None:
            info.context.deny(self.line.program_id, ObjectType.FIELD, refusal.field, refusal.reason)
            raise GraphQLError(refusal.reason, extensions={"code": "FORBIDDEN"})
        return self.line.program_name

    @strawberry.field(description="Exact decimal, as a string")
    def amount(self) -> Decimal:
        return self.line.amount

    @strawberry.field
    def currency(self) -> str:
        return self.line.currency

    @strawberry.field(description="The hub entry's, or the sector source's (first) support type")
    def support_type(self) -> str | None:
        return self.line.support_type

    @strawberry.field
    def purpose(self) -> FundingPurpose:
        return self.line.purpose

    @strawberry.field
    def period_start(self) -> dt.date | None:
        return self.line.period_start

    @strawberry.field
    def period_end(self) -> dt.date | None:
        return self.line.period_end

    @strawberry.field(description="The month the line counts in (its period's start): YYYY-MM")
    def month(self) -> str | None:
        return self.line.month

    @strawberry.field(description='The sector source (e.g. head_start, qris), or "hub"')
    def source(self) -> str:
        return self.line.source

    @strawberry.field(description="CEDS funding type the sector gives, e.g. HeadStart, CCDF")
    def funding_type(self) -> str | None:
        return self.line.funding_type

    @strawberry.field
    def description(self) -> str | None:
        return self.line.description

    @strawberry.field(description="Hub entries for a QIP task")
    def qip_task_id(self) -> strawberry.ID | None:
        task = self.line.qip_task_id
        return None if task is None else global_id("QipTask", task)


@strawberry.type(description="The sum of one support type's lines in one currency.")
class FundingSupportTypeTotal(FundingTotal):
    support_type: str | None = strawberry.field(description="null: lines with no support type")


@strawberry.type(description="The sum of one purpose's lines in one currency.")
class FundingPurposeTotal(FundingTotal):
    purpose: FundingPurpose


@strawberry.type(
    description="The sum of the lines whose period starts in one month, in one currency."
)
class FundingMonthTotal(FundingTotal):
    month: str | None = strawberry.field(description="YYYY-MM; null: lines with no start date")


@strawberry.type(description="The sum of one source's lines in one currency.")
class FundingSourceTotal(FundingTotal):
    source: str = strawberry.field(description='A sector source, or "hub"')


@strawberry.type(
    description="Exact sums of the report's lines, per currency (amounts in different "
    "currencies are never added). A line counts in the month its period starts."
)
class FundingTotals:
    sums: strawberry.Private[FundingSums]

    @strawberry.field(description="All lines")
    def overall(self) -> list[FundingTotal]:
        return [funding_total(t) for t in self.sums.overall]

    @strawberry.field
    def by_support_type(self) -> list[FundingSupportTypeTotal]:
        return [
            FundingSupportTypeTotal(
                support_type=t.key, currency=t.currency, amount=t.amount, line_count=t.line_count
            )
            for t in self.sums.by_support_type
        ]

    @strawberry.field
    def by_purpose(self) -> list[FundingPurposeTotal]:
        return [
            FundingPurposeTotal(
                purpose=purpose_of(t.key),
                currency=t.currency,
                amount=t.amount,
                line_count=t.line_count,
            )
            for t in self.sums.by_purpose
        ]

    @strawberry.field(description="By the month a line's period starts (YYYY-MM), ascending")
    def by_month(self) -> list[FundingMonthTotal]:
        return [
            FundingMonthTotal(
                month=t.key, currency=t.currency, amount=t.amount, line_count=t.line_count
            )
            for t in self.sums.by_month
        ]

    @strawberry.field
    def by_source(self) -> list[FundingSourceTotal]:
        return [
            FundingSourceTotal(
                source=t.key or "", currency=t.currency, amount=t.amount, line_count=t.line_count
            )
            for t in self.sums.by_source
        ]


@strawberry.type(
    description="Funding of a set of programs from every sector source and the hub, line by "
    "line, with exact totals."
)
class FundingReport:
    program_count: int = strawberry.field(description="Programs the report covers")
    lines: list[FundingReportLine]
    totals: FundingTotals


# -- support summary -----------------------------------------------------------------------------


@strawberry.type(description="One program's support summary.")
class ProgramSupportSummary:
    program: Program
    summary: SupportSummary


@strawberry.type(description="Support to a set of programs: each program's, and collectively.")
class SupportSummaryReport:
    program_count: int
    programs: list[ProgramSupportSummary]
    total: SupportSummary = strawberry.field(description="All the programs together")


# -- root fields ---------------------------------------------------------------------------------


def _known_support_types(info: Info, codes: list[str] | None) -> frozenset[str] | None:
    if codes is None:
        return None
    known = {st.code for st in info.context.config.support_types}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise user_error(
            f"unknown support type(s) {', '.join(unknown)}; declared: {', '.join(sorted(known))}"
        )
    return frozenset(codes)


async def _programs(
    info: Info, program_ids: list[strawberry.ID] | None, programs: ProgramFilter | None
) -> list[Merged]:
    ctx = info.context
    hub_ids: list[str] | None = None
    if program_ids is not None:
        try:
            check_program_ids(len(program_ids))
            hub_ids = [decode_global_id(p, "Program") for p in program_ids]
        except ValueError as exc:  # too many, or an InvalidId
            raise user_error(str(exc)) from None
        if programs is None:
            return await resolve_programs(ctx.identity, hub_ids)
    known = {st.code for st in ctx.config.support_types}
    check_filter(info, programs)
    q = (programs or ProgramFilter()).to_query(
        known, ctx.config.sources, ctx.config.identifier_systems("program")
    )
    try:
        listed = await list_programs(ctx, q)
    except TooManyPrograms as exc:
        raise user_error(str(exc)) from None
    if hub_ids is None:
        return listed
    wanted = set(hub_ids)
    return [m for m in listed if m.hub_id in wanted]


@strawberry.type(
    description="Children enrolled in a set of programs, by support type and age group."
)
class EnrollmentCell:
    support_type: str | None
    age_group: str | None
    period: str | None = strawberry.field(description="The reporting period, e.g. 2025-2026")
    count: int | None = strawberry.field(description="Null when suppressed")
    program_count: int = strawberry.field(description="Programs reporting this cell")
    suppressed: bool = strawberry.field(
        description="Withheld: small, or would let a small count be derived (roles without detail)"
    )


@strawberry.type(
    description="Enrollment counts of a set of programs, summed by support type, age group and "
    "reporting period. "
    "For roles not entitled to detail, cells under the small-cell threshold are suppressed "
    "with complementary suppression (see `suppressed`)."
)
class EnrollmentReport:
    program_count: int
    cells: list[EnrollmentCell]
    total: int | None = strawberry.field(description="Null when suppressed")
    total_suppressed: bool


async def _enrollment_report(
    info: Info, programs: list[Merged], period: str | None = None
) -> EnrollmentReport:
    ctx = info.context
    rows = await ctx.children([rec for m in programs for rec in m.records], "enrollment", "program")
    rows = in_period(rows, period)
    sums: dict[tuple[str | None, str | None, str | None], list[int]] = {}
    for row in rows:
        key = (support_of(ctx, row.source), row.get("age_group"), row.get("period"))
        cell = sums.setdefault(key, [0, 0])
        cell[0] += int(row.get("count") or 0)
        cell[1] += 1
    keys = sorted(sums, key=lambda k: (k[2] or "", k[0] or "", k[1] or ""))
    counts = [sums[k][0] for k in keys]
    plan = suppress(counts, ctx.access.threshold) if not ctx.access.detail else None
    hidden = plan.cells if plan else (False,) * len(keys)
    return EnrollmentReport(
        program_count=len(programs),
        cells=[
            EnrollmentCell(
                support_type=k[0],
                age_group=k[1],
                period=k[2],
                count=None if h else c,
                program_count=sums[k][1],
                suppressed=h,
            )
            for k, c, h in zip(keys, counts, hidden, strict=True)
        ],
        total=None if plan and plan.total else sum(counts),
        total_suppressed=bool(plan and plan.total),
    )


@strawberry.type
class ReportQueries:
    """Report root fields (composed into ``Query`` in ecehub.schema.schema)."""

    @strawberry.field(
        description="Funding from sector sources (Head Start grants, QRIS awards, ...) and hub "
        "entries for a set of programs, each line saying its source, with exact totals by "
        "support type, purpose and month (the month a line's period starts)"
    )
    async def funding_report(
        self, info: Info, filter: FundingReportFilter | None = None
    ) -> FundingReport:
        f = filter or FundingReportFilter()
        if f.from_ is not None and f.to is not None and f.from_ > f.to:
            raise user_error("`from` must be on or before `to`")
        criteria = FundingCriteria(
            support_types=_known_support_types(info, f.support_types),
            purposes=None if f.purposes is None else frozenset(f.purposes),
            date_from=f.from_,
            date_to=f.to,
        )
        programs = await _programs(info, f.program_ids, f.programs)
        lines = await funding_lines(info.context, programs, criteria, f.period)
        totals = funding_sums(lines, declared_order(info.context))
        return FundingReport(
            program_count=len(programs),
            lines=[FundingReportLine(line=line) for line in lines],
            totals=FundingTotals(sums=totals),
        )

    @strawberry.field(
        description="Support to a set of programs (a state-level view): each program's summary "
        "and all of them together. Neither argument: all programs "
        f"(at most {MAX_REPORT_PROGRAMS})"
    )
    async def support_summary(
        self,
        info: Info,
        program_ids: list[strawberry.ID] | None = None,
        filter: ProgramFilter | None = None,
    ) -> SupportSummaryReport:
        programs = await _programs(info, program_ids, filter)
        found = await support_summaries(info.context, programs)
        order = declared_order(info.context)
        return SupportSummaryReport(
            program_count=len(programs),
            programs=[
                ProgramSupportSummary(
                    program=Program(merged=s.program),
                    summary=SupportSummary(breakdown=s.summary, order=order),
                )
                for s in found
            ],
            total=SupportSummary(breakdown=collective(found), order=order),
        )

    @strawberry.field(
        description="Children enrolled in a set of programs (counts, never child records) by "
        "support type and age group; small cells suppressed for roles without detail. Neither "
        f"argument: all programs (at most {MAX_REPORT_PROGRAMS}). Each program counts once: "
        "its latest reporting period per source, or the `period` given; never summed across "
        "periods"
    )
    async def enrollment_report(
        self,
        info: Info,
        program_ids: list[strawberry.ID] | None = None,
        filter: ProgramFilter | None = None,
        period: Period = None,
    ) -> EnrollmentReport:
        programs = await _programs(info, program_ids, filter)
        return await _enrollment_report(info, programs, period)
