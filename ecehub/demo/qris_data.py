"""What the QRIS has on file: providers with their current rating, rating history, coaching
visits, ERS assessments, quality awards, and the workforce registry with trainings."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from ecehub.demo.catalogs import COACHES, COACHING_TOPICS, ERS_SUBSCALES, TRAININGS
from ecehub.demo.geography import STATE_CODE
from ecehub.demo.levels import NOISE_LEVELS, Noise
from ecehub.demo.noise import address_variant, format_phone, mistype_license, name_variant
from ecehub.demo.people import (
    QRIS_ROLES,
    Person,
    Registry,
    new_person,
    qris_credentials,
    qris_education,
)
from ecehub.demo.programs import TrueProgram, slug
from ecehub.demo.records import (
    Award,
    CoachingVisit,
    QrisAccreditation,
    QrisAssessment,
    QrisContact,
    QrisProvider,
    QrisRating,
    QrisRecords,
    QrisSubscale,
    QrisTraining,
    WorkforceMember,
)

__all__ = ["QRIS_MISTYPED_LICENSE_SHARE", "QRIS_NO_LICENSE_SHARE", "qris_records"]

QRIS_NO_LICENSE_SHARE = NOISE_LEVELS["default"].license_missing
QRIS_MISTYPED_LICENSE_SHARE = NOISE_LEVELS["default"].license_mistyped
_UNRATED_SHARE = 0.07
_LEVELS = (1, 2, 3, 4, 5)
_LEVEL_WEIGHTS = (15, 25, 30, 18, 12)
_VISIT_TYPES = ("site_visit", "virtual", "phone")
_VISIT_WEIGHTS = (55, 30, 15)
_VISIT_MINUTES = {"site_visit": (60, 180), "virtual": (30, 90), "phone": (15, 45)}
_PURPOSES = (
    "PROFESSIONAL_DEVELOPMENT",
    "MATERIALS",
    "PROGRAM_SUPPORT",
    "WAGE_INCENTIVE",
    "SCHOLARSHIP",
)
_AWARD_AMOUNTS = (500, 750, 1000, 1500, 2500, 5000, 7500, 10000)
_CENTER_ROLES = ("LEAD_TEACHER", "ASSISTANT_TEACHER", "AIDE")
_RATERS = ("Nadia Brooks", "Owen Fairley", "Rita Gomez", "Sean Holloway", "Tamara Quinn")
_NICKNAMES = {
    "Katherine": "Kate",
    "Elizabeth": "Liz",
    "Patricia": "Patty",
    "Deborah": "Debbie",
    "Samantha": "Sam",
    "Jennifer": "Jen",
    "Michael": "Mike",
    "Daniel": "Dan",
    "James": "Jim",
    "Anthony": "Tony",
    "Rebecca": "Becky",
    "Christina": "Tina",
}


def _program_type(program: TrueProgram) -> str:
    if program.head_start_center_id is not None:
        return "HeadStart"
    if program.kind == "FCC":
        return "FamilyChildCare"
    if program.kind == "EXEMPT" and ("Pre-K" in program.name or "Schools" in program.name):
        return "PublicPreKindergarten"
    return "ChildCare"


def _license_noise(
    rng: random.Random, providers: list[TrueProgram], taken: set[str], noise: Noise
) -> None:
    """Set what QRIS has for each provider's license number: mostly exact, some missing,
    some mistyped."""
    licensed = [p for p in providers if p.license_no]
    missing = round(len(licensed) * noise.level.license_missing)
    wrong = round(len(licensed) * noise.level.license_mistyped)
    noisy = rng.sample(licensed, missing + wrong)
    missing_ids = {p.program_id for p in noisy[:missing]}
    mistyped_ids = {p.program_id for p in noisy[missing:]}
    pool: list[str] = []
    for program in licensed:
        assert program.license_no
        if program.program_id in missing_ids:
            program.qris_license_number = None
            noise.note(program.program_id, "qris", "license_missing")
        elif program.program_id in mistyped_ids:
            noise.note(program.program_id, "qris", "license_mistyped")
            if noise.chance(noise.level.license_collision):
                pool = pool or sorted(taken)
                other = noise.rng.choice(pool)
                while other == program.license_no:
                    other = noise.rng.choice(pool)
                program.qris_license_number = other
                noise.note(program.program_id, "qris", "license_collision")
            else:
                program.qris_license_number = mistype_license(rng, program.license_no, taken)
        else:
            program.qris_license_number = program.license_no


class _Builder:
    def __init__(self, rng: random.Random, as_of: dt.date, noise: Noise) -> None:
        self.rng = rng
        self.as_of = as_of
        self.noise = noise
        self.out = QrisRecords()
        self.program_ids: dict[str, str] = {}
        """QRIS provider ID -> program ID, for the noise log."""

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def level(self, program: TrueProgram) -> int | None:
        """The current rating level; ``None`` for a provider not rated yet."""
        if program.head_start_center_id is not None:
            # Reciprocity: a Head Start program joining the QRIS is rated 4 or 5 at once.
            return self.rng.choice((4, 4, 5))
        if self.rng.random() < _UNRATED_SHARE:
            return None
        return self.rng.choices(_LEVELS, weights=_LEVEL_WEIGHTS)[0]

    def provider(self, program: TrueProgram) -> None:
        rng, out = self.rng, self.out
        assert program.qris_provider_id
        pid = program.qris_provider_id
        level = self.level(program)
        effective = expires = None
        if level is not None:
            effective = self.days_ago(30, 1000)
            expires = effective + dt.timedelta(days=1095)
            self.ratings(pid, level, effective, expires)
            self.assessments(program, level, effective)
        shares, noise, note = self.noise.level, self.noise, self.noise.note
        # The draws from ``rng`` below are the ones the default level always made, in the
        # same order; only the shares come from the noise level.
        email = program.email
        roll = rng.random()
        if roll < shares.email_missing:
            email = None
            note(program.program_id, "qris", "email_missing")
        elif roll < round(shares.email_missing + shares.email_other, 9):
            email = f"info@{slug(' '.join(program.name.split()[:2]))}.example"
            note(program.program_id, "qris", "email_other")
        phone = program.phone
        if rng.random() >= round(1.0 - shares.phone_changed, 9):
            phone = f"555{rng.randint(2_000_000, 9_999_999)}"
            note(program.program_id, "qris", "phone_changed")
        name = program.name
        if rng.random() < shares.renamed:
            low, high = shares.name_changes
            name = name_variant(rng, name, changes=rng.randint(low, high))
            note(program.program_id, "qris", "renamed")
        name = noise.name(program.program_id, "qris", name)
        street = program.street
        if rng.random() < shares.reformatted:
            street = address_variant(rng, street)
            note(program.program_id, "qris", "reformatted")
        street, zip_code = noise.street(
            program.program_id, "qris", street, program.city, program.zip
        )
        out.providers.append(
            QrisProvider(
                provider_id=pid,
                display_name=name,
                license_number=program.qris_license_number,
                program_type=_program_type(program),
                street=street,
                city=program.city,
                county=program.county,
                state=STATE_CODE,
                zip=zip_code,
                phone=format_phone(phone, "dash"),
                email=email,
                rating_level=level,
                rating_effective=effective,
                rating_expires=expires,
            )
        )
        self.coaching(pid)
        self.awards(pid)

    def ratings(self, pid: str, level: int, effective: dt.date, expires: dt.date) -> None:
        history = [(level, effective, expires, "Active")]
        for _ in range(self.rng.randint(0, 2)):
            level = max(1, level - self.rng.randint(0, 1))
            effective -= dt.timedelta(days=1095)
            history.append((level, effective, effective + dt.timedelta(days=1095), "Superseded"))
        for level, start, end, status in reversed(history):
            self.out.ratings.append(
                QrisRating(len(self.out.ratings) + 1, pid, level, start, end, status)
            )

    def assessments(self, program: TrueProgram, level: int, rated_on: dt.date) -> None:
        rng, out = self.rng, self.out
        assert program.qris_provider_id
        if program.kind == "FCC":
            instruments = ["FCCERS-3"]
        else:
            instruments = ["ECERS-3"]
            if {"Infant", "Toddler"} & set(program.ages):
                instruments.append("ITERS-3")
        observed_on = rated_on - dt.timedelta(days=rng.randint(20, 90))
        for instrument in instruments:
            assessment_id = len(out.assessments) + 1
            scores = []
            for subscale in ERS_SUBSCALES[instrument]:
                score = round(min(7.0, max(1.0, 1.6 + 0.8 * level + rng.uniform(-0.9, 0.9))), 2)
                scores.append(score)
                out.subscales.append(
                    QrisSubscale(len(out.subscales) + 1, assessment_id, subscale, score)
                )
            out.assessments.append(
                QrisAssessment(
                    assessment_id=assessment_id,
                    provider_id=program.qris_provider_id,
                    instrument=instrument,
                    observed_on=observed_on,
                    observer=rng.choice(_RATERS),
                    overall_score=round(sum(scores) / len(scores), 2),
                )
            )

    def coaching(self, pid: str) -> None:
        rng, out = self.rng, self.out
        coach = rng.choice(COACHES)
        dates = sorted(self.days_ago(1, 730) for _ in range(rng.randint(0, 8)))
        for day in dates:
            kind = rng.choices(_VISIT_TYPES, weights=_VISIT_WEIGHTS)[0]
            low, high = _VISIT_MINUTES[kind]
            topic = rng.choice(COACHING_TOPICS)
            out.coaching_visits.append(
                CoachingVisit(
                    visit_id=len(out.coaching_visits) + 1,
                    provider_id=pid,
                    visit_date=day,
                    visit_type=kind,
                    minutes=rng.randrange(low, high + 1, 15),
                    coach_name=coach if rng.random() < 0.85 else rng.choice(COACHES),
                    summary=f"Coaching on {topic}; next steps agreed with the director.",
                )
            )

    def awards(self, pid: str) -> None:
        rng, out = self.rng, self.out
        for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(30, 30, 20, 12, 8))[0]):
            if rng.random() < 0.2:
                amount = Decimal(rng.randint(20_000, 1_000_000)).scaleb(-2)
            else:
                amount = Decimal(rng.choice(_AWARD_AMOUNTS)).quantize(Decimal("0.01"))
            awarded = self.days_ago(10, 900)
            out.awards.append(
                Award(
                    award_id=len(out.awards) + 1,
                    provider_id=pid,
                    amount=amount,
                    purpose=rng.choice(_PURPOSES),
                    awarded_on=awarded,
                    period_start=awarded,
                    period_end=awarded + dt.timedelta(days=364),
                    funding_source="CCDF" if rng.random() < 0.7 else "StateChildCareFunds",
                )
            )

    def workforce(self, registry: Registry, linked: int) -> None:
        """Write the registry; the first ``linked`` members came from Head Start and are
        sometimes keyed with a nickname or in capitals."""
        rng, out = self.rng, self.out
        for index, (person, pid) in enumerate(registry.members):
            assert person.registry_id
            first, last = person.first, person.last
            if index < linked and rng.random() < self.noise.level.staff_renamed:
                self.noise.note(self.program_ids[pid], "qris", "staff_renamed")
                if first in _NICKNAMES:
                    first = _NICKNAMES[first]
                else:
                    last = last.upper()
            hours = 0.0
            picks = rng.sample(TRAININGS, rng.randint(0, 8))
            for title, topic, clock_hours in picks:
                hours += clock_hours
                out.trainings.append(
                    QrisTraining(
                        training_id=len(out.trainings) + 1,
                        registry_id=person.registry_id,
                        title=title,
                        topic_area=topic,
                        completed_on=self.days_ago(1, 1095),
                        clock_hours=clock_hours,
                    )
                )
            out.workforce.append(
                WorkforceMember(
                    registry_id=person.registry_id,
                    provider_id=pid,
                    first_name=first,
                    last_name=last,
                    role=QRIS_ROLES[person.role],
                    education_level=qris_education(person),
                    credentials=qris_credentials(person),
                    pd_hours=hours,
                )
            )


def _own_staff(rng: random.Random, program: TrueProgram, as_of: dt.date) -> list[Person]:
    """Staff QRIS knows who are not in Head Start's records."""
    if program.kind == "FCC":
        roles = ["FCC_PROVIDER"] + ["ASSISTANT_TEACHER"] * rng.randint(0, 1)
    elif program.head_start_center_id is not None:
        roles = ["LEAD_TEACHER", "ASSISTANT_TEACHER"] * rng.randint(0, 2)
    else:
        team = rng.choices(_CENTER_ROLES, weights=(4, 4, 2), k=rng.randint(2, 9))
        roles = ["DIRECTOR", *team]
    focus = [g for g in program.ages if g != "SchoolAge"] or ["Preschool"]
    return [
        new_person(rng, role, as_of, None if role == "DIRECTOR" else rng.choice(focus))
        for role in roles
    ]


def qris_records(
    rng: random.Random,
    providers: list[TrueProgram],
    registry: Registry,
    as_of: dt.date,
    license_numbers: set[str],
    noise: Noise,
) -> QrisRecords:
    """Write what QRIS keeps about ``providers`` (in provider-ID order). ``registry`` already
    holds the Head Start staff who registered; ``license_numbers`` are all real ones, which a
    mistyped number must not collide with."""
    _license_noise(rng, providers, license_numbers, noise)
    build = _Builder(rng, as_of, noise)
    linked = len(registry.members)
    for program in providers:
        build.provider(program)
        assert program.qris_provider_id
        build.program_ids[program.qris_provider_id] = program.program_id
        for person in _own_staff(rng, program, as_of):
            registry.register(person, program.qris_provider_id)
    build.workforce(registry, linked)
    _contacts(build.out)
    _accreditations(build.out, as_of)
    return build.out


def _contacts(out: QrisRecords) -> None:
    """Each provider's quality coach: the one who made most of its coaching visits (or, with
    none yet, the one its provider ID falls to). Derived from the records already drawn, so
    adding them leaves every other record as it was."""
    visits: dict[str, Counter[str]] = {}
    for visit in out.coaching_visits:
        visits.setdefault(visit.provider_id, Counter())[visit.coach_name] += 1
    for provider in out.providers:
        pid = provider.provider_id
        seen = visits.get(pid)
        coach = (
            seen.most_common(1)[0][0]
            if seen
            else COACHES[int(pid.removeprefix("Q-")) % len(COACHES)]
        )
        first, last = coach.split(" ", 1)
        index = COACHES.index(coach)
        out.contacts.append(
            QrisContact(
                contact_id=len(out.contacts) + 1,
                provider_id=pid,
                role="QRIS Coach",
                full_name=coach,
                phone=format_phone(f"555020{index + 1:04d}", "dash"),
                email=f"{slug(first)}.{slug(last)}@qris.{STATE_CODE.lower()}.example",
            )
        )


_ACCREDITATION_YEARS = 5


def _accreditations(out: QrisRecords, as_of: dt.date) -> None:
    """NAEYC (centers) or NAFCC (family child-care homes) accreditation, on file for
    providers rated 4 or 5 (accreditation is a pathway to the top levels): a five-year term
    begun a year before the rating took effect."""
    for provider in out.providers:
        level, rated = provider.rating_level, provider.rating_effective
        if level is None or level < 4 or rated is None:
            continue
        body = "NAFCC" if provider.program_type == "FamilyChildCare" else "NAEYC"
        begins = rated.replace(year=rated.year - 1, day=1)
        ends = begins.replace(year=begins.year + _ACCREDITATION_YEARS) - dt.timedelta(days=1)
        out.accreditations.append(
            QrisAccreditation(
                accreditation_id=len(out.accreditations) + 1,
                provider_id=provider.provider_id,
                agency=body,
                status="Accredited" if ends >= as_of else "Expired",
                start_date=begins,
                end_date=ends,
            )
        )
