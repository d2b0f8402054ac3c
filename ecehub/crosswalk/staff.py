"""Match staff records of two sector systems: which Head Start staff member is which person
in the QRIS workforce registry.

:func:`match_staff` works like :func:`~ecehub.crosswalk.match` for programs:

1. Deterministic pass on the config's identifier systems (a workforce registry ID), unless
   the two names disagree outright (an ID keyed on the wrong person).
2. Scoring of people who work at the same program (``StaffRecord.program``: a key both
   sides share, e.g. the hub ID of a program the program crosswalk linked): first and
   last name (rapidfuzz; nicknames; case), birth year and education where both sides have
   them, credentials, a nearly-equal identifier.
3. One-to-one assignment by evidence, rivals only suggested.

Names repeat across a state (there are many Maria Garcias), so people are only compared
within a program; a person keyed under two different programs is not found.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ecehub.crosswalk.matcher import MatcherConfig, MatchResult, assign
from ecehub.crosswalk.normalize import normalize_identifier

__all__ = [
    "StaffRecord",
    "match_staff",
    "normalize_credentials",
    "normalize_education",
    "normalize_person_name",
]

# Common English given-name forms; a nickname is compared as its full name.
_NICKNAMES: dict[str, str] = {
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "patty": "patricia",
    "pat": "patricia",
    "trish": "patricia",
    "debbie": "deborah",
    "deb": "deborah",
    "sam": "samantha",
    "sammy": "samantha",
    "jen": "jennifer",
    "jenny": "jennifer",
    "mike": "michael",
    "mikey": "michael",
    "dan": "daniel",
    "danny": "daniel",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "tony": "anthony",
    "becky": "rebecca",
    "becca": "rebecca",
    "tina": "christina",
    "chris": "christina",
    "nikki": "nicole",
    "mandy": "amanda",
    "ronnie": "veronica",
    "lupe": "guadalupe",
    "bill": "william",
    "will": "william",
    "bob": "robert",
    "rob": "robert",
    "dave": "david",
    "meg": "megan",
    "ash": "ashley",
    "bri": "brianna",
    "liv": "olivia",
    "sophie": "sophia",
    "bella": "isabella",
    "izzy": "isabella",
}

_EDUCATION: dict[str, str] = {
    "highschool": "HS",
    "highschooldiploma": "HS",
    "highschoolged": "HS",
    "ged": "HS",
    "hs": "HS",
    "associate": "AA",
    "associatedegree": "AA",
    "associates": "AA",
    "aa": "AA",
    "baccalaureate": "BA",
    "bachelors": "BA",
    "bachelorsdegree": "BA",
    "ba": "BA",
    "bs": "BA",
    "advanced": "MA",
    "masters": "MA",
    "mastersdegree": "MA",
    "ma": "MA",
    "doctorate": "MA",
}
_LEVELS = ("HS", "AA", "BA", "MA")

_CREDENTIALS: dict[str, str] = {
    "cda": "CDA",
    "childdevelopmentassociate": "CDA",
}


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def normalize_person_name(name: str | None) -> str:
    """Lower case, letters only (apostrophes and hyphens dropped), a nickname as its full
    name ("Kate" -> "katherine")."""
    if not name:
        return ""
    squashed = "".join(c for c in name.lower() if c.isalpha() or c == " ").strip()
    return " ".join(_NICKNAMES.get(w, w) for w in squashed.split())


def normalize_education(level: str | None) -> str:
    """Highest education as ``HS``, ``AA``, ``BA`` or ``MA`` from either vocabulary
    ("Baccalaureate", "BachelorsDegree"); ``""`` when unknown."""
    return _EDUCATION.get(_squash(level), "") if level else ""


def normalize_credentials(values: Sequence[str] | str | None) -> frozenset[str]:
    """Credentials both vocabularies name alike (the CDA), from a list or a comma-separated
    string ("CDA,BA-ECE"; "ChildDevelopmentAssociate")."""
    if not values:
        return frozenset()
    items = values.split(",") if isinstance(values, str) else values
    return frozenset(code for v in items if (code := _CREDENTIALS.get(_squash(v))))


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """One person as a source system has them."""

    source: str
    key: str
    first_name: str
    last_name: str
    program: str | None = None
    """The program the person works at, in a key space both sides share."""
    birth_year: int | None = None
    education: str | None = None
    credentials: Sequence[str] | str | None = None
    identifiers: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Person:
    record: StaffRecord
    first: str
    last: str
    education: str
    credentials: frozenset[str]
    identifiers: dict[str, str]


def _person(record: StaffRecord) -> _Person:
    return _Person(
        record=record,
        first=normalize_person_name(record.first_name),
        last=normalize_person_name(record.last_name),
        education=normalize_education(record.education),
        credentials=normalize_credentials(record.credentials),
        identifiers={
            system: norm
            for system, value in record.identifiers.items()
            if (norm := normalize_identifier(value))
        },
    )


_OFFSET = 4.0
_SCALE = 0.8
_SAME_PROGRAM = 2.0
_CONTRADICTED = -4.0
"""Name evidence below which a shared identifier is not trusted (first and last name both
differ)."""


def _name_evidence(a: _Person, b: _Person, reasons: list[str]) -> float:
    weight = 0.0
    for label, x, y, full, close in (
        ("last", a.last, b.last, 3.5, 2.5),
        ("first", a.first, b.first, 3.0, 2.0),
    ):
        if not x or not y:
            continue
        if x == y:
            reasons.append(f"same {label} name")
            weight += full
        elif fuzz.ratio(x, y) >= 80:
            reasons.append(f"{label} names alike ({x} ~ {y})")
            weight += close
        else:
            reasons.append(f"different {label} name ({x} / {y})")
            weight -= 4.0
    return weight


def _profile_evidence(a: _Person, b: _Person, reasons: list[str]) -> float:
    weight = 0.0
    ya, yb = a.record.birth_year, b.record.birth_year
    if ya is not None and yb is not None:
        if ya == yb:
            reasons.append(f"same birth year {ya}")
            weight += 2.0
        elif abs(ya - yb) == 1:
            weight += 0.5
        else:
            reasons.append(f"different birth years ({ya} / {yb})")
            weight -= 3.0
    if a.education and b.education:
        if a.education == b.education:
            reasons.append(f"same education level ({a.education})")
            weight += 0.5
        else:
            gap = abs(_LEVELS.index(a.education) - _LEVELS.index(b.education))
            reasons.append(f"different education levels ({a.education} / {b.education})")
            weight -= 1.0 * gap
    if a.credentials != b.credentials and (a.record.credentials or b.record.credentials):
        reasons.append("different credentials")
        weight -= 0.5
    return weight


def _identifier_evidence(a: _Person, b: _Person, reasons: list[str]) -> float:
    weight = 0.0
    for system, x in a.identifiers.items():
        y = b.identifiers.get(system)
        if not y:
            continue
        if x == y:
            reasons.append(f"same {system} {x}")
            weight += 6.0
        elif Levenshtein.distance(x, y) <= 1:
            reasons.append(f"{system} nearly alike ({x} ~ {y})")
            weight += 1.0
        else:
            reasons.append(f"different {system} ({x} / {y})")
            weight -= 4.0
    return weight


def _probability(total: float) -> float:
    return 1.0 / (1.0 + math.exp(-_SCALE * (total - _OFFSET)))


def match_staff(
    left: Sequence[StaffRecord], right: Sequence[StaffRecord], config: MatcherConfig
) -> list[MatchResult]:
    """Propose links between ``left`` and ``right`` people; ``config`` as for programs
    (``identifier_systems`` e.g. ``("REGISTRY_ID",)``, ``auto_link``, ``suggest``,
    ``rival_odds``, ``max_block_pairs`` per program)."""
    people_left = [_person(r) for r in left]
    people_right = [_person(r) for r in right]
    results: list[MatchResult] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    for system in config.identifier_systems:
        by_right: dict[str, list[int]] = defaultdict(list)
        for j, p in enumerate(people_right):
            if j not in used_right and (value := p.identifiers.get(system)):
                by_right[value].append(j)
        by_left: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(people_left):
            if i not in used_left and (value := p.identifiers.get(system)):
                by_left[value].append(i)
        for value, lefts in by_left.items():
            rights = by_right.get(value, [])
            if len(lefts) != 1 or len(rights) != 1:
                continue
            i, j = lefts[0], rights[0]
            if _name_evidence(people_left[i], people_right[j], []) < _CONTRADICTED:
                continue  # an ID keyed on the wrong person: left to scoring
            used_left.add(i)
            used_right.add(j)
            results.append(
                MatchResult(
                    left_key=left[i].key,
                    right_key=right[j].key,
                    score=1.0,
                    status="auto",
                    reasons=(f"same {system} {value}",),
                    method="deterministic",
                )
            )

    by_program: dict[str, list[int]] = defaultdict(list)
    for j, p in enumerate(people_right):
        if j not in used_right and p.record.program:
            by_program[p.record.program].append(j)
    scored: list[tuple[float, int, int, list[str]]] = []
    for i, a in enumerate(people_left):
        if i in used_left or not a.record.program:
            continue
        colleagues = by_program.get(a.record.program, [])
        if len(colleagues) > config.max_block_pairs:
            continue
        for j in colleagues:
            b = people_right[j]
            reasons = [f"same program {a.record.program}"]
            total = (
                _SAME_PROGRAM
                + _name_evidence(a, b, reasons)
                + _profile_evidence(a, b, reasons)
                + _identifier_evidence(a, b, reasons)
            )
            if _probability(total) >= config.suggest:
                scored.append((total, i, j, reasons))
    results += assign(
        scored,
        [r.key for r in left],
        [r.key for r in right],
        used_left,
        used_right,
        config,
        _probability,
        _SCALE,
    )
    return results
