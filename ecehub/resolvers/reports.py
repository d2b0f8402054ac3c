"""Reports over many programs: the funding report and the support summary (no GraphQL here).

Both draw on sector records (funding, activity, checklists, through the per-request loaders:
one call per source and entity, whatever the number of programs) and on the hub store
(funding entries, activity log, QIP tasks: one query per kind). Money is summed as
``Decimal`` and never mixed across currencies.

Conventions:

- A funding line is *in* a time frame ``[from, to]`` (both inclusive, either open) when its
  period overlaps it. A line with no end date is read as lasting one day (its start), one with
  no start as its end; a line with neither date is left out whenever a time frame is given.
- A funding line counts in the month its period *starts* (``YYYY-MM``); a line with no start
  date counts under no month (``None``).
- A sector record's support type is the first support type its source declares; a hub entry's
  is the one it was entered with (activity and tasks may have none: they count in the total
  only).
- A visit is an activity entry of kind ``SITE_VISIT`` (sectors: ``site_visit``, ``Site
  Visit``, ...). Hours are activity minutes / 60. Last contact is the latest activity date.
- A sector checklist is *completed* when it was conducted (a date on or before today) and its
  status does not say it is still pending (``SCHEDULED``, ``PLANNED``, ``DRAFT``,
  ``IN_PROGRESS``, ``OPEN``, ``PENDING``, ``CANCELLED``).
- QIP tasks (live tasks of live goals): NOT_STARTED / IN_PROGRESS are open, DONE is done,
  DROPPED is neither.
- Staff supported: distinct staff IDs named in hub activity entries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Identity, Merged
from ecehub.hub import ActivityEntry, FundingEntry, FundingPurpose, QipTask, TaskStatus
from ecehub.ids import record_hub_id
from ecehub.resolvers.context import RequestContext
from ecehub.resolvers.hub_loaders import load_merged
from ecehub.resolvers.listing import ListQuery
from ecehub.resolvers.periods import in_period

__all__ = [
    "HUB_SOURCE",
    "MAX_REPORT_PROGRAMS",
    "CurrencySum",
    "FundingCriteria",
    "FundingLine",
    "FundingSums",
    "ProgramSupport",
    "SupportBreakdown",
    "SupportCounts",
    "TooManyPrograms",
    "check_program_ids",
    "collective",
    "declared_order",
    "funding_lines",
    "funding_sums",
    "list_programs",
    "month_of",
    "program_funding",
    "purpose_of",
    "resolve_programs",
    "summarize",
    "support_of",
    "support_summaries",
]

HUB_SOURCE = "hub"
MAX_REPORT_PROGRAMS = 2000
"""A report covers at most this many programs (listed through a filter or given by ID)."""

_LIST_PAGE = 500
_PENDING = {"SCHEDULED", "PLANNED", "DRAFT", "IN_PROGRESS", "OPEN", "PENDING", "CANCELLED"}
_OPEN_TASKS = {TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS}


class TooManyPrograms(ValueError):
    """A report asked for more than :data:`MAX_REPORT_PROGRAMS` programs."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the report would cover more than {limit} programs; narrow the filter "
            "(e.g. by support type, county or city) or pass programIds"
        )
        self.limit = limit


def _code(value: str) -> str:
    return value.strip().upper().replace(" ", "_").replace("-", "_")


def purpose_of(value: str | None) -> FundingPurpose:
    """A sector's purpose text as a purpose; none given reads as PROGRAM_SUPPORT, an unknown
    one as OTHER (the same reading as ``Program.funding``)."""
    if value is None:
        return FundingPurpose.PROGRAM_SUPPORT
    try:
        return FundingPurpose(_code(value))
    except ValueError:
        return FundingPurpose.OTHER


def month_of(day: dt.date | None) -> str | None:
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


# -- programs ------------------------------------------------------------------------------------


def check_program_ids(count: int) -> None:
    """``ValueError`` when a report is asked for more programs by ID than it may cover."""
    if count > MAX_REPORT_PROGRAMS:
        raise ValueError(f"`programIds` may hold at most {MAX_REPORT_PROGRAMS} IDs")


async def list_programs(
    ctx: RequestContext, q: ListQuery, *, limit: int | None = None
) -> list[Merged]:
    """Every program ``q`` matches, listed page by page; :class:`TooManyPrograms` beyond
    ``limit`` (default: :data:`MAX_REPORT_PROGRAMS`)."""
    limit = MAX_REPORT_PROGRAMS if limit is None else limit
    out: list[Merged] = []
    after: str | None = None
    while True:
        size = min(_LIST_PAGE, limit - len(out) + 1)
        page = await ctx.list_page(q, first=size, after=after)
        out.extend(item.merged for item in page.items)
        if len(out) > limit:
            raise TooManyPrograms(limit)
        if not page.has_next or not page.items:
            return out
        after = page.items[-1].cursor


async def resolve_programs(identity: Identity, hub_ids: Sequence[str]) -> list[Merged]:
    """Programs by hub ID, in the order given, each once (an ``@source:key`` ID and the
    shared-identifier ID of one program are one program); IDs no source knows are left out."""
    wanted = list(dict.fromkeys(hub_ids))
    found = await identity.resolve("program", wanted)
    unique = {found[h].hub_id: found[h] for h in wanted if h in found}
    return list(unique.values())


# -- what a program's support draws on -----------------------------------------------------------


async def _sector(
    ctx: RequestContext, programs: Sequence[Merged], entity: str
) -> list[list[Record]]:
    # One children() per program, started together: the loader makes it one call per source.
    return list(
        await asyncio.gather(*(ctx.children(m.records, entity, "program") for m in programs))
    )


def support_of(ctx: RequestContext, source: str) -> str | None:
    types = ctx.support_types_of(source)
    return types[0] if types else None


# -- funding -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingLine:
    """One funding line of a report: a sector record or a hub entry."""

    id: str
    """``@<source>:<key>`` for a sector record, the entry's hub ID for a hub entry."""
    program_id: str
    program_name: str | None
    amount: Decimal
    currency: str
    support_type: str | None
    purpose: FundingPurpose
    period_start: dt.date | None
    period_end: dt.date | None
    source: str
    funding_type: str | None = None
    description: str | None = None
    qip_task_id: str | None = None

    @property
    def is_hub(self) -> bool:
        return self.source == HUB_SOURCE

    @property
    def month(self) -> str | None:
        """The month the line counts in: the one its period starts in."""
        return month_of(self.period_start)

    @classmethod
    def from_record(cls, program: Merged, r: Record, support_type: str | None) -> FundingLine:
        amount = r.get("amount")
        return cls(
            id=record_hub_id(r.source, r.key),
            program_id=program.hub_id,
            program_name=program.value("name"),
            amount=Decimal(0) if amount is None else Decimal(amount),
            currency=r.get("currency") or "USD",
            support_type=support_type,
            purpose=purpose_of(r.get("purpose")),
            period_start=r.get("period_start"),
            period_end=r.get("period_end"),
            source=r.source,
            funding_type=r.get("funding_type"),
            description=r.get("description"),
        )

    @classmethod
    def from_hub(cls, program: Merged, f: FundingEntry) -> FundingLine:
        return cls(
            id=f.id,
            program_id=program.hub_id,
            program_name=program.value("name"),
            amount=f.amount,
            currency=f.currency,
            support_type=f.support_type,
            purpose=f.purpose,
            period_start=f.period_start,
            period_end=f.period_end,
            source=HUB_SOURCE,
            description=f.description or None,
            qip_task_id=f.qip_task_id,
        )


@dataclass(frozen=True)
class FundingCriteria:
    """Which lines a report keeps; ``None`` keeps any."""

    support_types: frozenset[str] | None = None
    purposes: frozenset[FundingPurpose] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def has_time_frame(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def keeps(self, line: FundingLine) -> bool:
        if self.support_types is not None and line.support_type not in self.support_types:
            return False
        if self.purposes is not None and line.purpose not in self.purposes:
            return False
        if not self.has_time_frame:
            return True
        start = line.period_start or line.period_end
        end = line.period_end or line.period_start
        if start is None or end is None:
            return False
        if self.date_from is not None and end < self.date_from:
            return False
        return self.date_to is None or start <= self.date_to


async def program_funding(
    ctx: RequestContext, programs: Sequence[Merged], period: str | None = None
) -> list[list[FundingLine]]:
    """Each program's funding lines (sector records, then hub entries, each by period start).
    Sector records with a reporting period: each source's latest of the program, or those of
    ``period`` (then without hub entries): never several periods of one source added up."""
    sector, hub = await asyncio.gather(
        _sector(ctx, programs, "funding"),
        load_merged(ctx.hub_loaders.funding(), programs),
    )
    out: list[list[FundingLine]] = []
    for m, records, entries in zip(programs, sector, hub, strict=True):
        lines = [
            FundingLine.from_record(m, r, support_of(ctx, r.source))
            for r in in_period(records, period)
        ]
        lines.sort(key=lambda line: (line.period_start or dt.date.min, line.source, line.id))
        if period is None:
            lines.extend(FundingLine.from_hub(m, f) for f in entries)
        out.append(lines)
    return out


async def funding_lines(
    ctx: RequestContext,
    programs: Sequence[Merged],
    criteria: FundingCriteria,
    period: str | None = None,
) -> list[FundingLine]:
    """The lines ``criteria`` keeps, program by program in the order given (of ``period``
    as :func:`program_funding` reads it)."""
    per_program = await program_funding(ctx, programs, period)
    return [line for lines in per_program for line in lines if criteria.keeps(line)]


@dataclass(frozen=True)
class CurrencySum:
    """The sum of the lines of one group in one currency."""

    key: str | None
    currency: str
    amount: Decimal
    line_count: int


def _sum(
    lines: Iterable[FundingLine], key: Callable[[FundingLine], str | None]
) -> list[CurrencySum]:
    sums: dict[tuple[str | None, str], tuple[Decimal, int]] = {}
    for line in lines:
        k = (key(line), line.currency)
        amount, count = sums.get(k, (Decimal(0), 0))
        sums[k] = (amount + line.amount, count + 1)
    return [CurrencySum(k, c, amount, n) for (k, c), (amount, n) in sums.items()]


@dataclass(frozen=True)
class FundingSums:
    overall: list[CurrencySum]
    by_support_type: list[CurrencySum]
    by_purpose: list[CurrencySum]
    by_month: list[CurrencySum]
    by_source: list[CurrencySum]


def funding_sums(lines: Sequence[FundingLine], order: Sequence[str] = ()) -> FundingSums:
    """Exact per-currency sums: overall and by support type (in ``order``, then by code),
    purpose (in declaration order), month (ascending, undated last) and source."""
    rank = {code: i for i, code in enumerate(order)}
    purposes = [p.value for p in FundingPurpose]

    def by_type(t: CurrencySum) -> tuple[int, str, str]:
        return (rank.get(t.key or "", len(rank)), t.key or "~", t.currency)

    return FundingSums(
        overall=sorted(_sum(lines, lambda _: None), key=lambda t: t.currency),
        by_support_type=sorted(_sum(lines, lambda ln: ln.support_type), key=by_type),
        by_purpose=sorted(
            _sum(lines, lambda ln: ln.purpose.value),
            key=lambda t: (purposes.index(t.key or ""), t.currency),
        ),
        by_month=sorted(
            _sum(lines, lambda ln: ln.month), key=lambda t: (t.key is None, t.key or "", t.currency)
        ),
        by_source=sorted(
            _sum(lines, lambda ln: ln.source), key=lambda t: (t.key or "", t.currency)
        ),
    )


# -- support summary -----------------------------------------------------------------------------


def _is_visit(kind: str | None) -> bool:
    return kind is not None and _code(kind) == "SITE_VISIT"


def _completed(checklist: Record, today: dt.date) -> bool:
    conducted = checklist.get("conducted_on")
    if conducted is None or conducted > today:
        return False
    status = checklist.get("status")
    return status is None or _code(status) not in _PENDING


@dataclass
class SupportCounts:
    """What one support type (or, with ``support_type=None``, all together) gave."""

    support_type: str | None
    visits: int = 0
    activity_count: int = 0
    minutes: int = 0
    funding: dict[str, tuple[Decimal, int]] = field(default_factory=dict)
    """currency -> (sum, line count)"""
    checklists_completed: int = 0
    tasks_open: int = 0
    tasks_done: int = 0
    staff_ids: set[str] = field(default_factory=set)
    last_contact: dt.date | None = None

    @property
    def hours(self) -> Decimal:
        """Activity minutes / 60, to the hundredth of an hour."""
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))

    def funding_sums(self) -> list[CurrencySum]:
        return [
            CurrencySum(self.support_type, currency, amount, count)
            for currency, (amount, count) in sorted(self.funding.items())
        ]

    def add_activity(
        self, kind: str | None, day: dt.date | None, minutes: int | None, staff: Iterable[str]
    ) -> None:
        self.activity_count += 1
        self.visits += _is_visit(kind)
        self.minutes += minutes or 0
        self.staff_ids.update(staff)
        if day is not None and (self.last_contact is None or day > self.last_contact):
            self.last_contact = day

    def add_funding(self, line: FundingLine) -> None:
        amount, count = self.funding.get(line.currency, (Decimal(0), 0))
        self.funding[line.currency] = (amount + line.amount, count + 1)

    def add_task(self, status: TaskStatus) -> None:
        self.tasks_open += status in _OPEN_TASKS
        self.tasks_done += status is TaskStatus.DONE

    def merge(self, other: SupportCounts) -> None:
        self.visits += other.visits
        self.activity_count += other.activity_count
        self.minutes += other.minutes
        for currency, (amount, count) in other.funding.items():
            have, n = self.funding.get(currency, (Decimal(0), 0))
            self.funding[currency] = (have + amount, n + count)
        self.checklists_completed += other.checklists_completed
        self.tasks_open += other.tasks_open
        self.tasks_done += other.tasks_done
        self.staff_ids |= other.staff_ids
        if other.last_contact is not None and (
            self.last_contact is None or other.last_contact > self.last_contact
        ):
            self.last_contact = other.last_contact


@dataclass
class SupportBreakdown:
    """Per support type, and all together (``total``)."""

    by_type: dict[str, SupportCounts] = field(default_factory=dict)
    total: SupportCounts = field(default_factory=lambda: SupportCounts(None))

    def tally(self, support_type: str | None) -> list[SupportCounts]:
        """The tallies one item counts in: its support type's (if any) and the total."""
        if support_type is None:
            return [self.total]
        if support_type not in self.by_type:
            self.by_type[support_type] = SupportCounts(support_type)
        return [self.by_type[support_type], self.total]

    def merge(self, other: SupportBreakdown) -> None:
        for code, tally in other.by_type.items():
            self.tally(code)[0].merge(tally)
        self.total.merge(other.total)

    def ordered(self, order: Sequence[str]) -> list[SupportCounts]:
        rank = {code: i for i, code in enumerate(order)}
        return sorted(
            self.by_type.values(),
            key=lambda t: (rank.get(t.support_type or "", len(rank)), t.support_type or ""),
        )


@dataclass
class ProgramSupport:
    program: Merged
    summary: SupportBreakdown


def summarize(
    ctx: RequestContext,
    program: Merged,
    *,
    funding: Sequence[FundingLine],
    activity: Sequence[Record],
    hub_activity: Sequence[ActivityEntry],
    checklists: Sequence[Record],
    tasks: Sequence[QipTask],
    today: dt.date,
) -> SupportBreakdown:
    summary = SupportBreakdown()
    for code in dict.fromkeys(c for r in program.records for c in ctx.support_types_of(r.source)):
        summary.tally(code)
    for r in activity:
        for t in summary.tally(support_of(ctx, r.source)):
            t.add_activity(r.get("kind"), r.get("occurred_on"), r.get("minutes"), ())
    for a in hub_activity:
        for t in summary.tally(a.support_type):
            t.add_activity(a.kind.value, a.occurred_at.date(), a.minutes, a.staff_ids)
    for line in funding:
        for t in summary.tally(line.support_type):
            t.add_funding(line)
    for r in checklists:
        if _completed(r, today):
            for t in summary.tally(support_of(ctx, r.source)):
                t.checklists_completed += 1
    for task in tasks:
        for t in summary.tally(task.support_type):
            t.add_task(task.status)
    return summary


async def support_summaries(
    ctx: RequestContext, programs: Sequence[Merged], *, today: dt.date | None = None
) -> list[ProgramSupport]:
    """Each program's support summary; every kind of data is read once for all programs.
    Sector funding with a reporting period counts its latest period only."""
    funding, activity, checklists, hub_activity, tasks = await asyncio.gather(
        program_funding(ctx, programs),
        _sector(ctx, programs, "activity"),
        _sector(ctx, programs, "checklist"),
        load_merged(ctx.hub_loaders.activity(), programs),
        load_merged(ctx.hub_loaders.program_tasks(), programs),
    )
    day = today or dt.date.today()
    return [
        ProgramSupport(
            m,
            summarize(
                ctx,
                m,
                funding=funding[i],
                activity=activity[i],
                hub_activity=hub_activity[i],
                checklists=checklists[i],
                tasks=tasks[i],
                today=day,
            ),
        )
        for i, m in enumerate(programs)
    ]


def collective(summaries: Iterable[ProgramSupport]) -> SupportBreakdown:
    """What all the programs received together."""
    out = SupportBreakdown()
    for s in summaries:
        out.merge(s.summary)
    return out


def declared_order(ctx: RequestContext) -> list[str]:
    return [st.code for st in ctx.config.support_types]
