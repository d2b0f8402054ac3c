"""The merged types of the program graph: Program, Site, Staff."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Sequence

import strawberry

from ecehub.config.scales import LevelScale, normalised_level
from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Merged
from ecehub.crosswalk.records import CrosswalkLink
from ecehub.hub.enums import SubjectType
from ecehub.resolvers.hub_loaders import load_merged
from ecehub.resolvers.periods import in_period, periods_of
from ecehub.schema.arguments import Period, global_id
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
    Accreditation,
    AgeGroupCapacity,
    Assessment,
    Checklist,
    EnrollmentCount,
    EnrollmentSummary,
    ProgramContact,
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

__all__ = ["License", "Program", "QrisRating", "QrisScale", "Site", "Staff"]


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


@strawberry.type(description="The scale a source rates QRIS levels on (config `scales`).")
class QrisScale:
    min: int = strawberry.field(description="The lowest level the source gives")
    max: int = strawberry.field(description="The highest level the source gives")
    not_participating: list[int] = strawberry.field(
        description="Levels that mean the program does not take part in the QRIS"
    )

    @classmethod
    def of(cls, scale: LevelScale | None) -> QrisScale | None:
        if scale is None:
            return None
        return cls(min=scale.min, max=scale.max, not_participating=list(scale.not_participating))


@strawberry.type(description="The program's current QRIS rating.")
class QrisRating:
    level: int = strawberry.field(description="The level as the source gives it, on its scale")
    rated_on: dt.date | None
    expires_on: dt.date | None
    source: str
    scale: QrisScale | None = strawberry.field(
        default=None,
        description="The source's scale; null: it declares none and its levels are read as "
        "on the reference 1-5 scale",
    )
    normalised_level: float | None = strawberry.field(
        default=None,
        description="The level on the reference 1-5 scale (lowest rated level 1, highest 5, "
        'linear between, two decimals; README "QRIS scales"), what qrisLevelMin compares; '
        "null when not participating",
    )
    participating: bool = strawberry.field(
        default=True,
        description="false: the level is one the scale declares as not participating",
    )


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


@strawberry.type(
    description="How a licensed facility is a site of a program: the confirmed crosswalk "
    "decision (a SITE link), who made it, when and why."
)
class SiteLink:
    link: strawberry.Private[CrosswalkLink]

    @strawberry.field(description="The facility's source")
    def source(self) -> str:
        return self.link.source

    @strawberry.field(description="The facility's key in its source")
    def source_key(self) -> str:
        return self.link.source_key

    @strawberry.field(description="The matcher's reasons (empty for a link made by hand)")
    def reasons(self) -> list[str]:
        return list(self.link.reasons)

    @strawberry.field
    def decided_by(self) -> str | None:
        return self.link.decided_by

    @strawberry.field
    def decided_at(self) -> dt.datetime | None:
        return self.link.decided_at

    @strawberry.field
    def decision_reason(self) -> str | None:
        return self.link.decision_reason


@strawberry.type(description="One location of a program; licenses usually attach here.")
class Site(_MergedNode):
    site_link: strawberry.Private[CrosswalkLink | None] = None

    @strawberry.field(
        description="For a licensed facility the crosswalk confirmed as a site of the "
        "program (its id is then the facility's program id): that decision; null for a "
        "site the program's own source lists"
    )
    def crosswalk_link(self) -> SiteLink | None:
        return None if self.site_link is None else SiteLink(link=self.site_link)

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

    @strawberry.field(description="Places by age group, from every source that gives them")
    async def capacity_by_age(self, info: Info) -> list[AgeGroupCapacity]:
        rows = await info.context.children(self.merged.records, "capacity", "site")
        return [AgeGroupCapacity(record=r) for r in rows]

    @strawberry.field(description="Accreditations of the site, each from its source")
    async def accreditations(self, info: Info) -> list[Accreditation]:
        rows = await info.context.children(self.merged.records, "accreditation", "site")
        return [Accreditation(record=r) for r in rows]

    @strawberry.field(description="People to contact about the site, each from its source")
    async def contacts(self, info: Info) -> list[ProgramContact]:
        rows = await info.context.children(self.merged.records, "contact", "site")
        return [ProgramContact(record=r) for r in rows]

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
    def qris_rating(self, info: Info) -> QrisRating | None:
        level = self.merged.field("qris_level")
        if level is None:
            return None
        scale = info.context.config.level_scale(level.source, "program", "qris_level")
        position = normalised_level(scale, level.value)
        return QrisRating(
            level=level.value,
            rated_on=self.merged.value("qris_rated_on"),
            expires_on=self.merged.value("qris_expires_on"),
            source=level.source,
            scale=QrisScale.of(scale),
            normalised_level=None if position is None else float(position),
            participating=scale is None or scale.participating(level.value),
        )

    @strawberry.field(
        graphql_type=list[Site],
        description="The program's sites: those its sources list, then the licensed "
        "facilities the crosswalk confirmed as its sites (with crosswalkLink)",
    )
    def sites(self, info: Info) -> list[Site] | Awaitable[list[Site]]:
        own = info.context.merged_children_soon(self.merged, "site", "program")
        linked = info.context.linked_sites_soon(self.merged)
        if isinstance(own, list) and isinstance(linked, list):
            return _sites_and_linked(own, linked)
        return _sites_later(own, linked)

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

    @strawberry.field(
        description="Reporting periods (program years) the program's sector records cover, "
        "newest first: its own records' (each shows its latest) and its enrollment and "
        'funding rows\' (README "Records with a period")'
    )
    async def periods(self, info: Info) -> list[str]:
        enrollment, funding = await asyncio.gather(
            info.context.children(self.merged.records, "enrollment", "program"),
            info.context.children(self.merged.records, "funding", "program"),
        )
        return periods_of([*self.merged.records, *enrollment, *funding])

    @strawberry.field(
        description="Enrollment counts of one reporting period: by default each source's "
        "latest period of the program, else the period given (e.g. 2022 or 2022-2023; see "
        "`periods`). Never summed across periods"
    )
    async def enrollment(
        self,
        info: Info,
        period: Period = None,
    ) -> EnrollmentSummary:
        rows = await info.context.children(self.merged.records, "enrollment", "program")
        counts = []
        for r in in_period(rows, period):
            types = info.context.support_types_of(r.source)
            counts.append(EnrollmentCount(record=r, support_type=types[0] if types else None))
        return EnrollmentSummary.of(counts, info.context.access)

    @strawberry.field(
        description="Funding from sector sources and hub entries, each saying its source. "
        "Sector lines with a reporting period: each source's latest period of the program, or "
        "the period given (then hub entries and lines without a period are left out)"
    )
    async def funding(
        self,
        info: Info,
        period: Period = None,
    ) -> list[Funding]:
        rows = await info.context.children(self.merged.records, "funding", "program")
        [entries] = await load_merged(info.context.hub_loaders.funding(), [self.merged])
        shown = [
            Funding.from_record(r, info.context.support_types_of(r.source))
            for r in in_period(rows, period)
        ]
        return shown if period is not None else shown + [Funding.from_hub(f) for f in entries]

    @strawberry.field(description="QRIS rating history")
    async def rating_history(self, info: Info) -> list[RatingEvent]:
        rows = await info.context.children(self.merged.records, "rating", "program")
        return [RatingEvent(record=r) for r in rows]

    @strawberry.field(
        description="People to contact about the program (its director, QRIS coach, "
        "licensing consultant, ...), each from its source"
    )
    async def contacts(self, info: Info) -> list[ProgramContact]:
        rows = await info.context.children(self.merged.records, "contact", "program")
        return [ProgramContact(record=r) for r in rows]

    @strawberry.field(description="Accreditations (NAEYC, NAFCC, ...), each from its source")
    async def accreditations(self, info: Info) -> list[Accreditation]:
        rows = await info.context.children(self.merged.records, "accreditation", "program")
        return [Accreditation(record=r) for r in rows]

    @strawberry.field(
        description="Places by age group (licensed capacity per age group), from every source "
        "that gives them; license.capacity is the total"
    )
    async def capacity_by_age(self, info: Info) -> list[AgeGroupCapacity]:
        rows = await info.context.children(self.merged.records, "capacity", "program")
        return [AgeGroupCapacity(record=r) for r in rows]

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


def _sites_and_linked(
    own: Sequence[Merged], linked: Sequence[tuple[Merged, CrosswalkLink]]
) -> list[Site]:
    """The program's own sites, then the facilities linked as its sites. A linked facility
    with the ID of one of its own sites (a Head Start center and the licensed facility of
    the same license number) is one site, not two with one ID: it is shown where the own
    site was, as ``site(id:)`` answers for that ID (the facility, with its link)."""
    by_id: dict[str, tuple[Merged, CrosswalkLink]] = {}
    for merged, link in linked:
        by_id.setdefault(merged.hub_id, (merged, link))
    sites = [
        Site(merged=m)
        if m.hub_id not in by_id
        else Site(merged=by_id[m.hub_id][0], site_link=by_id[m.hub_id][1])
        for m in own
    ]
    own_ids = {m.hub_id for m in own}
    return sites + [
        Site(merged=m, site_link=link)
        for hub_id, (m, link) in by_id.items()
        if hub_id not in own_ids
    ]


async def _sites_later(
    own: list[Merged] | Awaitable[list[Merged]],
    linked: list[tuple[Merged, CrosswalkLink]] | Awaitable[list[tuple[Merged, CrosswalkLink]]],
) -> list[Site]:
    return _sites_and_linked(
        own if isinstance(own, list) else await own,
        linked if isinstance(linked, list) else await linked,
    )


# The child lists the read-ahead reads for a page (ecehub.schema.prefetch).
child_list(
    "Program",
    "sites",
    "site",
    "program",
    "Site",
    also=lambda context, records: context.read_linked_sites(records),
)
child_list("Program", "staff", "staff", "program", "Staff")
child_list("Site", "rooms", "room", "site", "Room")
child_list("Site", "staff", "staff", "site", "Staff")
child_list("Staff", "trainings", "training", "staff", "Training")
