"""The three example systems' data, generated from one seed: the same seed gives the same rows.

One state's providers seen by three systems that never agreed on a format:

- the licensing agency's **open-data API** (Socrata style): one JSON object per licensed
  facility, every value a string, a null value left out of the object, cities written as each
  inspector typed them (``SPRINGFIELD``, ``Springfield``, ``springfield``);
- the federal **Head Start report** (PIR style): one row per grant, program and report year,
  names in capitals, enrollment different every year;
- the **state provider file** (the QRIS registry's CSV export): ``M/D/YY`` rating dates,
  ``MM/DD/YYYY`` license dates, ``NA`` for no value, a 0-4 level where 0 is "not
  participating", names with stray quotes and backslashes, capacity as ``Infant (7); Toddler
  (10)``.

Some providers are in two or three systems under the same license number: merging shows. A
few values are planted wrong on purpose (:attr:`World.planted`), so a test can check that
``ecehub check --profile`` counts exactly those.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

__all__ = ["Facility", "PirRow", "StateProvider", "World", "generate"]

CITIES = [
    ("Springfield", ["Springfield", "SPRINGFIELD", "springfield", "Springfield "]),
    ("West Springfield", ["West Springfield", "WEST SPRINGFIELD"]),
    ("Shelbyville", ["Shelbyville", "SHELBYVILLE"]),
    ("Capital City", ["Capital City", "CAPITAL CITY"]),
    ("Ogdenville", ["Ogdenville", "OGDENVILLE"]),
]
"""Each city and the spellings the systems use for it. ``West Springfield`` is another city:
a filter on Springfield must not find it, though ``upper(city) like '%SPRINGFIELD%'`` does."""

_CITY_WEIGHTS = [5, 1, 2, 2, 1]
_ZIPS = {
    "Springfield": "62701",
    "West Springfield": "62704",
    "Shelbyville": "62565",
    "Capital City": "62702",
    "Ogdenville": "62703",
}
_FIRST = ["Little", "Bright", "Sunny", "Happy", "Tiny", "Growing", "Rainbow", "Busy", "Kind"]
_SECOND = ["Acorns", "Stars", "Steps", "Minds", "Hearts", "Sprouts", "Bees", "Owls", "Ducks"]
_KIND = ["Learning Center", "Child Care", "Academy", "Preschool", "Early Learning"]
_AGES = ["Infant", "Toddler", "Preschool", "School-Age"]

PIR_YEARS = (2022, 2023, 2024)


@dataclass(frozen=True)
class Facility:
    """One record of the open-data API, as it serves it (strings; ``None``: left out)."""

    operation_number: str
    operation_name: str
    operation_type: str
    city: str
    zip: str
    operation_status: str
    total_capacity: str | None
    issuance_date: str | None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PirRow:
    """One row of the Head Start report: a program in one report year."""

    grant_number: str
    program_number: str
    report_year: int
    program_name: str
    program_city: str
    program_state: str
    license_no: str | None
    cumulative_enrollment: int
    funded_slots: int


@dataclass(frozen=True)
class StateProvider:
    """One row of the state provider file, as the CSV holds it (text; ``NA``: no value)."""

    provider_id: str
    provider_name: str
    license_number: str
    city: str
    qris_level: str
    rating_date: str
    license_expires: str
    capacity: str
    true_name: str = ""
    """The name before the export mangled it (not in the file): what cleaning must give."""


@dataclass
class World:
    facilities: list[Facility]
    pir: list[PirRow]
    providers: list[StateProvider]
    planted: dict[str, dict[str, int]] = field(default_factory=dict)
    """What was written wrong on purpose, per system and field: how many values no
    declaration can read (each is unparsable); ``NA`` is not among them (it means no value)."""


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_KIND)}"


def _city(rng: random.Random) -> tuple[str, str]:
    city, spellings = rng.choices(CITIES, weights=_CITY_WEIGHTS)[0]
    return city, rng.choice(spellings)


def _date(rng: random.Random, start: int, end: int) -> dt.date:
    first = dt.date(start, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randrange(first, dt.date(end, 12, 31).toordinal()))


def _facilities(rng: random.Random, count: int) -> list[Facility]:
    out = []
    for i in range(count):
        city, spelling = _city(rng)
        issued = _date(rng, 2005, 2024)
        out.append(
            Facility(
                operation_number=f"{482100 + i * 3}",
                operation_name=_name(rng),
                operation_type=rng.choice(["Licensed Center", "Licensed Child-Care Home"]),
                city=spelling,
                zip=_ZIPS[city],
                operation_status=rng.choices(["Active", "Inactive"], weights=[9, 1])[0],
                total_capacity=None if i % 23 == 5 else str(rng.randrange(6, 160)),
                issuance_date=f"{issued.isoformat()}T00:00:00.000" if i % 31 != 7 else None,
            )
        )
    return out


def _pir(rng: random.Random, facilities: list[Facility], grants: int) -> list[PirRow]:
    rows = []
    licensed = rng.sample(facilities, grants + grants // 3)
    at = 0
    for g in range(grants):
        grant = f"05CH{11200 + g * 7:06d}"
        for program in range(1, 3 if g % 3 == 0 else 2):
            facility = licensed[at]
            at += 1
            base = rng.randrange(40, 220)
            name = facility.operation_name.upper()
            for year in PIR_YEARS:
                city = facility.city.strip().upper()
                if g == 4 and year == PIR_YEARS[-1]:
                    city = "OGDENVILLE"  # moved in the latest year: found there, not before
                rows.append(
                    PirRow(
                        grant_number=grant,
                        program_number=f"{program:03d}",
                        report_year=year,
                        program_name=name,
                        program_city=city,
                        program_state="IL",
                        license_no=None if g % 5 == 2 else facility.operation_number,
                        cumulative_enrollment=base + rng.randrange(-25, 26),
                        funded_slots=base,
                    )
                )
    return rows


_QUOTED = [('"{}"', "{}"), ('"{}', "{}"), ('{}"', "{}"), ('"Little Stars" {}', "Little Stars {}")]
"""How the export mangles a name, and the name it was."""


def _provider_name(i: int, name: str) -> tuple[str, str]:
    """The name as the file has it, and as it was."""
    if i % 9 == 0:
        mangled, true = _QUOTED[(i // 9) % len(_QUOTED)]
        return mangled.format(name), true.format(name)
    if i % 13 == 0:  # Kids\' Place: an apostrophe escaped with a backslash
        return name.replace(" ", "\\' ", 1), name.replace(" ", "' ", 1)
    return name, name


def _capacity(rng: random.Random) -> str:
    ages = sorted(rng.sample(_AGES, rng.randrange(1, 4)), key=_AGES.index)
    return "; ".join(f"{age} ({rng.randrange(4, 30)})" for age in ages)


def _providers(
    rng: random.Random, facilities: list[Facility], count: int
) -> tuple[list[StateProvider], dict[str, int]]:
    shared = rng.sample(facilities, count * 3 // 4)
    planted = {"qris_rated_on": 0, "qris_level": 0}
    out = []
    for i in range(count):
        facility = shared[i] if i < len(shared) else None
        if facility is not None:
            name = facility.operation_name
            spelling = rng.choice(next(s for _, s in CITIES if facility.city in s))
            license_number = facility.operation_number
        else:
            name, (_, spelling) = _name(rng), _city(rng)
            license_number = "NA" if i % 2 else f"{700000 + i}"
        rated = _date(rng, 2019, 2025)
        rating_date = f"{rated.month}/{rated.day}/{rated:%y}"  # 3/31/22
        if i % 10 == 3:
            rating_date = "NA"
        elif i % 41 == 17:
            rating_date = f"{max(rated.day, 13)}/{rated.month}/{rated:%y}"  # day first: 31/3/22
            planted["qris_rated_on"] += 1
        level = str(rng.choices(range(5), weights=[2, 2, 3, 3, 2])[0])
        if i % 17 == 11:
            level = "NA"
        elif i % 61 == 29:
            level = "7"  # off the 0-4 scale
            planted["qris_level"] += 1
        expires = _date(rng, 2014, 2028)
        written, true_name = _provider_name(i, name)
        out.append(
            StateProvider(
                provider_id=f"QP-{i + 1:04d}",
                provider_name=written,
                license_number=license_number,
                city=spelling,
                qris_level=level,
                rating_date=rating_date,
                license_expires="NA" if i % 19 == 4 else f"{expires:%m/%d/%Y}",
                capacity=_capacity(rng) if i % 14 != 6 else "NA",
                true_name=true_name,
            )
        )
    return out, planted


def generate(
    seed: int = 11, facilities: int = 300, grants: int = 30, providers: int = 200
) -> World:
    """The three systems' rows for ``seed``."""
    rng = random.Random(seed)
    licensed = _facilities(rng, facilities)
    pir = _pir(rng, licensed, grants)
    state, planted = _providers(rng, licensed, providers)
    return World(licensed, pir, state, planted={"statefile": planted})
