"""The state's real programs, as they are before any system writes them down."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

from ecehub.demo.catalogs import CENTER_BRANDS, CENTER_KINDS, EXEMPT_NAMES
from ecehub.demo.geography import COUNTIES, FIRST_NAMES, LAST_NAMES, STREET_NAMES, STREET_TYPES
from ecehub.demo.levels import Noise
from ecehub.demo.noise import drop_unit

__all__ = ["TrueProgram", "exempt_programs", "licensed_programs", "slug", "unique_name"]

# Population of each county, relative: where programs are drawn.
_COUNTY_WEIGHTS = (12, 6, 9, 5, 5, 4, 7, 4, 3, 3, 4, 8)


@dataclass(slots=True)
class TrueProgram:
    """A real program as it is, before any system writes it down."""

    program_id: str
    kind: str
    """``CENTER``, ``FCC`` or ``EXEMPT``."""
    name: str
    street: str
    city: str
    county: str
    zip: str
    phone: str
    """Ten digits."""
    email: str | None
    capacity: int
    ages: tuple[str, ...]
    license_no: str | None = None
    license_status: str = "Licensed"
    issued: dt.date | None = None
    expires: dt.date | None = None
    head_start_center_id: int | None = None
    head_start_grant_number: str | None = None
    qris_provider_id: str | None = None
    qris_license_number: str | None = None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _street(rng: random.Random, *, unit: str | None) -> str:
    number = rng.randint(100, 9899)
    direction = f"{rng.choice('NSEW')} " if rng.random() < 0.25 else ""
    short, _ = rng.choice(STREET_TYPES)
    line = f"{number} {direction}{rng.choice(STREET_NAMES)} {short}"
    if unit and rng.random() < 0.15:
        line += f" {unit} {rng.randint(1, 20)}"
    return line


def unique_name(name: str, used: set[str], town: str, rng: random.Random) -> str:
    for candidate in (name, f"{name} of {town}", f"{name} at {rng.choice(STREET_NAMES)}"):
        if candidate not in used:
            used.add(candidate)
            return candidate
    k = 2
    while f"{name} {k}" in used:
        k += 1
    used.add(f"{name} {k}")
    return f"{name} {k}"


def _center_name(rng: random.Random) -> str:
    name = f"{rng.choice(CENTER_BRANDS)} {rng.choice(CENTER_KINDS)}"
    if rng.random() < 0.15:
        name += rng.choice((", LLC", ", Inc."))
    return name


def _fcc_name(rng: random.Random, first: str, last: str) -> str:
    pattern = rng.randrange(4)
    if pattern == 0:
        return f"{last} Family Child Care"
    if pattern == 1:
        return f"{first}'s Home Daycare"
    if pattern == 2:
        return f"{first} {last} Family Child Care Home"
    return f"{first}'s Little Ones"


def _ages(rng: random.Random, kind: str) -> tuple[str, ...]:
    if kind == "FCC":
        return ("Infant", "Toddler", "Preschool", "SchoolAge")
    infant = rng.random() < 0.5
    toddler = infant or rng.random() < 0.6
    school_age = rng.random() < 0.4
    return tuple(
        group
        for group, served in (
            ("Infant", infant),
            ("Toddler", toddler),
            ("Preschool", True),
            ("SchoolAge", school_age),
        )
        if served
    )


def licensed_programs(
    rng: random.Random, count: int, as_of: dt.date, noise: Noise | None = None
) -> list[TrueProgram]:
    """``count`` licensed programs; with ``noise``, a share of the centers take the name
    (and ZIP) of an earlier center in their town: two programs, one name."""
    kinds = ["CENTER"] * round(count * 0.75) + ["FCC"] * (count - round(count * 0.75))
    rng.shuffle(kinds)
    license_numbers = rng.sample(range(100_000, 1_000_000), count)
    used: set[str] = set()
    programs: list[TrueProgram] = []
    centers_in: dict[str, list[TrueProgram]] = {}
    for i, kind in enumerate(kinds):
        county = rng.choices(COUNTIES, weights=_COUNTY_WEIGHTS)[0]
        town = rng.choice(county.towns)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        twin: TrueProgram | None = None
        if kind == "CENTER":
            name = _center_name(rng)
            earlier = centers_in.get(town.name)
            if noise and earlier and noise.chance(noise.level.shared_names):
                twin = noise.rng.choice(earlier)
                name = twin.name
            else:
                name = unique_name(name, used, town.name, rng)
            email = f"director@{slug(' '.join(name.split()[:2]))}.example"
            capacity = rng.randrange(30, 185, 5)
        else:
            name = unique_name(_fcc_name(rng, first, last), used, town.name, rng)
            email = f"{slug(first)}.{slug(last)}{rng.randint(1, 99)}@mail.example"
            capacity = rng.choice((6, 10, 12))
        roll = rng.random()
        status = (
            "Licensed"
            if roll < 0.92
            else "Probation"
            if roll < 0.96
            else "Suspended"
            if roll < 0.98
            else "Expired"
        )
        back = rng.randint(740, 1100) if status == "Expired" else rng.randint(20, 700)
        issued = as_of - dt.timedelta(days=back)
        program = TrueProgram(
            program_id=f"P{i + 1:05d}",
            kind=kind,
            name=name,
            street=_street(rng, unit="Ste" if kind == "CENTER" else "Apt"),
            city=town.name,
            county=county.name,
            zip=rng.choice(town.zips),
            phone=f"555{rng.randint(2_000_000, 9_999_999)}",
            email=email if rng.random() < 0.9 else None,
            capacity=capacity,
            ages=_ages(rng, kind),
            license_no=f"CCL-{license_numbers[i]}",
            license_status=status,
            issued=issued,
            expires=issued + dt.timedelta(days=730),
        )
        if twin is not None and noise is not None:
            _namesake(program, twin, centers_in[town.name], noise)
        if kind == "CENTER":
            centers_in.setdefault(town.name, []).append(program)
        programs.append(program)
    return programs


def _namesake(
    program: TrueProgram, twin: TrueProgram, town: list[TrueProgram], noise: Noise
) -> None:
    """Make ``program`` another center of ``twin``'s name in its ZIP; sometimes in the same
    building (another suite than the ``town``'s centers there) or on the same phone line."""
    program.zip = twin.zip
    noise.note(program.program_id, "licensing", "shared_name")
    if noise.chance(noise.level.co_located):
        building = drop_unit(twin.street)
        if twin.street == building:
            twin.street = f"{building} Ste 1"
        taken = {p.street for p in town}
        program.street = twin.street
        while program.street in taken:
            program.street = f"{building} Ste {noise.rng.randint(1, 40)}"
        noise.note(program.program_id, "licensing", "co_located")
    if noise.chance(noise.level.shared_phone):
        program.phone = twin.phone
        noise.note(program.program_id, "licensing", "shared_phone")


def exempt_programs(
    rng: random.Random, count: int, first_index: int, used: set[str]
) -> list[TrueProgram]:
    programs: list[TrueProgram] = []
    for i in range(count):
        county = rng.choices(COUNTIES, weights=_COUNTY_WEIGHTS)[0]
        town = rng.choice(county.towns)
        name = rng.choice(EXEMPT_NAMES).format(town=town.name, county=county.name)
        name = unique_name(name, used, town.name, rng)
        programs.append(
            TrueProgram(
                program_id=f"P{first_index + i:05d}",
                kind="EXEMPT",
                name=name,
                street=_street(rng, unit=None),
                city=town.name,
                county=county.name,
                zip=rng.choice(town.zips),
                phone=f"555{rng.randint(2_000_000, 9_999_999)}",
                email=f"earlylearning@{slug(name)[:20]}.example",
                capacity=rng.randrange(20, 100, 10),
                ages=("Preschool",),
            )
        )
    return programs
