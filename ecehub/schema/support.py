"""Funding and activity: one type each for what sector sources report and what the hub keeps,
so a program's funding and activity read as one list, each line saying its source; and the
support summary they add up to (``Program.supportSummary``, and per program and collectively
in ``Query.supportSummary``). The counting is :mod:`ecehub.resolvers.reports`'."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Merged
from ecehub.hub import ActivityEntry as HubActivity
from ecehub.hub import FundingEntry as HubFunding
from ecehub.hub import FundingPurpose
from ecehub.ids import record_hub_id
from ecehub.resolvers.reports import (
    HUB_SOURCE,
    CurrencySum,
    SupportBreakdown,
    SupportCounts,
    declared_order,
    purpose_of,
    support_summaries,
)
from ecehub.schema.arguments import global_id
from ecehub.schema.common import Info

__all__ = [
    "ActivityEntry",
    "Funding",
    "FundingPurpose",
    "FundingTotal",
    "SupportSummary",
    "SupportTally",
    "funding_total",
    "program_support_summary",
]

# The GraphQL enum is the hub's own class: strawberry.enum registers it as it is.
strawberry.enum(FundingPurpose, description="What money was given for.")


def _support_type(types: list[str]) -> str | None:
    return types[0] if types else None


@strawberry.type(description="Money given to a program: by a sector source or entered in the hub.")
class Funding:
    id: strawberry.ID
    amount: Decimal | None = strawberry.field(description="Exact decimal, as a string")
    currency: str
    support_type: str | None
    purpose: FundingPurpose
    funding_type: str | None = strawberry.field(description="CEDS funding type, e.g. CCDF")
    period_start: dt.date | None
    period_end: dt.date | None
    description: str | None
    source: str = strawberry.field(description='The sector source, or "hub"')
    qip_task_id: strawberry.ID | None = strawberry.field(description="Hub entries for a QIP task")
    version: int | None = strawberry.field(description="Hub entries: send back to update")
    period: str | None = strawberry.field(
        default=None,
        description="Sector lines: the reporting period of the source row (e.g. 2022-2023), "
        "for a source with one row per program and period; null otherwise",
    )

    @classmethod
    def from_record(cls, r: Record, support_types: list[str]) -> Funding:
        return cls(
            id=global_id("Funding", record_hub_id(r.source, r.key)),
            amount=r.get("amount"),
            currency=r.get("currency") or "USD",
            support_type=_support_type(support_types),
            purpose=purpose_of(r.get("purpose")),
            funding_type=r.get("funding_type"),
            period_start=r.get("period_start"),
            period_end=r.get("period_end"),
            description=r.get("description"),
            source=r.source,
            qip_task_id=None,
            version=None,
            period=r.get("period"),
        )

    @classmethod
    def from_hub(cls, f: HubFunding) -> Funding:
        return cls(
            id=global_id("Funding", f.id),
            amount=f.amount,
            currency=f.currency,
            support_type=f.support_type,
            purpose=f.purpose,
            funding_type=None,
            period_start=f.period_start,
            period_end=f.period_end,
            description=f.description or None,
            source=HUB_SOURCE,
            qip_task_id=(global_id("QipTask", f.qip_task_id) if f.qip_task_id else None),
            version=f.version,
        )


@strawberry.type(description="Support given to a program: logged by a sector system or in the hub.")
class ActivityEntry:
    id: strawberry.ID
    kind: str | None = strawberry.field(
        description="Hub: SITE_VISIT, COACHING, TRAINING, PHONE_VIRTUAL, OTHER; sectors: theirs"
    )
    occurred_on: dt.date | None
    occurred_at: dt.datetime | None
    minutes: int | None
    summary: str | None
    staff_name: str | None = strawberry.field(description="Sector entries: who gave the support")
    author: str | None = strawberry.field(description="Hub entries: who logged it")
    support_type: str | None
    staff_supported: list[strawberry.ID] = strawberry.field(description="Staff IDs (hub entries)")
    room_id: strawberry.ID | None
    source: str = strawberry.field(description='The sector source, or "hub"')
    version: int | None

    @classmethod
    def from_record(cls, r: Record, support_types: list[str]) -> ActivityEntry:
        return cls(
            id=global_id("ActivityEntry", record_hub_id(r.source, r.key)),
            kind=r.get("kind"),
            occurred_on=r.get("occurred_on"),
            occurred_at=None,
            minutes=r.get("minutes"),
            summary=r.get("summary"),
            staff_name=r.get("staff_name"),
            author=None,
            support_type=_support_type(support_types),
            staff_supported=[],
            room_id=None,
            source=r.source,
            version=None,
        )

    @classmethod
    def from_hub(cls, a: HubActivity) -> ActivityEntry:
        return cls(
            id=global_id("ActivityEntry", a.id),
            kind=a.kind.value,
            occurred_on=a.occurred_at.date(),
            occurred_at=a.occurred_at,
            minutes=a.minutes,
            summary=a.summary or None,
            staff_name=None,
            author=a.author,
            support_type=a.support_type,
            staff_supported=[global_id("Staff", s) for s in a.staff_ids],
            room_id=global_id("Room", a.room_id) if a.room_id else None,
            source=HUB_SOURCE,
            version=a.version,
        )


# -- support summary -------------------------------------------------------------------------


@strawberry.type(description="An exact sum in one currency.")
class FundingTotal:
    currency: str
    amount: Decimal = strawberry.field(description="Exact decimal, as a string")
    line_count: int


def funding_total(t: CurrencySum) -> FundingTotal:
    return FundingTotal(currency=t.currency, amount=t.amount, line_count=t.line_count)


@strawberry.type(
    description="What one support type (or, as `total`, all of them together) gave a program "
    "or a set of programs."
)
class SupportTally:
    counts: strawberry.Private[SupportCounts]

    @strawberry.field(description="null for the total")
    def support_type(self) -> str | None:
        return self.counts.support_type

    @strawberry.field(description="Activity entries of kind SITE_VISIT (sectors: site_visit)")
    def visits(self) -> int:
        return self.counts.visits

    @strawberry.field(description="Activity entries of any kind, sector and hub")
    def activity_count(self) -> int:
        return self.counts.activity_count

    @strawberry.field(description="Activity minutes, sector and hub")
    def minutes(self) -> int:
        return self.counts.minutes

    @strawberry.field(description="Activity minutes / 60, to two decimals")
    def hours(self) -> Decimal:
        return self.counts.hours

    @strawberry.field(description="Funding lines (sector and hub), exact sums per currency")
    def funding(self) -> list[FundingTotal]:
        return [funding_total(t) for t in self.counts.funding_sums()]

    @strawberry.field(description="Sector checklists conducted and not pending")
    def checklists_completed(self) -> int:
        return self.counts.checklists_completed

    @strawberry.field(description="Hub QIP tasks NOT_STARTED or IN_PROGRESS")
    def qip_tasks_open(self) -> int:
        return self.counts.tasks_open

    @strawberry.field(description="Hub QIP tasks DONE")
    def qip_tasks_done(self) -> int:
        return self.counts.tasks_done

    @strawberry.field(description="Distinct staff named in hub activity entries")
    def staff_supported(self) -> int:
        return len(self.counts.staff_ids)

    @strawberry.field(description="Their Staff IDs")
    def staff_supported_ids(self) -> list[strawberry.ID]:
        return [global_id("Staff", s) for s in sorted(self.counts.staff_ids)]

    @strawberry.field(description="Date of the latest activity entry")
    def last_contact(self) -> dt.date | None:
        return self.counts.last_contact


@strawberry.type(description="Support by each support type and by all together.")
class SupportSummary:
    breakdown: strawberry.Private[SupportBreakdown]
    order: strawberry.Private[list[str]]

    @strawberry.field(
        description="One per support type that knows the program(s) or gave anything, in the "
        "order the state declares them"
    )
    def by_support_type(self) -> list[SupportTally]:
        return [SupportTally(counts=t) for t in self.breakdown.ordered(self.order)]

    @strawberry.field(description="All support types together (and entries with none)")
    def total(self) -> SupportTally:
        return SupportTally(counts=self.breakdown.total)


async def program_support_summary(info: Info, program: Merged) -> SupportSummary:
    """``Program.supportSummary``: batched across the programs of one query."""
    [found] = await support_summaries(info.context, [program])
    return SupportSummary(breakdown=found.summary, order=declared_order(info.context))
