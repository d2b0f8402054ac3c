"""The staff matcher on hand-made people: registry IDs, nicknames and case, the program as
the block, birth year and education where both sides have them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecehub.crosswalk import MatcherConfig, MatchResult, StaffRecord, match_staff
from ecehub.crosswalk.staff import (
    normalize_credentials,
    normalize_education,
    normalize_person_name,
)

REGISTRY = "REGISTRY_ID"
CONFIG = MatcherConfig(identifier_systems=(REGISTRY,))


def head_start(
    key: str = "50001",
    first: str = "Katherine",
    last: str = "Nguyen",
    program: str | None = "Q-00042",
    registry_id: str | None = None,
    birth_year: int | None = 1988,
    education: str = "Baccalaureate",
    credentials: str | None = "CDA,BA-ECE",
) -> StaffRecord:
    return StaffRecord(
        source="head_start",
        key=key,
        first_name=first,
        last_name=last,
        program=program,
        birth_year=birth_year,
        education=education,
        credentials=credentials,
        identifiers={REGISTRY: registry_id},
    )


def registry(
    key: str = "WR1000123",
    first: str = "Katherine",
    last: str = "Nguyen",
    program: str | None = "Q-00042",
    education: str = "BachelorsDegree",
    credentials: tuple[str, ...] = ("ChildDevelopmentAssociate", "StatePreschool"),
) -> StaffRecord:
    return StaffRecord(
        source="qris",
        key=key,
        first_name=first,
        last_name=last,
        program=program,
        education=education,
        credentials=credentials,
        identifiers={REGISTRY: key},
    )


def only(results: list[MatchResult]) -> MatchResult:
    assert len(results) == 1, results
    return results[0]


def test_normalisation_across_vocabularies() -> None:
    assert normalize_person_name("Kate") == normalize_person_name("KATHERINE") == "katherine"
    assert normalize_person_name("O'Brien") == normalize_person_name("OBRIEN")
    assert normalize_education("Baccalaureate") == normalize_education("BachelorsDegree") == "BA"
    assert normalize_education("High School/GED") == normalize_education("HighSchoolDiploma")
    assert normalize_education("Basket weaving") == ""
    assert normalize_credentials("CDA,BA-ECE") == normalize_credentials(
        ("ChildDevelopmentAssociate", "StatePreschool")
    )
    assert normalize_credentials(None) == frozenset()


def test_same_registry_id_links_deterministically() -> None:
    result = only(match_staff([head_start(registry_id="wr1000123 ")], [registry()], CONFIG))
    assert (result.left_key, result.right_key, result.method) == (
        "50001",
        "WR1000123",
        "deterministic",
    )


def test_registry_id_on_the_wrong_person_is_left_to_scoring() -> None:
    results = match_staff(
        [head_start(first="Marcus", last="Okafor", registry_id="WR1000123")], [registry()], CONFIG
    )
    assert results == []


@pytest.mark.parametrize(
    ("first", "last"),
    [("Kate", "Nguyen"), ("Katherine", "NGUYEN"), ("Katherine", "Ngyuen")],
)
def test_missing_registry_id_links_on_name_within_the_program(first: str, last: str) -> None:
    result = only(match_staff([head_start()], [registry(first=first, last=last)], CONFIG))
    assert result.method == "probabilistic"
    assert result.status == "auto", result
    assert "same program Q-00042" in result.reasons


def test_same_name_at_another_program_is_not_compared() -> None:
    assert match_staff([head_start()], [registry(program="Q-00999")], CONFIG) == []
    assert match_staff([head_start(program=None)], [registry()], CONFIG) == []


def test_a_colleague_with_another_first_name_is_not_linked() -> None:
    assert match_staff([head_start()], [registry(first="Maria")], CONFIG) == []


def test_namesakes_in_one_program_are_only_suggested() -> None:
    twin = registry()
    results = match_staff([head_start()], [twin, replace(twin, key="WR1000999")], CONFIG)
    result = only(results)
    assert result.status == "suggested"
    assert "another candidate scores nearly as high" in result.reasons


def test_birth_year_tells_namesakes_apart_where_both_sides_have_it() -> None:
    left = [head_start(key="1", birth_year=1988), head_start(key="2", birth_year=1961)]
    right = [replace(registry(key="WR1"), birth_year=1961)]
    result = only(match_staff(left, right, CONFIG))
    assert (result.left_key, result.status) == ("2", "auto")
    assert "same birth year 1961" in result.reasons


def test_education_levels_that_differ_count_against() -> None:
    result = only(match_staff([head_start()], [registry(education="HighSchoolDiploma")], CONFIG))
    assert result.status == "suggested"
    assert "different education levels (BA / HS)" in result.reasons
