"""Match program records of two sector systems: which licensing facility is which QRIS
provider or Head Start center.

A pure library (no store, no GraphQL): :func:`match` takes two lists of
:class:`MatchRecord` and a :class:`MatcherConfig` and returns one :class:`MatchResult` per
proposed link, each with a score in [0, 1], a status (``auto`` above ``auto_link``,
``suggested`` between ``suggest`` and ``auto_link``) and human-readable reasons.

1. Deterministic pass: for each identifier system in ``MatcherConfig.identifier_systems``,
   in order, records of the two sides that hold the same normalised identifier (and are the
   only ones on their side to hold it) are linked with score 1.0, unless name, address,
   place and phone all disagree (a number copied from another facility's file). Such an
   identifier, and one several records of a side hold, is marked unreliable: it is left to
   scoring and never counts against a pair.
2. Probabilistic pass over the records still unlinked: records are grouped into blocks (same
   ZIP and first name word, same ZIP and house number, same phone, same normalised name,
   same email); each pair that shares a block is scored by adding evidence weights
   (name similarity from rapidfuzz, address with or without its unit, transposed house
   digits, ZIP, city, phone, email, equal or nearly-equal identifiers, different reliable
   identifiers against) and mapping the sum to [0, 1] with a logistic curve.
Geography must agree in both passes: two records that both give their address's state, and
different ones, are never linked or proposed (a license number is unique within one state
only). Blocks are per state, so the comparisons grow with the records of each state, not with
the square of a multi-state world's. A record without a state is compared with every state's
records that share a block, but such a pair is auto-linked only if both give the same ZIP (a
ZIP lies in one state); otherwise it is only suggested, with the reason. (Two records that
both give no state are taken to be of one state: a single-state setup.)

Thin pairs (the two records have nothing to compare but the name, and perhaps the city: a
name-and-state-only source such as a QRIS list) are scored on what they have: the name's
likeness, its uniqueness within the state on both sides, and the city where both give one;
missing fields count neither for nor against. Such a pair is auto-linked only when the
normalised names are equal, both give the same state, no other record of that state on either
side has that name, and the cities (where both give one) agree; otherwise it is suggested.

3. One-to-one assignment: the pairs at or above ``suggest`` are taken greedily by evidence,
   so a record is linked at most once; a pair whose record has a rival candidate with odds
   within ``rival_odds`` of its own is never auto-linked, only suggested.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    split_unit,
)

__all__ = [
    "MatchRecord",
    "MatchResult",
    "MatchStatus",
    "MatcherConfig",
    "candidate_pairs",
    "has_rival",
    "match",
]

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
    state: str | None = None
    """The address's state (``DC``, ``md``): records of two different states are never
    linked, whatever else agrees (a license number is unique within one state only)."""


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    identifier_systems: tuple[str, ...] = ()
    """Identifier systems matched exactly, in this order, before any scoring."""
    auto_link: float = 0.95
    """Score at or above which a link is confirmed without review."""
    suggest: float = 0.5
    """Score at or above which (and below ``auto_link``) a link is suggested for review."""
    rival_odds: float = 20.0
    """A pair is auto-linked only if its odds of being the match are at least this many
    times those of any other candidate of its left or right record; otherwise it is
    suggested. (A score margin would not do: near 1.0 scores crowd together, and a pair that
    agrees on name, address and phone is far likelier than its namesake down the street
    that shares only the phone.)"""
    max_block_pairs: int = 2500
    """Blocks that would yield more pairs than this are skipped (other blocks still cover
    their records); keeps the comparisons near-linear in the number of records."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.suggest <= self.auto_link <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= suggest <= auto_link <= 1")
        if self.rival_odds < 1 or self.max_block_pairs < 1:
            raise ValueError("rival_odds must be >= 1 and max_block_pairs >= 1")


@dataclass(frozen=True, slots=True)
class MatchResult:
    left_key: str
    right_key: str
    score: float
    status: MatchStatus
    reasons: tuple[str, ...]
    method: Literal["deterministic", "probabilistic"] = "probabilistic"


# --- Evidence weights (log-odds-like; the sum goes through a logistic curve) ---------------

_OFFSET = 4.2
"""Total evidence at which the score is 0.5 (0.95 at about 7.9: a name and an address, or a
name and a phone, that agree, with nothing against them)."""
_SCALE = 0.8
"""Steepness of the logistic curve."""


@dataclass(frozen=True, slots=True)
class _Norm:
    record: MatchRecord
    name: str
    name_numbers: frozenset[str]
    address: str
    street: str
    """The address without its unit."""
    unit: str
    house: str
    city: str
    zip: str
    phone: str
    email: str
    identifiers: dict[str, str]
    state: str = ""
    suspect: frozenset[str] = frozenset()
    """Identifier systems whose value on this record is shown to be unreliable (another
    record on its side holds it too, or it links a record that contradicts this one)."""


def _normalize(record: MatchRecord) -> _Norm:
    name = normalize_name(record.name)
    address = normalize_address(record.address)
    street, unit = split_unit(address)
    return _Norm(
        record=record,
        name=name,
        name_numbers=name_numbers(name),
        address=address,
        street=street,
        unit=unit,
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
        state=(record.state or "").strip().upper(),
    )


def _other_states(a: _Norm, b: _Norm) -> bool:
    """Whether both records say their state and the states differ: never the same program."""
    return bool(a.state) and bool(b.state) and a.state != b.state


def _state_unsure(a: _Norm, b: _Norm) -> bool:
    """Whether one record gives its state and the other does not, and they do not share a ZIP
    either: the two may be in different states, so the pair is only ever suggested. (When
    neither gives a state, the sources are taken to be of one state, as a single-state
    deployment's often are.)"""
    return bool(a.state) != bool(b.state) and not (a.zip and a.zip == b.zip)


_STATE_UNKNOWN = "state unknown on one side and no shared ZIP: suggestion only"


def _thin(a: _Norm, b: _Norm) -> bool:
    """Whether the pair has nothing to compare but names (and cities): no address, ZIP,
    phone, email or identifier system on both sides."""
    return not (
        (a.address and b.address)
        or (a.zip and b.zip)
        or (a.phone and b.phone)
        or (a.email and b.email)
        or a.identifiers.keys() & b.identifiers.keys()
    )


def _total_for(probability: float) -> float:
    """The evidence total the logistic curve maps to ``probability``."""
    return _OFFSET + math.log(probability / (1.0 - probability)) / _SCALE


_THIN_UNIQUE = _total_for(0.97)
"""Equal names, one of a kind in the state on both sides: enough to link (measured:
benchmarks/README.md, the name-and-state-only level)."""
_THIN_EQUAL = _total_for(0.85)
_THIN_ALIKE = _total_for(0.7)
_THIN_SIMILAR = _total_for(0.55)


def _thin_evidence(
    a: _Norm, b: _Norm, unique: Callable[[_Norm], bool]
) -> tuple[float, list[str]] | None:
    """Evidence for a thin pair, from what both have: ``None`` when the names are not alike
    enough to suggest. ``unique`` tells whether a record's name is the only one of its kind
    in its state on its side."""
    if not a.name or not b.name or a.name_numbers != b.name_numbers:
        return None
    similarity = fuzz.token_sort_ratio(a.name, b.name)
    reasons = [f"only names to compare ({a.record.name} ~ {b.record.name})"]
    cities_differ = bool(a.city) and bool(b.city) and a.city != b.city
    if a.name == b.name:
        reasons.append("same name")
        sure = bool(a.state) and a.state == b.state and unique(a) and unique(b)
        if sure and not cities_differ:
            reasons.append(f"the only program of that name in {a.state} on both sides")
            total = _THIN_UNIQUE
        else:
            total = _THIN_EQUAL
    elif similarity >= 90:
        reasons.append(f"names {similarity:.0f}% alike")
        total = _THIN_ALIKE
    elif similarity >= 85:
        reasons.append(f"names {similarity:.0f}% alike")
        total = _THIN_SIMILAR
    else:
        return None
    if a.state and a.state == b.state:
        reasons.append(f"same state {a.state}")
    if a.city and b.city:
        if cities_differ:
            reasons.append(f"different city ({a.record.city} / {b.record.city})")
            total -= 1.0
        else:
            reasons.append(f"same city {a.record.city}")
    return total, reasons


def _name_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    if not a.name or not b.name:
        return 0.0
    # Word order does not matter (token_sort): "Learning Center, Sunshine" is "Sunshine
    # Learning Center". A name whose words all appear in the other (token_set) is not held
    # against the pair, but neither does it count for it: "& Kindergarten" may be another
    # program in the same building.
    similarity = fuzz.token_sort_ratio(a.name, b.name)
    weight = 0.0
    label = f"names {similarity:.0f}% alike ({a.record.name} ~ {b.record.name})"
    if similarity >= 97:
        weight = 4.0
    elif similarity >= 90:
        weight = 3.0
    elif similarity >= 85:
        weight = 1.5
    elif similarity < 65 and fuzz.token_set_ratio(a.name, b.name) < 90:
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
        return 5.0
    if a.house and b.house and a.house != b.house:
        if _transposed(a.house, b.house) and a.street[len(a.house) :] == b.street[len(b.house) :]:
            reasons.append(
                f"street numbers alike but for two swapped digits ({a.house} ~ {b.house})"
            )
            return 2.5
        # Programs move and one system keeps the old address: against, not decisive.
        reasons.append(f"different street numbers ({a.house} / {b.house})")
        return -3.0
    if a.street and a.street == b.street:
        if not a.unit or not b.unit:
            reasons.append(
                f"same street address, unit on one side only ({a.record.address} ~ "
                f"{b.record.address})"
            )
            return 4.5
        reasons.append(f"same street address, different unit ({a.unit} / {b.unit})")
        return 1.0
    similarity = fuzz.ratio(a.street or a.address, b.street or b.address)
    if similarity >= 85:
        reasons.append(
            f"addresses {similarity:.0f}% alike ({a.record.address} ~ {b.record.address})"
        )
        return 3.0
    reasons.append(f"addresses differ ({a.record.address} / {b.record.address})")
    return -2.0


def _transposed(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with two neighbouring characters swapped."""
    if len(a) != len(b):
        return False
    diff = [k for k in range(len(a)) if a[k] != b[k]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _place_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    weight = 0.0
    same_city = bool(a.city) and a.city == b.city
    if a.zip and b.zip:
        if a.zip == b.zip:
            reasons.append(f"same ZIP {a.zip}")
            weight += 1.0
        elif same_city:
            # A town has several ZIPs; a program that moved across town changes its ZIP.
            reasons.append(f"other ZIP in the same city ({a.zip} / {b.zip})")
            weight -= 0.5
        else:
            reasons.append(f"different ZIP ({a.zip} / {b.zip})")
            weight -= 2.0
    if a.city and b.city:
        weight += 0.5 if same_city else -1.0
        if not same_city:
            reasons.append(f"different city ({a.record.city} / {b.record.city})")
    return weight


def _contact_evidence(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    weight = 0.0
    if a.phone and b.phone:
        if a.phone == b.phone:
            reasons.append("same phone")
            weight += 5.0
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
        if not right:
            continue
        if right == left:
            reasons.append(f"same {system} {left}")
            weight += 6.0
            continue
        left_bare, right_bare = identifier_skeleton(left), identifier_skeleton(right)
        if left_bare == right_bare:
            reasons.append(f"{system} alike but for punctuation ({left} ~ {right})")
            weight += 2.0
        elif Levenshtein.distance(left_bare, right_bare) <= 2:
            reasons.append(f"{system} nearly alike, likely mistyped ({left} ~ {right})")
            weight += 1.5
        elif system in a.suspect or system in b.suspect:
            # A number keyed from the wrong file says nothing against the right record.
            reasons.append(f"different {system}, one of them unreliable ({left} / {right})")
        else:
            reasons.append(f"different {system} ({left} / {right})")
            weight -= 5.0
    return weight


def _evidence_besides_identifiers(a: _Norm, b: _Norm, reasons: list[str]) -> float:
    return (
        _name_evidence(a, b, reasons)
        + _address_evidence(a, b, reasons)
        + _place_evidence(a, b, reasons)
        + _contact_evidence(a, b, reasons)
    )


def _evidence(a: _Norm, b: _Norm) -> tuple[float, list[str]]:
    reasons: list[str] = []
    total = _evidence_besides_identifiers(a, b, reasons) + _identifier_evidence(a, b, reasons)
    return total, reasons


def _probability(total: float) -> float:
    return 1.0 / (1.0 + math.exp(-_SCALE * (total - _OFFSET)))


_CONTRADICTED = -6.0
"""Evidence besides a shared identifier below which the identifier is not trusted: name,
address, place and phone all disagree, as when a number was copied from another
facility's file."""


# --- Passes --------------------------------------------------------------------------------


def _deterministic(
    left: list[_Norm], right: list[_Norm], config: MatcherConfig
) -> tuple[list[MatchResult], set[int], set[int]]:
    """Link records that share an identifier, unless other records on a side hold it too
    or the two records disagree on everything else; such identifiers are marked suspect
    (in ``left`` and ``right``, in place) and their records left to scoring."""
    results: list[MatchResult] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    suspect_left: dict[int, set[str]] = defaultdict(set)
    suspect_right: dict[int, set[str]] = defaultdict(set)
    for system in config.identifier_systems:
        by_left: dict[str, list[int]] = defaultdict(list)
        by_right: dict[str, list[int]] = defaultdict(list)
        for i, rec in enumerate(left):
            if i not in used_left and (value := rec.identifiers.get(system)):
                by_left[value].append(i)
        for j, rec in enumerate(right):
            if j not in used_right and (value := rec.identifiers.get(system)):
                by_right[value].append(j)
        # A value several records of a side hold in one state (or without a state) is right
        # for one of them at most; the same number in two states is two states' numbers.
        for side, by_value, suspects in (
            (left, by_left, suspect_left),
            (right, by_right, suspect_right),
        ):
            for holders in by_value.values():
                for k in holders if len(holders) > 1 else ():
                    state = side[k].state
                    if any(
                        m != k and (not state or not side[m].state or side[m].state == state)
                        for m in holders
                    ):
                        suspects[k].add(system)
        for value, lefts in by_left.items():
            rights = by_right.get(value, [])
            fits = [
                (i, j)
                for i in lefts
                for j in rights
                if not _other_states(left[i], right[j]) and not _state_unsure(left[i], right[j])
            ]
            for i, j in fits:
                if sum(f[0] == i for f in fits) != 1 or sum(f[1] == j for f in fits) != 1:
                    continue  # several candidates: left to scoring
                if system in suspect_left[i] or system in suspect_right[j]:
                    continue
                if _evidence_besides_identifiers(left[i], right[j], []) < _CONTRADICTED:
                    suspect_left[i].add(system)
                    suspect_right[j].add(system)
                    continue
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
    for side, suspects in ((left, suspect_left), (right, suspect_right)):
        for k, systems in suspects.items():
            side[k] = replace(side[k], suspect=frozenset(systems))
    return results, used_left, used_right


def _block_keys(rec: _Norm) -> Iterable[tuple[str, ...]]:
    """The blocks a record is in, within its state (see :func:`_candidate_pairs`)."""
    first_word = rec.name.partition(" ")[0]
    if rec.zip and first_word:
        yield ("zip+word", rec.zip, first_word)
    if rec.zip and rec.house:
        yield ("zip+house", rec.zip, rec.house)
    if rec.city and first_word:
        yield ("city+word", rec.city, first_word)
        if not rec.zip:
            yield ("no-zip", rec.city, first_word)
    if rec.phone:
        yield ("phone", rec.phone)
    if rec.name:
        yield ("name", " ".join(sorted(rec.name.split())))
    if rec.email:
        yield ("email", rec.email)
    if first_word:
        yield ("word", first_word)
        if not (rec.address or rec.zip or rec.phone or rec.email):
            yield ("thin", first_word)


_PROBES = {"thin": "word", "no-zip": "city+word"}
"""Blocks a record joins only when the other record is in the probing block: a record
without a ZIP is compared with the records of its city (and first name word); a thin record
(name, perhaps a city) with its state's records of its first name word, since its names may
differ in more than word order. Records that have more to compare are not paired on a city
or a first word alone: that would multiply the comparisons for no gain in recall."""
_INDEX_ONLY = frozenset(_PROBES.values())


_Blocks = Mapping[tuple[str, ...], Mapping[str, list[int]]]


def _blocks(side: Sequence[_Norm], ids: Iterable[int]) -> _Blocks:
    """Block key -> state -> the records of ``ids`` in that block."""
    blocks: defaultdict[tuple[str, ...], defaultdict[str, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for k in ids:
        rec = side[k]
        for key in _block_keys(rec):
            blocks[key][rec.state].append(k)
    return blocks


def _same_state(
    lefts: Mapping[str, list[int]], rights: Mapping[str, list[int]]
) -> Iterator[tuple[list[int], list[int]]]:
    """The groups of one block that may pair: the same state, or no state on a side."""
    for state, left_ids in lefts.items():
        if state:
            for right_ids in (rights.get(state), rights.get("")):
                if right_ids:
                    yield left_ids, right_ids
        else:
            for right_ids in rights.values():
                yield left_ids, right_ids


def _groups(left: _Blocks, right: _Blocks) -> Iterator[tuple[list[int], list[int]]]:
    """Left and right groups that share a block (see :data:`_PROBES`)."""
    for key, lefts in left.items():
        if key[0] in _INDEX_ONLY:
            continue
        probed = _PROBES.get(key[0])
        rights = right.get(key if probed is None else (probed, *key[1:]))
        if rights:
            yield from _same_state(lefts, rights)
    for key, probing in right.items():
        probed = _PROBES.get(key[0])
        if probed is not None and (indexed := left.get((probed, *key[1:]))):
            yield from ((ls, rs) for rs, ls in _same_state(probing, indexed))


def _candidate_pairs(
    left: Sequence[_Norm],
    right: Sequence[_Norm],
    left_ids: Iterable[int],
    right_ids: Iterable[int],
    max_block_pairs: int,
) -> set[tuple[int, int]]:
    """Pairs that share a block within one state (a record without a state is in its
    blocks of every state); a group pair over ``max_block_pairs`` is skipped."""
    pairs: set[tuple[int, int]] = set()
    for lefts, rights in _groups(_blocks(left, left_ids), _blocks(right, right_ids)):
        if len(lefts) * len(rights) <= max_block_pairs:
            pairs.update((i, j) for i in lefts for j in rights)
    return pairs


def candidate_pairs(
    left: Sequence[MatchRecord], right: Sequence[MatchRecord], config: MatcherConfig
) -> int:
    """How many pairs blocking gives the scorer for these records (the deterministic pass
    aside): what matching costs, for the benchmark."""
    norm_left = [_normalize(r) for r in left]
    norm_right = [_normalize(r) for r in right]
    return len(
        _candidate_pairs(
            norm_left, norm_right, range(len(left)), range(len(right)), config.max_block_pairs
        )
    )


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
    names_left = Counter((n.state, n.name) for n in norm_left)
    names_right = Counter((n.state, n.name) for n in norm_right)

    def unique(rec: _Norm) -> bool:
        return names_left[(rec.state, rec.name)] + names_right[(rec.state, rec.name)] == 2

    scored: list[tuple[float, int, int, list[str]]] = []
    capped: set[tuple[int, int]] = set()
    for i, j in pairs:
        a, b = norm_left[i], norm_right[j]
        if _other_states(a, b):
            continue  # geography must agree: never proposed across states
        if _thin(a, b):
            found = _thin_evidence(a, b, unique)
            if found is None:
                continue
            total, reasons = found
        else:
            total, reasons = _evidence(a, b)
        if _probability(total) >= config.suggest:
            if _state_unsure(a, b):
                capped.add((i, j))
                reasons.append(_STATE_UNKNOWN)
            scored.append((total, i, j, reasons))
    keys_left = [n.record.key for n in norm_left]
    keys_right = [n.record.key for n in norm_right]
    results += assign(
        scored,
        keys_left,
        keys_right,
        used_left,
        used_right,
        config,
        _probability,
        _SCALE,
        suggest_only=capped,
    )
    return results


def assign(
    scored: list[tuple[float, int, int, list[str]]],
    keys_left: Sequence[str],
    keys_right: Sequence[str],
    used_left: set[int],
    used_right: set[int],
    config: MatcherConfig,
    probability: Callable[[float], float],
    scale: float,
    *,
    suggest_only: Collection[tuple[int, int]] = (),
) -> list[MatchResult]:
    """One-to-one assignment of scored pairs ``(evidence, left index, right index,
    reasons)``: strongest evidence first (ties by position, so the outcome does not depend on
    set order), each record at most once; a pair at or above ``auto_link`` is auto unless a
    rival candidate of either record has odds within ``rival_odds`` or the pair is in
    ``suggest_only`` (then suggested)."""
    scored = sorted(scored, key=lambda item: (-item[0], item[1], item[2]))
    candidates: dict[tuple[str, int], list[float]] = defaultdict(list)
    for total, i, j, _ in scored:
        candidates[("L", i)].append(total)
        candidates[("R", j)].append(total)
    rival_gap = math.log(config.rival_odds) / scale
    results: list[MatchResult] = []
    for total, i, j, reasons in scored:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        score = probability(total)
        auto = score >= config.auto_link and (i, j) not in suggest_only
        status: MatchStatus = "auto" if auto else "suggested"
        if status == "auto" and has_rival(
            total, candidates[("L", i)], candidates[("R", j)], rival_gap
        ):
            status = "suggested"
            reasons = [*reasons, "another candidate scores nearly as high"]
        results.append(
            MatchResult(
                left_key=keys_left[i],
                right_key=keys_right[j],
                score=round(score, 4),
                status=status,
                reasons=tuple(reasons),
            )
        )
    return results


def has_rival(total: float, left: list[float], right: list[float], gap: float) -> bool:
    """Whether, besides this pair, its left or right record has another candidate whose
    evidence is within ``gap`` of this pair's (odds less than ``rival_odds`` to one)."""
    for totals in (left, right):
        others = sorted(totals, reverse=True)
        others.remove(total)
        if others and total - others[0] < gap:
            return True
    return False
