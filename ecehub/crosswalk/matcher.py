"""Match program records of two sector systems: which licensing facility is which QRIS
provider or Head Start center.

A pure library (no store, no GraphQL): :func:`match` takes two lists of
:class:`MatchRecord` and a :class:`MatcherConfig` and returns one :class:`MatchResult` per
proposed link, each with a score in [0, 1], a status (``auto`` above ``auto_link``,
``suggested`` between ``suggest`` and ``auto_link``) and human-readable reasons.

1. Deterministic pass: for each identifier system in ``MatcherConfig.identifier_systems``,
   in order, records of the two sides that hold the same normalised identifier (and are the
   only ones on their side to hold it) are linked with score 1.0.
2. Probabilistic pass over the records still unlinked: records are grouped into blocks (same
   ZIP and first name word, same ZIP and house number, same phone, same normalised name,
   same email); each pair that shares a block is scored by adding evidence weights
   (name similarity from rapidfuzz, address, ZIP, city, phone, email, nearly-equal
   identifiers as a mistyping, different identifiers against) and mapping the sum to
   [0, 1] with a logistic curve.
3. One-to-one assignment: the pairs at or above ``suggest`` are taken greedily by score, so
   a record is linked at most once; a pair whose records have a rival candidate within
   ``ambiguity_margin`` is never auto-linked, only suggested.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ecehub.crosswalk.normalize import (
    house_number,
    identifier_skeleton,
    name_numbers,
    normalize_address,
    normalize_email,
    normalize_identifier,
    normalize_name,
    normalize_phone,
)

__all__ = ["MatchRecord", "MatchResult", "MatchStatus", "MatcherConfig", "match"]

MatchStatus = Literal["auto", "suggested"]


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One program record as a source system has it."""

    source: str
    key: str
    name: str
    address: str | None = None
    city: str | None = None
    zip: str | None = None
    phone: str | None = None
    email: str | None = None
    identifiers: Mapping[str, str | None] = field(default_factory=dict)
    """Identifier system (e.g. ``LICENSE_NUMBER``) -> value as the source keyed it."""


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    identifier_systems: tuple[str, ...] = ()
    """Identifier systems matched exactly, in this order, before any scoring."""
    auto_link: float = 0.95
    """Score at or above which a link is confirmed without review."""
    suggest: float = 0.5
    """Score at or above which (and below ``auto_link``) a link is suggested for review."""
    ambiguity_margin: float = 0.1
    """A pair whose left or right record has another candidate scoring within this margin
    is suggested, not auto-linked."""
    max_block_pairs: int = 2500
    """Blocks that would yield more pairs than this are skipped (other blocks still cover
    their records); keeps the comparisons near-linear in the number of records."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.suggest <= self.auto_link <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= suggest <= auto_link <= 1")
        if self.ambiguity_margin < 0 or self.max_block_pairs < 1:
            raise ValueError("ambiguity_margin must be >= 0 and max_block_pairs >= 1")


@dataclass(frozen=True, slots=True)
class MatchResult:
    left_key: str
    right_key: str
    score: float
    status: MatchStatus
    reasons: tuple[str, ...]
    method: Literal["deterministic", "probabilistic"] = "probabilistic"


# --- Evidence weights (log-odds-like; the sum goes through a logistic curve) ---------------

_OFFSET = 6.0
"""Total evidence at which the score is 0.5."""
_SCALE = 0.8
"""Steepness of the logistic curve."""


@dataclass(frozen=True, slots=True)
class _Norm:
    record: MatchRecord
    name: str
    name_numbers: frozenset[str]
    address: str
    house: str
    city: str
    zip: str
    phone: str
    email: str
    identifiers: dict[str, str]


def _normalize(record: MatchRecord) -> _Norm:
    name = normalize_name(record.name)
    address = normalize_address(record.address)
    return _Norm(
        record=record,
        name=name,
        name_numbers=name_numbers(name),
        address=address,
        house=house_number(address),
        city=(record.city or "").strip().lower(),
        zip=(record.zip or "").strip()[:5],
        phone=normalize_phone(record.phone),
        email=normalize_email(record.email),
        identifiers={
            system: norm
            for system, value in record.identifiers.items()
            if (norm := normalize_identifier(value))
        },
    )


def _name_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    if not a.name or not b.name:
        return 0.0
    similarity = max(
        fuzz.token_sort_ratio(a.name, b.name), 0.9 * fuzz.token_set_ratio(a.name, b.name)
    )
    label = f"names {similarity:.0f}% alike ({a.record.name} ~ {b.record.name})"
    weight = 0.0
    if similarity >= 97:
        weight = 4.0
    elif similarity >= 90:
        weight = 3.0
    elif similarity >= 80:
        weight = 1.5
    elif similarity < 65:
        weight = -4.0
        label = f"names differ ({a.record.name} / {b.record.name})"
    reasons.append(label)
    if a.name_numbers != b.name_numbers:
        weight -= 3.0
        reasons.append("numbers in the names differ")
    return weight


def _address_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    if not a.address or not b.address:
        return 0.0
    if a.address == b.address:
        reasons.append(f"same address ({a.record.address})")
        return 4.0
    if a.house and b.house and a.house != b.house:
        reasons.append(f"different street numbers ({a.house} / {b.house})")
        return -4.0
    similarity = fuzz.ratio(a.address, b.address)
    if similarity >= 85:
        reasons.append(
            f"addresses {similarity:.0f}% alike ({a.record.address} ~ {b.record.address})"
        )
        return 3.0
    reasons.append(f"addresses differ ({a.record.address} / {b.record.address})")
    return -2.0


def _place_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    weight = 0.0
    if a.zip and b.zip:
        if a.zip == b.zip:
            reasons.append(f"same ZIP {a.zip}")
            weight += 1.0
        else:
            reasons.append(f"different ZIP ({a.zip} / {b.zip})")
            weight -= 2.0
    if a.city and b.city:
        weight += 0.5 if a.city == b.city else -1.0
        if a.city != b.city:
            reasons.append(f"different city ({a.record.city} / {b.record.city})")
    return weight


def _contact_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    weight = 0.0
    if a.phone and b.phone:
        if a.phone == b.phone:
            reasons.append("same phone")
            weight += 4.0
        else:
            reasons.append("different phone")
            weight -= 1.5
    if a.email and b.email:
        if a.email == b.email:
            reasons.append("same email")
            weight += 2.0
        else:
            weight -= 0.5
    return weight


def _identifier_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    weight = 0.0
    for system, left in a.identifiers.items():
        right = b.identifiers.get(system)
        if not right or right == left:
            continue
        left_bare, right_bare = identifier_skeleton(left), identifier_skeleton(right)
        if left_bare == right_bare:
            reasons.append(f"{system} alike but for punctuation ({left} ~ {right})")
            weight += 2.0
        elif Levenshtein.distance(left_bare, right_bare) <= 2:
            reasons.append(f"{system} nearly alike, likely mistyped ({left} ~ {right})")
            weight += 1.0
        else:
            reasons.append(f"different {system} ({left} / {right})")
            weight -= 5.0
    return weight


def _score(a: _Norm, b: _Norm) -> tuple[float, list[str]]:
    reasons: list[str] = []
    total = (
        _name_evidence(a, b, reasons)
        + _address_evidence(a, b, reasons)
        + _place_evidence(a, b, reasons)
        + _contact_evidence(a, b, reasons)
        + _identifier_evidence(a, b, reasons)
    )
    return 1.0 / (1.0 + math.exp(-_SCALE * (total - _OFFSET))), reasons


# --- Passes --------------------------------------------------------------------------------


def _deterministic(
    left: Sequence[_Norm], right: Sequence[_Norm], config: MatcherConfig
) -> tuple[list[MatchResult], set[int], set[int]]:
    results: list[MatchResult] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    for system in config.identifier_systems:
        by_left: dict[str, list[int]] = defaultdict(list)
        by_right: dict[str, list[int]] = defaultdict(list)
        for i, rec in enumerate(left):
            if i not in used_left and (value := rec.identifiers.get(system)):
                by_left[value].append(i)
        for j, rec in enumerate(right):
            if j not in used_right and (value := rec.identifiers.get(system)):
                by_right[value].append(j)
        for value, lefts in by_left.items():
            rights = by_right.get(value)
            if not rights or len(lefts) != 1 or len(rights) != 1:
                continue  # absent, or shared by several records: left to scoring
            i, j = lefts[0], rights[0]
            used_left.add(i)
            used_right.add(j)
            shown = left[i].record.identifiers.get(system) or value
            results.append(
                MatchResult(
                    left_key=left[i].record.key,
                    right_key=right[j].record.key,
                    score=1.0,
                    status="auto",
                    reasons=(f"same {system} {shown.strip()}",),
                    method="deterministic",
                )
            )
    return results, used_left, used_right


def _block_keys(rec: _Norm) -> Iterable[tuple[str, ...]]:
    first_word = rec.name.partition(" ")[0]
    if rec.zip and first_word:
        yield ("zip+word", rec.zip, first_word)
    if rec.zip and rec.house:
        yield ("zip+house", rec.zip, rec.house)
    if rec.phone:
        yield ("phone", rec.phone)
    if rec.name:
        yield ("name", " ".join(sorted(rec.name.split())))
    if rec.email:
        yield ("email", rec.email)


def _candidate_pairs(
    left: Sequence[_Norm],
    right: Sequence[_Norm],
    left_ids: Iterable[int],
    right_ids: Iterable[int],
    max_block_pairs: int,
) -> set[tuple[int, int]]:
    blocks_left: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in left_ids:
        for key in _block_keys(left[i]):
            blocks_left[key].append(i)
    blocks_right: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j in right_ids:
        for key in _block_keys(right[j]):
            blocks_right[key].append(j)
    pairs: set[tuple[int, int]] = set()
    for key, lefts in blocks_left.items():
        rights = blocks_right.get(key)
        if not rights or len(lefts) * len(rights) > max_block_pairs:
            continue
        pairs.update((i, j) for i in lefts for j in rights)
    return pairs


def match(
    left: Sequence[MatchRecord], right: Sequence[MatchRecord], config: MatcherConfig
) -> list[MatchResult]:
    """Propose links between ``left`` and ``right`` records: deterministic ones first, then
    scored ones at or above ``config.suggest``; each record appears in at most one result.
    Results come deterministic first, then by descending score."""
    norm_left = [_normalize(r) for r in left]
    norm_right = [_normalize(r) for r in right]
    results, used_left, used_right = _deterministic(norm_left, norm_right, config)

    pairs = _candidate_pairs(
        norm_left,
        norm_right,
        (i for i in range(len(norm_left)) if i not in used_left),
        (j for j in range(len(norm_right)) if j not in used_right),
        config.max_block_pairs,
    )
    scored: list[tuple[float, int, int, list[str]]] = []
    for i, j in pairs:
        score, reasons = _score(norm_left[i], norm_right[j])
        if score >= config.suggest:
            scored.append((score, i, j, reasons))
    # Highest score first; ties broken by position so the outcome does not depend on set order.
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))

    best_other: dict[tuple[str, int], list[float]] = defaultdict(list)
    for score, i, j, _ in scored:
        best_other[("L", i)].append(score)
        best_other[("R", j)].append(score)

    for score, i, j, reasons in scored:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        status: MatchStatus = "auto" if score >= config.auto_link else "suggested"
        if status == "auto" and _has_rival(
            score, best_other[("L", i)], best_other[("R", j)], config
        ):
            status = "suggested"
            reasons = [*reasons, "another candidate scores nearly as high"]
        results.append(
            MatchResult(
                left_key=norm_left[i].record.key,
                right_key=norm_right[j].record.key,
                score=round(score, 4),
                status=status,
                reasons=tuple(reasons),
            )
        )
    return results


def _has_rival(
    score: float, left_scores: list[float], right_scores: list[float], config: MatcherConfig
) -> bool:
    """Whether, besides this pair's own score, either record has another candidate scoring
    within ``ambiguity_margin`` of it."""
    for scores in (left_scores, right_scores):
        others = sorted(scores, reverse=True)
        others.remove(score)
        if others and score - others[0] < config.ambiguity_margin:
            return True
    return False
