"""The program matcher on small hand-made cases: one per kind of noise the demo generator
makes, plus the deterministic pass, one-to-one assignment and the thresholds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecehub.crosswalk import MatcherConfig, MatchRecord, MatchResult, match
from ecehub.crosswalk.matcher import candidate_pairs
from ecehub.crosswalk.normalize import (
    identifier_skeleton,
    normalize_address,
    normalize_identifier,
    normalize_name,
    normalize_phone,
)

LICENSE = "LICENSE_NUMBER"
CONFIG = MatcherConfig(identifier_systems=(LICENSE,), auto_link=0.95, suggest=0.5)


def facility(
    key: str = "CCL-123456",
    name: str = "ABC Learning Center",
    address: str = "123 N Main St Ste 4",
    city: str = "Mesa Verde",
    zip: str = "87101",
    phone: str | None = "(555) 201-3344",
    email: str | None = "director@abclearning.example",
) -> MatchRecord:
    return MatchRecord(
        source="licensing",
        key=key,
        name=name,
        address=address,
        city=city,
        zip=zip,
        phone=phone,
        email=email,
        identifiers={LICENSE: key},
    )


def provider(
    key: str = "Q-00042",
    name: str = "ABC Learning Center",
    address: str = "123 N Main St Ste 4",
    city: str = "Mesa Verde",
    zip: str = "87101",
    phone: str | None = "555-201-3344",
    email: str | None = "director@abclearning.example",
    license_no: str | None = None,
) -> MatchRecord:
    return MatchRecord(
        source="qris",
        key=key,
        name=name,
        address=address,
        city=city,
        zip=zip,
        phone=phone,
        email=email,
        identifiers={LICENSE: license_no},
    )


def only(results: list[MatchResult]) -> MatchResult:
    assert len(results) == 1, results
    return results[0]


# --- Normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ABC Learning Center", "A.B.C. Learning Ctr, LLC"),
        ("Jack & Jill Preschool", "JACK AND JILL PRE-SCHOOL"),
        ("Kiddie Kampus Academy", "The Kiddie Kampus Acad."),
        ("Open Arms Daycare, Inc.", "Open Arms Day Care"),
        ("Learning Tree Early Learning Center", "Lrng Tree Early Lrng Ctr Inc"),
        ("Smith Family Child Care", "Smith FCC"),
        ("Wee Care Child Development Center", "Wee Care CDC, LLC"),
        ("Maria's Little Ones", "Marias Little Ones"),
    ],
)
def test_names_normalise_alike(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_name_normalisation_keeps_what_tells_programs_apart() -> None:
    assert normalize_name("Sunshine Academy 2") == "sunshine academy 2"
    assert normalize_name("The") == "the"
    assert normalize_name("") == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("123 N Main St Ste 4", "123 NORTH MAIN STREET SUITE 4"),
        ("123 N Main St Ste 4", "123 North Main St # 4"),
        ("77 Oak Ave Apt 2", "77 Oak Avenue Unit 2"),
    ],
)
def test_addresses_normalise_alike(a: str, b: str) -> None:
    assert normalize_address(a) == normalize_address(b)


def test_phones_identifiers_normalise() -> None:
    assert normalize_phone("(555) 201-3344") == normalize_phone("555.201.3344") == "5552013344"
    assert normalize_phone("+1 555 201 3344") == "5552013344"
    assert normalize_phone("n/a") == ""
    assert normalize_identifier(" ccl-123456 ") == "CCL-123456"
    assert normalize_identifier(None) == ""
    assert identifier_skeleton("CCL-123456") == identifier_skeleton("ccl123456")


# --- Deterministic pass --------------------------------------------------------------------


def test_same_license_links_deterministically_despite_case_and_spaces() -> None:
    result = only(
        match(
            [facility()],
            [provider(name="Something Else Entirely", license_no=" ccl-123456 ")],
            CONFIG,
        )
    )
    assert (result.left_key, result.right_key) == ("CCL-123456", "Q-00042")
    assert result.score == 1.0
    assert result.status == "auto"
    assert result.method == "deterministic"
    assert result.reasons == ("same LICENSE_NUMBER CCL-123456",)


def test_identifier_shared_by_two_records_is_left_to_scoring() -> None:
    results = match(
        [facility()],
        [
            provider(key="Q-1", license_no="CCL-123456"),
            provider(
                key="Q-2",
                name="Rainbow Preschool",
                address="9 Elm Rd",
                phone="555-999-0000",
                email=None,
                license_no="CCL-123456",
            ),
        ],
        CONFIG,
    )
    result = only(results)
    assert result.right_key == "Q-1"
    assert result.method == "probabilistic"


# --- Each kind of noise --------------------------------------------------------------------


def assert_auto(left: MatchRecord, right: MatchRecord, *reason_parts: str) -> MatchResult:
    result = only(match([left], [right], CONFIG))
    assert result.status == "auto", result
    assert (result.left_key, result.right_key) == (left.key, right.key)
    text = "; ".join(result.reasons)
    for part in reason_parts:
        assert part in text, text
    return result


def test_typo_in_name() -> None:
    assert_auto(facility(name="Sunshine Academy"), provider(name="Sunshine Acadmey"), "same phone")


def test_abbreviation() -> None:
    assert_auto(facility(), provider(name="ABC Lrng Ctr"), "names 100% alike")


def test_legal_suffix() -> None:
    assert_auto(facility(name="Open Arms Daycare"), provider(name="Open Arms Daycare, Inc."))


def test_swapped_words() -> None:
    assert_auto(facility(name="Learning Tree Academy"), provider(name="Academy Learning Tree"))


def test_dotted_acronym_with_suffix() -> None:
    result = assert_auto(
        facility(),
        provider(name="A.B.C. Learning Ctr, LLC"),
        "names 100% alike (ABC Learning Center ~ A.B.C. Learning Ctr, LLC)",
        "same phone",
        "same ZIP 87101",
    )
    assert result.score >= 0.99


def test_ampersand() -> None:
    assert_auto(facility(name="Jack & Jill Preschool"), provider(name="JACK AND JILL PRESCHOOL"))


def test_reformatted_address() -> None:
    assert_auto(
        facility(),
        provider(address="123 NORTH MAIN STREET SUITE 4", email=None),
        "same address",
    )


def test_missing_id_links_on_the_rest() -> None:
    result = assert_auto(facility(), provider(license_no=None))
    assert result.method == "probabilistic"


def test_mistyped_id() -> None:
    assert_auto(facility(), provider(license_no="CCL-123465"), "likely mistyped")


def test_mistyped_id_that_loses_its_dash_is_not_another_facilitys_number() -> None:
    # CCL-559078 keyed as CCL559079: punctuation-insensitive, that is facility CCL-559079.
    ours = facility(key="CCL-559078")
    other = facility(
        key="CCL-559079",
        name="Rainbow Preschool",
        address="9 Elm Rd",
        phone="(555) 999-0000",
        email=None,
    )
    results = match([ours, other], [provider(license_no="CCL559079")], CONFIG)
    result = only(results)
    assert result.left_key == "CCL-559078"
    assert result.method == "probabilistic"


def test_same_name_different_program_does_not_link() -> None:
    # unique names in a state are rare: "Sunshine Academy" in two towns are two programs.
    left = facility(name="Sunshine Academy", email="director@sunshineacademy.example")
    right = provider(
        name="Sunshine Academy, LLC",
        address="4410 W Canyon Rd",
        city="Dry Wells",
        zip="87398",
        phone="555-480-1177",
        email="director@sunshineacademy.example",
    )
    assert match([left], [right], CONFIG) == []


def test_same_brand_numbered_programs_in_one_zip_do_not_link() -> None:
    left = facility(name="Sunshine Academy 2", email="director@sunshineacademy.example")
    right = provider(
        name="Sunshine Academy 3",
        address="88 Lake Dr",
        phone="555-480-1177",
        email="director@sunshineacademy.example",
    )
    assert match([left], [right], CONFIG) == []


def test_weak_evidence_is_suggested_with_reasons() -> None:
    # Same address and ZIP and a name that says more, but no phone or email to confirm it.
    result = only(
        match(
            [facility(name="Little Explorers Preschool")],
            [provider(name="Little Explorers Preschool & Kindergarten", phone=None, email=None)],
            CONFIG,
        )
    )
    assert result.status == "suggested", result
    assert CONFIG.suggest <= result.score < CONFIG.auto_link
    assert any("same address" in reason for reason in result.reasons)


def test_legal_form_and_the_moved_to_the_middle_by_swapped_words() -> None:
    assert normalize_name("Inc, The Maria Okafor Family Child Care Home") == normalize_name(
        "Maria Okafor Family Child Care Home"
    )
    assert normalize_name("Open Arms Academy, LLC of Pine Bluff Inc") == normalize_name(
        "Open Arms Academy of Pine Bluff"
    )
    assert_auto(
        facility(name="Maria Okafor Family Child Care Home"),
        provider(name="Inc, The Maria Okafor Family Child Care Home", phone="555-000-1111"),
        "names 100% alike",
    )


def test_head_start_suffix() -> None:
    assert normalize_name("Sunshine Academy Early Head Start") == "sunshine academy"
    assert normalize_name("Head Start") == "head start"
    assert_auto(
        provider(name="Sunshine Academy Head Start", phone="555.201.3344", email=None),
        facility(name="Sunshine Academy"),
        "names 100% alike",
    )


def test_unit_dropped() -> None:
    assert_auto(
        facility(),
        provider(address="123 N Main St", phone="555-000-1111", email=None),
        "same street address, unit on one side only",
    )


def test_typo_in_the_street_line() -> None:
    assert_auto(
        facility(),
        provider(address="123 N Mian St Ste 4", phone="555-000-1111"),
        "addresses 9",
    )
    assert_auto(
        facility(),
        provider(address="132 N Main St Ste 4", phone="555-000-1111"),
        "street numbers alike but for two swapped digits (123 ~ 132)",
    )


def test_moved_program_links_on_name_and_phone() -> None:
    assert_auto(
        facility(),
        provider(address="9 Elm Rd", zip="87100", license_no="CCL-123465"),
        "different street numbers",
        "other ZIP in the same city",
        "same phone",
    )


def test_moved_with_a_new_phone_and_no_license_is_not_auto_linked() -> None:
    results = match(
        [facility()], [provider(address="9 Elm Rd", phone="555-000-1111", email=None)], CONFIG
    )
    assert all(r.status == "suggested" for r in results)


def test_namesake_in_another_suite_of_the_building_is_a_rival() -> None:
    # Two "Little Sprouts Academy" in one building; QRIS left the suite out.
    here = facility(key="CCL-100001", name="Little Sprouts Academy", address="50 Oak St Ste 1")
    there = replace(here, key="CCL-100002", address="50 Oak St Ste 2", identifiers={})
    results = match(
        [here, there], [provider(name="Little Sprouts Academy", address="50 Oak St")], CONFIG
    )
    result = only(results)
    assert result.status == "suggested"
    assert "another candidate scores nearly as high" in result.reasons


def test_namesake_on_the_same_phone_line_is_not_a_rival_when_the_address_tells() -> None:
    here = facility(key="CCL-100001", name="Little Sprouts Academy")
    there = facility(key="CCL-100002", name="Little Sprouts Academy", address="9 Elm Rd")
    result = only(match([here, there], [provider(name="LITTLE SPROUTS ACADEMY")], CONFIG))
    assert (result.left_key, result.status) == ("CCL-100001", "auto")


def test_license_copied_from_another_facilitys_file() -> None:
    # QRIS keyed Rainbow Preschool's number for ABC Learning Center: the exact identifier
    # must not link them, and it must not count against the right facility either.
    ours = facility(key="CCL-123456")
    theirs = facility(
        key="CCL-987654",
        name="Rainbow Preschool",
        address="9 Elm Rd",
        city="Dry Wells",
        zip="87398",
        phone="(555) 999-0000",
        email="hello@rainbow.example",
    )
    result = only(match([ours, theirs], [provider(license_no="CCL-987654")], CONFIG))
    assert (result.left_key, result.status, result.method) == (
        "CCL-123456",
        "auto",
        "probabilistic",
    )
    assert any("one of them unreliable" in reason for reason in result.reasons)


def test_identifier_held_by_two_records_does_not_count_against_either() -> None:
    result = only(
        match(
            [facility(key="CCL-123456")],
            [
                provider(key="Q-1", license_no="CCL-555555", phone="555-000-1111"),
                provider(
                    key="Q-2",
                    name="Rainbow Preschool",
                    address="9 Elm Rd",
                    phone="555-999-0000",
                    email=None,
                    license_no="CCL-555555",
                ),
            ],
            CONFIG,
        )
    )
    assert (result.right_key, result.status) == ("Q-1", "auto")


# --- Assignment and config -----------------------------------------------------------------


def test_one_to_one_best_pair_wins() -> None:
    left = [facility()]
    right = [
        provider(key="Q-weaker", phone="555-480-1177", email=None),
        provider(key="Q-best"),
    ]
    result = only(match(left, right, CONFIG))
    assert result.right_key == "Q-best"


def test_rival_candidates_are_suggested_not_auto_linked() -> None:
    twin = provider(key="Q-a")
    results = match([facility()], [twin, replace(twin, key="Q-b")], CONFIG)
    result = only(results)
    assert result.status == "suggested"
    assert "another candidate scores nearly as high" in result.reasons


def test_no_identifier_systems_means_scoring_only() -> None:
    result = only(match([facility()], [provider(license_no="CCL-123456")], MatcherConfig()))
    assert result.method == "probabilistic"
    assert result.status == "auto"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"auto_link": 0.5, "suggest": 0.9},
        {"auto_link": 1.5},
        {"max_block_pairs": 0},
        {"rival_odds": 0.5},
    ],
)
def test_config_rejects_bad_thresholds(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        MatcherConfig(**kwargs)  # type: ignore[arg-type]


def test_empty_inputs() -> None:
    assert match([], [provider()], CONFIG) == []
    assert match([facility()], [], CONFIG) == []


# --- Geography -----------------------------------------------------------------------------


def test_records_of_two_states_are_never_linked_however_alike() -> None:
    # Everything agrees but the state: a chain's centres in two states, or a name-only
    # source's program next door across the line. Never one program.
    same = replace(facility(), state="DC")
    other = replace(provider(license_no="CCL-123456"), state="MD")
    assert match([same], [other], CONFIG) == []
    # The same license number in two states names two programs (numbers are per state).
    assert match([same], [replace(provider(license_no="CCL-123456"), state="VA")], CONFIG) == []


def test_state_written_either_way_or_on_one_side_only_does_not_block() -> None:
    dc = replace(facility(), state=" dc ")
    assert only(match([dc], [replace(provider(), state="DC")], CONFIG)).status == "auto"
    assert only(match([dc], [provider()], CONFIG)).status == "auto"  # one side has no state


def test_a_name_only_record_pairs_within_its_state_only() -> None:
    # A name-and-state-only source (no address, ZIP or phone): of same-named facilities in
    # three states, only its own state's is a candidate.
    bare = MatchRecord(source="directory", key="D-1", name="ABC Learning Center", state="DC")
    facilities = [
        replace(facility(key=f"CCL-{n}"), state=state)
        for n, state in (("1", "MD"), ("2", "DC"), ("3", "VA"))
    ]
    results = match(facilities, [bare], MatcherConfig((LICENSE,), auto_link=0.95, suggest=0.1))
    assert [(r.left_key, r.right_key) for r in results] == [("CCL-2", "D-1")]


def test_a_source_record_brings_its_state_to_the_matcher() -> None:
    from ecehub.connectors.base import Record
    from ecehub.crosswalk.proposals import match_record

    record = Record("directory", "program", "D-1", {"name": "ABC", "state": "DC"})
    assert match_record(record).state == "DC"
    assert match_record(Record("directory", "program", "D-2", {"name": "ABC"})).state is None


def test_the_same_license_number_in_two_states_links_within_each_state() -> None:
    # Numbers are per state: CCL-1 in MD and CCL-1 in VA are two programs, each linked to
    # its own state's record (before, two holders on a side made the number unreliable).
    left = [replace(facility(key=f"L-{s}"), identifiers={LICENSE: "CCL-1"}, state=s) for s in "AB"]
    right = [replace(provider(key=f"Q-{s}", license_no="CCL-1"), state=s) for s in "BA"]
    results = match(left, right, CONFIG)
    assert sorted((r.left_key, r.right_key, r.method) for r in results) == [
        ("L-A", "Q-A", "deterministic"),
        ("L-B", "Q-B", "deterministic"),
    ]


def test_a_record_without_a_state_is_only_suggested_unless_the_zip_agrees() -> None:
    stated = replace(facility(), state="DC")
    no_state = provider(license_no="CCL-123456")
    assert only(match([stated], [no_state], CONFIG)).status == "auto"  # same ZIP 87101
    elsewhere = replace(no_state, zip=None)
    result = only(match([stated], [elsewhere], CONFIG))
    assert result.status == "suggested"
    assert any("state unknown" in r for r in result.reasons)


STATES = ("DC", "MD", "VA", "de", None)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(STATES), st.booleans(), st.booleans()), max_size=6),
    st.lists(st.tuples(st.sampled_from(STATES), st.booleans(), st.booleans()), max_size=6),
)
def test_no_pair_of_two_states_is_ever_proposed(
    lefts: list[tuple[str | None, bool, bool]], rights: list[tuple[str | None, bool, bool]]
) -> None:
    # Records alike in everything (or name-only), in random states: whatever is proposed
    # is within one state, and nothing is auto-linked unless both sides give that state or
    # share a ZIP, or neither of the two gives one (records without a state are taken to be
    # of one state, as the matcher documents: a single-state setup).
    def records(specs: list[tuple[str | None, bool, bool]], side: str) -> list[MatchRecord]:
        out = []
        for n, (state, thin, numbered) in enumerate(specs):
            base = facility(key=f"{side}-{n}") if side == "L" else provider(key=f"{side}-{n}")
            if thin:
                base = MatchRecord(source=base.source, key=base.key, name=base.name)
            if numbered:
                base = replace(base, identifiers={LICENSE: "CCL-123456"})
            out.append(replace(base, state=state))
        return out

    left, right = records(lefts, "L"), records(rights, "R")
    by_key = {r.key: r for r in left + right}
    for result in match(left, right, MatcherConfig((LICENSE,), auto_link=0.95, suggest=0.05)):
        a, b = by_key[result.left_key], by_key[result.right_key]
        sa, sb = (a.state or "").upper(), (b.state or "").upper()
        assert not (sa and sb and sa != sb), result
        if result.status == "auto" and bool(sa) != bool(sb):
            assert a.zip and a.zip == b.zip, result


def test_a_record_without_a_zip_is_compared_within_its_city() -> None:
    # No ZIP and a different street spelling: only the city (and the first name word)
    # brings the two together.
    left = replace(facility(), zip="", phone=None, email=None, address="12 Oak Rd")
    right = replace(
        provider(name="ABC Child Learning Center"),
        zip="",
        phone=None,
        email=None,
        address="12 Oak Road",
    )
    assert candidate_pairs([left], [right], CONFIG) == 1
    assert candidate_pairs([left], [replace(right, city="Elsewhere")], CONFIG) == 0
    assert [r.right_key for r in match([left], [right], CONFIG)] == ["Q-00042"]


def test_blocks_are_per_state() -> None:
    # Fifty same-named programs in each of four states: comparisons grow with each state's
    # records, not with the square of all of them.
    names = [f"Program {n:02d} Learning Center" for n in range(50)]
    left = [
        MatchRecord("licensing", f"L-{s}-{n}", name, zip=f"{s}{n:03d}", state=s)
        for s in ("10", "20", "30", "40")
        for n, name in enumerate(names)
    ]
    right = [replace(r, source="qris", key=r.key.replace("L-", "Q-")) for r in left]
    assert candidate_pairs(left, right, CONFIG) == 200  # one per program, none across states


# --- Name-and-state-only sources -----------------------------------------------------------


def bare(key: str, name: str, state: str | None = "DC", city: str | None = None) -> MatchRecord:
    return MatchRecord(source="qris_list", key=key, name=name, state=state, city=city)


def test_a_name_only_record_is_scored_on_its_name_not_penalised_for_what_it_lacks() -> None:
    # Equal names, one of a kind in the state on both sides: auto-linked.
    dc = replace(facility(), state="DC")
    result = only(match([dc], [bare("B-1", "ABC Learning Ctr")], CONFIG))
    assert result.status == "auto"
    assert any("only program of that name in DC" in r for r in result.reasons)
    # Alike but not equal: suggested, for a person to decide.
    result = only(match([dc], [bare("B-1", "ABC Learning Cennter")], CONFIG))
    assert result.status == "suggested"


def test_a_name_only_record_is_never_auto_linked_when_the_name_is_not_unique() -> None:
    twins = [
        replace(facility(key="CCL-1", zip="87101"), state="DC"),
        replace(facility(key="CCL-2", zip="87102", address="9 Elm St"), state="DC"),
    ]
    result = only(match(twins, [bare("B-1", "ABC Learning Center")], CONFIG))
    assert result.status == "suggested"
    # Nor without a state, nor when the cities disagree.
    dc = replace(facility(), state="DC")
    assert only(match([dc], [bare("B-1", "ABC Learning Center", state=None)], CONFIG)).status == (
        "suggested"
    )
    other_city = bare("B-1", "ABC Learning Center", city="Elsewhere")
    assert only(match([dc], [other_city], CONFIG)).status == "suggested"


def test_a_name_only_record_with_another_first_word_is_still_a_candidate_by_name() -> None:
    dc = replace(facility(name="The Sunshine Academy"), state="DC")
    results = match([dc], [bare("B-1", "Sunshine Academy, LLC")], CONFIG)
    assert [r.right_key for r in results] == ["B-1"]
    assert match([dc], [bare("B-1", "Moonlight Nursery")], CONFIG) == []
