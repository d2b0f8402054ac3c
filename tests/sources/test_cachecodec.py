"""Cache entries round-trip records exactly (hypothesis over every value type a record holds:
aware and naive datetimes, dates, Decimals with their exponent, floats, lists, nested maps),
through the real Redis too; and what is read back is only ever data: garbage, foreign keys
and pickles are refused as bad entries, never run."""

from __future__ import annotations

import datetime as dt
import math
import pickle
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecehub.connectors.base import Page, Record
from ecehub.sources.cachecodec import (
    BadEntry,
    Uncacheable,
    decode_entry,
    encode_entry,
)
from ecehub.sources.cachestore import CacheStore
from tests.conftest import REDIS_URL, require_service

text = st.text(max_size=12)
timezones = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(minutes=330))]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.dates(),
    st.datetimes(timezones=timezones),
    st.datetimes(),  # naive ones stay naive
    st.times(),
    text,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(text, inner, max_size=3),
    ),
    max_leaves=8,
)
records = st.builds(
    Record,
    source=st.sampled_from(["qris", "head_start"]),
    entity=st.sampled_from(["program", "staff"]),
    key=text,
    fields=st.dictionaries(text, values, max_size=5),
    identifiers=st.dictionaries(text, text, max_size=2),
    parent_key=st.none() | text,
    fetched_at=st.datetimes(timezones=timezones),
    cursor=st.none() | text,
    unparsable=st.dictionaries(text, text, max_size=2),
)


def _same(left: Any, right: Any) -> bool:
    """Equal, of the same type, and for Decimals with the same digits and exponent."""
    if type(left) is not type(right):
        return False
    if isinstance(left, Decimal):
        return bool(left.as_tuple() == right.as_tuple())
    if isinstance(left, dt.datetime):
        return bool(left == right and left.utcoffset() == right.utcoffset())
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return bool(left == right)


def _same_record(left: Record, right: Record) -> bool:
    return (
        (
            left.source,
            left.entity,
            left.key,
            left.identifiers,
            left.parent_key,
            left.cursor,
            left.unparsable,
        )
        == (
            right.source,
            right.entity,
            right.key,
            right.identifiers,
            right.parent_key,
            right.cursor,
            right.unparsable,
        )
        and _same(left.fetched_at, right.fetched_at)
        and _same(left.fields, right.fields)
    )


@given(records)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_record_round_trips_exactly(record: Record) -> None:
    answer, read_at = decode_entry("fetch", encode_entry("fetch", record, 12.5))
    assert read_at == 12.5
    assert _same_record(answer, record)


@given(st.lists(records, max_size=4), st.booleans())
@settings(max_examples=50)
def test_pages_and_child_lists_round_trip(found: list[Record], more: bool) -> None:
    children, _ = decode_entry("children", encode_entry("children", found, 0))
    assert len(children) == len(found) and all(map(_same_record, children, found))
    page, _ = decode_entry("find", encode_entry("find", Page(found, more), 0))
    assert page.has_next is more and all(map(_same_record, page.records, found))
    missing, _ = decode_entry("fetch", encode_entry("fetch", None, 0))
    assert missing is None


def test_special_floats_and_a_value_of_no_known_type() -> None:
    record = Record("s", "program", "k", {"a": math.inf, "b": -math.inf, "c": math.nan})
    back, _ = decode_entry("fetch", encode_entry("fetch", record, 0))
    assert back.fields["a"] == math.inf and back.fields["b"] == -math.inf
    assert math.isnan(back.fields["c"])
    with pytest.raises(Uncacheable):
        encode_entry("fetch", Record("s", "program", "k", {"x": {1, 2}}), 0)


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        "[]",
        '{"at": 1}',
        '{"at": "yesterday", "v": null}',
        '{"at": 1, "v": {"s": "q", "e": "program", "k": "1", "f": {"x": {"$eval": "1"}}, '
        '"i": {}, "t": "2026-01-01T00:00:00+00:00"}}',
        '{"at": 1, "v": {"s": "q", "e": "program", "k": "1", "f": {"x": {"$dec": "abc"}}, '
        '"i": {}, "t": "2026-01-01T00:00:00+00:00"}}',
        '{"at": 1, "v": {"s": "q", "e": "program", "k": 1, "f": {}, "i": {}, "t": "x"}}',
        pickle.dumps(Record("s", "program", "k", {})),
    ],
)
def test_what_is_not_an_entry_is_refused(stored: str | bytes) -> None:
    with pytest.raises(BadEntry):
        decode_entry("fetch", stored)


@given(records)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
async def test_records_round_trip_through_redis(record: Record) -> None:
    require_service(REDIS_URL, "Redis")
    store = CacheStore.redis(REDIS_URL, timeout_s=2.0)
    key = f"t{uuid.uuid4().hex}:codec"
    try:
        await store.set_many([(key, encode_entry("fetch", record, 99.0))], 30.0)
        [text_back] = await store.get_many([key])
        assert text_back is not None
        answer, read_at = decode_entry("fetch", text_back)
        assert read_at == 99.0 and _same_record(answer, record)
    finally:
        await store.delete([key])
        await store.aclose()
