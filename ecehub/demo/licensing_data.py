"""What the licensing agency has on file: every licensed facility, its inspections and the
rules checked at each (compliant rows too: an inspection is a checklist)."""

from __future__ import annotations

import datetime as dt
import random

from ecehub.demo.catalogs import CENTER_RULES, FCC_RULES, INSPECTORS, LICENSING_CONSULTANTS
from ecehub.demo.geography import COUNTIES, STATE_CODE
from ecehub.demo.noise import format_phone
from ecehub.demo.programs import TrueProgram, slug
from ecehub.demo.records import (
    Facility,
    FacilityCapacity,
    FacilityContact,
    Inspection,
    LicensingRecords,
    Violation,
)

__all__ = ["licensing_records"]

_VISIT_TYPES = ("LicensingVisits", "HealthSafety", "Review", "Other")
_VISIT_WEIGHTS = (40, 30, 10, 10)
_NON_COMPLIANT_CHANCE = {"Licensed": 0.07, "Probation": 0.3, "Suspended": 0.4, "Expired": 0.15}
_FORMS = {
    "CENTER": "Child Care Center Inspection",
    "FCC": "Family Child Care Home Inspection",
}
_COMMENTS = (
    "Observed during walk-through; director notified.",
    "Documentation not available at time of visit.",
    "Corrective action plan required.",
    "Repeat finding from prior inspection.",
)


def _facility(program: TrueProgram) -> Facility:
    assert program.license_no and program.issued and program.expires
    return Facility(
        license_no=program.license_no,
        facility_name=program.name,
        street_addr=program.street,
        city=program.city,
        county_name=program.county,
        state_cd=STATE_CODE,
        zip_code=program.zip,
        phone_no=format_phone(program.phone, "paren"),
        email_addr=program.email,
        license_type="CENTER" if program.kind == "CENTER" else "FCC",
        license_status=program.license_status,
        capacity=program.capacity,
        ages_served=", ".join(program.ages),
        issue_dt=program.issued,
        expiry_dt=program.expires,
    )


_AGE_WEIGHTS = {"Infant": 2, "Toddler": 3, "Preschool": 6, "SchoolAge": 4}
"""How a facility's places split across the ages it serves (younger groups are smaller)."""
_COUNTY_INDEX = {county.name: i for i, county in enumerate(COUNTIES)}


def _capacity_by_age(
    facility: Facility, ages: tuple[str, ...], first_id: int
) -> list[FacilityCapacity]:
    """The facility's places split across its age groups, adding up to its capacity: derived
    from the facility alone (no random draw), so the rest of the world stays as it was."""
    weights = [_AGE_WEIGHTS.get(age, 3) for age in ages]
    places = [max(1, facility.capacity * w // sum(weights)) for w in weights[:-1]]
    places.append(facility.capacity - sum(places))
    return [
        FacilityCapacity(first_id + i, facility.license_no, age, n)
        for i, (age, n) in enumerate(zip(ages, places, strict=True))
    ]


def _consultant(facility: Facility, contact_id: int) -> FacilityContact:
    """The licensing consultant assigned to the facility's county."""
    index = _COUNTY_INDEX.get(facility.county_name, 0) % len(LICENSING_CONSULTANTS)
    name = LICENSING_CONSULTANTS[index]
    first, last = name.split(" ", 1)
    return FacilityContact(
        contact_id=contact_id,
        license_no=facility.license_no,
        contact_role="Licensing Consultant",
        contact_name=name,
        phone_no=format_phone(f"555010{index + 1:04d}", "paren"),
        email_addr=f"{slug(first)}.{slug(last)}@licensing.{STATE_CODE.lower()}.example",
    )


def licensing_records(
    rng: random.Random, programs: list[TrueProgram], as_of: dt.date
) -> LicensingRecords:
    out = LicensingRecords()
    for program in programs:
        facility = _facility(program)
        out.facilities.append(facility)
        out.capacities.extend(_capacity_by_age(facility, program.ages, len(out.capacities) + 1))
        out.contacts.append(_consultant(facility, len(out.contacts) + 1))
        rules = CENTER_RULES if program.kind == "CENTER" else FCC_RULES
        form_name = _FORMS[program.kind]
        infants = "Infant" in program.ages
        # The renewal visit at issue, then one to three visits since.
        visits = [(facility.issue_dt - dt.timedelta(days=rng.randint(5, 40)), "Renewal")]
        since = max(1, (min(as_of, facility.expiry_dt) - facility.issue_dt).days)
        for _ in range(rng.randint(0, 3)):
            day = facility.issue_dt + dt.timedelta(days=rng.randint(1, since))
            visits.append((day, rng.choices(_VISIT_TYPES, weights=_VISIT_WEIGHTS)[0]))
        visits.sort()
        chance = _NON_COMPLIANT_CHANCE[program.license_status]
        for day, visit_type in visits:
            inspection_id = len(out.inspections) + 1
            cited = worst = 0.0
            for citation, text, weight in rng.sample(rules, rng.randint(5, min(10, len(rules)))):
                if "infant" in text.lower() and not infants:
                    finding = "NOT_APPLICABLE"
                elif rng.random() < chance:
                    finding = "NON_COMPLIANT"
                    cited += 1
                    worst = max(worst, weight)
                else:
                    finding = "COMPLIANT"
                non_compliant = finding == "NON_COMPLIANT"
                out.violations.append(
                    Violation(
                        violation_id=len(out.violations) + 1,
                        inspection_id=inspection_id,
                        rule_citation=citation,
                        rule_text=text,
                        finding=finding,
                        risk_weight=weight,
                        corrective_due=(
                            day + dt.timedelta(days=14 if weight >= 3 else 30)
                            if non_compliant
                            else None
                        ),
                        comments=rng.choice(_COMMENTS) if non_compliant else None,
                    )
                )
            outcome = (
                "IN_COMPLIANCE"
                if not cited
                else "FOLLOW_UP_REQUIRED"
                if worst >= 3
                else "VIOLATIONS_CITED"
            )
            out.inspections.append(
                Inspection(
                    inspection_id=inspection_id,
                    license_no=facility.license_no,
                    inspection_date=day,
                    inspection_type=visit_type,
                    announced=visit_type == "Renewal" or rng.random() < 0.3,
                    form_name=form_name,
                    inspector_name=rng.choice(INSPECTORS),
                    outcome=outcome,
                )
            )
    return out
