from __future__ import annotations

import random

from ecehub.demo.noise import address_variant, format_phone, mistype_license, name_variant


def test_name_variants_are_the_kinds_clerks_make() -> None:
    rng = random.Random(1)
    variants = {name_variant(rng, "ABC Learning Center", changes=2) for _ in range(300)}
    assert "A.B.C. Learning Center" in variants or "A.B.C. Learning Ctr" in variants
    assert "ABC Learning Ctr" in variants
    assert any(v.endswith((", LLC", ", Inc.", " LLC", " Inc")) for v in variants)
    assert any(v.isupper() for v in variants)
    amp = {name_variant(rng, "Play & Learn Preschool", changes=1) for _ in range(100)}
    assert "Play and Learn Preschool" in amp


def test_a_legal_suffix_is_dropped_whatever_its_case() -> None:
    rng = random.Random(5)
    seen = {name_variant(rng, "KIDS KINGDOM ACADEMY, INC.", changes=1) for _ in range(200)}
    assert "KIDS KINGDOM ACADEMY" in seen
    assert not any(", INC., " in v or v.endswith(", INC., LLC") for v in seen)


def test_address_variants_swap_abbreviations() -> None:
    rng = random.Random(2)
    seen = {address_variant(rng, "123 N Main St Ste 4") for _ in range(50)}
    assert "123 North Main Street Suite 4" in seen
    assert "123 NORTH MAIN STREET SUITE 4" in seen


def test_phone_styles() -> None:
    assert format_phone("5552013344", "paren") == "(555) 201-3344"
    assert format_phone("5552013344", "dash") == "555-201-3344"
    assert format_phone("5552013344", "dot") == "555.201.3344"
    assert format_phone("5552013344", "plain") == "5552013344"


def test_mistyped_license_numbers_never_hit_another_facility() -> None:
    rng = random.Random(3)
    taken = {"CCL-104233", "CCL-140233", "CCL-104234"}
    for _ in range(200):
        wrong = mistype_license(rng, "CCL-104233", taken)
        assert wrong not in taken
        assert wrong != "CCL-104233"
        assert wrong.startswith("CCL")
