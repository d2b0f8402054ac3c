"""The connector contract: what every source adapter (built-in or partner) implements.

A connector is built from one ``sources.<name>`` entry of the config and answers, for the
canonical entities it maps (see :mod:`ecehub.config.canonical`):

- ``fetch(entity, keys)``: records for many source keys in one call;
- ``children(entity, parent_entity, parent_keys)``: child records grouped by parent key;
- ``find(entity, filters, first, after)``: a page of records, filters pushed down where the
  source can, keyset/cursor paging;
- ``health()`` and ``aclose()``.

Every call is batched: a connector never makes one source round trip per key unless its
source offers nothing better (then with bounded concurrency). The whole contract, for
partners, is docs/connectors.md; what a connector can do is declared on its class
(:class:`~ecehub.connectors.capabilities.Capabilities`), with the contract version it
implements.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Self, get_args, get_origin

from typing_extensions import TypeVar

from ecehub.config.canonical import (
    ENTITIES,
    EntitySpec,
    FieldType,
    coerce,
    coercer,
    is_identifier_field,
)
from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.config.periods import period_coercers
from ecehub.config.scales import LevelScale
from ecehub.connectors.capabilities import CONTRACT_VERSION, Capabilities
from ecehub.connectors.transforms import (
    Pipeline,
    TransformFailed,
    compile_pipeline,
    map_only,
    unmap,
)

log = logging.getLogger(__name__)

__all__ = [
    "CONTRACT_VERSION",
    "Capabilities",
    "Connector",
    "FieldFilter",
    "FilterOp",
    "Health",
    "Page",
    "Record",
    "SettingsT",
    "Unparsable",
    "child_mapping",
    "entity_mapping",
    "matches",
    "utcnow",
]

FilterOp = Literal["eq", "in", "contains", "gte", "lte"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_UNPARSABLE_EXAMPLES = 3


def _example(value: Any) -> str:
    """A value that did not parse, as an example: its ``repr``, cut at 60 characters."""
    return repr(value)[:60]


@dataclass
class Unparsable:
    """The values of one field a connector read as null because they are not of its type."""

    kind: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    """The first few, as ``repr`` (cut at 60 characters): for the operator's profile only."""


MappingT = TypeVar("MappingT", bound="EntityConfig")


def entity_mapping(entities: Mapping[str, MappingT], source: str, entity: str) -> MappingT:
    """How ``source`` maps ``entity`` (its settings for it); ``ValueError``, the contract's
    answer for an entity the source does not map, naming those it does."""
    found = entities.get(entity)
    if found is None:
        raise ValueError(
            f"source {source!r} does not map entity {entity!r}; it maps: "
            f"{', '.join(entities) or '(none)'}"
        )
    return found


def child_mapping(
    entities: Mapping[str, MappingT], source: str, entity: str, parent_entity: str
) -> MappingT:
    """:func:`entity_mapping` for ``children``: also ``ValueError`` when the config hangs
    ``entity`` under another parent than ``parent_entity``."""
    found = entity_mapping(entities, source, entity)
    if found.parent_entity != parent_entity:
        raise ValueError(
            f"source {source!r} maps {entity!r} under {found.parent_entity!r}, "
            f"not {parent_entity!r}"
        )
    return found


@dataclass(slots=True)
class Record:
    """One source row in canonical form, with its provenance."""

    source: str
    entity: str
    key: str
    fields: dict[str, Any]
    identifiers: dict[str, str] = field(default_factory=dict)
    parent_key: str | None = None
    fetched_at: dt.datetime = field(default_factory=utcnow)
    cursor: str | None = None
    """Opaque position *after* this record in a ``find`` result, for the next page."""
    unparsable: dict[str, str] = field(default_factory=dict)
    """Fields read as null because their value is not of the field's type, each with that
    value as ``repr`` cut at 60 characters: what a traced request reports of the records it
    read (``extensions.sources[].unparsable``), the value only to roles that may read the
    field."""

    def get(self, name: str) -> Any:
        fields = self.fields
        if name in fields:  # a field's name never has the identifier prefix
            return fields[name]
        if is_identifier_field(name):
            return self.identifiers.get(name.split(":", 1)[1])
        return None


@dataclass
class Page:
    records: list[Record]
    has_next: bool


@dataclass
class Health:
    source: str
    ok: bool
    latency_ms: float
    detail: str = ""


_Predicate = Callable[["Record"], bool]
_NO_MATCH = (ValueError, TypeError, ArithmeticError)
# Values of these types hash consistently with ==, so a set lookup finds what a scan with ==
# would find (other values are compared one by one).
_HASHABLE_VALUES: frozenset[type] = frozenset(
    {str, int, float, bool, Decimal, dt.date, dt.datetime}
)


@dataclass(frozen=True)
class FieldFilter:
    """One condition on a canonical field (or ``identifier:<SYSTEM>``).

    ``contains`` is a case-insensitive substring match; ``in`` takes a list of values.
    """

    field: str
    op: FilterOp
    value: Any

    def predicate(self, entity: str) -> _Predicate:
        """This filter as a test of one record of ``entity``, with the meaning of
        :func:`matches`: the filter's values are normalised (trimmed and case-folded, or
        coerced to the field's type) once here, not again for every record, and ``in`` is a
        set lookup. Compiled on first use and kept on the filter (the filter is frozen, and
        its value must not be changed after it is first used)."""
        compiled: dict[str, _Predicate] | None = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = {}
            object.__setattr__(self, "_compiled", compiled)
        found = compiled.get(entity)
        if found is None:
            found = compiled[entity] = _compile(self, entity)
        return found


def _field_kind(entity: str, field_name: str) -> FieldType:
    if is_identifier_field(field_name):
        return "str"
    spec = ENTITIES.get(entity)
    return spec.fields.get(field_name, "str") if spec else "str"


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def _pool(op: FilterOp, wanted: Any) -> list[Any]:
    """The values an ``eq`` or ``in`` filter accepts."""
    if op != "in" or isinstance(wanted, str) or not hasattr(wanted, "__iter__"):
        return [wanted]
    return list(wanted)


def _getter(field_name: str) -> Callable[[Record], Any]:
    if is_identifier_field(field_name):
        system = field_name.split(":", 1)[1]
        return lambda record: record.identifiers.get(system)
    return lambda record: record.fields.get(field_name)


def _compile(flt: FieldFilter, entity: str) -> _Predicate:
    get = _getter(flt.field)
    test = _value_test(flt.op, flt.value, _field_kind(entity, flt.field))

    def predicate(record: Record) -> bool:
        value = get(record)
        return value is not None and test(value)

    return predicate


def _value_test(op: FilterOp, wanted: Any, kind: FieldType) -> Callable[[Any], bool]:
    """A test of a field's (not ``None``) value; see :func:`matches` for the meaning."""
    if op in ("eq", "in"):
        return _equality_test(_pool(op, wanted), kind)
    if op == "contains":
        needle = str(wanted).casefold()
        if kind == "list":
            return lambda value: needle in ", ".join(value).casefold()
        return lambda value: needle in str(value).casefold()
    try:
        bound = coerce(kind, wanted)
    except _NO_MATCH:
        return lambda value: False
    greater = op == "gte"

    def compare(value: Any) -> bool:
        try:
            return bool(value >= bound) if greater else bool(value <= bound)
        except _NO_MATCH:
            return False

    return compare


def _equality_test(pool: list[Any], kind: FieldType) -> Callable[[Any], bool]:
    if kind in ("str", "list"):
        folded = {_fold(w) for w in pool}
        if kind == "str":
            return lambda value: _fold(value) in folded
        if not folded:
            return lambda value: False
        return lambda value: any(_fold(v) in folded for v in value)
    coerced: list[Any] = []
    for w in pool:
        try:
            coerced.append(coerce(kind, w))
        except _NO_MATCH:
            continue  # a value the field cannot hold matches nothing

    def scan(value: Any) -> bool:
        for c in coerced:
            try:
                if value == c:
                    return True
            except _NO_MATCH:
                continue
        return False

    lookup = _value_set(coerced)
    if lookup is None:
        return scan

    def member(value: Any) -> bool:
        if type(value) in _HASHABLE_VALUES:
            try:
                if value == value:  # not NaN
                    return value in lookup
            except _NO_MATCH:
                pass
        return scan(value)

    return member


def _value_set(values: list[Any]) -> frozenset[Any] | None:
    """``values`` as a set when a lookup in it means the same as comparing with each (every
    value of a type hashing consistently with ``==`` and equal to itself, so no NaN)."""
    try:
        if all(type(v) in _HASHABLE_VALUES and v == v for v in values):
            return frozenset(values)
    except _NO_MATCH:
        pass
    return None


def matches(record: Record, filters: Iterable[FieldFilter]) -> bool:
    """Evaluate filters in Python, with the meaning a source must give them when pushed down:
    ``eq``/``in`` compare text trimmed and case-insensitively and other types by value (the
    filter value coerced to the field's canonical type), ``contains`` is a case-insensitive
    substring, ``gte``/``lte`` compare in the field's type. Each filter is compiled once
    (:meth:`FieldFilter.predicate`), so a filter of n values costs one lookup per record."""
    entity = record.entity
    return all(f.predicate(entity)(record) for f in filters)


SettingsT = TypeVar("SettingsT", bound=SourceConfig, default=SourceConfig, covariant=True)
"""A connector's settings model: ``Connector[CsvSourceConfig]`` types ``self.settings``."""


def _settings_argument(cls: type) -> type[SourceConfig] | None:
    """``X`` of a ``Connector[X]`` among ``cls``'s own generic bases, if it is a class."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Connector):
            for argument in get_args(base):
                if isinstance(argument, type) and issubclass(argument, SourceConfig):
                    return argument
    return None


class Connector(ABC, Generic[SettingsT]):
    """Base class of every connector. Subclasses implement the five abstract methods.

    ``class CsvConnector(Connector[CsvSourceConfig])`` makes ``CsvSourceConfig`` its
    ``settings_model`` (the config of its sources is validated with it) and types
    ``self.settings`` as one. Use it as an async context manager or call :meth:`aclose`.
    """

    kind: ClassVar[str] = ""
    settings_model: ClassVar[type[SourceConfig]]
    capabilities: Capabilities = Capabilities()
    """What ``find`` and ``children`` honour; the hub does the rest (docs/connectors.md).
    Declared on the class; an instance may narrow it in ``__init__`` (by the database it
    talks to, say)."""
    contract_version: ClassVar[str] = "1.0"
    """The connector contract the class implements (``CONTRACT_VERSION`` when written)."""
    _record_builders: dict[str, _RecordBuilder]
    evaluates_transformed: ClassVar[bool] = False
    """Whether ``find`` evaluates a filter on a field with ``transforms`` on the transformed
    values itself (as the built-in connectors do). False: the hub never pushes such a
    filter down (:meth:`pushes_down`) but applies it to the records, except an ``eq``/``in``
    on a field whose only step is a ``map``, which :meth:`source_filters` translates."""
    logs_unparsable: ClassVar[bool] = True
    """Whether :meth:`make_record` logs the values it reads as null (counted either way);
    a connector that reports them per read itself (``csv``, ``graphql``) sets it false."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = _settings_argument(cls)
        if declared is not None and "settings_model" not in cls.__dict__:
            cls.settings_model = declared

    def __init__(self, name: str, config: SettingsT) -> None:
        model = getattr(type(self), "settings_model", None)
        if isinstance(model, type) and not isinstance(config, model):
            raise TypeError(
                f"source {name!r}: {type(self).__name__} needs a {model.__name__}, "
                f"not a {type(config).__name__}"
            )
        self.name = name
        self.settings: SettingsT = config
        """The source's validated settings, typed by ``Connector[...]``."""
        self.config: SettingsT = config
        """The same object as ``settings`` (its name before contract 1.0 was written down)."""
        self.support_types: list[str] = list(config.support_types)
        self.entities: Mapping[str, EntityConfig] = config.entities
        self.timeout_s: float = config.timeout_s

    # -- values that do not parse --------------------------------------------------------
    def _unparsable(self, entity: str, name: str, kind: str, value: Any) -> None:
        """Account one value that is not a valid ``kind`` (read as null): counted per entity
        and field, a few kept as examples for ``ecehub check --profile``, and logged (the
        count, never the value: it may be personal data) the first time and at every power
        of ten after, so a source full of them writes a handful of lines, not one per row."""
        stats: dict[tuple[str, str], Unparsable] = self.__dict__.setdefault("_unparsables", {})
        found = stats.get((entity, name))
        if found is None:
            found = stats[(entity, name)] = Unparsable(kind)
        found.count += 1
        if len(found.examples) < _UNPARSABLE_EXAMPLES:
            found.examples.append(_example(value))
        if self.logs_unparsable and (found.count == 1 or math.log10(found.count).is_integer()):
            log.warning(
                "source %s: %s.%s: %d value(s) so far are not a valid %s and read as null "
                "(`ecehub check --profile` shows examples)",
                self.name,
                entity,
                name,
                found.count,
                kind,
            )

    def declared_null(self, entity: str, name: str, value: Any) -> bool:
        """Whether a source value of field ``name`` reads as null because the config says so
        (one of ``null_values``, or ``transforms`` mapping it to null), not because it is
        unparsable: for a connector that counts the values it read as null itself."""
        builder = self._record_builder(entity)
        if isinstance(value, str) and value.strip().casefold() in builder.nulls:
            return True
        pipeline = builder.pipelines.get(name)
        if pipeline is None or value is None:
            return False
        try:
            return pipeline(value) is None
        except TransformFailed:
            return False

    def unparsable(self) -> dict[tuple[str, str], Unparsable]:
        """Values read as null because they are not of their field's type since this
        connector was made, by ``(entity, field)``."""
        found: dict[tuple[str, str], Unparsable] = self.__dict__.get("_unparsables", {})
        return dict(found)

    # -- the contract -------------------------------------------------------------------
    @abstractmethod
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        """Records by source key; missing keys are absent from the result."""

    @abstractmethod
    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        """Child records of many parents at once, grouped by parent key; every parent key
        asked for is in the result, with ``[]`` when it has no children."""

    @abstractmethod
    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        """Records passing ``filters``, in a stable order, at most ``first`` of them,
        starting after the record whose ``cursor`` is ``after``. ``first=None``: all."""

    @abstractmethod
    async def health(self) -> Health:
        """Ping the source; never raises."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections and sessions."""

    async def verify(self) -> list[str]:
        """Problems with the mapping (missing tables/columns, ...) for ``ecehub check``;
        override where the source can tell. Default: none known."""
        return []

    # -- shared helpers ---------------------------------------------------------------
    def can_filter(self, entity: str, field_name: str) -> bool:
        """Whether this source maps ``field_name`` for ``entity`` (so a filter on it applies)."""
        ent = self.entities.get(entity)
        if ent is None:
            return False
        if is_identifier_field(field_name):
            return field_name.split(":", 1)[1] in ent.identifiers
        return field_name in ent.fields or field_name in ent.constants

    def transformed(self, entity: str, field_name: str) -> bool:
        """Whether ``field_name`` (a field or ``identifier:<SYSTEM>``) of ``entity`` goes
        through ``transforms`` here, so the source holds other values than the records."""
        ent = self.entities.get(entity)
        return ent is not None and field_name in ent.transforms

    def translatable(self, entity: str, flt: FieldFilter) -> bool:
        """Whether :meth:`source_filters` puts ``flt`` in the source's own terms exactly:
        true unless it is on a transformed field, where only an ``eq``/``in`` on a text field
        whose one step is a ``map`` is."""
        ent = self.entities.get(entity)
        if ent is None or flt.field not in ent.transforms:
            return True
        return (
            flt.op in ("eq", "in")
            and _field_kind(entity, flt.field) == "str"
            and map_only(ent.transforms[flt.field]) is not None
        )

    def pushes_down(self, entity: str, flt: FieldFilter) -> bool:
        """Whether the hub leaves ``flt`` to ``find`` (else it applies it to the records
        itself, :mod:`ecehub.sources.paging`): the class's ``capabilities``; never a range or
        a non-text filter on a field with ``values``; and a filter on a transformed field only
        where ``find`` evaluates those (``evaluates_transformed``) or
        translates it exactly (:meth:`translatable`)."""
        if not self.capabilities.pushes_down(flt):
            return False
        ent = self.entities.get(entity)
        # A range on a field with ``values`` (the source's codes do not order like the
        # canonical values), and any filter on one that is not text (a number or date: its
        # source codes, ``Gold`` for level 4, are text a typed comparison cannot hold): only
        # the canonical values the hub reads are exact.
        if (
            ent is not None
            and flt.field in ent.values
            and (flt.op in ("gte", "lte") or _field_kind(entity, flt.field) not in ("str", "list"))
        ):
            return False
        return self.evaluates_transformed or self.translatable(entity, flt)

    def check_find(self, entity: str, filters: Sequence[FieldFilter], first: int | None) -> None:
        """The contract's ``ValueError`` for a ``find`` it cannot answer: a negative
        ``first``, or a filter on a field this source does not map for ``entity``."""
        if first is not None and first < 0:
            raise ValueError(f"first must be >= 0, got {first}")
        for flt in filters:
            if not self.can_filter(entity, flt.field):
                raise ValueError(
                    f"source {self.name} cannot filter entity {entity} on field {flt.field}"
                )

    def source_filters(
        self, entity: str, filters: Sequence[FieldFilter]
    ) -> list[FieldFilter] | None:
        """Filters in the source's own terms, for connectors that push every filter down:
        filters on ``constants`` are decided here (dropped when they hold; ``None`` when one
        cannot, so nothing matches) and ``eq``/``in`` on fields with ``values`` are turned
        into the source values that map to the wanted canonical ones, as are ``eq``/``in``
        on a field whose ``transforms`` are one ``map`` step.

        Raises ``ValueError`` for another operator on a field with ``values``, and for a
        filter on another transformed field (the source holds values before the transform:
        evaluate it on the records, see :meth:`translatable`)."""
        ent = self.entities[entity]
        out: list[FieldFilter] = []
        for flt in filters:
            steps = ent.transforms.get(flt.field)
            if steps is not None:
                if not self.translatable(entity, flt):
                    raise ValueError(
                        f"source {self.name}: {entity}.{flt.field} is transformed, so a "
                        f"{flt.op} filter on it cannot be pushed down; it is evaluated on the "
                        f"records"
                    )
                step = map_only(steps)
                assert step is not None  # translatable
                out.append(FieldFilter(flt.field, "in", unmap(step, _pool(flt.op, flt.value))))
                continue
            if flt.field in ent.constants:
                probe = self.make_record(entity, "", {}, {})
                if not matches(probe, [flt]):
                    return None
                continue
            mapping = ent.values.get(flt.field)
            if not mapping:
                out.append(flt)
                continue
            if flt.op not in ("eq", "in"):
                raise ValueError(
                    f"source {self.name}: {entity}.{flt.field} has a value mapping, so only "
                    f"eq/in filters can be pushed down, not {flt.op}"
                )
            wanted = [flt.value] if flt.op == "eq" else list(flt.value)
            folded = {str(w).strip().casefold() for w in wanted}
            source_values = [
                k for k, v in mapping.items() if v is not None and v.strip().casefold() in folded
            ]
            # A source value not in the mapping passes through unchanged, so it may match too.
            passthrough = [w for w in wanted if str(w) not in mapping]
            out.append(FieldFilter(flt.field, "in", source_values + passthrough))
        return out

    def make_record(
        self,
        entity: str,
        key: Any,
        raw_fields: Mapping[str, Any],
        raw_identifiers: Mapping[str, Any],
        parent_key: Any = None,
        fetched_at: dt.datetime | None = None,
    ) -> Record:
        """Build a canonical record from raw values, coercing each to its canonical type.

        Pass one ``fetched_at`` for all the records of a call (the default reads the clock)."""
        builder = self._record_builder(entity)
        raw = dict(raw_fields)
        for name, mapping in builder.values:
            if name in raw and raw[name] is not None:
                raw[name] = mapping.get(str(raw[name]).strip(), raw[name])
        for name, constant in builder.constants:
            raw.setdefault(name, constant)
        coercers = builder.coercers
        fields: dict[str, Any] = {}
        unparsable: dict[str, str] = {}
        coerced = False
        if builder.plain:
            # No null words, transforms, date formats or scales: each value coerced, in one
            # comprehension (the common case, a whole page of them); a value that does not
            # coerce sends the record through the loop below, which accounts it.
            try:
                fields = {name: coercers[name](value) for name, value in raw.items()}
                coerced = True
            except _NO_MATCH:
                fields = {}
        nulls, formats, pipelines = builder.nulls, builder.formats, builder.pipelines
        scales = builder.scales
        for name, value in () if coerced else raw.items():
            convert = coercers[name]  # KeyError: not a field of the entity
            if nulls and isinstance(value, str) and value.strip().casefold() in nulls:
                fields[name] = None  # the source's own "no value", as declared
                continue
            if pipelines and value is not None and name in pipelines:
                try:
                    value = pipelines[name](value)
                except TransformFailed as exc:
                    # A value a step cannot read: null, and accounted (never silent).
                    kind = f"{builder.kinds[name]} (transforms.{name}.{exc.index}: {exc.step})"
                    self._unparsable(entity, name, kind, value)
                    fields[name] = None
                    unparsable[name] = _example(value)
                    continue
            if isinstance(value, str) and formats:
                declared = formats.get(name)
                if declared is not None:
                    value = _dated(value, declared, builder.kinds[name])
            try:
                fields[name] = convert(value)
            except _NO_MATCH:
                # A bad value in one cell must not fail the record: null, and accounted.
                self._unparsable(entity, name, builder.kinds[name], value)
                fields[name] = None
                unparsable[name] = _example(value)
                continue
            scale = scales.get(name)
            if scale is not None and fields[name] is not None and not scale.holds(fields[name]):
                # A level the declared scale does not have is no rating: null, and accounted.
                self._unparsable(entity, name, f"level {scale.min}..{scale.max}", value)
                fields[name] = None
                unparsable[name] = _example(value)
        identifiers: dict[str, str] = {}
        transformed = builder.identifier_pipelines
        for system, value in raw_identifiers.items():
            if value is not None:
                text = str(value).strip()
                if text != "" and text.casefold() not in nulls:
                    pipeline = transformed.get(system) if transformed else None
                    if pipeline is not None:
                        text = self._identifier(entity, system, pipeline, text)
                    if text:
                        identifiers[system] = text
        return Record(
            self.name,
            entity,
            str(key),
            fields,
            identifiers,
            None if parent_key is None else str(parent_key),
            fetched_at or utcnow(),
            unparsable=unparsable,
        )

    def _identifier(self, entity: str, system: str, pipeline: Pipeline, text: str) -> str:
        """An identifier through its transforms ("" for none: mapped to null, or a value a
        step cannot read, accounted as unparsable under ``identifier:<SYSTEM>``)."""
        name = f"identifier:{system}"
        try:
            value = pipeline(text)
        except TransformFailed as exc:
            self._unparsable(entity, name, f"str (transforms.{name}.{exc.index}: {exc.step})", text)
            return ""
        return "" if value is None else str(value).strip()

    def _record_builder(self, entity: str) -> _RecordBuilder:
        """What :meth:`make_record` needs of ``entity``, looked up once per entity (again if
        the connector's entity mapping is replaced)."""
        ent = self.entities.get(entity)
        builders: dict[str, _RecordBuilder] | None = getattr(self, "_record_builders", None)
        if builders is None:
            builders = {}
            self._record_builders = builders
        found = builders.get(entity)
        if found is None or found.ent is not ent:
            found = builders[entity] = _RecordBuilder.of(ENTITIES[entity], ent)
        return found

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass(frozen=True, slots=True)
class _RecordBuilder:
    """An entity's value mappings, constants and one coercion function per canonical field."""

    ent: EntityConfig | None
    values: tuple[tuple[str, Mapping[str, str | None]], ...]
    constants: tuple[tuple[str, Any], ...]
    coercers: Mapping[str, Callable[[Any], Any]]
    kinds: Mapping[str, FieldType]
    nulls: frozenset[str] = frozenset()
    """The entity's ``null_values``, trimmed and case-folded."""
    formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The entity's ``date_formats``."""
    pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    """The entity's field ``transforms``, compiled."""
    identifier_pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    """The entity's ``identifier:<SYSTEM>`` transforms, compiled, by system."""
    scales: Mapping[str, LevelScale] = field(default_factory=dict)
    """The entity's ``scales``: a level outside its field's scale reads as null."""
    plain: bool = False
    """No ``null_values``, ``date_formats``, ``transforms`` nor ``scales``: a value is only
    coerced."""

    @classmethod
    def of(cls, spec: EntitySpec, ent: EntityConfig | None) -> _RecordBuilder:
        transforms = ent.transforms if ent is not None else {}
        pipelines = {
            name: compile_pipeline(steps, spec.fields[name])
            for name, steps in transforms.items()
            if name in spec.fields
        }
        identifier_pipelines = {
            name.split(":", 1)[1]: compile_pipeline(steps, "str")
            for name, steps in transforms.items()
            if is_identifier_field(name)
        }
        return cls(
            ent,
            tuple(ent.values.items()) if ent is not None else (),
            tuple(ent.constants.items()) if ent is not None else (),
            {**{name: coercer(kind) for name, kind in spec.fields.items()}, **period_coercers(ent)},
            spec.fields,
            frozenset(v.strip().casefold() for v in ent.null_values) if ent else frozenset(),
            {f: tuple(forms) for f, forms in ent.date_formats.items()} if ent else {},
            pipelines,
            identifier_pipelines,
            dict(ent.scales) if ent else {},
            plain=ent is None
            or not (ent.null_values or ent.date_formats or pipelines or ent.scales),
        )


def _dated(value: str, formats: tuple[str, ...], kind: str) -> Any:
    """``value`` read with the first of ``formats`` that fits (a date for a date field), or
    as it is when none does (the coercion then reads ISO 8601, or counts it unparsable)."""
    text = value.strip()
    for form in formats:
        try:
            parsed = dt.datetime.strptime(text, form)
        except ValueError:
            continue
        return parsed.date() if kind == "date" else parsed
    return value
