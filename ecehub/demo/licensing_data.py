"""What the licensing agency has on file: every licensed facility, its inspections and the
rules checked at each (compliant rows too: an inspection is a checklist)."""

from __future__ import annotations

import datetime as dt
import random

from ecehub.demo.catalogs import CENTER_RULES, FCC_RULES, INSPECTORS
from ecehub.demo.geography import STATE_CODE
from ecehub.demo.noise import format_phone
from ecehub.demo.programs import TrueProgram
from ecehub.demo.records import Facility, Inspection, LicensingRecords, Violation

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


def licensing_records(
    rng: random.Random, programs: list[TrueProgram], as_of: dt.date
) -> LicensingRecords:
    out = LicensingRecords()
    for program in programs:
        facility = _facility(program)
        out.facilities.append(facility)
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
