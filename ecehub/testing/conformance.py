"""The connector conformance kit: the behaviour every connector, built-in or partner, shows.

A partner runs it in three steps (``tests/test_my_connector.py``)::

    from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements

    class TestMyConnector(ConnectorConformance):
        requirements = Requirements(supports_paging=False)   # what the connector cannot do

        @pytest_asyncio.fixture
        async def connector(self):
            ...  # load CONFORMANCE_DATA into the system, build the connector from config
            yield connector
            await connector.aclose()

The dataset (:data:`CONFORMANCE_DATA`) holds two canonical entities, as rows whose keys are
the column names a relational source would use (``entity_mapping`` gives the matching
``key``/``fields``/``identifiers``/``parent`` of the source config):

``program`` (12 rows)
    ``program_key`` (the source key: ``"P1"`` ... ``"P12"``), ``name``, ``city``, ``county``
    (text), ``qris_level`` (int), ``license_expires`` (date), ``license_number`` (text, mapped
    as the identifier ``LICENSE_NUMBER``; ``P3`` has none). Some values are ``None``.
``site`` (20 rows, parent ``program``)
    ``site_key`` (``"S1"`` ... ``"S20"``), ``program_key`` (the parent key), ``name``,
    ``city`` (text), ``capacity`` (int). ``P4`` and ``P9`` have no sites.

Load every row as it is (dates as dates or ISO ``YYYY-MM-DD`` text, as the system stores
them). The kit assumes nothing about the order of keys beyond "stable and complete".

Filters are checked against :func:`ecehub.connectors.matches`, the meaning every filter has:
whatever the connector pushes down must select the same rows that ``matches`` selects from
an unfiltered ``find``. Capabilities a connector does not declare in :class:`Requirements`
are skipped with the reason, as SQLAlchemy's ``SuiteRequirements`` do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, get_args

import pytest

from ecehub.config import parse_config
from ecehub.config.canonical import ENTITIES, coerce, is_identifier_field
from ecehub.connectors.base import Connector, FieldFilter, FilterOp, Health, Page, Record, matches
from ecehub.connectors.registry import get_connector_class
from ecehub.errors import SourceError

__all__ = [
    "ALL_FILTER_OPS",
    "CONFORMANCE_DATA",
    "FILTER_CASES",
    "ConnectorConformance",
    "FilterCase",
    "Requirements",
    "build_connector",
    "entity_mapping",
]

ALL_FILTER_OPS: Final[frozenset[FilterOp]] = frozenset(get_args(FilterOp))

_D = dt.date
# One row per line reads best as a table.
_PROGRAMS = [
    ("P1", "Sunshine Kids", "Springfield", "Adams", 3, _D(2025, 6, 30), "LIC-100"),
    ("P2", "Little Acorns 100% Care", "springfield", "Adams", 1, _D(2024, 1, 31), "LIC-200"),
    ("P3", "Bright Start", "Shelbyville", "Baker", 5, _D(2026, 12, 31), None),
    ("P4", "ACORN Academy", "Capital City", "Clark", 4, None, "LIC-400"),
    ("P5", "Tiny_Steps Learning", "Ogdenville", "Baker", 2, _D(2025, 1, 1), "LIC-500"),
    ("P6", "Pequeños Pasos", "Springfield", "Adams", None, _D(2025, 9, 15), "LIC-600"),
    ("P7", "little acorns annex", "North Haverbrook", "Clark", 2, _D(2025, 6, 30), "LIC-700"),
    ("P8", "Stepping Stones", "Shelbyville", "Baker", 5, _D(2027, 3, 1), "LIC-800"),
    ("P9", "Kids First", "Capital City", "Clark", 3, _D(2024, 12, 31), "LIC-900"),
    ("P10", "The Learning Tree", "Ogdenville", "Baker", 1, _D(2025, 1, 2), "LIC-1000"),
    ("P11", "Rainbow Room", "SPRINGFIELD", "Adams", 4, _D(2026, 6, 30), "LIC-1100"),
    ("P12", "Happy Hearts", "Brockway", None, 3, _D(2025, 12, 31), "LIC-1200"),
]
_SITES = [
    ("S1", "P1", "Sunshine Main", "Springfield", 40),
    ("S2", "P1", "Sunshine North Room", "Springfield", 12),
    ("S3", "P1", "sunshine annex", "Springfield", 8),
    ("S4", "P2", "Acorns Center", "springfield", 30),
    ("S5", "P3", "Bright Start East", "Shelbyville", 55),
    ("S6", "P3", "Bright Start West", "Shelbyville", None),
    ("S7", "P5", "Tiny Steps Room 1", "Ogdenville", 10),
    ("S8", "P5", "Tiny Steps Room 2", "Ogdenville", 10),
    ("S9", "P6", "Casa Pequeña", "Springfield", 18),
    ("S10", "P7", "Annex A", "North Haverbrook", 20),
    ("S11", "P7", "Annex B", "North Haverbrook", 22),
    ("S12", "P8", "Stones Infant House", "Shelbyville", 16),
    ("S13", "P8", "Stones Preschool", "Shelbyville", 48),
    ("S14", "P8", "STONES ROOM 3", "Shelbyville", 24),
    ("S15", "P10", "Learning Tree Oak", "Ogdenville", 36),
    ("S16", "P10", "Learning Tree Elm", "Ogdenville", 36),
    ("S17", "P11", "Rainbow Red", "SPRINGFIELD", 14),
    ("S18", "P11", "Rainbow Blue", "Springfield", 14),
    ("S19", "P11", "Rainbow Green Room", "Springfield", 60),
    ("S20", "P12", "Happy Hearts Center", "Brockway", 45),
]

CONFORMANCE_DATA: Final[dict[str, list[dict[str, Any]]]] = {
    "program": [
        dict(
            zip(
                (
                    "program_key",
                    "name",
                    "city",
                    "county",
                    "qris_level",
                    "license_expires",
                    "license_number",
                ),
                row,
                strict=True,
            )
        )
        for row in _PROGRAMS
    ],
    "site": [
        dict(zip(("site_key", "program_key", "name", "city", "capacity"), row, strict=True))
        for row in _SITES
    ],
}
"""The standard dataset, by canonical entity: rows to load into the source (do not mutate)."""

_MAPPINGS: Final[dict[str, dict[str, Any]]] = {
    "program": {
        "key": "program_key",
        "fields": {
            name: name for name in ("name", "city", "county", "qris_level", "license_expires")
        },
        "identifiers": {"LICENSE_NUMBER": "license_number"},
    },
    "site": {
        "key": "site_key",
        "parent": {"program": "program_key"},
        "fields": {name: name for name in ("name", "city", "capacity")},
    },
}


def entity_mapping(entity: str) -> dict[str, Any]:
    """The ``key``/``fields``/``identifiers``/``parent`` settings of ``entity`` for a source
    whose columns (or JSON properties) are named as in :data:`CONFORMANCE_DATA`."""
    mapping = _MAPPINGS[entity]
    return {k: dict(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def build_connector(
    name: str, source: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> Connector:
    """A connector built the way the hub builds one: ``source`` (one ``sources.<name>``
    entry, ``${ENV}`` allowed) validated by its connector's settings model, the class looked
    up by ``kind`` in the registry (entry-point group ``ecehub.connectors``)."""
    config = parse_config({"sources": {name: dict(source)}}, file="<conformance>", env=env)
    settings = config.sources[name]
    return get_connector_class(settings.kind)(name, settings)


def _expected_records(entity: str) -> dict[str, Record]:
    """The dataset as the canonical records every connector must return."""
    mapping = _MAPPINGS[entity]
    kinds = ENTITIES[entity].fields
    parent_column = next(iter(mapping.get("parent", {}).values()), None)
    out: dict[str, Record] = {}
    for row in CONFORMANCE_DATA[entity]:
        key = str(row[mapping["key"]])
        out[key] = Record(
            source="",
            entity=entity,
            key=key,
            fields={f: coerce(kinds[f], row[col]) for f, col in mapping["fields"].items()},
            identifiers={
                system: str(row[col])
                for system, col in mapping.get("identifiers", {}).items()
                if row[col] is not None
            },
            parent_key=None if parent_column is None else str(row[parent_column]),
        )
    return out


_EXPECTED: Final[dict[str, dict[str, Record]]] = {e: _expected_records(e) for e in _MAPPINGS}


@dataclass(frozen=True)
class Requirements:
    """What the connector under test can do; tests of anything not declared are skipped.

    The defaults declare the whole contract: a connector narrows them, never widens."""

    filter_ops: AbstractSet[FilterOp] = ALL_FILTER_OPS
    """Operators ``find`` honours, pushed down or applied with ``matches`` (all five unless
    the source cannot evaluate one at all)."""
    supports_identifier_filter: bool = True
    """``find`` filters on ``identifier:LICENSE_NUMBER``."""
    supports_paging: bool = True
    """``find`` honours ``first`` and continues ``after`` a record's ``cursor``."""
    supports_children: bool = True
    """``children("site", "program", ...)`` lists sites by program key."""
    reusable_after_close: bool = True
    """A call after ``aclose()`` opens the connection again (else ``aclose`` is final)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.filter_ops) - ALL_FILTER_OPS)
        if unknown:
            raise ValueError(
                f"Requirements.filter_ops: unknown operators {unknown}; "
                f"expected some of {sorted(ALL_FILTER_OPS)}"
            )
        object.__setattr__(self, "filter_ops", frozenset(self.filter_ops))


@dataclass(frozen=True)
class FilterCase:
    id: str
    entity: str
    filters: tuple[FieldFilter, ...]
    expected: tuple[str, ...] = field(init=False)
    """Keys of the dataset rows ``matches`` selects."""

    def __post_init__(self) -> None:
        rows = _EXPECTED[self.entity].values()
        object.__setattr__(self, "expected", tuple(r.key for r in rows if matches(r, self.filters)))


def _case(case_id: str, entity: str, *filters: FieldFilter) -> FilterCase:
    return FilterCase(case_id, entity, filters)


_F = FieldFilter
FILTER_CASES: Final[tuple[FilterCase, ...]] = (
    _case("eq-text-ignores-case", "program", _F("name", "eq", "sunshine KIDS")),
    _case("eq-text-trims-the-value", "program", _F("name", "eq", "  Bright Start ")),
    _case("eq-text-in-three-spellings", "program", _F("city", "eq", "springfield")),
    _case("eq-int", "program", _F("qris_level", "eq", "3")),
    _case("eq-int-unreadable-value", "program", _F("qris_level", "eq", "high")),
    _case("eq-date", "program", _F("license_expires", "eq", "2025-06-30")),
    _case("in-text-ignores-case", "program", _F("city", "in", ["SPRINGFIELD", "ogdenville"])),
    _case("in-int", "program", _F("qris_level", "in", [1, "5"])),
    _case("in-empty", "program", _F("city", "in", [])),
    _case("contains-ignores-case", "program", _F("name", "contains", "acorn")),
    _case("contains-percent-is-literal", "program", _F("name", "contains", "%")),
    _case("contains-underscore-is-literal", "program", _F("name", "contains", "_")),
    _case("contains-beyond-ascii", "program", _F("name", "contains", "PEQUEÑOS")),
    _case("gte-int", "program", _F("qris_level", "gte", 4)),
    _case("lte-int", "program", _F("qris_level", "lte", "2")),
    _case("gte-date", "program", _F("license_expires", "gte", "2025-06-30")),
    _case("lte-date", "program", _F("license_expires", "lte", dt.date(2025, 1, 1))),
    _case("identifier-eq", "program", _F("identifier:LICENSE_NUMBER", "eq", "lic-400")),
    _case(
        "identifier-in",
        "program",
        _F("identifier:LICENSE_NUMBER", "in", ["lic-100", "LIC-1000", "LIC-999"]),
    ),
    _case(
        "every-filter-applies",
        "program",
        _F("city", "eq", "Springfield"),
        _F("qris_level", "gte", 3),
    ),
    _case("site-contains", "site", _F("name", "contains", "ROOM")),
    _case("site-gte-int", "site", _F("capacity", "gte", 40)),
)
"""Every filter the kit checks, with the dataset keys ``matches`` selects for it."""

_PAGING_CASES = [
    pytest.param("program", 1, (), id="program-first-1"),
    pytest.param("program", 2, (), id="program-first-2"),
    pytest.param("program", 5, (), id="program-first-5"),
    pytest.param("site", 5, (), id="site-first-5"),
    pytest.param("program", 2, (_F("city", "eq", "springfield"),), id="program-filtered-first-2"),
]

_MISSING = "NOPE"
"""A key no row has."""
# "P1" and "P10": a prefix of another key; "NOPE" is missing.
_FETCHED = {
    "program": ["P1", "P10", "P2", _MISSING, "P12"],
    "site": ["S1", "S19", _MISSING, "S2", "S20"],
}


def _keys(records: Sequence[Record]) -> list[str]:
    return [r.key for r in records]


class ConnectorConformance:
    """The suite. Subclass it as ``Test...``, override the ``connector`` fixture (and
    ``unavailable_connector`` to check failures) and set ``requirements``."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.conformance,
        pytest.mark.asyncio,
    ]

    requirements: ClassVar[Requirements] = Requirements()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(cls.requirements, Requirements):
            raise TypeError(
                f"{cls.__name__}.requirements must be an ecehub.testing.Requirements, "
                f"not {type(cls.requirements).__name__}"
            )

    # -- the hooks a partner implements -------------------------------------------------
    @pytest.fixture
    def connector(self) -> Connector:
        """Override: a connector whose source holds :data:`CONFORMANCE_DATA`, mapping the
        entities ``program`` and ``site`` (parent ``program``); yield it, then close it."""
        pytest.fail(
            f"{type(self).__name__} must override the `connector` fixture: load "
            "ecehub.testing.CONFORMANCE_DATA into the source and yield a connector built "
            "from config (see ecehub.testing.build_connector)"
        )

    @pytest.fixture
    def unavailable_connector(self) -> Connector:
        """Override (optional): a connector of the same kind whose source cannot be
        reached (a stopped server, a database that does not exist)."""
        pytest.skip(
            "no `unavailable_connector` fixture: override it to check how the connector "
            "reports a source that is down"
        )

    # -- requirements -------------------------------------------------------------------
    def _require(self, declared: bool, what: str) -> None:
        if not declared:
            pytest.skip(f"{type(self).__name__}.requirements declares no {what}")

    def _require_filters(self, filters: Sequence[FieldFilter]) -> None:
        for flt in filters:
            self._require(flt.op in self.requirements.filter_ops, f"{flt.op!r} filter")
            if is_identifier_field(flt.field):
                self._require(self.requirements.supports_identifier_filter, "identifier filter")

    def _require_paging(self) -> None:
        self._require(self.requirements.supports_paging, "paging (supports_paging)")

    # -- the fixture itself -------------------------------------------------------------
    async def test_connector_maps_the_conformance_entities(self, connector: Connector) -> None:
        assert isinstance(connector, Connector), "the `connector` fixture must be a Connector"
        assert {"program", "site"} <= set(connector.entities), "map `program` and `site`"
        assert connector.entities["site"].parent_entity == "program", "site: parent program"

    # -- fetch --------------------------------------------------------------------------
    async def test_fetch_returns_exactly_the_asked_keys_that_exist(
        self, connector: Connector
    ) -> None:
        for entity, asked in _FETCHED.items():
            records = await connector.fetch(entity, asked)
            assert sorted(records) == sorted(k for k in asked if k in _EXPECTED[entity]), entity
            assert all(record.key == key for key, record in records.items())

    async def test_fetch_of_no_keys_returns_nothing(self, connector: Connector) -> None:
        assert await connector.fetch("program", []) == {}

    async def test_fetch_records_carry_their_provenance(self, connector: Connector) -> None:
        for entity, expected_records in _EXPECTED.items():
            records = await connector.fetch(entity, list(expected_records))
            for key, expected in expected_records.items():
                record = records[key]
                assert isinstance(record, Record)
                assert (record.source, record.entity, record.key, record.parent_key) == (
                    connector.name,
                    entity,
                    key,
                    expected.parent_key,
                )
                assert isinstance(record.fetched_at, dt.datetime)

    async def test_fetch_values_are_canonical(self, connector: Connector) -> None:
        for entity, expected_records in _EXPECTED.items():
            records = await connector.fetch(entity, list(expected_records))
            assert sorted(records) == sorted(expected_records), entity
            for key, expected in expected_records.items():
                got = records[key]
                for name, value in expected.fields.items():
                    assert name in got.fields, f"{entity} {key}: field {name!r} is not mapped"
                    # type(), not isinstance(): a datetime is not a date, a bool not an int.
                    assert (got.fields[name], type(got.fields[name])) == (value, type(value)), (
                        f"{entity} {key}.{name}"
                    )
                assert got.identifiers == expected.identifiers, f"{entity} {key} identifiers"

    # -- children -----------------------------------------------------------------------
    async def test_children_answer_every_asked_parent(self, connector: Connector) -> None:
        self._require(self.requirements.supports_children, "children (supports_children)")
        asked = ["P1", "P4", "P10", "P9", _MISSING]
        grouped = await connector.children("site", "program", asked)
        assert sorted(grouped) == sorted(asked)
        assert grouped["P4"] == [] and grouped["P9"] == [] and grouped[_MISSING] == []

    async def test_children_are_grouped_by_parent(self, connector: Connector) -> None:
        self._require(self.requirements.supports_children, "children (supports_children)")
        parents = [r.key for r in _EXPECTED["program"].values()]
        grouped = await connector.children("site", "program", parents)
        expected = {
            p: sorted(s.key for s in _EXPECTED["site"].values() if s.parent_key == p)
            for p in parents
        }
        assert {p: sorted(_keys(rs)) for p, rs in grouped.items()} == expected
        for parent, records in grouped.items():
            assert all(r.parent_key == parent and r.entity == "site" for r in records)
            assert all(r.source == connector.name for r in records)

    async def test_children_of_no_parents_is_empty(self, connector: Connector) -> None:
        self._require(self.requirements.supports_children, "children (supports_children)")
        assert await connector.children("site", "program", []) == {}

    async def test_children_refuse_a_parent_entity_the_entity_does_not_hang_under(
        self, connector: Connector
    ) -> None:
        with pytest.raises(ValueError):
            await connector.children("site", "room", ["P1"])

    # -- find ---------------------------------------------------------------------------
    async def test_find_without_filters_returns_every_row_once(self, connector: Connector) -> None:
        for entity, expected in _EXPECTED.items():
            page = await connector.find(entity)
            assert isinstance(page, Page)
            assert Counter(_keys(page.records)) == Counter(list(expected)), entity
            assert page.has_next is False
            assert all(r.entity == entity and r.source == connector.name for r in page.records)

    async def test_find_and_fetch_give_the_same_values(self, connector: Connector) -> None:
        for entity in _EXPECTED:
            found = {r.key: r for r in (await connector.find(entity)).records}
            fetched = await connector.fetch(entity, list(found))
            assert {k: (r.fields, r.identifiers, r.parent_key) for k, r in found.items()} == {
                k: (r.fields, r.identifiers, r.parent_key) for k, r in fetched.items()
            }, entity

    @pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FILTER_CASES])
    async def test_find_selects_what_matches_selects(
        self, connector: Connector, case: FilterCase
    ) -> None:
        self._require_filters(case.filters)
        everything = await connector.find(case.entity)
        oracle = [r.key for r in everything.records if matches(r, case.filters)]
        page = await connector.find(case.entity, case.filters)
        got = _keys(page.records)
        assert len(got) == len(set(got)), f"a row came back twice: {got}"
        assert sorted(got) == sorted(oracle), f"pushed down: {got}, matches(): {oracle}"
        assert sorted(oracle) == sorted(case.expected), "the unfiltered rows differ from the data"
        assert page.has_next is False

    # -- paging -------------------------------------------------------------------------
    @pytest.mark.parametrize(("entity", "first", "filters"), _PAGING_CASES)
    async def test_paging_visits_every_row_once(
        self, connector: Connector, entity: str, first: int, filters: tuple[FieldFilter, ...]
    ) -> None:
        self._require_paging()
        self._require_filters(filters)
        everything = _keys((await connector.find(entity, filters)).records)
        assert len(everything) > first
        pages: list[Page] = []
        after: str | None = None
        while True:
            page = await connector.find(entity, filters, first=first, after=after)
            assert len(page.records) <= first
            pages.append(page)
            if not page.has_next:
                break
            assert page.records, "a page with has_next=True must hold the record to continue"
            after = page.records[-1].cursor
            assert isinstance(after, str), "every record of a page needs a cursor"
            assert len(pages) <= len(everything), "paging does not end"
        seen = [k for page in pages for k in _keys(page.records)]
        assert seen == everything, "pages must list the rows of an unpaged find, in its order"
        assert pages[-1].records, "has_next was True on the page holding the last row"
        assert [p.has_next for p in pages] == [True] * (len(pages) - 1) + [False]

    async def test_after_a_cursor_continues_right_after_that_record(
        self, connector: Connector
    ) -> None:
        self._require_paging()
        everything = (await connector.find("program")).records
        middle = len(everything) // 2
        after = everything[middle].cursor
        assert isinstance(after, str), "records of find() need a cursor"
        rest = await connector.find("program", after=after)
        assert _keys(rest.records) == _keys(everything[middle + 1 :])
        assert rest.has_next is False
        window = await connector.find("program", first=3, after=after)
        assert _keys(window.records) == _keys(everything[middle + 1 : middle + 4])
        assert window.has_next is (middle + 4 < len(everything))

    async def test_first_zero_returns_no_records(self, connector: Connector) -> None:
        self._require_paging()
        page = await connector.find("program", first=0)
        assert page.records == []

    async def test_has_next_is_false_when_first_takes_the_last_row(
        self, connector: Connector
    ) -> None:
        self._require_paging()
        total = len(_EXPECTED["program"])
        exact = await connector.find("program", first=total)
        assert len(exact.records) == total and exact.has_next is False
        short = await connector.find("program", first=total - 1)
        assert len(short.records) == total - 1 and short.has_next is True

    # -- health and lifecycle -----------------------------------------------------------
    async def test_health_is_ok(self, connector: Connector) -> None:
        health = await connector.health()
        assert isinstance(health, Health)
        assert health.ok is True, f"health() not ok: {health.detail}"
        assert health.source == connector.name and health.latency_ms >= 0

    async def test_health_of_a_source_that_is_down_is_not_ok(
        self, unavailable_connector: Connector
    ) -> None:
        health = await unavailable_connector.health()  # must not raise
        assert health.ok is False and health.source == unavailable_connector.name
        assert health.detail, "say why the source is not ok"

    async def test_calls_to_a_source_that_is_down_raise_a_source_error(
        self, unavailable_connector: Connector
    ) -> None:
        with pytest.raises(SourceError) as fetching:
            await unavailable_connector.fetch("program", ["P1"])
        with pytest.raises(SourceError) as finding:
            await unavailable_connector.find("program")
        assert fetching.value.source == finding.value.source == unavailable_connector.name

    async def test_aclose_twice_is_harmless(self, connector: Connector) -> None:
        await connector.find("program", first=1)
        await connector.aclose()
        await connector.aclose()

    async def test_calls_after_aclose_work_again(self, connector: Connector) -> None:
        self._require(self.requirements.reusable_after_close, "reuse after aclose()")
        await connector.fetch("program", ["P1"])
        await connector.aclose()
        assert list(await connector.fetch("program", ["P1"])) == ["P1"]
        assert (await connector.health()).ok
