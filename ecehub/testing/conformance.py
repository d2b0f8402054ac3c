"""The connector conformance kit: the behaviour every connector, built-in or partner, shows.

A partner runs it in three steps (``tests/test_my_connector.py``)::

    from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance

    class TestMyConnector(ConnectorConformance):
        @pytest_asyncio.fixture
        async def connector(self):
            ...  # load CONFORMANCE_DATA into the system, build the connector from config
            yield connector
            await connector.aclose()

What the connector can do is read from its class (``Connector.capabilities``): what it does
not declare is skipped with the reason, or checked through the hub, which does it for the
connector (paging, filters it does not push down). ``requirements`` narrows the suite
further (SQLAlchemy ``SuiteRequirements`` style); it may not skip what the capabilities
promise. The dataset and its mappings are in :mod:`ecehub.testing.dataset`. Every kind of
bug the kit catches is listed in docs/connectors.md ("What the kit catches"), and
tests/testing/test_kit_catches.py proves each with a connector that has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import pytest

from ecehub.config import parse_config
from ecehub.config.canonical import is_identifier_field
from ecehub.connectors.base import Connector, FieldFilter, FilterOp, Health, Page, Record, matches
from ecehub.connectors.capabilities import ALL_FILTER_OPS, Capabilities, check_contract_version
from ecehub.connectors.registry import get_connector_class
from ecehub.errors import EcehubError, SourceError
from ecehub.sources.gateway import SourceGateway
from ecehub.testing.dataset import (
    CONFORMANCE_DATA,
    EXPECTED,
    FILTER_CASES,
    OPTIONAL_ENTITIES,
    REQUIRED_ENTITIES,
    FilterCase,
    entity_mapping,
)

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

FRESH_WITHIN: Final = dt.timedelta(minutes=5)
"""How far ``fetched_at`` may be from the time of the call: it is when the hub read the
record (merge rules and stale answers rely on it), not when the source last changed it."""
CALL_BOUND_S: Final = 30.0
"""How long the kit waits for one call before it calls the connector stuck."""


def build_connector(
    name: str, source: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> Connector:
    """A connector built the way the hub builds one: ``source`` (one ``sources.<name>``
    entry, ``${ENV}`` allowed) validated by its connector's settings model, the class looked
    up by ``kind`` in the registry (entry-point group ``ecehub.connectors``)."""
    config = parse_config({"sources": {name: dict(source)}}, file="<conformance>", env=env)
    settings = config.sources[name]
    return get_connector_class(settings.kind)(name, settings)


@dataclass(frozen=True)
class Requirements:
    """What the suite may check, narrowing the connector's own ``capabilities`` (which it
    may not widen: skipping what the capabilities promise fails the suite)."""

    filter_ops: AbstractSet[FilterOp] = ALL_FILTER_OPS
    """Operators checked (pushed down, or applied by the hub where not)."""
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


_PAGING_CASES = [
    pytest.param("program", 1, (), id="program-first-1"),
    pytest.param("program", 2, (), id="program-first-2"),
    pytest.param("program", 5, (), id="program-first-5"),
    pytest.param("site", 5, (), id="site-first-5"),
    pytest.param(
        "program", 2, (FieldFilter("city", "eq", "springfield"),), id="program-filtered-first-2"
    ),
]

_MISSING = "NOPE"
"""A key no row has."""


def _asked(entity: str) -> list[str]:
    """Keys to fetch: a key that is a prefix of another (``P1``/``P10``), a missing one."""
    keys = list(EXPECTED[entity])
    return [keys[0], keys[-1], _MISSING, *keys[1:3]]


def _keys(records: Sequence[Record]) -> list[str]:
    return [r.key for r in records]


def _check_fetched_at(records: Sequence[Record], before: dt.datetime, what: str) -> None:
    for record in records:
        at = record.fetched_at
        assert isinstance(at, dt.datetime), f"{what} {record.key}: fetched_at is not a datetime"
        assert at.tzinfo is not None and at.utcoffset() is not None, (
            f"{what} {record.key}: fetched_at must be timezone-aware (use "
            "ecehub.connectors.utcnow()), not naive"
        )
        assert before - FRESH_WITHIN <= at <= dt.datetime.now(dt.UTC) + FRESH_WITHIN, (
            f"{what} {record.key}: fetched_at {at.isoformat()} is not the time of the call "
            f"({before.isoformat()}): it is when the hub read the record, not a stored date"
        )


async def _bounded(call: Any, what: str, bound_s: float) -> Any:
    try:
        async with asyncio.timeout(bound_s):
            return await call
    except TimeoutError:
        pytest.fail(f"{what} did not finish within {bound_s:g} s: the connector is stuck")


class ConnectorConformance:
    """The suite. Subclass it as ``Test...``, override the ``connector`` fixture (and
    ``unavailable_connector`` to check failures), and narrow ``requirements`` if needed."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.conformance,
        pytest.mark.asyncio,
    ]

    requirements: ClassVar[Requirements] = Requirements()
    call_bound_s: ClassVar[float] = CALL_BOUND_S
    """How long a call may take before the kit calls the connector stuck."""

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
        entities ``program`` and ``site`` (and ``staff`` and ``funding``) with
        :func:`entity_mapping`; yield it, then close it."""
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

    # -- requirements and capabilities --------------------------------------------------
    def _require(self, declared: bool, what: str) -> None:
        if not declared:
            pytest.skip(f"{type(self).__name__}.requirements declares no {what}")

    def _require_filters(self, filters: Sequence[FieldFilter]) -> None:
        for flt in filters:
            self._require(flt.op in self.requirements.filter_ops, f"{flt.op!r} filter")
            if is_identifier_field(flt.field):
                self._require(self.requirements.supports_identifier_filter, "identifier filter")

    def _require_paging(self, connector: Connector) -> None:
        self._require(self.requirements.supports_paging, "paging (supports_paging)")
        if not connector.capabilities.supports_paging:
            pytest.skip(
                f"{type(connector).__name__}.capabilities declare no paging: the hub pages "
                "for it (test_the_hub_pages_through_the_connector)"
            )

    def _require_children(self, connector: Connector) -> None:
        self._require(self.requirements.supports_children, "children (supports_children)")
        if not connector.capabilities.supports_children:
            pytest.skip(f"{type(connector).__name__}.capabilities declare no children")

    def _require_entity(self, connector: Connector, entity: str) -> None:
        if entity not in connector.entities:
            pytest.skip(f"the connector does not map {entity!r} (ecehub.testing.entity_mapping)")

    @staticmethod
    def _mapped(connector: Connector) -> list[str]:
        return [e for e in EXPECTED if e in connector.entities]

    # -- the fixture itself -------------------------------------------------------------
    async def test_connector_maps_the_conformance_entities(self, connector: Connector) -> None:
        assert isinstance(connector, Connector), "the `connector` fixture must be a Connector"
        missing = [e for e in REQUIRED_ENTITIES if e not in connector.entities]
        assert not missing, f"map {missing} (ecehub.testing.entity_mapping)"
        for entity in self._mapped(connector):
            if entity != "program":
                parent = connector.entities[entity].parent_entity
                assert parent == "program", f"{entity}: parent program, not {parent}"

    async def test_connector_maps_the_entities_of_every_field_type(
        self, connector: Connector
    ) -> None:
        missing = [e for e in OPTIONAL_ENTITIES if e not in connector.entities]
        if missing:
            pytest.skip(
                f"the connector does not map {missing}: float, decimal and list fields and "
                "`values`/`constants` mappings are not checked; map them with entity_mapping"
            )

    async def test_capabilities_and_contract_version(self, connector: Connector) -> None:
        caps = connector.capabilities
        cls = type(connector).__name__
        assert isinstance(caps, Capabilities), f"{cls}.capabilities must be a Capabilities"
        try:
            check_contract_version(connector.name, type(connector).contract_version)
        except EcehubError as exc:
            pytest.fail(f"contract version: {exc}")
        req = self.requirements
        promised_but_skipped = [
            what
            for what, promised, tested in (
                ("supports_paging", caps.supports_paging, req.supports_paging),
                ("supports_children", caps.supports_children, req.supports_children),
                ("identifier_filters", caps.identifier_filters, req.supports_identifier_filter),
            )
            if promised and not tested
        ] + [f"filter_ops {op!r}" for op in sorted(caps.filter_ops - req.filter_ops)]
        assert not promised_but_skipped, (
            f"{cls}.capabilities declare {promised_but_skipped}, but "
            f"{type(self).__name__}.requirements skip them: the hub relies on what the "
            "capabilities declare, so declare `capabilities = Capabilities(...)` on the class "
            "without them (the hub then does them for the connector)"
        )

    # -- fetch --------------------------------------------------------------------------
    async def test_fetch_returns_exactly_the_asked_keys_that_exist(
        self, connector: Connector
    ) -> None:
        for entity in self._mapped(connector):
            asked = _asked(entity)
            records = await connector.fetch(entity, asked)
            assert sorted(records) == sorted(k for k in asked if k in EXPECTED[entity]), (
                f"fetch({entity!r}, {asked}) must return the asked keys that exist, no others"
            )
            assert all(record.key == key for key, record in records.items())

    async def test_fetch_of_no_keys_returns_nothing(self, connector: Connector) -> None:
        assert await connector.fetch("program", []) == {}

    async def test_fetch_records_carry_their_provenance(self, connector: Connector) -> None:
        for entity in self._mapped(connector):
            expected_records = EXPECTED[entity]
            before = dt.datetime.now(dt.UTC)
            records = await connector.fetch(entity, list(expected_records))
            for key, expected in expected_records.items():
                record = records[key]
                assert isinstance(record, Record)
                assert (record.source, record.entity, record.key, record.parent_key) == (
                    connector.name,
                    entity,
                    key,
                    expected.parent_key,
                ), f"{entity} {key}: source, entity, key and parent_key"
            _check_fetched_at(list(records.values()), before, f"fetch {entity}")

    async def test_fetch_values_are_canonical(self, connector: Connector) -> None:
        for entity in self._mapped(connector):
            expected_records = EXPECTED[entity]
            mapping = entity_mapping(entity)
            records = await connector.fetch(entity, list(expected_records))
            assert sorted(records) == sorted(expected_records), entity
            for key, expected in expected_records.items():
                got = records[key]
                for name, value in expected.fields.items():
                    where = f"{entity} {key}.{name}"
                    if name in mapping.get("constants", {}):
                        where += " (a `constants` field: make_record adds it)"
                    elif name in mapping.get("values", {}):
                        where += " (a `values` field: make_record maps source values)"
                    assert name in got.fields, f"{where}: field {name!r} is not mapped"
                    # type(), not isinstance(): a datetime is not a date, a bool not an int.
                    assert (got.fields[name], type(got.fields[name])) == (value, type(value)), (
                        f"{where}: {got.fields[name]!r} ({type(got.fields[name]).__name__}), "
                        f"expected {value!r} ({type(value).__name__}): build records with "
                        "make_record, which coerces to the canonical types"
                    )
                assert got.identifiers == expected.identifiers, f"{entity} {key} identifiers"

    # -- children -----------------------------------------------------------------------
    async def test_children_answer_every_asked_parent(self, connector: Connector) -> None:
        self._require_children(connector)
        asked = ["P1", "P4", "P10", "P9", _MISSING]
        grouped = await connector.children("site", "program", asked)
        assert sorted(grouped) == sorted(asked), "children: every asked parent key, once"
        assert grouped["P4"] == [] and grouped["P9"] == [] and grouped[_MISSING] == [], (
            "children: a parent without children (or unknown) maps to []"
        )

    async def test_children_are_grouped_by_parent(self, connector: Connector) -> None:
        self._require_children(connector)
        parents = list(EXPECTED["program"])
        for entity in self._mapped(connector):
            if entity == "program":
                continue
            before = dt.datetime.now(dt.UTC)
            grouped = await connector.children(entity, "program", parents)
            expected = {
                p: sorted(s.key for s in EXPECTED[entity].values() if s.parent_key == p)
                for p in parents
            }
            assert {p: sorted(_keys(rs)) for p, rs in grouped.items()} == expected, entity
            for parent, records in grouped.items():
                assert all(r.parent_key == parent and r.entity == entity for r in records)
                assert all(r.source == connector.name for r in records)
                _check_fetched_at(records, before, f"children {entity}")

    async def test_children_of_no_parents_is_empty(self, connector: Connector) -> None:
        self._require_children(connector)
        assert await connector.children("site", "program", []) == {}

    async def test_children_refuse_a_parent_entity_the_entity_does_not_hang_under(
        self, connector: Connector
    ) -> None:
        try:
            await connector.children("site", "room", ["P1"])
        except ValueError:
            return
        pytest.fail(
            "children('site', 'room', ...) must raise ValueError: site does not hang under "
            "room in this mapping (an unknown relation is a bug in the caller, not [])"
        )

    # -- find ---------------------------------------------------------------------------
    async def test_find_without_filters_returns_every_row_once(self, connector: Connector) -> None:
        for entity in self._mapped(connector):
            before = dt.datetime.now(dt.UTC)
            page = await connector.find(entity)
            assert isinstance(page, Page)
            assert Counter(_keys(page.records)) == Counter(list(EXPECTED[entity])), entity
            assert page.has_next is False, f"find({entity!r}) without first: has_next False"
            assert all(r.entity == entity and r.source == connector.name for r in page.records)
            _check_fetched_at(page.records, before, f"find {entity}")

    async def test_find_and_fetch_give_the_same_values(self, connector: Connector) -> None:
        for entity in self._mapped(connector):
            found = {r.key: r for r in (await connector.find(entity)).records}
            fetched = await connector.fetch(entity, list(found))
            assert {k: (r.fields, r.identifiers, r.parent_key) for k, r in found.items()} == {
                k: (r.fields, r.identifiers, r.parent_key) for k, r in fetched.items()
            }, entity

    @pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FILTER_CASES])
    async def test_find_selects_what_matches_selects(
        self, connector: Connector, case: FilterCase
    ) -> None:
        self._require_entity(connector, case.entity)
        self._require_filters(case.filters)
        if case.casefold and not connector.capabilities.casefold:
            pytest.skip(f"{type(connector).__name__}.capabilities declare casefold=False")
        everything = await connector.find(case.entity)
        oracle = [r.key for r in everything.records if matches(r, case.filters)]
        caps = connector.capabilities
        if all(caps.pushes_down(f) for f in case.filters):
            page = await connector.find(case.entity, case.filters)
        else:  # the hub applies what the connector does not push down
            gateway = SourceGateway({connector.name: connector})
            page = await gateway.find(connector.name, case.entity, case.filters)
            assert not gateway.failures, gateway.failures
        got = _keys(page.records)
        assert len(got) == len(set(got)), f"a row came back twice: {got}"
        hint = f" ({case.hint})" if case.hint else ""
        assert sorted(got) == sorted(oracle), f"pushed down: {got}, matches(): {oracle}{hint}"
        assert sorted(oracle) == sorted(case.expected), "the unfiltered rows differ from the data"
        assert page.has_next is False

    # -- paging -------------------------------------------------------------------------
    @pytest.mark.parametrize(("entity", "first", "filters"), _PAGING_CASES)
    async def test_paging_visits_every_row_once(
        self, connector: Connector, entity: str, first: int, filters: tuple[FieldFilter, ...]
    ) -> None:
        self._require_paging(connector)
        self._require_filters(filters)
        everything = _keys((await connector.find(entity, filters)).records)
        assert len(everything) > first
        pages: list[Page] = []
        after: str | None = None
        while True:
            page = await connector.find(entity, filters, first=first, after=after)
            assert len(page.records) <= first, f"find(first={first}) returned more rows"
            pages.append(page)
            if not page.has_next:
                break
            assert page.records, "a page with has_next=True must hold the record to continue"
            after = page.records[-1].cursor
            assert isinstance(after, str), "every record of a page needs a cursor"
            assert len(pages) <= len(everything), "paging does not end: `after` is ignored"
        seen = [k for page in pages for k in _keys(page.records)]
        assert seen == everything, "pages must list the rows of an unpaged find, in its order"
        assert pages[-1].records, "has_next was True on the page holding the last row"
        assert [p.has_next for p in pages] == [True] * (len(pages) - 1) + [False]

    async def test_after_a_cursor_continues_right_after_that_record(
        self, connector: Connector
    ) -> None:
        self._require_paging(connector)
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

    async def test_a_cursor_it_did_not_make_is_a_value_error(self, connector: Connector) -> None:
        self._require_paging(connector)
        for cursor in ("", "not a cursor", "[1, 2", "\x00"):
            try:
                page = await connector.find("program", first=2, after=cursor)
            except ValueError:
                continue
            except Exception as exc:
                pytest.fail(
                    f"find(after={cursor!r}) raised {type(exc).__name__}: a cursor the "
                    "connector did not make must raise ValueError (or read as a position)"
                )
            assert isinstance(page, Page)

    async def test_first_zero_returns_no_records(self, connector: Connector) -> None:
        self._require_paging(connector)
        page = await connector.find("program", first=0)
        assert page.records == []

    async def test_has_next_is_false_when_first_takes_the_last_row(
        self, connector: Connector
    ) -> None:
        self._require_paging(connector)
        total = len(EXPECTED["program"])
        exact = await connector.find("program", first=total)
        assert len(exact.records) == total and exact.has_next is False
        short = await connector.find("program", first=total - 1)
        assert len(short.records) == total - 1 and short.has_next is True

    async def test_the_hub_pages_through_the_connector(self, connector: Connector) -> None:
        """As ``programs(first: 5)`` pages: through the gateway, which honours the
        capabilities (pages for a connector without paging)."""
        everything = _keys((await connector.find("program")).records)
        gateway = SourceGateway({connector.name: connector})
        seen: list[str] = []
        after: str | None = None
        for _ in range(len(everything) + 1):
            page = await gateway.find(connector.name, "program", first=5, after=after)
            assert not gateway.failures, gateway.failures
            seen += _keys(page.records)
            if not page.has_next:
                break
            after = page.records[-1].cursor
        assert seen == everything, (
            "paging through the hub must list every row once, in find()'s order: if the "
            "connector ignores first/after, declare Capabilities(supports_paging=False)"
        )

    # -- verify, cancellation ------------------------------------------------------------
    async def test_verify_finds_nothing_wrong_with_a_correct_mapping(
        self, connector: Connector
    ) -> None:
        problems = await connector.verify()
        assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
        assert problems == [], f"verify() reports problems with a correct mapping: {problems}"

    async def test_verify_reports_a_field_mapped_to_nothing(self, connector: Connector) -> None:
        if type(connector).verify is Connector.verify:
            pytest.skip(
                f"{type(connector).__name__} does not override verify(): `ecehub check` "
                "cannot report mapping problems of its sources"
            )
        settings = connector.settings
        program = settings.entities["program"]
        broken_entity = program.model_copy(
            update={"fields": {**program.fields, "city": "no_such_column_xyz"}}
        )
        broken = type(connector)(
            connector.name,
            settings.model_copy(
                update={"entities": {**settings.entities, "program": broken_entity}}
            ),
        )
        try:
            problems = await broken.verify()
        finally:
            await broken.aclose()
        assert any("no_such_column_xyz" in p for p in problems), (
            f"verify() must name a field mapped to a column that does not exist: {problems}"
        )

    async def test_a_cancelled_call_leaves_the_connector_usable(self, connector: Connector) -> None:
        for _ in range(3):
            call = asyncio.ensure_future(connector.find("program"))
            await asyncio.sleep(0)
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call
        found = await _bounded(
            connector.fetch("program", ["P1"]), "fetch after a cancelled find", self.call_bound_s
        )
        assert list(found) == ["P1"], "a cancelled call must not break the next one"

    # -- health and lifecycle -----------------------------------------------------------
    async def test_health_is_ok(self, connector: Connector) -> None:
        health = await connector.health()
        assert isinstance(health, Health)
        assert health.ok is True, f"health() not ok: {health.detail}"
        assert health.source == connector.name and health.latency_ms >= 0

    async def test_health_of_a_source_that_is_down_is_not_ok(
        self, unavailable_connector: Connector
    ) -> None:
        try:
            health = await unavailable_connector.health()
        except Exception as exc:
            pytest.fail(f"health() raised {exc!r}: it must report, never raise")
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
