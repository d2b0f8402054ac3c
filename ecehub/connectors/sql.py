"""The ``sql`` connector: SQLAlchemy async over PostgreSQL, MySQL/MariaDB and SQLite.

Built from config only: each entity maps a table or SQL view (``schema.table`` allowed) and
names its columns. The mapped tables are reflected once, on first use, and every mapped column
is checked then. Queries are SQLAlchemy Core with bound parameters, so identifier quoting and
dialect differences stay with SQLAlchemy:

- ``fetch`` / ``children``: ``WHERE col IN (...)``, one query per :data:`MAX_KEYS_PER_QUERY`
  keys;
- ``find``: every filter pushed down with the meaning of :func:`ecehub.connectors.base.matches`,
  rows ordered by key and keyset-paged (a record's cursor is its key). A filter on a field
  with ``transforms`` is pushed down only when a ``map`` translates it exactly; the hub
  evaluates the others on the records (``Connector.pushes_down``).

A key may be several columns (``key: [grant_number, program_number]``): the record's key is
their values joined by :func:`~ecehub.connectors.transforms.join_key`, ``fetch`` asks
``(c1, c2) IN ((?, ?), ...)`` and ``find`` orders by the columns and continues after a
cursor with ``c1 > ? OR (c1 = ? AND c2 > ?)``. A child of such an entity names as many
columns of its own (``parent: {program: [grant_number, program_number]}``): its parent key
is their values joined the same way, and ``children`` asks ``(p1, p2) IN ((?, ?), ...)``.

Error messages name the source, entity, table and columns, never the URL or credentials.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    Numeric,
    Row,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    event,
    false,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InvalidRequestError,
    NoSuchTableError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from ecehub.config.canonical import ENTITIES, FieldType, coerce, is_identifier_field
from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.config.periods import PERIOD_FIELD
from ecehub.connectors.base import (
    Capabilities,
    Connector,
    FieldFilter,
    Health,
    Page,
    Record,
    child_mapping,
    entity_mapping,
    utcnow,
)
from ecehub.connectors.transforms import join_key, key_columns, parent_columns, split_key
from ecehub.connectors.usage import count
from ecehub.errors import SourceError, SourceUnavailable

__all__ = ["MAX_KEYS_PER_QUERY", "SqlConnector", "SqlEntityConfig", "SqlSourceConfig"]

MAX_KEYS_PER_QUERY = 1000
"""Keys bound in one ``IN (...)`` (``fetch``, ``children``): a DataLoader batch is one query,
and a statement stays small and far below the bound-parameter limits (PostgreSQL 32767,
SQLite >= 3.32 32766)."""


_Key = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "the key column, or a list of columns whose values together are the "
            "key (joined with | after escaping | and \\ in each value)",
        }
    ),
]


_Parent = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "the column holding the parent's key, or the columns holding the "
            "parts of a key of several columns, in the parent key's order",
        }
    ),
]


class SqlEntityConfig(EntityConfig):
    """``table`` is a table or view name (optionally ``schema.table``); ``key``, ``fields``,
    ``identifiers`` and ``parent`` name its columns. ``key`` may list several columns (a
    natural key of grant number and program number): the source key is their values joined
    by :func:`~ecehub.connectors.transforms.join_key`, rows are ordered by the columns in
    that order, and a key asked for is found by a condition on each column."""

    table: str
    key: _Key
    parent: dict[str, _Parent] | None = None
    key_columns: SkipJsonSchema[tuple[str, ...]] = ()
    """The key's columns, from ``key`` (set by the validator, never written in the file)."""
    parent_columns: SkipJsonSchema[tuple[str, ...]] = ()
    """The columns holding the parent's key, from ``parent`` (several for a parent keyed by
    several columns; set by the validator, never written in the file)."""

    @model_validator(mode="before")
    @classmethod
    def _key_columns(cls, data: Any) -> Any:
        return parent_columns(key_columns(data))


class SqlSourceConfig(SourceConfig[SqlEntityConfig]):
    # The URL holds the password: never echo a rejected value back in a validation error.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: SecretStr = Field(description="SQLAlchemy async URL, e.g. postgresql+asyncpg://...")
    pool_size: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _children_of_composite_keys(self) -> SqlSourceConfig:
        for entity, ent in self.entities.items():
            parent = ent.parent_entity
            above = self.entities.get(parent) if parent else None
            if above is None or len(above.key_columns) == len(ent.parent_columns):
                continue
            if len(above.key_columns) > 1:
                raise ValueError(
                    f"entities.{entity}.parent: {parent} is keyed by several columns "
                    f"({', '.join(above.key_columns)}), which one parent column cannot hold; "
                    f"name the child's columns holding them, in the same order "
                    f"(parent: {{{parent}: [{', '.join(above.key_columns)}]}}), or drop the "
                    f"parent"
                )
            raise ValueError(
                f"entities.{entity}.parent: {parent} is keyed by one column "
                f"({above.key_columns[0]}); name one column of {entity} holding it"
            )
        return self

    @field_validator("url")
    @classmethod
    def _async_url(cls, value: SecretStr) -> SecretStr:
        hint = "e.g. postgresql+asyncpg://, mysql+aiomysql:// or sqlite+aiosqlite:///path.db"
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError(f"not a SQLAlchemy database URL ({hint})") from None
        if "+" not in url.drivername:
            raise ValueError(f"name the async driver in the URL scheme ({hint})")
        return value


# Canonical types of typed comparisons: the SQL type of the bound value, and the type a
# column stored as text is cast to before comparing.
_BIND_TYPES: dict[FieldType, TypeEngine[Any]] = {
    "int": BigInteger(),
    "float": Float(),
    "decimal": Numeric(38, 10),
    "date": Date(),
    "datetime": DateTime(),
}
_CAST_TYPES: dict[FieldType, TypeEngine[Any]] = {
    **_BIND_TYPES,
    # MySQL/MariaDB cannot CAST to FLOAT everywhere; DECIMAL compares the same.
    "float": Numeric(38, 10),
}
_NUMERIC = (int, float, Decimal)


def _python_type(column: ColumnElement[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:  # NullType, e.g. an untyped view expression on SQLite
        return None


def _parse_as(python_type: type | None, value: str) -> Any:
    """A key (which arrives as a string) in the column's Python type; ``ValueError`` if not."""
    try:
        if python_type is None or python_type is str:
            return value
        if issubclass(python_type, dt.datetime):
            return dt.datetime.fromisoformat(value)
        if issubclass(python_type, dt.date):
            return dt.date.fromisoformat(value)
        if python_type in (int, float, Decimal, uuid.UUID):
            return python_type(value)
    except (TypeError, ArithmeticError) as exc:  # decimal.InvalidOperation is one
        raise ValueError(str(exc)) from None
    return value


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), MAX_KEYS_PER_QUERY):
        yield values[start : start + MAX_KEYS_PER_QUERY]


@dataclass(frozen=True)
class _MappedEntity:
    """One entity's reflected columns."""

    keys: tuple[Column[Any], ...]
    """The key's columns (one, or several whose values together are the key)."""
    fields: dict[str, Column[Any]]
    identifiers: dict[str, Column[Any]]
    parent: tuple[Column[Any], ...]
    """The columns holding the parent's key (none for an entity without a parent)."""

    @property
    def columns(self) -> list[Column[Any]]:
        seen: dict[str, Column[Any]] = {}
        for col in [*self.keys, *self.fields.values(), *self.identifiers.values(), *self.parent]:
            seen.setdefault(col.name, col)
        return list(seen.values())

    def filter_column(self, field_name: str) -> Column[Any] | None:
        if is_identifier_field(field_name):
            return self.identifiers.get(field_name.split(":", 1)[1])
        return self.fields.get(field_name)


def _find_column(table: Table, name: str) -> Column[Any] | None:
    if name in table.c:
        return table.c[name]
    # Unquoted identifiers are case-insensitive in SQL; accept a unique case-insensitive match.
    folded = [c for c in table.c if c.name.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _map_columns(entity: str, ent: SqlEntityConfig, table: Table) -> _MappedEntity | list[str]:
    """The entity's columns in ``table``, or one problem per column it does not have."""
    names = [*ent.key_columns, *ent.fields.values(), *ent.identifiers.values()]
    names += ent.parent_columns
    columns = {name: _find_column(table, name) for name in names}
    missing = [name for name, col in columns.items() if col is None]
    if missing:
        available = ", ".join(c.name for c in table.c)
        return [
            f"entity {entity!r}: column {name!r} not found in table {ent.table!r} "
            f"(columns: {available})"
            for name in missing
        ]
    col = {name: c for name, c in columns.items() if c is not None}
    return _MappedEntity(
        keys=tuple(col[name] for name in ent.key_columns),
        fields={canonical: col[name] for canonical, name in ent.fields.items()},
        identifiers={system: col[name] for system, name in ent.identifiers.items()},
        parent=tuple(col[name] for name in ent.parent_columns),
    )


class SqlConnector(Connector[SqlSourceConfig]):
    """A relational source: one async engine (pooled), tables reflected once."""

    kind = "sql"
    settings_model: ClassVar[type[SourceConfig]] = SqlSourceConfig
    capabilities = Capabilities(
        supports_periods=True,
        notes=(
            "casefold holds on SQLite; PostgreSQL and MariaDB sources declare casefold=False",
            "periods: each key's latest row is ranked in the query (row_number over the key, "
            "by the period column's own order)",
        ),
    )

    def __init__(self, name: str, config: SqlSourceConfig) -> None:
        super().__init__(name, config)
        self.sql_config = config
        self._engine: AsyncEngine | None = None
        self._mapped: dict[str, _MappedEntity] = {}
        self._lock = asyncio.Lock()
        if _backend(config) != "sqlite":
            # PostgreSQL's lower() and MariaDB's collations fold case otherwise than
            # str.casefold (ß; MariaDB's general_ci also equates dotless and dotted i, ñ and n).
            self.capabilities = replace(self.capabilities, casefold=False)

    # -- engine and errors ----------------------------------------------------------------
    @property
    def engine(self) -> AsyncEngine:
        """The async engine, created on first use."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _url(self) -> URL:
        try:
            return make_url(self.sql_config.url.get_secret_value())
        except ArgumentError:
            raise SourceUnavailable(self.name, "the configured url is not a database URL") from None

    def _create_engine(self) -> AsyncEngine:
        url = self._url()
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.get_backend_name() != "sqlite":  # SQLite pools do not take a size
            options["pool_size"] = self.sql_config.pool_size
        try:
            engine = create_async_engine(url, **options)
        except (ArgumentError, InvalidRequestError, ImportError) as exc:
            reason = self._redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise SourceUnavailable(
                self.name, f"cannot create an engine for driver {url.drivername!r}: {reason}"
            ) from None
        if url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_unicode_lower)
        return engine

    def _redact(self, message: str) -> str:
        secret = self.sql_config.url.get_secret_value()
        message = message.replace(secret, "<url>")
        try:
            password = make_url(secret).password or ""
        except ArgumentError:
            password = ""
        # A very short password would mangle ordinary words and is not worth the noise.
        if len(password) >= 4:
            message = message.replace(password, "***")
        return message

    def _reason(self, exc: BaseException) -> str:
        """A short reason for ``exc`` without the URL or credentials."""
        if isinstance(exc, SourceError):
            return exc.message.removeprefix(f"source {exc.source!r}: ")
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            args = exc.orig.args
            # PyMySQL errors are (code, message) pairs.
            detail = args[1] if len(args) == 2 and isinstance(args[0], int) else str(exc.orig)
            reason = f"database error: {detail or type(exc.orig).__name__}"
        elif isinstance(exc, OSError):
            reason = f"cannot connect: {exc or type(exc).__name__}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        lines = str(reason).strip().splitlines() or [type(exc).__name__]
        return self._redact(lines[0])[:300]

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except TimeoutError:
            raise  # the caller owns timeouts
        except (OSError, DBAPIError) as exc:
            raise SourceUnavailable(self.name, self._reason(exc)) from exc

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        engine = self.engine
        with self._translate_errors():
            async with engine.connect() as conn:
                yield conn

    # -- reflection -----------------------------------------------------------------------
    def _entity_config(self, entity: str) -> SqlEntityConfig:
        return entity_mapping(self.sql_config.entities, self.name, entity)

    def _reflect(
        self, sync_conn: Connection, entities: Iterable[str]
    ) -> tuple[dict[str, _MappedEntity], list[str]]:
        tables: dict[str, Table | None] = {}
        mapped: dict[str, _MappedEntity] = {}
        problems: list[str] = []
        for entity in entities:
            ent = self._entity_config(entity)
            if ent.table not in tables:
                schema, _, name = ent.table.rpartition(".")
                try:
                    tables[ent.table] = Table(
                        name,
                        MetaData(),
                        autoload_with=sync_conn,
                        schema=schema or None,
                        resolve_fks=False,
                    )
                except NoSuchTableError:
                    tables[ent.table] = None
            table = tables[ent.table]
            if table is None:
                problems.append(f"entity {entity!r}: table or view {ent.table!r} not found")
                continue
            found = _map_columns(entity, ent, table)
            if isinstance(found, _MappedEntity):
                mapped[entity] = found
            else:
                problems.extend(found)
        return mapped, problems

    async def _reflect_entities(
        self, entities: Iterable[str]
    ) -> tuple[dict[str, _MappedEntity], list[str]]:
        async with self._connect() as conn:
            return await conn.run_sync(self._reflect, list(entities))

    async def verify(self) -> list[str]:
        """Reflect every mapped table now; the mapping problems found (empty when all is
        well). Raises :class:`SourceUnavailable` when the database cannot be reached."""
        async with self._lock:
            mapped, problems = await self._reflect_entities(self.sql_config.entities)
            self._mapped = mapped
        return problems

    async def _mapped_entity(self, entity: str) -> _MappedEntity:
        """The entity's reflected columns. The first call reflects every entity at once; an
        entity whose mapping is broken fails alone and is reflected again on its next call
        (so a fixed schema is picked up without a restart)."""
        self._entity_config(entity)
        if entity not in self._mapped:
            async with self._lock:
                if entity not in self._mapped:
                    pending = [e for e in self.sql_config.entities if e not in self._mapped]
                    mapped, problems = await self._reflect_entities(pending)
                    self._mapped.update(mapped)
                    if entity not in mapped:
                        mine = [p for p in problems if p.startswith(f"entity {entity!r}:")]
                        raise SourceUnavailable(self.name, "; ".join(mine))
        return self._mapped[entity]

    # -- records --------------------------------------------------------------------------
    def _record(
        self, entity: str, mapped: _MappedEntity, row: Row[Any], fetched_at: dt.datetime
    ) -> Record:
        values = row._mapping
        return self.make_record(
            entity,
            join_key([values[k] for k in mapped.keys]),
            {name: values[col] for name, col in mapped.fields.items()},
            {system: values[col] for system, col in mapped.identifiers.items()},
            _parent_key([values[p] for p in mapped.parent]),
            fetched_at=fetched_at,
        )

    @classmethod
    def _parse_keys(cls, columns: tuple[Column[Any], ...], keys: Iterable[str]) -> list[Any]:
        """Keys asked for in the key columns' types: values of the one column, or tuples of
        a composite key's parts (a key that is not one matches no row)."""
        if len(columns) == 1:
            return cls._parse_all(columns[0], keys)
        types = [_python_type(c) for c in columns]
        parsed: dict[tuple[Any, ...], None] = {}
        for key in keys:
            try:
                parts = split_key(key, len(columns))
                parsed[tuple(_parse_as(t, p) for t, p in zip(types, parts, strict=True))] = None
            except ValueError:
                continue
        return list(parsed)

    @staticmethod
    def _parse_all(column: Column[Any], keys: Iterable[str]) -> list[Any]:
        python_type = _python_type(column)
        parsed: dict[Any, None] = {}
        for key in keys:
            try:
                parsed[_parse_as(python_type, key)] = None
            except ValueError:
                continue  # a key the column cannot hold matches no row
        return list(parsed)

    # -- the contract ---------------------------------------------------------------------
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        self._entity_config(entity)
        if not keys:
            return {}
        mapped = await self._mapped_entity(entity)
        values = self._parse_keys(mapped.keys, keys)
        fetched_at = utcnow()
        out: dict[str, Record] = {}
        if not values:
            return out
        async with self._connect() as conn:
            for chunk in _chunks(values):
                reading = mapped
                stmt = select(*mapped.columns).where(_key_in(mapped.keys, chunk))
                if self._periodic(entity):
                    reading, stmt = _latest_rows(mapped, _key_in(mapped.keys, chunk))
                found = (await conn.execute(stmt)).all()
                count(requests=1, rows=len(found))
                for row in found:
                    record = self._record(entity, reading, row, fetched_at)
                    out[record.key] = record
        return out

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        """Children of each parent, ordered by key; every parent key asked for is present
        (with ``[]`` when it has no children or is not a value the parent column can hold)."""
        # ValueError for a relation the config does not declare
        child_mapping(self.sql_config.entities, self.name, entity, parent_entity)
        if not parent_keys:
            return {}
        mapped = await self._mapped_entity(entity)
        assert mapped.parent  # ent.parent is set, so reflection found it
        parent = mapped.parent
        values = self._parse_keys(parent, parent_keys)
        fetched_at = utcnow()
        out: dict[str, list[Record]] = {str(k): [] for k in parent_keys}
        out.update({join_key(v) if isinstance(v, tuple) else str(v): [] for v in values})
        if not values:
            return out
        async with self._connect() as conn:
            for chunk in _chunks(values):
                stmt = (
                    select(*mapped.columns)
                    .where(_key_in(parent, chunk))
                    .order_by(*parent, *mapped.keys)
                )
                found = (await conn.execute(stmt)).all()
                count(requests=1, rows=len(found))
                for row in found:
                    record = self._record(entity, mapped, row, fetched_at)
                    out.setdefault(str(record.parent_key), []).append(record)
        return out

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        self._entity_config(entity)
        self.check_find(entity, filters, first)
        translated = self.source_filters(entity, filters)
        if translated is None:
            return Page([], has_next=False)
        filters = translated
        mapped = await self._mapped_entity(entity)
        position: Any = None
        if after is not None:
            try:
                if "\x00" in after:  # no key holds NUL, and PostgreSQL refuses the statement
                    raise ValueError(after)
                parts = split_key(after, len(mapped.keys))
                position = [
                    _parse_as(_python_type(k), p) for k, p in zip(mapped.keys, parts, strict=True)
                ]
            except ValueError:
                raise ValueError(f"invalid cursor {after!r} for entity {entity}") from None
        stmt = select(*mapped.columns)
        if self._periodic(entity):
            # Filters and paging apply to each key's latest row: ranked in a subquery, over
            # the keys after the cursor only, and without filters over the page's keys only.
            after_cursor = None if position is None else _after(mapped.keys, position)
            window = first + 1 if first is not None and not filters else None
            mapped, stmt = _latest_rows(mapped, after_cursor, window)
        stmt = stmt.where(*(k.is_not(None) for k in mapped.keys)).order_by(*mapped.keys)
        for flt in filters:
            stmt = stmt.where(self._condition(entity, mapped, flt))
        if position is not None:
            stmt = stmt.where(_after(mapped.keys, position))
        if first is not None:
            stmt = stmt.limit(first + 1)  # one more than asked tells whether a next page exists
        fetched_at = utcnow()
        async with self._connect() as conn:
            rows = (await conn.execute(stmt)).all()
        count(requests=1, rows=len(rows))
        records = [self._record(entity, mapped, row, fetched_at) for row in rows]
        for record in records:
            record.cursor = record.key
        if first is not None and len(records) > first:
            return Page(records[:first], has_next=True)
        return Page(records, has_next=False)

    def _periodic(self, entity: str) -> bool:
        return self._entity_config(entity).period is not None

    async def health(self) -> Health:
        start = time.perf_counter()
        ok, detail = True, ""
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self._connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except TimeoutError:
            ok, detail = False, f"no answer within {self.timeout_s:g}s"
        except Exception as exc:  # health reports, never raises
            ok, detail = False, self._reason(exc)
        return Health(self.name, ok, (time.perf_counter() - start) * 1000, detail)

    async def aclose(self) -> None:
        engine, self._engine, self._mapped = self._engine, None, {}
        if engine is not None:
            await engine.dispose()

    # -- filter push-down -----------------------------------------------------------------
    def _condition(
        self, entity: str, mapped: _MappedEntity, flt: FieldFilter
    ) -> ColumnElement[bool]:
        """``flt`` as SQL, with the meaning :func:`ecehub.connectors.base.matches` gives it
        on the coerced record: text ops case-insensitive, others typed."""
        column = mapped.filter_column(flt.field)
        assert column is not None  # checked with can_filter
        kind: FieldType = (
            "str" if is_identifier_field(flt.field) else ENTITIES[entity].fields[flt.field]
        )
        if kind in ("str", "list") or flt.op == "contains":
            as_text = column if _python_type(column) is str else cast(column, String)
            return _text_condition(as_text, flt)
        return self._typed_condition(column, kind, flt)

    def _typed_condition(
        self, column: Column[Any], kind: FieldType, flt: FieldFilter
    ) -> ColumnElement[bool]:
        expr = self._as_kind(column, kind)
        bind_type = _BIND_TYPES[kind]
        wanted = flt.value if flt.op == "in" else [flt.value]
        if flt.op == "in" and not isinstance(wanted, list | tuple | set | frozenset):
            wanted = [wanted]
        values: list[Any] = []
        for raw in wanted:
            try:
                value = coerce(kind, raw)
            except (ValueError, TypeError, ArithmeticError):
                continue  # a value the field cannot hold matches nothing
            if value is not None:
                values.append(value)
        if not values:
            return false()
        if flt.op == "in":
            return expr.in_([literal(v, bind_type) for v in values])
        bound = literal(values[0], bind_type)
        if flt.op == "eq":
            return expr == bound
        if flt.op == "gte":
            return expr >= bound
        return expr <= bound

    def _as_kind(self, column: Column[Any], kind: FieldType) -> ColumnElement[Any]:
        """``column`` as an expression comparable with values of canonical ``kind``."""
        python_type = _python_type(column)
        if kind in ("int", "float", "decimal") and python_type in _NUMERIC:
            return column
        # A date column compares with dates and datetimes; a datetime column only with
        # datetimes (a date field read from it is its date part).
        is_date = python_type is not None and issubclass(python_type, dt.date)
        if is_date and (kind == "datetime" or (kind == "date" and python_type is dt.date)):
            return column
        # Stored as text (or another type): compare in the canonical type, as coerce() reads it.
        if kind == "date" and self.engine.dialect.name == "sqlite":
            return func.date(column)  # SQLite CAST(... AS DATE) is numeric, not a date
        return cast(column, _CAST_TYPES[kind])


_RANK = "ecehub_period_rank"


def _latest_rows(
    mapped: _MappedEntity, where: ColumnElement[bool] | None = None, window: int | None = None
) -> tuple[_MappedEntity, Select[Any]]:
    """Each key's latest row (by the ``period`` column, newest first; a row without one is
    oldest): the entity's columns over a subquery ranking the rows of a key, and the select
    of the rank-1 rows. ``where`` narrows the rows before they are ranked (a condition on
    the key only, so a key's rows stay together); ``window``: only the first so many keys
    (in key order) are ranked, so a page costs its own rows, not the table's."""
    period = mapped.fields[PERIOD_FIELD]
    rank = (
        func.row_number()
        .over(
            partition_by=list(mapped.keys),
            # NULLS LAST, written so MariaDB (which has no NULLS LAST) reads it too.
            order_by=(case((period.is_(None), 1), else_=0), period.desc()),
        )
        .label(_RANK)
    )
    inner = select(*mapped.columns, rank)
    if where is not None:
        inner = inner.where(where)
    if window is not None:
        # A derived table joined, not `IN (... LIMIT)`, which MariaDB does not take.
        labels = [k.label(f"ecehub_key_{i}") for i, k in enumerate(mapped.keys)]
        keys = select(*labels).where(*(k.is_not(None) for k in mapped.keys))
        if where is not None:
            keys = keys.where(where)
        page = (
            keys.group_by(*mapped.keys).order_by(*mapped.keys).limit(window).subquery("page_keys")
        )
        joined = and_(*(k == page.c[f"ecehub_key_{i}"] for i, k in enumerate(mapped.keys)))
        inner = inner.join_from(mapped.keys[0].table, page, joined)
    ranked = inner.subquery("ecehub_periods")

    def over(column: Column[Any]) -> Column[Any]:
        return _as_column(ranked.c[column.name])

    outer = _MappedEntity(
        keys=tuple(over(k) for k in mapped.keys),
        fields={name: over(col) for name, col in mapped.fields.items()},
        identifiers={system: over(col) for system, col in mapped.identifiers.items()},
        parent=tuple(over(p) for p in mapped.parent),
    )
    return outer, select(*outer.columns).where(ranked.c[_RANK] == 1)


def _as_column(column: Any) -> Column[Any]:
    """A subquery's column where the mapping expects a table's (they select and compare
    alike)."""
    found: Column[Any] = column
    return found


def _parent_key(parts: list[Any]) -> str | None:
    """A row's parent key from its parent columns' values: none without a parent, or when a
    column holding part of it is null (a row of no parent, as with one column)."""
    if not parts or any(p is None for p in parts):
        return None
    return join_key(parts)


def _key_in(columns: tuple[Column[Any], ...], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows whose key is one of ``values`` (tuples for a composite key: ``(a, b) IN ((?, ?),
    ...)``, which SQLite, PostgreSQL and MariaDB all take)."""
    if len(columns) == 1:
        return columns[0].in_(values)
    return tuple_(*columns).in_(values)


def _after(columns: tuple[Column[Any], ...], position: Sequence[Any]) -> ColumnElement[bool]:
    """Rows ordered after ``position`` by the key columns in order (keyset paging):
    ``k1 > p1 OR (k1 = p1 AND k2 > p2) OR ...``."""
    alternatives: list[ColumnElement[bool]] = []
    for i, column in enumerate(columns):
        equal = [columns[j] == position[j] for j in range(i)]
        alternatives.append(and_(*equal, column > position[i]))
    return alternatives[0] if len(alternatives) == 1 else or_(*alternatives)


def _backend(config: SqlSourceConfig) -> str:
    try:
        return make_url(config.url.get_secret_value()).get_backend_name()
    except ArgumentError:
        return ""


def _sqlite_unicode_lower(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only; case-insensitive filters fold as matches() does
    # (str.casefold: ß = ss), so SQLite sources declare casefold=True.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _text_condition(expr: ColumnElement[Any], flt: FieldFilter) -> ColumnElement[bool]:
    # coerce("str") strips the value and matches() strips the wanted one, comparing
    # case-insensitively: so trim both and lower(trim()) the column.
    # Values are folded by the database too, so both sides use the same lower().
    folded = func.lower(func.trim(expr))
    if flt.op == "eq":
        return folded == func.lower(literal(str(flt.value).strip(), String()))
    if flt.op == "in":
        wanted = flt.value if isinstance(flt.value, list | tuple | set | frozenset) else [flt.value]
        if not wanted:
            return false()
        return folded.in_([func.lower(literal(str(w).strip(), String())) for w in wanted])
    if flt.op == "contains":
        # autoescape: %, _ and the escape character in the value match themselves.
        return expr.icontains(str(flt.value), autoescape=True)
    if flt.op == "gte":
        return expr >= str(flt.value)
    return expr <= str(flt.value)
