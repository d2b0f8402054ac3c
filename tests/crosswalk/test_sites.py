"""Program-to-sites matching: a facility that matches a site record of a program is proposed
as a site of that program, within its state."""

from __future__ import annotations

from dataclasses import replace

from ecehub.crosswalk import MatcherConfig, MatchRecord, match_sites

CONFIG = MatcherConfig(identifier_systems=("LICENSE_NUMBER",))


def center(key: str, name: str, address: str, state: str = "DC") -> MatchRecord:
    return MatchRecord(source="pir", key=key, name=name, address=address, zip="20001", state=state)


def test_facilities_matching_a_programs_sites_are_proposed_as_its_sites() -> None:
    centers = [
        center("C-1", "Elm Street Head Start", "12 Elm St"),
        center("C-2", "Oak Avenue Early Head Start", "40 Oak Ave"),
        center("C-9", "Unlisted Center", "1 Nowhere Rd"),
    ]
    program_of = {"C-1": "GRANT-1", "C-2": "GRANT-1"}  # C-9 has no program: left out
    facilities = [
        replace(c, source="licensing", key=f"L-{c.key}", name=c.name.replace(" Head Start", ""))
        for c in centers
    ]
    found = match_sites(centers, program_of, facilities, CONFIG)
    assert sorted((m.program_key, m.facility_key, m.site_key) for m in found) == [
        ("GRANT-1", "L-C-1", "C-1"),
        ("GRANT-1", "L-C-2", "C-2"),
    ]
    assert all(m.reasons[0].startswith("matches site") for m in found)


def test_a_facility_in_another_state_is_never_a_site() -> None:
    centers = [center("C-1", "Elm Street Head Start", "12 Elm St", state="DC")]
    facility = replace(centers[0], source="licensing", key="L-1", state="MD")
    assert match_sites(centers, {"C-1": "GRANT-1"}, [facility], CONFIG) == []
