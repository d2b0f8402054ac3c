"""What the Head Start data system has on file: grantees and their centers, classrooms,
staff, PIR enrollment counts, monitoring reviews, CLASS observations and grant funding."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ecehub.demo.catalogs import CLASS_DOMAINS, HSPPS_STANDARDS, ROOM_NAMES
from ecehub.demo.geography import FIRST_NAMES, LAST_NAMES, STATE_CODE
from ecehub.demo.levels import NOISE_LEVELS, Noise
from ecehub.demo.noise import address_variant, format_phone, name_variant
from ecehub.demo.people import (
    HEAD_START_TITLES,
    Person,
    Registry,
    head_start_credentials,
    head_start_degree,
    new_person,
)
from ecehub.demo.programs import TrueProgram, unique_name
from ecehub.demo.records import (
    ClassDomainScore,
    ClassObservation,
    Classroom,
    Grantee,
    GrantFunding,
    HeadStartCenter,
    HeadStartRecords,
    MonitoringReview,
    PirEnrollment,
    ReviewFinding,
    StaffLink,
    StaffMember,
)

__all__ = ["HEAD_START_LICENSE_SHARE", "REGION", "REGISTRY_SHARE", "headstart_records"]

HEAD_START_LICENSE_SHARE = round(1.0 - NOISE_LEVELS["default"].head_start_license_missing, 9)
REGISTRY_SHARE = 0.40
"""Share of all Head Start staff who are also in the QRIS workforce registry."""
REGION = 5

# age group -> (youngest months, oldest months, group sizes)
_ROOMS: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "Infant": (1, 18, (8,)),
    "Toddler": (18, 36, (8,)),
    "Preschool": (36, 60, (17, 20)),
}
_CLASS_INSTRUMENTS = {
    "Infant": "CLASS Infant",
    "Toddler": "CLASS Toddler",
    "Preschool": "CLASS Pre-K",
}
_PER_SLOT = {"HS": (11_000, 14_500), "EHS": (19_000, 26_000)}
_OPTIONS = ("FullDayFullYear", "PartDayPartYear", "FullDayPartYear")
_OPTION_WEIGHTS = (60, 25, 15)
_REVIEW_TYPES = ("FA1", "FA2", "Follow-up", "Special")
_REVIEW_WEIGHTS = (30, 50, 10, 10)
_REVIEWERS = ("Angela Moss", "Brian Feld", "Chandra Iyer", "Dwight Harmon", "Elena Sokol")
_CLASS_OBSERVERS = ("Farah Nadeem", "George Pappas", "Holly Jensen", "Ivan Cruz")
_GRANTEES = (
    ("{county} County Community Action Agency", "Community Action Agency"),
    ("{town} Public Schools", "School System"),
    ("{county} Children's Services, Inc.", "Private/Public Non-Profit (Non-CAA)"),
    ("{town} Family Partnership", "Private/Public Non-Profit (Non-CAA)"),
    ("{county} County Human Services", "Government Agency (Non-CAA)"),
)


def _grantee(rng: random.Random, grant_number: str, first: TrueProgram, used: set[str]) -> Grantee:
    pattern, agency_type = rng.choice(_GRANTEES)
    name = pattern.format(county=first.county, town=first.city)
    return Grantee(
        grant_number=grant_number,
        grantee_name=unique_name(name, used, first.city, rng),
        region=REGION,
        agency_type=agency_type,
        address1=f"{rng.randint(100, 999)} Commerce Way",
        city=first.city,
        state=STATE_CODE,
        zip=first.zip,
        phone=format_phone(f"555{rng.randint(2_000_000, 9_999_999)}", "dot"),
        executive_director=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
    )


def _room_groups(rng: random.Random, program: TrueProgram, ehs_only: bool) -> list[str]:
    young = [g for g in ("Infant", "Toddler") if g in program.ages]
    if ehs_only:
        return [rng.choice(young) for _ in range(rng.randint(2, 4))]
    groups = ["Preschool"] * rng.randint(1, 4)
    if young and rng.random() < 0.4:
        groups += [rng.choice(young) for _ in range(rng.randint(1, 2))]
    return groups


def _center_name(rng: random.Random, program: TrueProgram, ehs_only: bool, noise: Noise) -> str:
    shares, name = noise.level, program.name
    roll = rng.random()
    kept = round(1.0 - shares.head_start_renamed - shares.head_start_suffix, 9)
    if roll < kept:
        pass
    elif roll < round(kept + shares.head_start_renamed, 9):
        name = name_variant(rng, name, changes=1)
        noise.note(program.program_id, "head_start", "renamed")
    else:
        name = f"{name} {'Early Head Start' if ehs_only else 'Head Start'}"
        noise.note(program.program_id, "head_start", "head_start_suffix")
    return noise.name(program.program_id, "head_start", name)


def _staff(
    rng: random.Random, rooms: list[Classroom], as_of: dt.date
) -> list[tuple[Person, int | None]]:
    """Each person with the classroom they teach in (``None``: center-wide)."""
    people: list[tuple[Person, int | None]] = [(new_person(rng, "DIRECTOR", as_of), None)]
    for _ in range(rng.randint(1, 2)):
        people.append((new_person(rng, "FAMILY_SERVICES", as_of), None))
    for room in rooms:
        roles = ["LEAD_TEACHER", "ASSISTANT_TEACHER"] + (["AIDE"] if rng.random() < 0.3 else [])
        people += [
            (new_person(rng, role, as_of, room.age_group), room.classroom_id) for role in roles
        ]
    return people


class _Builder:
    def __init__(self, rng: random.Random, as_of: dt.date) -> None:
        self.rng = rng
        self.as_of = as_of
        self.out = HeadStartRecords()
        self.years = [as_of.year - 3 + k for k in range(3)]

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def enrollment_and_funding(self, center: HeadStartCenter, rooms: list[Classroom]) -> None:
        rng, out = self.rng, self.out
        slots: dict[str, int] = {}
        for room in rooms:
            slots[room.age_group] = slots.get(room.age_group, 0) + room.max_children
        for year in self.years:
            for group, funded in slots.items():
                out.enrollment.append(
                    PirEnrollment(
                        pir_id=len(out.enrollment) + 1,
                        center_id=center.center_id,
                        program_year=f"{year}-{year + 1}",
                        age_group=group,
                        program_type="HS" if group == "Preschool" else "EHS",
                        cumulative_enrollment=round(funded * rng.uniform(0.85, 1.35)),
                        funded_slots=funded,
                    )
                )
            by_type = {"HS": slots.get("Preschool", 0)}
            by_type["EHS"] = slots.get("Infant", 0) + slots.get("Toddler", 0)
            for kind, funded in by_type.items():
                if not funded:
                    continue
                cents = funded * rng.randint(*_PER_SLOT[kind]) * 100 + rng.randint(0, 99)
                operations = Decimal(cents).scaleb(-2)
                tta = (operations * Decimal("0.02")).quantize(Decimal("0.01"))
                for category, amount in (("Operations", operations), ("TTA", tta)):
                    out.funding.append(
                        GrantFunding(
                            funding_id=len(out.funding) + 1,
                            grant_number=center.grant_number,
                            center_id=center.center_id,
                            budget_period_start=dt.date(year, 7, 1),
                            budget_period_end=dt.date(year + 1, 6, 30),
                            amount=amount,
                            funding_type="HeadStart" if kind == "HS" else "EarlyHeadStart",
                            budget_category=category,
                        )
                    )

    def reviews(self, center: HeadStartCenter) -> None:
        rng, out = self.rng, self.out
        for _ in range(rng.choices((0, 1, 2), weights=(25, 55, 20))[0]):
            review_id = len(out.reviews) + 1
            not_met = 0
            for citation, requirement in rng.sample(HSPPS_STANDARDS, rng.randint(4, 8)):
                status = rng.choices(("MET", "NOT_MET", "NOT_APPLICABLE"), (80, 12, 8))[0]
                not_met += status == "NOT_MET"
                text = (
                    f"Noncompliance: {requirement.lower()}" if status == "NOT_MET" else requirement
                )
                out.findings.append(
                    ReviewFinding(len(out.findings) + 1, review_id, citation, text, status)
                )
            review_status = ("Compliant", "AreaOfConcern", "Noncompliance")[min(not_met, 2)]
            if not_met >= 3:
                review_status = "Deficiency"
            out.reviews.append(
                MonitoringReview(
                    review_id=review_id,
                    center_id=center.center_id,
                    review_date=self.days_ago(30, 1000),
                    review_type=rng.choices(_REVIEW_TYPES, weights=_REVIEW_WEIGHTS)[0],
                    review_status=review_status,
                    reviewer=rng.choice(_REVIEWERS),
                )
            )

    def observations(self, center: HeadStartCenter, rooms: list[Classroom]) -> None:
        """CLASS observations: every center is observed in at least one classroom."""
        rng, out = self.rng, self.out
        counts = [rng.choices((0, 1, 2), weights=(25, 60, 15))[0] for _ in rooms]
        if rooms and not any(counts):
            counts[rng.randrange(len(rooms))] = 1
        for room, count in zip(rooms, counts, strict=True):
            instrument = _CLASS_INSTRUMENTS[room.age_group]
            for _ in range(count):
                obs_id = len(out.observations) + 1
                scores = []
                for domain, low, high in CLASS_DOMAINS[instrument]:
                    score = round(rng.uniform(low, high), 2)
                    scores.append(score)
                    out.domain_scores.append(
                        ClassDomainScore(len(out.domain_scores) + 1, obs_id, domain, score)
                    )
                out.observations.append(
                    ClassObservation(
                        obs_id=obs_id,
                        center_id=center.center_id,
                        classroom_id=room.classroom_id,
                        observed_on=self.days_ago(10, 700),
                        observer=rng.choice(_CLASS_OBSERVERS),
                        instrument=instrument,
                        total_score=round(sum(scores) / len(scores), 2),
                    )
                )


def headstart_records(
    rng: random.Random,
    programs: list[TrueProgram],
    registry: Registry,
    as_of: dt.date,
    noise: Noise,
) -> tuple[HeadStartRecords, list[StaffLink]]:
    """Group ``programs`` into grantees of one to four centers and write what Head Start
    keeps about them; register about :data:`REGISTRY_SHARE` of the staff with ``registry``
    (only staff of programs that take part in QRIS can be in its registry)."""
    build = _Builder(rng, as_of)
    out = build.out
    share = round(1.0 - noise.level.head_start_license_missing, 9)
    unlicensed = len(programs) - round(len(programs) * share)
    no_license = {p.program_id for p in rng.sample(programs, unlicensed)}
    for program_id in sorted(no_license):
        noise.note(program_id, "head_start", "license_missing")
    # Grant serials are six digits; the pool grows with large worlds (the first 2,000 stay as
    # they were, so smaller worlds keep their data).
    pool = range(10_000, 10_000 + max(2_000, 2 * len(programs)))
    serials = rng.sample(pool, len(programs))
    used_names: set[str] = set()
    staffed: list[tuple[Person, int, int | None, TrueProgram]] = []
    start = 0
    while start < len(programs):
        group = programs[start : start + rng.randint(1, 4)]
        start += len(group)
        ehs_only = all("Toddler" in p.ages for p in group) and rng.random() < 0.2
        grant_number = f"{REGION:02d}{'HP' if ehs_only else 'CH'}{serials[len(out.grantees)]:06d}"
        out.grantees.append(_grantee(rng, grant_number, group[0], used_names))
        for program in group:
            center_id = 1001 + len(out.centers)
            rooms: list[Classroom] = []
            for k, group_name in enumerate(_room_groups(rng, program, ehs_only), start=1):
                youngest, oldest, sizes = _ROOMS[group_name]
                rooms.append(
                    Classroom(
                        classroom_id=len(out.classrooms) + len(rooms) + 1,
                        center_id=center_id,
                        classroom_name=f"Room {k} - {rng.choice(ROOM_NAMES)}",
                        age_group=group_name,
                        max_children=rng.choice(sizes),
                        youngest_months=youngest,
                        oldest_months=oldest,
                    )
                )
            out.classrooms.extend(rooms)
            preschool = sum(r.max_children for r in rooms if r.age_group == "Preschool")
            young = sum(r.max_children for r in rooms) - preschool
            center_name = _center_name(rng, program, ehs_only, noise)
            street = program.street
            if rng.random() < noise.level.reformatted:
                street = address_variant(rng, street)
                noise.note(program.program_id, "head_start", "reformatted")
            street, zip_code = noise.street(
                program.program_id, "head_start", street, program.city, program.zip
            )
            center = HeadStartCenter(
                center_id=center_id,
                grant_number=grant_number,
                center_name=center_name,
                address1=street,
                city=program.city,
                county=program.county,
                state=STATE_CODE,
                zip=zip_code,
                phone=format_phone(program.phone, "dot"),
                state_license_no=None if program.program_id in no_license else program.license_no,
                program_type="HeadStart" if preschool >= young else "EarlyHeadStart",
                program_option=rng.choices(_OPTIONS, weights=_OPTION_WEIGHTS)[0],
                setting="CenterBased",
            )
            out.centers.append(center)
            program.head_start_center_id = center_id
            program.head_start_grant_number = grant_number
            staffed += [
                (person, center_id, classroom_id, program)
                for person, classroom_id in _staff(rng, rooms, as_of)
            ]
            build.enrollment_and_funding(center, rooms)
            build.reviews(center)
            build.observations(center, rooms)

    eligible = [entry for entry in staffed if entry[3].qris_provider_id]
    chosen = rng.sample(eligible, min(len(eligible), round(len(staffed) * REGISTRY_SHARE)))
    for person, _, _, program in chosen:
        assert program.qris_provider_id
        registry.register(person, program.qris_provider_id)
    links: list[StaffLink] = []
    for staff_id, (person, center_id, classroom_id, program) in enumerate(staffed, start=50001):
        registry_id = person.registry_id
        if registry_id and noise.chance(noise.level.registry_id_missing):
            registry_id = None
            noise.note(program.program_id, "head_start", "registry_id_missing")
        out.staff.append(
            StaffMember(
                staff_id=staff_id,
                center_id=center_id,
                classroom_id=classroom_id,
                first_nm=person.first,
                last_nm=person.last,
                position_title=HEAD_START_TITLES[person.role],
                highest_degree=head_start_degree(person),
                credential_list=head_start_credentials(person),
                registry_id=registry_id,
                hire_date=person.hire_date,
                birth_year=person.birth_year,
            )
        )
        if person.registry_id and program.qris_provider_id:
            links.append(StaffLink(staff_id, person.registry_id, program.qris_provider_id))
    return out, links
