"""Types built from one source record each (not merged across sources)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from ecehub.access.policy import Access
from ecehub.access.suppression import suppress
from ecehub.config.scales import normalised_level
from ecehub.connectors.base import Record
from ecehub.ids import record_hub_id
from ecehub.resolvers.periods import periods_of
from ecehub.schema.arguments import global_id
from ecehub.schema.common import Info

__all__ = [
    "Accreditation",
    "AgeGroupCapacity",
    "Assessment",
    "AssessmentScore",
    "Checklist",
    "ChecklistResponse",
    "ComplianceResponse",
    "EnrollmentCount",
    "EnrollmentSummary",
    "ProgramContact",
    "RatingEvent",
    "Room",
    "Training",
]


def _gid(type_name: str, r: Record) -> strawberry.ID:
    return global_id(type_name, record_hub_id(r.source, r.key))


def _support_type(info: Info, r: Record) -> str | None:
    types = info.context.support_types_of(r.source)
    return types[0] if types else None


@strawberry.type
class _SourceRow:
    """A type read from one source record, which says its source."""

    record: strawberry.Private[Record]

    @strawberry.field
    def source(self) -> str:
        return self.record.source


@strawberry.type(description="A classroom or group within a site.")
class Room(_SourceRow):
    @strawberry.field
    def id(self) -> strawberry.ID:
        return _gid("Room", self.record)

    @strawberry.field
    def name(self) -> str | None:
        return self.record.get("name")

    @strawberry.field(description="infant, toddler, preschool, school-age, as the source says")
    def age_group(self) -> str | None:
        return self.record.get("age_group")

    @strawberry.field
    def capacity(self) -> int | None:
        return self.record.get("capacity")

    @strawberry.field
    def youngest_months(self) -> int | None:
        return self.record.get("youngest_months")

    @strawberry.field
    def oldest_months(self) -> int | None:
        return self.record.get("oldest_months")


@strawberry.type(description="A training a staff member completed.")
class Training(_SourceRow):
    @strawberry.field
    def title(self) -> str | None:
        return self.record.get("title")

    @strawberry.field
    def topic(self) -> str | None:
        return self.record.get("topic")

    @strawberry.field
    def completed_on(self) -> dt.date | None:
        return self.record.get("completed_on")

    @strawberry.field
    def hours(self) -> float | None:
        return self.record.get("hours")


@strawberry.enum(description="How one checklist item was answered.")
class ComplianceResponse(Enum):
    MET = "MET"
    NOT_MET = "NOT_MET"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    OTHER = "OTHER"


_RESPONSES = {
    "MET": ComplianceResponse.MET,
    "COMPLIANT": ComplianceResponse.MET,
    "YES": ComplianceResponse.MET,
    "NOT_MET": ComplianceResponse.NOT_MET,
    "NON_COMPLIANT": ComplianceResponse.NOT_MET,
    "NONCOMPLIANT": ComplianceResponse.NOT_MET,
    "NO": ComplianceResponse.NOT_MET,
    "NOT_APPLICABLE": ComplianceResponse.NOT_APPLICABLE,
    "NA": ComplianceResponse.NOT_APPLICABLE,
    "N/A": ComplianceResponse.NOT_APPLICABLE,
}


def compliance(value: str | None) -> ComplianceResponse | None:
    if value is None:
        return None
    return _RESPONSES.get(
        value.strip().upper().replace("-", "_").replace(" ", "_"), ComplianceResponse.OTHER
    )


@strawberry.type(description="One standards item answered in a checklist.")
class ChecklistResponse:
    record: strawberry.Private[Record]

    @strawberry.field
    def item(self) -> str | None:
        return self.record.get("item")

    @strawberry.field(description="Rule or standard citation, e.g. 1302.47(b)(5)(i)")
    def citation(self) -> str | None:
        return self.record.get("citation")

    @strawberry.field
    def response(self) -> ComplianceResponse | None:
        return compliance(self.record.get("response"))

    @strawberry.field(description="The response as the source system wrote it")
    def source_response(self) -> str | None:
        return self.record.get("response")

    @strawberry.field
    def weight(self) -> float | None:
        return self.record.get("weight")

    @strawberry.field
    def note(self) -> str | None:
        return self.record.get("note")

    @strawberry.field
    def corrective_action_due(self) -> dt.date | None:
        return self.record.get("corrective_action_due")


@strawberry.type(
    description="A set of standards items answered for a program or site: an "
    "inspection, a monitoring review, a QRIS standards review."
)
class Checklist(_SourceRow):
    @strawberry.field
    def id(self) -> strawberry.ID:
        return _gid("Checklist", self.record)

    @strawberry.field
    def name(self) -> str | None:
        return self.record.get("name")

    @strawberry.field
    def kind(self) -> str | None:
        return self.record.get("kind")

    @strawberry.field
    def conducted_on(self) -> dt.date | None:
        return self.record.get("conducted_on")

    @strawberry.field
    def status(self) -> str | None:
        return self.record.get("status")

    @strawberry.field
    def reviewer(self) -> str | None:
        return self.record.get("reviewer")

    @strawberry.field
    def support_type(self, info: Info) -> str | None:
        return _support_type(info, self.record)

    @strawberry.field
    async def responses(self, info: Info) -> list[ChecklistResponse]:
        rows = await info.context.children([self.record], "checklist_response", "checklist")
        return [ChecklistResponse(record=r) for r in rows]

    @strawberry.field(description="Items answered NOT_MET")
    async def not_met_count(self, info: Info) -> int:
        rows = await info.context.children([self.record], "checklist_response", "checklist")
        return sum(1 for r in rows if compliance(r.get("response")) is ComplianceResponse.NOT_MET)


@strawberry.type(description="A score on one domain, subscale or item of an assessment.")
class AssessmentScore:
    record: strawberry.Private[Record]

    @strawberry.field
    def domain(self) -> str | None:
        return self.record.get("domain")

    @strawberry.field
    def item(self) -> str | None:
        return self.record.get("item")

    @strawberry.field
    def score(self) -> float | None:
        return self.record.get("score")


@strawberry.type(description="A structured observation (ECERS-3, ITERS-3, CLASS, ...).")
class Assessment(_SourceRow):
    @strawberry.field
    def id(self) -> strawberry.ID:
        return _gid("Assessment", self.record)

    @strawberry.field
    def instrument(self) -> str | None:
        return self.record.get("instrument")

    @strawberry.field
    def conducted_on(self) -> dt.date | None:
        return self.record.get("conducted_on")

    @strawberry.field(description="Overall score as the source reports it (1-7 scales)")
    def score(self) -> float | None:
        return self.record.get("score")

    @strawberry.field
    def observer(self) -> str | None:
        return self.record.get("observer")

    @strawberry.field
    def scope(self) -> str | None:
        return self.record.get("scope")

    @strawberry.field
    def support_type(self, info: Info) -> str | None:
        return _support_type(info, self.record)

    @strawberry.field
    async def scores(self, info: Info) -> list[AssessmentScore]:
        rows = await info.context.children([self.record], "assessment_score", "assessment")
        return [AssessmentScore(record=r) for r in rows]


@strawberry.type(description="A count of enrolled children for one age group (never child data).")
class EnrollmentCount(_SourceRow):
    support_type: str | None
    suppressed: bool = strawberry.field(
        default=False,
        description="The count is withheld (null): it is small, or would let a small one be "
        "derived, and this role is not entitled to the detail",
    )

    @strawberry.field
    def age_group(self) -> str | None:
        return self.record.get("age_group")

    @strawberry.field(description="Children enrolled; null when suppressed")
    def count(self) -> int | None:
        return None if self.suppressed else self.record.get("count")

    @strawberry.field
    def funded_slots(self) -> int | None:
        return self.record.get("funded_slots")

    @strawberry.field(description="The reporting period of the count, e.g. 2022-2023")
    def period(self) -> str | None:
        return self.record.get("period")

    @strawberry.field
    def program_type(self) -> str | None:
        return self.record.get("program_type")


@strawberry.type(
    description="Enrollment counts by support type and age group. For a role not entitled to "
    "the detail, counts below the small-cell threshold are suppressed, and so are the counts "
    "from which one could be derived (see `suppressed`)."
)
class EnrollmentSummary:
    counts: list[EnrollmentCount]
    total_suppressed: bool = strawberry.field(
        default=False, description="The total is withheld (null) because it is itself small"
    )

    @strawberry.field(
        description="The reporting periods of these counts (one, unless the program's "
        "sources report in different periods), newest first"
    )
    def periods(self) -> list[str]:
        return periods_of(c.record for c in self.counts)

    @strawberry.field(
        description="Sum of the counts given (of one period per source, never across "
        "periods); null when suppressed"
    )
    def total(self) -> int | None:
        if self.total_suppressed:
            return None
        return sum(c.record.get("count") or 0 for c in self.counts)

    @classmethod
    def of(cls, counts: list[EnrollmentCount], access: Access) -> EnrollmentSummary:
        """The summary as ``access`` may see it: small cells suppressed without detail."""
        if access.detail:
            return cls(counts=counts)
        plan = suppress([c.record.get("count") for c in counts], access.threshold)
        shown = [
            EnrollmentCount(record=c.record, support_type=c.support_type, suppressed=hidden)
            for c, hidden in zip(counts, plan.cells, strict=True)
        ]
        return cls(counts=shown, total_suppressed=plan.total)


@strawberry.type(description="One QRIS rating decision.")
class RatingEvent(_SourceRow):
    @strawberry.field(description="The level as the source gives it, on its scale")
    def level(self) -> int | None:
        return self.record.get("level")

    @strawberry.field(
        description="The level on the reference 1-5 scale (as QrisRating.normalisedLevel); "
        "null when not participating or no level"
    )
    def normalised_level(self, info: Info) -> float | None:
        scale = info.context.config.level_scale(self.record.source, "rating", "level")
        position = normalised_level(scale, self.record.get("level"))
        return None if position is None else float(position)

    @strawberry.field(
        description="false: the level is one the source's scale declares as not "
        "participating; null: no level"
    )
    def participating(self, info: Info) -> bool | None:
        level = self.record.get("level")
        if level is None:
            return None
        scale = info.context.config.level_scale(self.record.source, "rating", "level")
        return scale is None or scale.participating(level)

    @strawberry.field
    def rated_on(self) -> dt.date | None:
        return self.record.get("rated_on")

    @strawberry.field
    def expires_on(self) -> dt.date | None:
        return self.record.get("expires_on")

    @strawberry.field
    def status(self) -> str | None:
        return self.record.get("status")


@strawberry.type(
    description="A person to contact about a program, as one source names them: e.g. its "
    "director, its QRIS coach, its licensing consultant. Email and phone are personal data: "
    'only roles entitled to them read them (README "Roles and access").'
)
class ProgramContact(_SourceRow):
    @strawberry.field(
        description="What the person is to the program, as the source says, e.g. Director, "
        "QRIS coach, Licensing consultant"
    )
    def role(self) -> str | None:
        return self.record.get("role")

    @strawberry.field
    def name(self) -> str | None:
        return self.record.get("name")

    @strawberry.field(description="Personal: only roles entitled to contact details")
    def email(self) -> str | None:
        return self.record.get("email")

    @strawberry.field(description="Personal: only roles entitled to contact details")
    def phone(self) -> str | None:
        return self.record.get("phone")


@strawberry.type(description="An accreditation of a program by an accrediting body.")
class Accreditation(_SourceRow):
    @strawberry.field(
        description="The accrediting body, CEDS Accreditation agency where it fits: NAEYC, "
        "NAFCC, NECPA, NAC, COA, SACS, Other"
    )
    def body(self) -> str | None:
        return self.record.get("body")

    @strawberry.field(description="As the source says, e.g. Accredited, Candidate, Expired")
    def status(self) -> str | None:
        return self.record.get("status")

    @strawberry.field(description="First day of the accreditation term")
    def begins_on(self) -> dt.date | None:
        return self.record.get("begins_on")

    @strawberry.field(description="Last day of the accreditation term")
    def ends_on(self) -> dt.date | None:
        return self.record.get("ends_on")


@strawberry.type(description="How many children of one age group a program or site may serve.")
class AgeGroupCapacity(_SourceRow):
    @strawberry.field(description="infant, toddler, preschool, school-age, as the source says")
    def age_group(self) -> str | None:
        return self.record.get("age_group")

    @strawberry.field(description="Licensed (or funded) places for the age group")
    def capacity(self) -> int | None:
        return self.record.get("capacity")
