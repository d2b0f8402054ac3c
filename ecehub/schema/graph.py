"""The merged types of the program graph: Program, Site, Staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence

import strawberry

from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Merged
from ecehub.hub.enums import SubjectType
from ecehub.resolvers.hub_loaders import load_merged
from ecehub.schema.arguments import global_id
from ecehub.schema.common import (
    Address,
    FieldConflict,
    FieldProvenance,
    Identifier,
    Info,
    SourceRecordRef,
    SupportType,
    address_of,
    conflicts_of,
    identifiers_of,
    provenance_of,
    source_refs,
)
from ecehub.schema.prefetch import child_list, then
from ecehub.schema.qip import (
    FileAttachment,
    Note,
    ProfessionalDevelopmentPlan,
    QualityImprovementPlan,
)
from ecehub.schema.records import (
    Assessment,
    Checklist,
    EnrollmentCount,
    EnrollmentSummary,
    RatingEvent,
    Room,
    Training,
)
from ecehub.schema.support import (
    ActivityEntry,
    Funding,
    SupportSummary,
    program_support_summary,
)

__all__ = ["License", "Program", "QrisRating", "Site", "Staff"]


def _support_types(info: Info, m: Merged) -> list[SupportType]:
    declared = {st.code: st for st in info.context.config.support_types}
    codes = dict.fromkeys(c for s in m.sources for c in info.context.support_types_of(s))
    return [
        SupportType(code=c, name=declared[c].name, description=declared[c].description)
        for c in codes
        if c in declared
    ]


@strawberry.type(description="The program's child-care license, as licensing reports it.")
class License:
    number: str | None
    status: str | None = strawberry.field(description="e.g. Licensed, Probation, Suspended")
    issued_on: dt.date | None
    expires_on: dt.date | None
    capacity: int | None
    ages_served: str | None
    source: str


@strawberry.type(description="The program's current QRIS rating.")
class QrisRating:
    level: int
    rated_on: dt.date | None
    expires_on: dt.date | None
    source: str


@strawberry.type
class _MergedNode:
    """What every merged type shares: its ID, identifiers, source records and provenance."""

    merged: strawberry.Private[Merged]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(type(self).__name__, self.merged.hub_id)

    @strawberry.field
    def identifiers(self) -> list[Identifier]:
        return identifiers_of(self.merged.records)

    @strawberry.field
    def sources(self) -> list[SourceRecordRef]:
        return source_refs(self.merged.records)

    @strawberry.field(
        description="Per field (canonical names, e.g. name, phone; default: every field a "
        "source gave), every source's non-null value with its source and fetch time; the one "
        "the field's merge rule shows comes first, with wins: true. Only fields the role may "
        "read (as their own field, e.g. birth_year as Staff.birthYear): one asked for by name "
        "that it may not is left out with an error coded FORBIDDEN"
    )
    def provenance(self, info: Info, fields: list[str] | None = None) -> list[FieldProvenance]:
        return provenance_of(info, self.merged, fields)

    @strawberry.field(
        description="The fields (of those asked for; default: all) whose sources give "
        "different non-null values, each with every source's value, the shown one first; "
        "only fields the role may read, as in provenance"
    )
    def conflicts(self, info: Info, fields: list[str] | None = None) -> list[FieldConflict]:
        return conflicts_of(info, self.merged, fields)


@strawberry.type(description="A member of a program's workforce, merged across sources.")
class Staff(_MergedNode):
    @strawberry.field
    def first_name(self) -> str | None:
        return self.merged.value("first_name")

    @strawberry.field
    def last_name(self) -> str | None:
        return self.merged.value("last_name")

    @strawberry.field
    def name(self) -> str | None:
        parts = [self.merged.value("first_name"), self.merged.value("last_name")]
        return " ".join(p for p in parts if p) or None

    @strawberry.field
    def role(self) -> str | None:
        return self.merged.value("role")

    @strawberry.field
    def education_level(self) -> str | None:
        return self.merged.value("education_level")

    @strawberry.field(description="Credentials from every source, e.g. CDA, BA-ECE")
    def credentials(self) -> list[str]:
        return list(dict.fromkeys(c for fv in self.merged.values("credentials") for c in fv.value))

    @strawberry.field(description="Professional-development hours on record")
    def pd_hours(self) -> float | None:
        return self.merged.value("pd_hours")

    @strawberry.field
    def hire_date(self) -> dt.date | None:
        return self.merged.value("hire_date")

    @strawberry.field(description="Personal: only roles entitled to staff personal data")
    def email(self) -> str | None:
        return self.merged.value("email")

    @strawberry.field(description="Personal: only roles entitled to staff personal data")
    def birth_year(self) -> int | None:
        return self.merged.value("birth_year")

    @strawberry.field(graphql_type=list[Training])
    def trainings(self, info: Info) -> list[Training] | Awaitable[list[Training]]:
        rows = info.context.children_soon(self.merged.records, "training", "staff")
        return then(rows, _trainings)

    @strawberry.field(description="Professional-development plans (hub)")
    async def pd_plans(self, info: Info) -> list[ProfessionalDevelopmentPlan]:
        rows = await info.context.hub_loaders.pd_plans_for_staff().load(self.merged.hub_id)
        return [ProfessionalDevelopmentPlan(plan=p) for p in rows]

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        loader = info.context.hub_loaders.notes(
            SubjectType.STAFF, info.context.actor, info.context.access.note_visibility
        )
        return [Note(note=n) for n in await loader.load(self.merged.hub_id)]


@strawberry.type(description="One location of a program; licenses usually attach here.")
class Site(_MergedNode):
    @strawberry.field
    def name(self) -> str | None:
        return self.merged.value("name")

    @strawberry.field
    def address(self) -> Address | None:
        return address_of(self.merged)

    @strawberry.field
    def license_number(self) -> str | None:
        return self.merged.value("license_number") or next(
            (
                r.identifiers["LICENSE_NUMBER"]
                for r in self.merged.records
                if "LICENSE_NUMBER" in r.identifiers
            ),
            None,
        )

    @strawberry.field
    def capacity(self) -> int | None:
        return self.merged.value("capacity")

    @strawberry.field(description="CEDS setting, e.g. CenterBased, FamilyChildCare")
    def setting(self) -> str | None:
        return self.merged.value("setting")

    @strawberry.field(description="CEDS service option, e.g. FullDayFullYear")
    def service_option(self) -> str | None:
        return self.merged.value("service_option")

    @strawberry.field(graphql_type=list[Room])
    def rooms(self, info: Info) -> list[Room] | Awaitable[list[Room]]:
        rows = info.context.children_soon(self.merged.records, "room", "site")
        return then(rows, _rooms)

    @strawberry.field(graphql_type=list[Staff])
    def staff(self, info: Info) -> list[Staff] | Awaitable[list[Staff]]:
        return then(info.context.merged_children_soon(self.merged, "staff", "site"), _staff)

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        loader = info.context.hub_loaders.notes(
            SubjectType.SITE, info.context.actor, info.context.access.note_visibility
        )
        return [Note(note=n) for n in await loader.load(self.merged.hub_id)]


@strawberry.type(
    description="A provider organisation (center, family child-care home, "
    "Head Start center), merged across every sector that knows it."
)
class Program(_MergedNode):
    @strawberry.field
    def name(self) -> str | None:
        return self.merged.value("name")

    @strawberry.field(description="All names the sources use, to see how they differ")
    def names(self) -> list[str]:
        return list(dict.fromkeys(fv.value for fv in self.merged.values("name")))

    @strawberry.field(description="CEDS program type as the sources say, e.g. ChildCare")
    def program_type(self) -> str | None:
        return self.merged.value("program_type")

    @strawberry.field
    def address(self) -> Address | None:
        return address_of(self.merged)

    @strawberry.field
    def phone(self) -> str | None:
        return self.merged.value("phone")

    @strawberry.field
    def email(self) -> str | None:
        return self.merged.value("email")

    @strawberry.field
    def support_types(self, info: Info) -> list[SupportType]:
        return _support_types(info, self.merged)

    @strawberry.field
    def license(self) -> License | None:
        status = self.merged.field("license_status")
        if status is None:
            return None
        number = self.merged.value("license_number") or next(
            (
                r.identifiers["LICENSE_NUMBER"]
                for r in self.merged.records
                if r.source == status.source and "LICENSE_NUMBER" in r.identifiers
            ),
            None,
        )
        return License(
            number=number,
            status=status.value,
            issued_on=self.merged.value("license_issued"),
            expires_on=self.merged.value("license_expires"),
            capacity=self.merged.value("licensed_capacity"),
            ages_served=self.merged.value("ages_served"),
            source=status.source,
        )

    @strawberry.field
    def qris_rating(self) -> QrisRating | None:
        level = self.merged.field("qris_level")
        if level is None:
            return None
        return QrisRating(
            level=level.value,
            rated_on=self.merged.value("qris_rated_on"),
            expires_on=self.merged.value("qris_expires_on"),
            source=level.source,
        )

    @strawberry.field(graphql_type=list[Site])
    def sites(self, info: Info) -> list[Site] | Awaitable[list[Site]]:
        return then(info.context.merged_children_soon(self.merged, "site", "program"), _sites)

    @strawberry.field(graphql_type=list[Staff])
    def staff(self, info: Info) -> list[Staff] | Awaitable[list[Staff]]:
        return then(info.context.merged_children_soon(self.merged, "staff", "program"), _staff)

    @strawberry.field
    async def checklists(self, info: Info) -> list[Checklist]:
        rows = await info.context.children(self.merged.records, "checklist", "program")
        return [Checklist(record=r) for r in rows]

    @strawberry.field
    async def assessments(self, info: Info) -> list[Assessment]:
        rows = await info.context.children(self.merged.records, "assessment", "program")
        return [Assessment(record=r) for r in rows]

    @strawberry.field
    async def enrollment(self, info: Info) -> EnrollmentSummary:
        rows = await info.context.children(self.merged.records, "enrollment", "program")
        counts = []
        for r in rows:
            types = info.context.support_types_of(r.source)
            counts.append(EnrollmentCount(record=r, support_type=types[0] if types else None))
        return EnrollmentSummary.of(counts, info.context.access)

    @strawberry.field(
        description="Funding from sector sources and hub entries, each saying its source"
    )
    async def funding(self, info: Info) -> list[Funding]:
        rows = await info.context.children(self.merged.records, "funding", "program")
        [entries] = await load_merged(info.context.hub_loaders.funding(), [self.merged])
        return [Funding.from_record(r, info.context.support_types_of(r.source)) for r in rows] + [
            Funding.from_hub(f) for f in entries
        ]

    @strawberry.field(description="QRIS rating history")
    async def rating_history(self, info: Info) -> list[RatingEvent]:
        rows = await info.context.children(self.merged.records, "rating", "program")
        return [RatingEvent(record=r) for r in rows]

    @strawberry.field(description="Support given: sector logs and the hub's activity log")
    async def activity(self, info: Info) -> list[ActivityEntry]:
        rows = await info.context.children(self.merged.records, "activity", "program")
        [entries] = await load_merged(info.context.hub_loaders.activity(), [self.merged])
        return [ActivityEntry.from_hub(a) for a in entries] + [
            ActivityEntry.from_record(r, info.context.support_types_of(r.source)) for r in rows
        ]

    @strawberry.field(description="Support by each support type and all together (sector + hub)")
    async def support_summary(self, info: Info) -> SupportSummary:
        return await program_support_summary(info, self.merged)

    @strawberry.field(
        description="The shared Quality Improvement Plan (null until one is made; a program "
        "a crosswalk link joined shows the plan made under its hub ID, else the first "
        "made under one of its records' own IDs)"
    )
    async def qip(self, info: Info) -> QualityImprovementPlan | None:
        plans = await info.context.hub_loaders.qip().load_many(self.merged.hub_ids)
        found = next((q for q in plans if q is not None), None)
        return None if found is None else QualityImprovementPlan(qip=found)

    @strawberry.field(description="Notes on the program itself")
    async def notes(self, info: Info) -> list[Note]:
        loader = info.context.hub_loaders.notes(
            SubjectType.PROGRAM, info.context.actor, info.context.access.note_visibility
        )
        [notes] = await load_merged(loader, [self.merged])
        return [Note(note=n) for n in notes]

    @strawberry.field(description="Files attached to the program itself")
    async def files(self, info: Info) -> list[FileAttachment]:
        loader = info.context.hub_loaders.files(SubjectType.PROGRAM)
        [rows] = await load_merged(loader, [self.merged])
        return [FileAttachment(file=f) for f in rows]


def _trainings(rows: Sequence[Record]) -> list[Training]:
    return [Training(record=r) for r in rows]


def _rooms(rows: Sequence[Record]) -> list[Room]:
    return [Room(record=r) for r in rows]


def _staff(merged: Sequence[Merged]) -> list[Staff]:
    return [Staff(merged=m) for m in merged]


def _sites(merged: Sequence[Merged]) -> list[Site]:
    return [Site(merged=m) for m in merged]


# The child lists the read-ahead reads for a page (ecehub.schema.prefetch).
child_list("Program", "sites", "site", "program", "Site")
child_list("Program", "staff", "staff", "program", "Staff")
child_list("Site", "rooms", "room", "site", "Room")
child_list("Site", "staff", "staff", "site", "Staff")
child_list("Staff", "trainings", "training", "staff", "Training")
