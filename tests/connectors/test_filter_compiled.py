"""The compiled filters (``FieldFilter.predicate``, behind ``matches``) against the evaluator
they replaced, which normalised every filter value again for every record: the same answer,
or the same exception, on random records and filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ecehub.config.canonical import ENTITIES, FieldType, coerce, is_identifier_field
from ecehub.connectors import FieldFilter, Record, matches
from ecehub.connectors.base import FilterOp

# -- the evaluator before issue 12 (ecehub/connectors/base.py at 3aadfcc), the reference ------


def _kind(record: Record, field_name: str) -> FieldType:
    if is_identifier_field(field_name):
        return "str"
    spec = ENTITIES.get(record.entity)
    return spec.fields.get(field_name, "str") if spec else "str"


def _same(value: Any, wanted: Any, kind: FieldType) -> bool:
    if kind == "list":
        return any(_same(v, wanted, "str") for v in value)
    if kind == "str":
        return str(value).strip().casefold() == str(wanted).strip().casefold()
    try:
        return bool(value == coerce(kind, wanted))
    except (ValueError, TypeError, ArithmeticError):
        return False


def _compare(value: Any, op: FilterOp, wanted: Any, kind: FieldType) -> bool:
    if value is None:
        return False
    if op == "eq":
        return _same(value, wanted, kind)
    if op == "in":
        pool = [wanted] if isinstance(wanted, str) or not hasattr(wanted, "__iter__") else wanted
        return any(_same(value, w, kind) for w in pool)
    if op == "contains":
        text = ", ".join(value) if kind == "list" else str(value)
        return str(wanted).casefold() in text.casefold()
    try:
        bound = coerce(kind, wanted)
        if op == "gte":
            return bool(value >= bound)
        return bool(value <= bound)
    except (TypeError, ValueError, ArithmeticError):
        return False


def reference_matches(record: Record, filters: Iterable[FieldFilter]) -> bool:
    return all(
        _compare(record.get(f.field), f.op, f.value, _kind(record, f.field)) for f in filters
    )


# -- random records and filters ------------------------------------------------------------------

_FIELDS = {
    "program": ["name", "city", "qris_level", "licensed_capacity", "license_expires"],
    "staff": ["first_name", "credentials", "pd_hours", "hire_date", "birth_year"],
    "funding": ["amount", "purpose", "period_start"],
    "not_an_entity": ["name"],
}
_SYSTEMS = ["LICENSE_NUMBER", "REGISTRY_ID"]

_text = st.text(alphabet=st.sampled_from("aAbB1 -.ßSsİi\u00e9E"), max_size=6)
_scalars = st.one_of(
    st.none(),
    _text,
    st.integers(-3, 3),
    st.floats(allow_infinity=True, allow_nan=True, width=32),
    st.decimals(allow_nan=True, places=2, min_value=-5, max_value=5) | st.just(Decimal("sNaN")),
    st.dates(dt.date(2025, 12, 30), dt.date(2026, 1, 2)),
    st.datetimes(dt.datetime(2025, 12, 31), dt.datetime(2026, 1, 2)),
    st.booleans(),
    st.sampled_from(["3", "03", " 3 ", "3.0", "2026-01-01", "2026-01-01T00:00:00", ""]),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4), st.lists(_text, max_size=3))


def _canonical(kind: FieldType) -> st.SearchStrategy[Any]:
    """A record value as ``make_record`` gives it for a field of ``kind`` (or an odd one)."""
    match kind:
        case "int":
            base: st.SearchStrategy[Any] = st.integers(-3, 3)
        case "float":
            base = st.floats(allow_nan=True, width=32)
        case "decimal":
            base = st.decimals(allow_nan=True, places=2, min_value=-5, max_value=5)
        case "date":
            base = st.dates(dt.date(2025, 12, 30), dt.date(2026, 1, 2))
        case "datetime":
            base = st.datetimes(dt.datetime(2025, 12, 31), dt.datetime(2026, 1, 2))
        case "list":
            base = st.lists(_text, max_size=3)
        case _:
            base = _text
    return st.one_of(base, st.none(), _scalars)


@st.composite
def records(draw: st.DrawFn) -> Record:
    entity = draw(st.sampled_from(sorted(_FIELDS)))
    spec = ENTITIES.get(entity)
    fields: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(_FIELDS[entity]), unique=True)):
        kind: FieldType = spec.fields.get(name, "str") if spec else "str"
        fields[name] = draw(_canonical(kind))
    identifiers = {s: draw(_text) for s in draw(st.lists(st.sampled_from(_SYSTEMS), unique=True))}
    return Record("s", entity, "1", fields, identifiers)


@st.composite
def filters(draw: st.DrawFn) -> FieldFilter:
    names = sorted({n for ns in _FIELDS.values() for n in ns}) + [
        f"identifier:{s}" for s in _SYSTEMS
    ]
    op: FilterOp = draw(st.sampled_from(["eq", "in", "contains", "gte", "lte"]))
    return FieldFilter(draw(st.sampled_from(names)), op, draw(_values))


def _outcome(evaluate: Any, record: Record, flts: list[FieldFilter]) -> object:
    try:
        return evaluate(record, flts)
    except Exception as exc:  # the same exception is the same behaviour
        return type(exc)


@settings(max_examples=3000, deadline=None)
@given(st.lists(records(), min_size=1, max_size=5), st.lists(filters(), max_size=3))
def test_compiled_filters_answer_as_the_old_evaluator(
    rows: list[Record], flts: list[FieldFilter]
) -> None:
    for record in rows:  # one compiled filter, reused over several records
        assert _outcome(matches, record, flts) == _outcome(reference_matches, record, flts)


def test_an_in_filter_of_many_values_is_compiled_once() -> None:
    flt = FieldFilter("identifier:LICENSE_NUMBER", "in", [f" ccl-{i} " for i in range(2000)])
    rows = [
        Record("s", "program", str(i), {}, {"LICENSE_NUMBER": f"CCL-{i * 3}"}) for i in range(2000)
    ]
    found = [r.key for r in rows if matches(r, [flt])]
    assert found == [str(i) for i in range(667)]
    assert flt.predicate("program") is flt.predicate("program")
    # The filter is still the value it was: equal to, and hashed as, an uncompiled one.
    assert flt == FieldFilter("identifier:LICENSE_NUMBER", "in", flt.value)
    assert "_compiled" not in repr(flt)
