"""The records each demo sector system keeps, in that system's own words.

Licensing and Head Start records name their fields exactly as their database columns;
QRIS records are snake_case here and become the API's camelCase JSON in ``to_json``. The
ground truth (:class:`ProgramTruth`, :class:`StaffLink`) says which records in different
systems are the same real program or person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "Award",
    "ClassDomainScore",
    "ClassObservation",
    "Classroom",
    "CoachingVisit",
    "Facility",
    "FacilityCapacity",
    "FacilityContact",
    "GrantFunding",
    "Grantee",
    "HeadStartCenter",
    "HeadStartRecords",
    "Inspection",
    "LicensingRecords",
    "MonitoringReview",
    "PirEnrollment",
    "ProgramTruth",
    "QrisAccreditation",
    "QrisAssessment",
    "QrisContact",
    "QrisProvider",
    "QrisRating",
    "QrisRecords",
    "QrisSubscale",
    "QrisTraining",
    "ReviewFinding",
    "StaffLink",
    "StaffMember",
    "Violation",
    "WorkforceMember",
]

# --- Licensing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facility:
    license_no: str
    facility_name: str
    street_addr: str
    city: str
    county_name: str
    state_cd: str
    zip_code: str
    phone_no: str
    email_addr: str | None
    license_type: str
    """``CENTER`` or ``FCC`` (family child-care home)."""
    license_status: str
    """CEDS licensing status ``Licensed``, or ``Probation`` / ``Suspended`` / ``Expired``."""
    capacity: int
    ages_served: str
    issue_dt: dt.date
    expiry_dt: dt.date


@dataclass(frozen=True, slots=True)
class Inspection:
    inspection_id: int
    license_no: str
    inspection_date: dt.date
    inspection_type: str
    """CEDS monitoring visit purpose: HealthSafety, LicensingVisits, Renewal, Review, Other."""
    announced: bool
    form_name: str
    """The checklist used, e.g. ``Child Care Center Inspection``."""
    inspector_name: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule checked during an inspection (compliant rows included: it is a checklist)."""

    violation_id: int
    inspection_id: int
    rule_citation: str
    rule_text: str
    finding: str
    risk_weight: float
    corrective_due: dt.date | None
    comments: str | None


@dataclass(frozen=True, slots=True)
class FacilityCapacity:
    """The licensed places of one age group at a facility (they add up to its capacity)."""

    capacity_id: int
    license_no: str
    age_group: str
    places: int


@dataclass(frozen=True, slots=True)
class FacilityContact:
    """A person the agency lists for a facility: its assigned licensing consultant."""

    contact_id: int
    license_no: str
    contact_role: str
    contact_name: str
    phone_no: str
    email_addr: str


@dataclass(frozen=True, slots=True)
class LicensingRecords:
    facilities: list[Facility] = field(default_factory=list)
    inspections: list[Inspection] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    capacities: list[FacilityCapacity] = field(default_factory=list)
    contacts: list[FacilityContact] = field(default_factory=list)


# --- Head Start ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grantee:
    grant_number: str
    grantee_name: str
    region: int
    agency_type: str
    address1: str
    city: str
    state: str
    zip: str
    phone: str
    executive_director: str


@dataclass(frozen=True, slots=True)
class HeadStartCenter:
    center_id: int
    grant_number: str
    center_name: str
    address1: str
    city: str
    county: str
    state: str
    zip: str
    phone: str
    state_license_no: str | None
    program_type: str
    """CEDS program type of most of its slots: ``HeadStart`` or ``EarlyHeadStart``."""
    program_option: str
    setting: str


@dataclass(frozen=True, slots=True)
class Classroom:
    classroom_id: int
    center_id: int
    classroom_name: str
    age_group: str
    max_children: int
    youngest_months: int
    oldest_months: int


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: int
    center_id: int
    classroom_id: int | None
    first_nm: str
    last_nm: str
    position_title: str
    highest_degree: str
    credential_list: str | None
    registry_id: str | None
    hire_date: dt.date
    birth_year: int


@dataclass(frozen=True, slots=True)
class PirEnrollment:
    pir_id: int
    center_id: int
    program_year: str
    age_group: str
    program_type: str
    """``HS`` or ``EHS``."""
    cumulative_enrollment: int
    funded_slots: int


@dataclass(frozen=True, slots=True)
class MonitoringReview:
    review_id: int
    center_id: int
    review_date: dt.date
    review_type: str
    review_status: str
    reviewer: str


@dataclass(frozen=True, slots=True)
class ReviewFinding:
    finding_id: int
    review_id: int
    standard_citation: str
    finding_text: str
    finding_status: str


@dataclass(frozen=True, slots=True)
class ClassObservation:
    obs_id: int
    center_id: int
    classroom_id: int
    observed_on: dt.date
    observer: str
    instrument: str
    total_score: float


@dataclass(frozen=True, slots=True)
class ClassDomainScore:
    id: int
    obs_id: int
    domain: str
    score: float


@dataclass(frozen=True, slots=True)
class GrantFunding:
    funding_id: int
    grant_number: str
    center_id: int
    budget_period_start: dt.date
    budget_period_end: dt.date
    amount: Decimal
    funding_type: str
    budget_category: str


@dataclass(frozen=True, slots=True)
class HeadStartRecords:
    grantees: list[Grantee] = field(default_factory=list)
    centers: list[HeadStartCenter] = field(default_factory=list)
    classrooms: list[Classroom] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    enrollment: list[PirEnrollment] = field(default_factory=list)
    reviews: list[MonitoringReview] = field(default_factory=list)
    findings: list[ReviewFinding] = field(default_factory=list)
    observations: list[ClassObservation] = field(default_factory=list)
    domain_scores: list[ClassDomainScore] = field(default_factory=list)
    funding: list[GrantFunding] = field(default_factory=list)


# --- QRIS ----------------------------------------------------------------------------------


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class QrisProvider:
    provider_id: str
    display_name: str
    license_number: str | None
    program_type: str
    street: str
    city: str
    county: str
    state: str
    zip: str
    phone: str
    email: str | None
    rating_level: int | None
    rating_effective: dt.date | None
    rating_expires: dt.date | None

    def to_json(self) -> dict[str, Any]:
        rating = None
        if self.rating_level is not None:
            rating = {
                "level": self.rating_level,
                "effectiveDate": _iso(self.rating_effective),
                "expirationDate": _iso(self.rating_expires),
            }
        return {
            "providerId": self.provider_id,
            "displayName": self.display_name,
            "licenseNumber": self.license_number,
            "programType": self.program_type,
            "location": {
                "street": self.street,
                "city": self.city,
                "county": self.county,
                "state": self.state,
                "zip": self.zip,
            },
            "contact": {"phone": self.phone, "email": self.email},
            "rating": rating,
        }


@dataclass(frozen=True, slots=True)
class QrisRating:
    rating_id: int
    provider_id: str
    level: int
    effective_date: dt.date
    expiration_date: dt.date
    status: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ratingId": self.rating_id,
            "providerId": self.provider_id,
            "level": self.level,
            "effectiveDate": _iso(self.effective_date),
            "expirationDate": _iso(self.expiration_date),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class CoachingVisit:
    visit_id: int
    provider_id: str
    visit_date: dt.date
    visit_type: str
    minutes: int
    coach_name: str
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "visitId": self.visit_id,
            "providerId": self.provider_id,
            "visitDate": _iso(self.visit_date),
            "visitType": self.visit_type,
            "minutes": self.minutes,
            "coachName": self.coach_name,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class QrisAssessment:
    assessment_id: int
    provider_id: str
    instrument: str
    observed_on: dt.date
    observer: str
    overall_score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "assessmentId": self.assessment_id,
            "providerId": self.provider_id,
            "instrument": self.instrument,
            "observedOn": _iso(self.observed_on),
            "observer": self.observer,
            "overallScore": self.overall_score,
        }


@dataclass(frozen=True, slots=True)
class QrisSubscale:
    id: int
    assessment_id: int
    subscale: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "assessmentId": self.assessment_id,
            "subscale": self.subscale,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class Award:
    award_id: int
    provider_id: str
    amount: Decimal
    purpose: str
    awarded_on: dt.date
    period_start: dt.date
    period_end: dt.date
    funding_source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "awardId": self.award_id,
            "providerId": self.provider_id,
            "amount": f"{self.amount:.2f}",
            "purpose": self.purpose,
            "awardedOn": _iso(self.awarded_on),
            "periodStart": _iso(self.period_start),
            "periodEnd": _iso(self.period_end),
            "fundingSource": self.funding_source,
        }


@dataclass(frozen=True, slots=True)
class WorkforceMember:
    registry_id: str
    provider_id: str
    first_name: str
    last_name: str
    role: str
    education_level: str
    credentials: tuple[str, ...]
    pd_hours: float

    def to_json(self) -> dict[str, Any]:
        return {
            "registryId": self.registry_id,
            "providerId": self.provider_id,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "role": self.role,
            "educationLevel": self.education_level,
            "credentials": list(self.credentials),
            "pdHours": self.pd_hours,
        }


@dataclass(frozen=True, slots=True)
class QrisTraining:
    training_id: int
    registry_id: str
    title: str
    topic_area: str
    completed_on: dt.date
    clock_hours: float

    def to_json(self) -> dict[str, Any]:
        return {
            "trainingId": self.training_id,
            "registryId": self.registry_id,
            "title": self.title,
            "topicArea": self.topic_area,
            "completedOn": _iso(self.completed_on),
            "clockHours": self.clock_hours,
        }


@dataclass(frozen=True, slots=True)
class QrisContact:
    """A person QRIS lists for a provider: its assigned quality coach."""

    contact_id: int
    provider_id: str
    role: str
    full_name: str
    phone: str
    email: str

    def to_json(self) -> dict[str, Any]:
        return {
            "contactId": self.contact_id,
            "providerId": self.provider_id,
            "role": self.role,
            "fullName": self.full_name,
            "phone": self.phone,
            "email": self.email,
        }


@dataclass(frozen=True, slots=True)
class QrisAccreditation:
    """A national accreditation QRIS accepts as evidence (NAEYC centers, NAFCC homes)."""

    accreditation_id: int
    provider_id: str
    agency: str
    status: str
    start_date: dt.date
    end_date: dt.date

    def to_json(self) -> dict[str, Any]:
        return {
            "accreditationId": self.accreditation_id,
            "providerId": self.provider_id,
            "agency": self.agency,
            "status": self.status,
            "startDate": _iso(self.start_date),
            "endDate": _iso(self.end_date),
        }


@dataclass(frozen=True, slots=True)
class QrisRecords:
    providers: list[QrisProvider] = field(default_factory=list)
    ratings: list[QrisRating] = field(default_factory=list)
    coaching_visits: list[CoachingVisit] = field(default_factory=list)
    assessments: list[QrisAssessment] = field(default_factory=list)
    subscales: list[QrisSubscale] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    workforce: list[WorkforceMember] = field(default_factory=list)
    trainings: list[QrisTraining] = field(default_factory=list)
    contacts: list[QrisContact] = field(default_factory=list)
    accreditations: list[QrisAccreditation] = field(default_factory=list)


# --- Ground truth --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgramTruth:
    """One real program and the key each system knows it by (``None``: not in that system).

    ``qris_license_number`` is what QRIS has on file, which may be missing or mistyped."""

    program_id: str
    name: str
    kind: str
    """``CENTER``, ``FCC`` or ``EXEMPT`` (license-exempt, known to QRIS only)."""
    license_no: str | None
    head_start_center_id: int | None
    head_start_grant_number: str | None
    qris_provider_id: str | None
    qris_license_number: str | None


@dataclass(frozen=True, slots=True)
class StaffLink:
    """A Head Start staff member who is also in the QRIS workforce registry."""

    head_start_staff_id: int
    registry_id: str
    qris_provider_id: str
