"""The Python filter evaluator: the meaning every connector's pushed-down filter must have."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecehub.connectors import FieldFilter, Record, matches


def _record(**fields: object) -> Record:
    return Record(
        source="s",
        entity="program",
        key="1",
        fields=dict(fields),
        identifiers={"LICENSE_NUMBER": "CCL-1"},
    )


@pytest.mark.parametrize(
    ("fields", "flt", "expected"),
    [
        ({"name": "ABC Learning Ctr"}, FieldFilter("name", "contains", "learning"), True),
        ({"name": "ABC Learning Ctr"}, FieldFilter("name", "eq", " abc learning ctr "), True),
        ({"name": "ABC"}, FieldFilter("name", "in", "ABC"), True),
        ({"name": "ABC"}, FieldFilter("name", "in", ["x", "abc"]), True),
        ({"name": "ABC"}, FieldFilter("name", "in", ["A", "B"]), False),
        ({"qris_level": 3}, FieldFilter("qris_level", "eq", "3"), True),
        ({"qris_level": 3}, FieldFilter("qris_level", "in", ["03", "4"]), True),
        ({"qris_level": 3}, FieldFilter("qris_level", "gte", 3), True),
        ({"qris_level": 3}, FieldFilter("qris_level", "lte", 2), False),
        (
            {"license_expires": dt.date(2026, 5, 1)},
            FieldFilter("license_expires", "gte", "2026-01-01"),
            True,
        ),
        (
            {"license_expires": dt.date(2026, 5, 1)},
            FieldFilter("license_expires", "lte", dt.date(2026, 1, 1)),
            False,
        ),
        ({"name": None}, FieldFilter("name", "contains", ""), False),
        ({}, FieldFilter("identifier:LICENSE_NUMBER", "in", ["ccl-1"]), True),
        ({}, FieldFilter("identifier:LICENSE_NUMBER", "eq", "CCL-2"), False),
        ({"qris_level": 3}, FieldFilter("qris_level", "gte", "high"), False),
    ],
)
def test_matches(fields: dict[str, object], flt: FieldFilter, expected: bool) -> None:
    assert matches(_record(**fields), [flt]) is expected


def test_list_and_decimal_fields() -> None:
    staff = Record("s", "staff", "1", {"credentials": ["CDA", "BA-ECE"]})
    assert matches(staff, [FieldFilter("credentials", "eq", "cda")])
    assert matches(staff, [FieldFilter("credentials", "contains", "ba-e")])
    money = Record("s", "funding", "1", {"amount": Decimal("2500.00")})
    assert matches(money, [FieldFilter("amount", "gte", "2500")])
    assert matches(money, [FieldFilter("amount", "eq", "2500.0")])
