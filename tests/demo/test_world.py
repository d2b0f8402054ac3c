from __future__ import annotations

import re
import time
from collections import Counter
from typing import cast

import pytest

from ecehub.demo import World, generate_world
from ecehub.demo.records import ProgramTruth


def test_same_arguments_same_world(world: World) -> None:
    assert generate_world(200, seed=7) == world


def test_another_seed_another_world(world: World) -> None:
    other = generate_world(200, seed=8)
    assert other.licensing.facilities != world.licensing.facilities
    assert len(other.licensing.facilities) == 200


def test_rejects_an_empty_state() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_world(0)


def test_a_tiny_state_still_generates() -> None:
    tiny = generate_world(1, seed=3)
    assert len(tiny.licensing.facilities) == 1
    assert len(tiny.truth) == 1


def test_generating_grows_linearly() -> None:
    # A guard against accidental quadratic work, not a benchmark: the CPU time of this
    # process (not wall time, which other work on the machine stretches) for 4x the programs
    # stays well under 16x (quadratic) of the smaller world's; linear is about 4x.
    def cpu_seconds(programs: int) -> float:
        start = time.process_time()
        generate_world(programs, seed=99)
        return time.process_time() - start

    small = min(cpu_seconds(250) for _ in range(3))
    large = min(cpu_seconds(1000) for _ in range(2))
    assert large < 9 * small, (small, large)


def test_identifier_shapes(world: World) -> None:
    assert all(re.fullmatch(r"CCL-\d{6}", f.license_no) for f in world.licensing.facilities)
    assert all(re.fullmatch(r"Q-\d{5}", p.provider_id) for p in world.qris.providers)
    assert all(re.fullmatch(r"05(CH|HP)\d{6}", g.grant_number) for g in world.head_start.grantees)
    assert all(re.fullmatch(r"WR\d{7}", w.registry_id) for w in world.qris.workforce)
    assert all(world.state_code == f.state_cd for f in world.licensing.facilities)


def test_licensing_has_every_licensed_program(big_world: World) -> None:
    facilities = big_world.licensing.facilities
    assert len(facilities) == 1000
    assert len({f.license_no for f in facilities}) == 1000
    types = Counter(f.license_type for f in facilities)
    assert types == {"CENTER": 750, "FCC": 250}
    statuses = Counter(f.license_status for f in facilities)
    assert set(statuses) == {"Licensed", "Probation", "Suspended", "Expired"}
    assert statuses["Licensed"] / 1000 > 0.88
    for f in facilities:
        assert (f.expiry_dt < big_world.as_of) == (f.license_status == "Expired")


def test_qris_overlap_and_license_noise(big_world: World) -> None:
    licensed = [p for p in big_world.truth if p.license_no]
    in_qris = [p for p in licensed if p.qris_provider_id]
    exempt = [p for p in big_world.truth if p.kind == "EXEMPT"]
    assert len(licensed) == 1000
    assert len(in_qris) == 650
    assert len(exempt) == 30
    assert all(p.qris_provider_id and p.license_no is None for p in exempt)
    exact = [p for p in in_qris if p.qris_license_number == p.license_no]
    missing = [p for p in in_qris if p.qris_license_number is None]
    mistyped = [p for p in in_qris if p.qris_license_number not in (None, p.license_no)]
    assert (len(exact), len(missing), len(mistyped)) == (572, 39, 39)
    real = {p.license_no for p in licensed}
    assert not any(p.qris_license_number in real for p in mistyped)
    providers = {q.provider_id: q for q in big_world.qris.providers}
    assert len(providers) == 680
    for p in in_qris + exempt:
        assert p.qris_provider_id
        assert providers[p.qris_provider_id].license_number == p.qris_license_number


def test_names_and_addresses_drift_between_systems(big_world: World) -> None:
    facilities = {f.license_no: f for f in big_world.licensing.facilities}
    providers = {q.provider_id: q for q in big_world.qris.providers}
    pairs = [
        (facilities[p.license_no], providers[p.qris_provider_id])
        for p in big_world.truth
        if p.license_no and p.qris_provider_id
    ]
    renamed = sum(f.facility_name != q.display_name for f, q in pairs) / len(pairs)
    moved = sum(f.street_addr != q.street for f, q in pairs) / len(pairs)
    assert 0.35 < renamed < 0.75
    assert 0.1 < moved < 0.5
    assert any("&" in q.display_name or " and " in q.display_name for _, q in pairs)
    assert any(q.display_name.isupper() for _, q in pairs)
    # The city, county and ZIP do not drift: a matcher can block on them.
    assert all((f.city, f.zip_code) == (q.city, q.zip) for f, q in pairs)


def test_head_start_centers_under_grantees(big_world: World) -> None:
    hs = big_world.head_start
    assert len(hs.centers) == 200
    sizes = Counter(c.grant_number for c in hs.centers)
    assert set(sizes) == {g.grant_number for g in hs.grantees}
    assert set(sizes.values()) <= {1, 2, 3, 4}
    with_license = [c for c in hs.centers if c.state_license_no]
    assert len(with_license) == 180
    facilities = {f.license_no: f for f in big_world.licensing.facilities}
    assert all(
        facilities[cast(str, c.state_license_no)].license_type == "CENTER" for c in with_license
    )
    truth = {p.head_start_center_id: p for p in big_world.truth if p.head_start_center_id}
    for c in hs.centers:
        program = truth[c.center_id]
        assert program.head_start_grant_number == c.grant_number
        assert c.state_license_no in (None, program.license_no)
    assert sum(1 for p in truth.values() if p.qris_provider_id) == 180


def test_head_start_records_hang_together(world: World) -> None:
    hs = world.head_start
    centers = {c.center_id for c in hs.centers}
    rooms = {r.classroom_id: r for r in hs.classrooms}
    assert all(r.center_id in centers for r in hs.classrooms)
    for s in hs.staff:
        assert s.center_id in centers
        assert s.classroom_id is None or rooms[s.classroom_id].center_id == s.center_id
    assert {o.obs_id for o in hs.observations} == {d.obs_id for d in hs.domain_scores}
    instruments = {"Preschool": "CLASS Pre-K", "Toddler": "CLASS Toddler", "Infant": "CLASS Infant"}
    for o in hs.observations:
        assert o.instrument == instruments[rooms[o.classroom_id].age_group]
    assert {o.center_id for o in hs.observations} == centers
    assert {f.review_id for f in hs.findings} <= {r.review_id for r in hs.reviews}
    assert all(f.amount == f.amount.quantize(f.amount.__class__("0.01")) for f in hs.funding)
    assert {e.program_type for e in hs.enrollment} == {"HS", "EHS"}
    assert any(e.cumulative_enrollment < 10 for e in hs.enrollment)  # small cells to suppress


def test_head_start_staff_in_the_registry(big_world: World) -> None:
    staff = big_world.head_start.staff
    registered = [s for s in staff if s.registry_id]
    assert 0.37 < len(registered) / len(staff) < 0.43
    links = {link.head_start_staff_id: link for link in big_world.staff_links}
    assert set(links) == {s.staff_id for s in registered}
    workforce = {w.registry_id: w for w in big_world.qris.workforce}
    assert len(workforce) == len(big_world.qris.workforce)
    by_center = {p.head_start_center_id: p for p in big_world.truth}
    for s in registered:
        link = links[s.staff_id]
        member = workforce[link.registry_id]
        assert link.registry_id == s.registry_id
        assert member.provider_id == link.qris_provider_id
        assert by_center[s.center_id].qris_provider_id == member.provider_id
        assert member.last_name.lower() == s.last_nm.lower()
    # People only QRIS knows about fill most of the registry.
    assert len(workforce) > 2 * len(registered)


def test_qris_children_reference_providers(world: World) -> None:
    q = world.qris
    ids = {p.provider_id for p in q.providers}
    for rows in (q.ratings, q.coaching_visits, q.assessments, q.awards, q.workforce):
        assert {r.provider_id for r in rows} <= ids
    assert {s.assessment_id for s in q.subscales} == {a.assessment_id for a in q.assessments}
    assert {t.registry_id for t in q.trainings} <= {w.registry_id for w in q.workforce}
    hours: Counter[str] = Counter()
    for t in q.trainings:
        hours[t.registry_id] += int(t.clock_hours * 10)
    assert all(hours[w.registry_id] == int(w.pd_hours * 10) for w in q.workforce)
    rated = [p for p in q.providers if p.rating_level is not None]
    assert 0.85 < len(rated) / len(q.providers) < 0.99
    active = {r.provider_id: r.level for r in q.ratings if r.status == "Active"}
    assert active == {p.provider_id: p.rating_level for p in rated}


def test_ground_truth_covers_every_record(world: World) -> None:
    truth: list[ProgramTruth] = world.truth
    assert {p.license_no for p in truth if p.license_no} == {
        f.license_no for f in world.licensing.facilities
    }
    assert {p.qris_provider_id for p in truth if p.qris_provider_id} == {
        q.provider_id for q in world.qris.providers
    }
    assert {p.head_start_center_id for p in truth if p.head_start_center_id} == {
        c.center_id for c in world.head_start.centers
    }


def test_a_world_with_more_head_start_centers_than_the_old_serial_pool() -> None:
    # 11,000 programs give ~2,200 Head Start programs: more grants than 2,000 serials allowed.
    world = generate_world(11_000)
    grants = [g.grant_number for g in world.head_start.grantees]
    assert len(grants) == len(set(grants))
    assert all(len(g) == 10 for g in grants)


def test_capacity_by_age_adds_up_to_each_facility_s_capacity(big_world: World) -> None:
    places: dict[str, list[tuple[str, int]]] = {}
    for row in big_world.licensing.capacities:
        places.setdefault(row.license_no, []).append((row.age_group, row.places))
    for facility in big_world.licensing.facilities:
        groups = places[facility.license_no]
        assert [age for age, _ in groups] == facility.ages_served.split(", ")
        assert sum(n for _, n in groups) == facility.capacity
        assert all(n >= 1 for _, n in groups), groups
    ids = [row.capacity_id for row in big_world.licensing.capacities]
    assert ids == list(range(1, len(ids) + 1))


def test_every_facility_has_its_county_s_licensing_consultant(big_world: World) -> None:
    contacts = big_world.licensing.contacts
    assert [c.license_no for c in contacts] == [
        f.license_no for f in big_world.licensing.facilities
    ]
    by_county: dict[str, set[str]] = {}
    for facility, contact in zip(big_world.licensing.facilities, contacts, strict=True):
        assert contact.contact_role == "Licensing Consultant"
        assert re.fullmatch(r"[a-z]+\.[a-z]+@licensing\.cl\.example", contact.email_addr)
        assert re.fullmatch(r"\(555\) 010-\d{4}", contact.phone_no)
        by_county.setdefault(facility.county_name, set()).add(contact.contact_name)
    assert all(len(names) == 1 for names in by_county.values()), by_county
    assert len({n for names in by_county.values() for n in names}) > 1


def test_every_qris_provider_has_its_coach_as_contact(big_world: World) -> None:
    q = big_world.qris
    coach = {c.provider_id: c.full_name for c in q.contacts}
    assert list(coach) == [p.provider_id for p in q.providers]
    visits: dict[str, Counter[str]] = {}
    for visit in q.coaching_visits:
        visits.setdefault(visit.provider_id, Counter())[visit.coach_name] += 1
    for pid, seen in visits.items():
        assert seen[coach[pid]] == max(seen.values())  # the coach of most visits
    assert {c.role for c in q.contacts} == {"QRIS Coach"}


def test_accreditations_of_top_rated_providers(big_world: World) -> None:
    q = big_world.qris
    providers = {p.provider_id: p for p in q.providers}
    accredited = {a.provider_id: a for a in q.accreditations}
    top = {p.provider_id for p in q.providers if (p.rating_level or 0) >= 4}
    assert set(accredited) == top and top
    for pid, a in accredited.items():
        p = providers[pid]
        assert a.agency == ("NAFCC" if p.program_type == "FamilyChildCare" else "NAEYC")
        assert p.rating_effective is not None
        assert a.start_date < p.rating_effective <= a.end_date
        assert a.status == ("Accredited" if a.end_date >= big_world.as_of else "Expired")
    assert {a.agency for a in q.accreditations} == {"NAEYC", "NAFCC"}
