"""Noise levels of the demo world: the default level is the world as it always was, and each
level applies each kind of drift to the share of records it says, visibly in the records."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from rapidfuzz.distance import Levenshtein

from ecehub.demo import NOISE_LEVELS, NoiseLevel, World, generate_world
from ecehub.demo.levels import NOISE_KINDS, noise_level
from ecehub.demo.noise import drop_unit
from ecehub.demo.records import Facility, QrisProvider

PROGRAMS = 2000
SEED = 5

# sha256 of the world's repr (its fields before noise levels existed), computed on main at
# 242240d, before noise levels: the default level must keep every record and draw.
_WORLD_FIELDS = (
    "seed",
    "as_of",
    "state_code",
    "licensing",
    "head_start",
    "qris",
    "truth",
    "staff_links",
)
_DIGESTS = {
    (200, 7): "270df1ebde52b8b6d455acec27a43042428ba53e72b2b976a6694adcc8e04e16",
    (1000, 11): "0b29e093fc4e7c93772b2f80b96e581f36a4c9ab42d493400219dc70c3d9727e",
    (50, 3): "d76b7e82cbbb3482a9cf67de203811e4550a68b7f7c138110c0c8fb1e0ea029f",
}


_RECORD_LISTS = {
    "licensing": ("facilities", "inspections", "violations"),
    "qris": (
        "providers",
        "ratings",
        "coaching_visits",
        "assessments",
        "subscales",
        "awards",
        "workforce",
        "trainings",
    ),
}
"""The record lists each system had then: those added since (licensing's capacities and
contacts, QRIS's contacts and accreditations) are derived from these without a draw, so
the digest of these still says every earlier record and draw is kept."""


def _field_repr(world: World, name: str) -> str:
    value = getattr(world, name)
    lists = _RECORD_LISTS.get(name)
    if lists is None:
        return repr(value)
    shown = ", ".join(f"{f}={getattr(value, f)!r}" for f in lists)
    return f"{type(value).__name__}({shown})"


def _digest(world: World) -> str:
    text = "World(" + ", ".join(f"{f}={_field_repr(world, f)}" for f in _WORLD_FIELDS) + ")"
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def worlds() -> dict[str, World]:
    return {name: generate_world(PROGRAMS, seed=SEED, noise=name) for name in NOISE_LEVELS}


def test_the_default_level_generates_the_world_it_always_did(
    world: World, big_world: World
) -> None:
    assert _digest(world) == _DIGESTS[(200, 7)]
    assert _digest(big_world) == _DIGESTS[(1000, 11)]
    assert _digest(generate_world(50, seed=3, noise="default")) == _DIGESTS[(50, 3)]
    assert _digest(generate_world(50, seed=3, noise=NoiseLevel())) == _DIGESTS[(50, 3)]
    assert world.noise == NOISE_LEVELS["default"]


def test_every_other_level_generates_another_world(worlds: dict[str, World]) -> None:
    digests = {name: _digest(w) for name, w in worlds.items()}
    assert len(set(digests.values())) == len(digests)


def test_levels_are_reproducible() -> None:
    one = generate_world(300, seed=2, noise="hardest")
    assert one == generate_world(300, seed=2, noise="hardest")
    assert one.applied_noise == generate_world(300, seed=2, noise="hardest").applied_noise


def test_unknown_level_and_bad_shares_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown noise level 'loud'; use one of none, low"):
        generate_world(10, noise="loud")
    with pytest.raises(ValueError, match="typo must be a share"):
        NoiseLevel(typo=1.5)
    with pytest.raises(ValueError, match="license_missing \\+ license_mistyped"):
        NoiseLevel(license_missing=0.7, license_mistyped=0.5)
    with pytest.raises(ValueError, match="name_changes"):
        NoiseLevel(name_changes=(0, 2))
    assert noise_level(NOISE_LEVELS["high"]) is NOISE_LEVELS["high"]


def test_no_noise_means_every_system_has_the_truth(worlds: dict[str, World]) -> None:
    w = worlds["none"]
    assert w.applied_noise == []
    facilities = {f.license_no: f for f in w.licensing.facilities}
    providers = {q.provider_id: q for q in w.qris.providers}
    centers = {c.center_id: c for c in w.head_start.centers}
    for t in w.truth:
        if not t.license_no:
            continue
        f = facilities[t.license_no]
        if t.qris_provider_id:
            q = providers[t.qris_provider_id]
            assert (q.display_name, q.street, q.zip, q.license_number, q.email) == (
                f.facility_name,
                f.street_addr,
                f.zip_code,
                f.license_no,
                f.email_addr,
            )
            assert _digits(q.phone) == _digits(f.phone_no)
        if t.head_start_center_id:
            c = centers[t.head_start_center_id]
            assert (c.center_name, c.address1, c.zip, c.state_license_no) == (
                f.facility_name,
                f.street_addr,
                f.zip_code,
                f.license_no,
            )
    names = Counter((f.facility_name, f.zip_code) for f in w.licensing.facilities)
    assert max(names.values()) == 1


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def test_more_noise_at_each_level(worlds: dict[str, World]) -> None:
    counts = [len(w.applied_noise) for w in worlds.values()]
    assert counts == sorted(counts)
    assert len(set(counts)) == len(counts)
    kinds = {a.kind for a in worlds["hardest"].applied_noise}
    assert kinds == set(NOISE_KINDS)


# --- Each kind, in the share its level says ------------------------------------------------


def _within(observed: int, total: int, share: float) -> None:
    """``observed`` of ``total`` is ``share`` give or take four standard deviations."""
    tolerance = 4 * math.sqrt(share * (1 - share) / total) + 0.005
    assert abs(observed / total - share) <= tolerance, (observed, total, share)


LEVELS = list(NOISE_LEVELS)


@pytest.mark.parametrize("level", LEVELS)
def test_qris_kinds_strike_their_share_of_providers(worlds: dict[str, World], level: str) -> None:
    w = worlds[level]
    shares = w.noise
    providers = len(w.qris.providers)
    applied = Counter(a.kind for a in w.applied_noise if a.system == "qris")
    for kind in ("renamed", "reformatted", "moved", "address_typo", "phone_changed"):
        _within(applied[kind], providers, getattr(shares, kind))
    _within(applied["email_missing"], providers, shares.email_missing)
    _within(applied["email_other"], providers, shares.email_other)
    # A typo and swapped words change any name of two words (of four letters or more).
    _within(applied["typo"], providers, shares.typo)
    _within(applied["swapped_words"], providers, shares.swapped_words)
    # Abbreviations need a word that still has its long form: most names, fewer once the
    # re-keying (up to four changes at the hardest level) has abbreviated them already.
    assert applied["abbreviated"] <= shares.abbreviated * providers * 1.1 + 5
    assert applied["abbreviated"] >= shares.abbreviated * providers * 0.35
    with_unit = sum(1 for _, f, _ in _pairs(w) if drop_unit(f.street_addr) != f.street_addr)
    if with_unit:
        _within(applied["unit_dropped"], with_unit, shares.unit_dropped)
    # License numbers: exact counts of the licensed providers.
    licensed = sum(1 for t in w.truth if t.qris_provider_id and t.license_no)
    assert applied["license_missing"] == round(licensed * shares.license_missing)
    assert applied["license_mistyped"] == round(licensed * shares.license_mistyped)
    if applied["license_mistyped"]:
        _within(applied["license_collision"], applied["license_mistyped"], shares.license_collision)


@pytest.mark.parametrize("level", LEVELS)
def test_head_start_kinds_strike_their_share_of_centers(
    worlds: dict[str, World], level: str
) -> None:
    w = worlds[level]
    shares = w.noise
    centers = len(w.head_start.centers)
    applied = Counter(a.kind for a in w.applied_noise if a.system == "head_start")
    for kind in ("reformatted", "moved", "address_typo", "typo", "swapped_words"):
        _within(applied[kind], centers, getattr(shares, kind))
    _within(applied["renamed"], centers, shares.head_start_renamed)
    _within(applied["head_start_suffix"], centers, shares.head_start_suffix)
    assert applied["license_missing"] == centers - round(
        centers * round(1 - shares.head_start_license_missing, 9)
    )


@pytest.mark.parametrize("level", LEVELS)
def test_shared_names_strike_their_share_of_centers(worlds: dict[str, World], level: str) -> None:
    w = worlds[level]
    twins = [a for a in w.applied_noise if a.kind == "shared_name"]
    centers = sum(1 for f in w.licensing.facilities if f.license_type == "CENTER")
    # The first center of each town has no earlier namesake to take.
    _within(len(twins), centers, w.noise.shared_names)
    by_name = Counter((f.facility_name, f.zip_code) for f in w.licensing.facilities)
    shared = sum(n for n in by_name.values() if n > 1)
    assert shared >= len(twins)
    assert (shared == 0) == (w.noise.shared_names == 0)
    applied = Counter(a.kind for a in w.applied_noise if a.system == "licensing")
    if twins:
        _within(applied["co_located"], len(twins), w.noise.co_located)
        _within(applied["shared_phone"], len(twins), w.noise.shared_phone)


# --- Each kind shows in the records --------------------------------------------------------


def _pairs(w: World) -> list[tuple[str, Facility, QrisProvider]]:
    """(program ID, licensing facility, QRIS provider) of every program both systems know."""
    facilities = {f.license_no: f for f in w.licensing.facilities}
    providers = {q.provider_id: q for q in w.qris.providers}
    return [
        (t.program_id, facilities[t.license_no], providers[t.qris_provider_id])
        for t in w.truth
        if t.license_no and t.qris_provider_id
    ]


def test_applied_noise_shows_in_the_qris_records(worlds: dict[str, World]) -> None:
    w = worlds["hardest"]
    facilities_by_license = {f.license_no for f in w.licensing.facilities}
    kinds: dict[str, set[str]] = {}
    for a in w.applied_noise:
        if a.system == "qris":
            kinds.setdefault(a.program_id, set()).add(a.kind)
    for program_id, f, q in _pairs(w):
        got = kinds.get(program_id, set())
        assert ("license_missing" in got) == (q.license_number is None)
        if "license_mistyped" in got:
            assert q.license_number not in (None, f.license_no)
        if not got & {"license_missing", "license_mistyped"}:
            assert q.license_number == f.license_no
        house = f.street_addr.split()[0]
        if q.street.split()[0] != house:
            assert got & {"moved", "address_typo"}
        if "moved" in got:
            assert q.street.split()[0] != house
        if "license_collision" in got:
            assert q.license_number in facilities_by_license
            assert q.license_number != f.license_no
        assert (_digits(q.phone) != _digits(f.phone_no)) == ("phone_changed" in got)
        if "email_missing" in got:
            assert q.email is None
        if "email_other" in got:
            assert q.email is not None and q.email.startswith("info@")
        if got & {"renamed", "typo", "swapped_words", "abbreviated"}:
            pass  # a re-keyed name can come back as it was ("&" -> "and" -> "&")
        else:
            assert q.display_name == f.facility_name


@pytest.mark.parametrize(
    "kind", ["typo", "swapped_words", "abbreviated", "moved", "unit_dropped", "address_typo"]
)
def test_one_kind_alone(kind: str) -> None:
    """A level with nothing but one kind, at share 1: every record shows exactly that kind."""
    share: dict[str, Any] = {kind: 1.0}
    w = generate_world(400, seed=9, noise=replace(NOISE_LEVELS["none"], **share))
    pairs = _pairs(w)
    applied = {a.program_id for a in w.applied_noise if a.kind == kind and a.system == "qris"}
    assert {a.kind for a in w.applied_noise} == {kind}
    for program_id, f, q in pairs:
        true_name, name = f.facility_name, q.display_name
        true_street, street = f.street_addr, q.street
        changed = program_id in applied
        if kind == "typo":
            assert changed
            assert 1 <= Levenshtein.distance(true_name, name) <= 2
            assert len(name.split()) == len(true_name.split())
        elif kind == "swapped_words":
            assert changed
            assert sorted(name.replace(",", "").split()) == sorted(
                true_name.replace(",", "").split()
            )
            assert name != true_name
        elif kind == "abbreviated":
            assert changed == (name != true_name)
        elif kind == "moved":
            assert changed
            assert street.split()[0] != true_street.split()[0]
            assert q.city == f.city
        elif kind == "address_typo":
            assert changed == (street != true_street)
            assert Levenshtein.distance(street, true_street) <= 2
        else:
            assert changed == (drop_unit(true_street) != true_street)
            assert street == drop_unit(true_street)
    if kind in ("abbreviated", "address_typo"):
        assert len(applied) > 0.6 * len(pairs)


def test_shared_names_are_different_programs_in_one_zip() -> None:
    w = generate_world(600, seed=4, noise=replace(NOISE_LEVELS["none"], shared_names=0.5))
    twins = {a.program_id for a in w.applied_noise if a.kind == "shared_name"}
    assert len(twins) > 100
    truth = {t.program_id: t for t in w.truth}
    facilities = {f.license_no: f for f in w.licensing.facilities}
    groups: dict[tuple[str, str], list[str]] = {}
    for f in w.licensing.facilities:
        groups.setdefault((f.facility_name, f.zip_code), []).append(f.license_no)
    for program_id in twins:
        f = facilities[truth[program_id].license_no or ""]
        namesakes = groups[(f.facility_name, f.zip_code)]
        assert len(namesakes) >= 2
        others = [facilities[n] for n in namesakes if n != f.license_no]
        assert all(o.street_addr != f.street_addr and o.phone_no != f.phone_no for o in others)


def test_namesakes_in_one_building_and_on_one_phone_line() -> None:
    noise = replace(NOISE_LEVELS["none"], shared_names=0.5, co_located=1.0, shared_phone=1.0)
    w = generate_world(600, seed=4, noise=noise)
    twins = {a.program_id for a in w.applied_noise if a.kind == "shared_name"}
    assert twins == {a.program_id for a in w.applied_noise if a.kind == "co_located"}
    assert twins == {a.program_id for a in w.applied_noise if a.kind == "shared_phone"}
    truth = {t.program_id: t for t in w.truth}
    facilities = {f.license_no: f for f in w.licensing.facilities}
    for program_id in twins:
        f = facilities[truth[program_id].license_no or ""]
        namesakes = [
            o
            for o in w.licensing.facilities
            if (o.facility_name, o.zip_code) == (f.facility_name, f.zip_code) and o is not f
        ]
        building = drop_unit(f.street_addr)
        assert building != f.street_addr  # in a suite
        assert any(drop_unit(o.street_addr) == building for o in namesakes)
        assert all(o.street_addr != f.street_addr for o in namesakes)
        assert any(o.phone_no == f.phone_no for o in namesakes)


def test_license_collisions_are_other_facilities_numbers() -> None:
    noise = replace(NOISE_LEVELS["none"], license_mistyped=0.5, license_collision=1.0)
    w = generate_world(400, seed=6, noise=noise)
    real = {f.license_no for f in w.licensing.facilities}
    pairs = _pairs(w)
    collided = [(f, q) for _, f, q in pairs if q.license_number != f.license_no]
    assert len(collided) == round(len(pairs) * 0.5)
    assert all(q.license_number in real for _, q in collided)


@pytest.mark.parametrize("level", LEVELS)
def test_staff_kinds_strike_their_share_of_registered_staff(
    worlds: dict[str, World], level: str
) -> None:
    w = worlds[level]
    applied = Counter(a.kind for a in w.applied_noise)
    linked = {link.head_start_staff_id: link for link in w.staff_links}
    _within(applied["registry_id_missing"], len(linked), w.noise.registry_id_missing)
    _within(applied["staff_renamed"], len(linked), w.noise.staff_renamed)
    without_id = [s for s in w.head_start.staff if s.staff_id in linked and not s.registry_id]
    assert len(without_id) == applied["registry_id_missing"]
    members = {m.registry_id: m for m in w.qris.workforce}
    renamed = sum(
        1
        for s in w.head_start.staff
        if s.staff_id in linked
        and (
            members[linked[s.staff_id].registry_id].first_name,
            members[linked[s.staff_id].registry_id].last_name,
        )
        != (s.first_nm, s.last_nm)
    )
    assert renamed == applied["staff_renamed"]
