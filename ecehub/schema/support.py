"""Funding and activity: one type each for what sector sources report and what the hub keeps,
so a program's funding and activity read as one list, each line saying its source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from ecehub.connectors.base import Record
from ecehub.hub import ActivityEntry as HubActivity
from ecehub.hub import FundingEntry as HubFunding
from ecehub.hub import FundingPurpose
from ecehub.ids import encode_global_id, record_hub_id
from ecehub.resolvers.reports import HUB_SOURCE, purpose_of

__all__ = ["ActivityEntry", "Funding", "FundingPurpose"]

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

    @classmethod
    def from_record(cls, r: Record, support_types: list[str]) -> Funding:
        return cls(
            id=strawberry.ID(encode_global_id("Funding", record_hub_id(r.source, r.key))),
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
        )

    @classmethod
    def from_hub(cls, f: HubFunding) -> Funding:
        return cls(
            id=strawberry.ID(encode_global_id("Funding", f.id)),
            amount=f.amount,
            currency=f.currency,
            support_type=f.support_type,
            purpose=f.purpose,
            funding_type=None,
            period_start=f.period_start,
            period_end=f.period_end,
            description=f.description or None,
            source=HUB_SOURCE,
            qip_task_id=(
                strawberry.ID(encode_global_id("QipTask", f.qip_task_id)) if f.qip_task_id else None
            ),
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
            id=strawberry.ID(encode_global_id("ActivityEntry", record_hub_id(r.source, r.key))),
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
            id=strawberry.ID(encode_global_id("ActivityEntry", a.id)),
            kind=a.kind.value,
            occurred_on=a.occurred_at.date(),
            occurred_at=a.occurred_at,
            minutes=a.minutes,
            summary=a.summary or None,
            staff_name=None,
            author=a.author,
            support_type=a.support_type,
            staff_supported=[strawberry.ID(encode_global_id("Staff", s)) for s in a.staff_ids],
            room_id=strawberry.ID(encode_global_id("Room", a.room_id)) if a.room_id else None,
            source=HUB_SOURCE,
            version=a.version,
        )
