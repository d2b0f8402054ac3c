"""Staff as people, and the QRIS workforce registry that gives them their registry IDs.

A :class:`Person` holds the truth (education, CDA, role); each system writes it in its own
vocabulary: Head Start as PIR-style degree names and a comma-separated credential list, QRIS
with CEDS-like education levels and credential names.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from ecehub.demo.geography import FIRST_NAMES, LAST_NAMES

__all__ = [
    "HEAD_START_TITLES",
    "QRIS_ROLES",
    "Person",
    "Registry",
    "head_start_credentials",
    "head_start_degree",
    "new_person",
    "qris_credentials",
    "qris_education",
]

# role -> ((degree, weight), ...), chance of holding a CDA
_EDUCATION: dict[str, tuple[tuple[tuple[str, int], ...], float]] = {
    "DIRECTOR": ((("AA", 15), ("BA", 55), ("MA", 30)), 0.3),
    "LEAD_TEACHER": ((("HS", 10), ("AA", 35), ("BA", 50), ("MA", 5)), 0.5),
    "ASSISTANT_TEACHER": ((("HS", 55), ("AA", 35), ("BA", 10)), 0.6),
    "AIDE": ((("HS", 85), ("AA", 15)), 0.25),
    "FAMILY_SERVICES": ((("HS", 10), ("AA", 40), ("BA", 50)), 0.1),
    "FCC_PROVIDER": ((("HS", 50), ("AA", 30), ("BA", 20)), 0.45),
}

HEAD_START_TITLES = {
    "DIRECTOR": "Center Director",
    "LEAD_TEACHER": "Lead Teacher",
    "ASSISTANT_TEACHER": "Assistant Teacher",
    "AIDE": "Teacher Aide",
    "FAMILY_SERVICES": "Family Advocate",
}
QRIS_ROLES = {
    "DIRECTOR": "Director",
    "LEAD_TEACHER": "LeadTeacher",
    "ASSISTANT_TEACHER": "AssistantTeacher",
    "AIDE": "Aide",
    "FAMILY_SERVICES": "FamilyServicesStaff",
    "FCC_PROVIDER": "FamilyChildCareProvider",
}
_HEAD_START_DEGREES = {
    "HS": "High School/GED",
    "AA": "Associate",
    "BA": "Baccalaureate",
    "MA": "Advanced",
}
_QRIS_EDUCATION = {
    "HS": "HighSchoolDiploma",
    "AA": "AssociateDegree",
    "BA": "BachelorsDegree",
    "MA": "MastersDegree",
}


@dataclass(slots=True)
class Person:
    first: str
    last: str
    role: str
    degree: str
    """``HS``, ``AA``, ``BA`` or ``MA``."""
    ece_major: bool
    cda: bool
    age_focus: str | None
    birth_year: int
    hire_date: dt.date
    registry_id: str | None = None


def new_person(
    rng: random.Random, role: str, as_of: dt.date, age_focus: str | None = None
) -> Person:
    degrees, cda_chance = _EDUCATION[role]
    names, weights = zip(*degrees, strict=True)
    age = rng.randint(21, 64)
    years_in_job = rng.randint(0, min(age - 20, 25))
    return Person(
        first=rng.choice(FIRST_NAMES),
        last=rng.choice(LAST_NAMES),
        role=role,
        degree=rng.choices(names, weights=weights)[0],
        ece_major=rng.random() < 0.7,
        cda=rng.random() < cda_chance,
        age_focus=age_focus,
        birth_year=as_of.year - age,
        hire_date=as_of - dt.timedelta(days=365 * years_in_job + rng.randint(0, 364)),
    )


def head_start_degree(person: Person) -> str:
    return _HEAD_START_DEGREES[person.degree]


def head_start_credentials(person: Person) -> str | None:
    """Head Start's comma-separated list, e.g. ``CDA,BA-ECE``; ``None`` when there is none."""
    parts = ["CDA"] if person.cda else []
    if person.degree != "HS":
        parts.append(f"{person.degree}-ECE" if person.ece_major else person.degree)
    return ",".join(parts) or None


def qris_education(person: Person) -> str:
    return _QRIS_EDUCATION[person.degree]


def qris_credentials(person: Person) -> tuple[str, ...]:
    """CEDS-style credential names the QRIS registry records."""
    out = ["ChildDevelopmentAssociate"] if person.cda else []
    degree_ok = person.degree in {"BA", "MA"} and person.ece_major
    if person.role == "DIRECTOR" and person.degree in {"BA", "MA"}:
        out.append("DirectorsLevel")
    elif degree_ok and person.age_focus == "Preschool":
        out.append("StatePreschool")
    elif person.degree != "HS" and person.age_focus in {"Infant", "Toddler"}:
        out.append("StateInfantToddler")
    return tuple(out)


class Registry:
    """Hands out QRIS workforce registry IDs (``WR`` + 7 digits), shared by the Head Start
    staff who registered and everyone QRIS knows only itself."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = 1_000_000 + rng.randint(0, 5_000)
        self.members: list[tuple[Person, str]] = []
        """Each registered person with the QRIS provider ID they work for."""

    def register(self, person: Person, provider_id: str) -> str:
        self._next += self._rng.randint(1, 40)
        person.registry_id = f"WR{self._next:07d}"
        self.members.append((person, provider_id))
        return person.registry_id
