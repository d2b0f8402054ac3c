"""Merge rules applied to hand-made records: which value a merged object shows, in what order
the others follow, and when sources count as disagreeing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest

from ecehub.config.model import Config, MergeFieldRule, MergeRule
from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Merged, SharedIdentifierIdentity
from ecehub.crosswalk.merge_policy import (
    SAME_READ,
    FieldValue,
    MergePolicy,
    comparable,
    conflicting,
)
from ecehub.sources.loaders import Loaders

T0 = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def rec(source: str, fetched_at: dt.datetime = T0, **fields: Any) -> Record:
    return Record(source, "program", f"{source}-1", dict(fields), fetched_at=fetched_at)


# In source precedence: licensing, head_start, qris.
RECORDS = [
    rec("licensing", name="ABC Learning Center", phone="(555) 201-3344", email=None),
    rec("head_start", name="ABC Lrng Ctr", phone="555.201.3344"),
    rec("qris", name="A.B.C. Learning Center LLC", phone="555-201-9999", email="info@abc.example"),
]


def merged(rules: dict[str, MergeFieldRule], records: list[Record] = RECORDS) -> Merged:
    return Merged("program", "LICENSE_NUMBER:CCL-1", list(records), MergePolicy({"program": rules}))


def sources(m: Merged, name: str) -> list[str]:
    return [fv.source for fv in m.ranked(name)]


def test_without_rules_the_first_non_null_by_precedence_is_shown() -> None:
    m = Merged("program", "LICENSE_NUMBER:CCL-1", list(RECORDS))
    assert m.value("name") == "ABC Learning Center"
    assert (email := m.field("email")) is not None and email.source == "qris"
    assert m.field("city") is None
    assert sources(m, "name") == ["licensing", "head_start", "qris"]


def test_prefer_tries_its_sources_in_order_then_the_rest_by_precedence() -> None:
    m = merged({"name": MergeFieldRule(prefer=["qris", "head_start"])})
    shown = m.field("name")
    assert shown is not None
    assert (shown.value, shown.source, shown.fetched_at) == (
        "A.B.C. Learning Center LLC",
        "qris",
        T0,
    )
    assert sources(m, "name") == ["qris", "head_start", "licensing"]
    # Other fields keep the default.
    assert cast(FieldValue, m.field("phone")).source == "licensing"


def test_prefer_falls_back_when_the_preferred_source_has_no_value() -> None:
    m = merged(
        {"email": MergeFieldRule(prefer=["licensing"]), "name": MergeFieldRule(prefer=["x"])}
    )
    assert cast(FieldValue, m.field("email")).source == "qris"
    assert cast(FieldValue, m.field("name")).source == "licensing"


def test_most_recent_by_a_date_field_of_the_record() -> None:
    records = [
        rec("licensing", qris_level=2, qris_rated_on=dt.date(2024, 5, 1)),
        rec("head_start", qris_level=3),  # undated: after every dated value
        rec("qris", qris_level=4, qris_rated_on=dt.date(2025, 9, 1)),
        rec("pre_k", qris_level=1, qris_rated_on=dt.date(2025, 9, 1)),  # ties go by order
    ]
    m = merged({"qris_level": MergeFieldRule(strategy="most_recent", by="qris_rated_on")}, records)
    assert m.value("qris_level") == 4
    assert sources(m, "qris_level") == ["qris", "pre_k", "licensing", "head_start"]
    # ``prefer`` breaks the tie.
    m = merged(
        {
            "qris_level": MergeFieldRule(
                strategy="most_recent", by="qris_rated_on", prefer=["pre_k"]
            )
        },
        records,
    )
    assert sources(m, "qris_level") == ["pre_k", "qris", "licensing", "head_start"]


def test_most_recent_compares_naive_and_aware_datetimes_and_dates() -> None:
    records = [
        rec("licensing", phone="1", seen=dt.datetime(2025, 1, 1, 9, 0)),  # naive: UTC
        rec("qris", phone="2", seen=dt.datetime(2025, 1, 1, 9, 30, tzinfo=dt.UTC)),
    ]
    m = merged({"phone": MergeFieldRule(strategy="most_recent", by="seen")}, records)
    assert m.value("phone") == "2"


def test_most_recent_by_fetched_at_takes_a_fresher_read_but_not_a_race() -> None:
    stale = T0 - dt.timedelta(seconds=25)  # e.g. a cached copy
    rule = {"phone": MergeFieldRule(strategy="most_recent")}
    m = merged(rule, [rec("licensing", stale, phone="1"), rec("qris", T0, phone="2")])
    assert m.value("phone") == "2"
    # Read in the same query moments apart: equally recent, so precedence decides.
    moments = T0 + SAME_READ / 2
    m = merged(rule, [rec("licensing", T0, phone="1"), rec("qris", moments, phone="2")])
    assert sources(m, "phone") == ["licensing", "qris"]


def test_conflicts_list_every_value_winner_first_and_ignore_formatting() -> None:
    m = merged({"name": MergeFieldRule(prefer=["qris"])})
    assert [fv.source for fv in m.conflicts("name")] == ["qris", "licensing", "head_start"]
    # Licensing and Head Start write the same phone in their own styles; QRIS differs.
    assert [fv.value for fv in m.conflicts("phone")] == [
        "(555) 201-3344",
        "555.201.3344",
        "555-201-9999",
    ]
    same_phone = merged({}, RECORDS[:2])
    assert same_phone.conflicts("phone") == []
    assert m.conflicts("email") == []  # one non-null value: nothing to disagree with
    assert m.conflicts("city") == []


@pytest.mark.parametrize(
    ("name", "a", "b", "same"),
    [
        ("name", " ABC  Learning\tCenter ", "abc learning center", True),
        ("name", "ABC Learning Center", "ABC Lrng Ctr", False),
        ("email", "Info@ABC.example", "info@abc.example", True),
        ("phone", "+1 (555) 201-3344", "555.201.3344", True),
        ("phone", "555-201-3344", "555-201-3345", False),
        ("licensed_capacity", 40, 40.0, True),
        ("licensed_capacity", Decimal("40.00"), 40, True),
        ("licensed_capacity", 40, 41, False),
        ("license_expires", dt.date(2026, 1, 1), dt.date(2026, 1, 1), True),
        ("license_expires", dt.date(2026, 1, 1), dt.date(2026, 1, 2), False),
        ("credentials", ["CDA", "BA-ECE"], ["ba-ece", "cda "], True),
        ("credentials", ["CDA"], ["CDA", "BA-ECE"], False),
    ],
)
def test_values_compare_sensibly(name: str, a: Any, b: Any, same: bool) -> None:
    assert (comparable(name, a) == comparable(name, b)) is same
    values = merged({}, [rec("licensing", **{name: a}), rec("qris", **{name: b})]).ranked(name)
    assert conflicting(name, values) is not same


def test_the_identity_hands_the_configs_rules_to_every_merged_object() -> None:
    rule = MergeRule(match_on=["LICENSE_NUMBER"], fields={"name": MergeFieldRule(prefer=["qris"])})
    identity = SharedIdentifierIdentity(
        Config(merge={"program": rule}), loaders=cast(Loaders, None)
    )
    records = [rec("licensing", name="A"), rec("qris", name="B")]
    for r in records:
        r.identifiers["LICENSE_NUMBER"] = "CCL-1"
    [m] = identity.group("program", records)
    assert m.value("name") == "B"
    # Built without a policy, a merged object keeps the default.
    assert Merged("program", m.hub_id, records).value("name") == "A"
