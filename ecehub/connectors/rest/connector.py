"""The ``rest`` connector: the connector contract (``fetch``, ``children``, ``find``,
``health``) over the source's listings, with records built from the entity's JSON paths.

How each call reaches the API:

- ``fetch``: ``by_keys`` (the query language's ``in``, a repeated or comma param, or a POST
  body; in chunks of ``max``, split further to keep URLs within ``max_url_length``), or the
  ``"{keys}"`` of a ``search`` body (paged like a listing), or a ``batch`` param
  (``?ids=a,b,c``), else ``item_path`` per key (404 = missing), else ``find`` with an ``in``
  filter on the key;
- ``children``: ``parent_batch`` param in chunks, else ``parent_path`` per parent;
- ``find``: filters with a matching ``filters`` entry become query params or conditions of
  the query expression (:mod:`~ecehub.connectors.rest.dialects`), the rest are applied here
  with :func:`~ecehub.connectors.base.matches`. An expression condition that is a superset
  (a case-insensitive filter on an API comparing exactly) is applied here again, exactly.
  An entity with ``search`` is listed by POSTing its body instead, each filter it declares
  at its placeholder as a JSON value (:mod:`~ecehub.connectors.rest.search`).

A key of several paths (``key: [grant_number, program_number]``) is the parts joined by
:func:`~ecehub.connectors.transforms.join_key`; ``fetch`` asks each part apart: ``(a = 'x'
AND b = 'y') OR (...)`` in an expression, one object per key in a POST body, one
placeholder per part in ``item_path``. A key that does not split into that many parts is
none of the entity's and is not asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import replace
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote

from ecehub.config.canonical import identifier_field, is_identifier_field
from ecehub.config.model import SourceConfig
from ecehub.connectors.base import (
    Connector,
    FieldFilter,
    FilterOp,
    Health,
    Page,
    Record,
    child_mapping,
    entity_mapping,
    matches,
    utcnow,
)
from ecehub.connectors.rest.dialects import folds_simply, number_literal
from ecehub.connectors.rest.paging import Ask, RestPaging, Row
from ecehub.connectors.rest.paths import ABSENT, dig
from ecehub.connectors.rest.search import RestSearch, fill, json_value
from ecehub.connectors.rest.settings import (
    RestBatch,
    RestByKeys,
    RestEntityConfig,
    RestFilterParam,
    RestSourceConfig,
)
from ecehub.connectors.rest.transport import RestTransport
from ecehub.connectors.transforms import join_key, split_key
from ecehub.connectors.usage import count
from ecehub.errors import EcehubError

__all__ = ["RestConnector"]

_log = logging.getLogger("ecehub.connectors.rest")

_T = TypeVar("_T")

_Pairs = list[tuple[str, str]]

_NUMBER = re.compile(r"-?\d+(\.\d+)?")

_IN_FILTER_CHUNK = 100
"""Keys per request when ``fetch`` falls back to an ``in`` filter param."""


def _unique(keys: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(k) for k in keys))


def _chunks(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _param_value(op: FilterOp, value: Any) -> str:
    if op == "in":
        return ",".join(str(v) for v in _as_list(value))
    return str(value)


async def _gather(coros: Iterable[Coroutine[Any, Any, _T]]) -> list[_T]:
    """Run concurrently; on the first failure cancel the rest, wait for them, re-raise.

    Not ``asyncio.TaskGroup``: on Python 3.11 a failing child leaves the parent task marked
    as cancelling, which breaks an enclosing ``asyncio.timeout``.
    """
    tasks = [asyncio.ensure_future(c) for c in coros]
    if not tasks:
        return []
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


class RestConnector(Connector[RestSourceConfig]):
    kind = "rest"
    settings_model: ClassVar[type[SourceConfig]] = RestSourceConfig
    evaluates_transformed = True  # filters on transformed fields are applied to the records

    def __init__(self, name: str, config: SourceConfig) -> None:
        if not isinstance(config, RestSourceConfig):
            raise TypeError(f"source {name!r}: RestConnector needs a RestSourceConfig")
        super().__init__(name, config)
        self.settings: RestSourceConfig = config
        self.transport = RestTransport(name, config)
        self.paging = RestPaging(self.transport)
        self.url_splits = 0
        """Batches split in two because their URL would exceed ``max_url_length``."""
        if config.query is not None:
            # upper()/toupper() on the API fold case otherwise than str.casefold (ß).
            self.capabilities = replace(self.capabilities, casefold=False)

    async def aclose(self) -> None:
        await self.transport.aclose()

    # -- records -----------------------------------------------------------------------------
    def _entity(self, entity: str) -> RestEntityConfig:
        return entity_mapping(self.settings.entities, self.name, entity)

    def _record(
        self,
        entity: str,
        ent: RestEntityConfig,
        raw: Any,
        *,
        key: str | None = None,
        parent_key: str | None = None,
        fetched_at: dt.datetime | None = None,
    ) -> Record | None:
        if not isinstance(raw, Mapping):
            return None
        if len(ent.key_columns) == 1:
            found_key = dig(raw, ent.key)
        else:
            parts = [dig(raw, path) for path in ent.key_columns]
            found_key = None if any(p is None for p in parts) else join_key(parts)
        found_key = key if found_key is None else found_key
        if found_key is None:
            return None
        found_parent = dig(raw, ent.parent_column) if ent.parent_column else None
        return self.make_record(
            entity,
            found_key,
            {name: dig(raw, path) for name, path in ent.fields.items()},
            {system: dig(raw, path) for system, path in ent.identifiers.items()},
            parent_key if found_parent is None else found_parent,
            fetched_at,
        )

    async def _listing(
        self,
        entity: str,
        path: str,
        params: Mapping[str, str] | _Pairs,
        *,
        parent_key: str | None = None,
        want: int | None = None,
    ) -> list[Record]:
        """Every record of a GET listing; ``parent_key`` marks a per-parent endpoint, where a
        404 (an unknown parent, on most APIs) means no children. ``want``: the rows expected."""
        ent = self._entity(entity)
        listing = self.paging.rows(
            ent, path, params, None, missing_ok=parent_key is not None, want=want
        )
        return await self._records_of(entity, ent, listing, parent_key=parent_key)

    async def _records_of(
        self,
        entity: str,
        ent: RestEntityConfig,
        listing: AsyncGenerator[Row, None],
        *,
        parent_key: str | None = None,
    ) -> list[Record]:
        out: list[Record] = []
        fetched_at = utcnow()
        async with aclosing(listing) as rows:
            async for row in rows:
                record = self._record(
                    entity, ent, row.raw, parent_key=parent_key, fetched_at=fetched_at
                )
                if record is not None:
                    out.append(record)
        return out

    # -- the contract ------------------------------------------------------------------------
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        ent = self._entity(entity)
        wanted = _unique(keys)
        if len(ent.key_columns) > 1:
            # A key of another number of parts is none of this entity's: not asked.
            wanted = [k for k in wanted if _parts(k, len(ent.key_columns)) is not None]
        if not wanted:
            return {}
        if ent.by_keys is not None:
            records = await self._fetch_by_keys(entity, ent, ent.by_keys, wanted)
        elif ent.search is not None and ent.search.takes_keys:
            search = ent.search
            listings = await _gather(
                self._records_of(
                    entity,
                    ent,
                    self._search_rows(
                        ent,
                        search,
                        {"keys": _key_values(search.key_names(ent.key_columns), chunk)},
                        None,
                        want=len(chunk) + 1,
                    ),
                )
                for chunk in _chunks(wanted, search.max_keys)
            )
            records = [r for listing in listings for r in listing]
        elif ent.batch is not None:
            listings = await _gather(
                self._listing(entity, ent.path, params)
                for chunk in _chunks(wanted, ent.batch.max)
                for params in self._fitting(ent, chunk, self._batch_params(ent.batch))
            )
            records = [r for listing in listings for r in listing]
        elif ent.item_path is not None:
            found = await _gather(self._fetch_one(entity, ent, key) for key in wanted)
            records = [r for r in found if r is not None]
        else:
            field = self._key_filter(ent)
            if field is None:
                raise ValueError(
                    f"source {self.name!r} cannot fetch {entity!r} by key: set `batch` (a "
                    f"param taking many keys), `item_path` (e.g. /things/{{key}}), or a "
                    f"`filters` entry with op `in` for the field or identifier mapped to "
                    f"{ent.key!r}"
                )
            pages = await _gather(
                self.find(entity, [FieldFilter(field, "in", chunk)])
                for chunk in _chunks(wanted, _IN_FILTER_CHUNK)
            )
            records = [r for page in pages for r in page.records]
        wanted_set = set(wanted)
        return {r.key: r for r in records if r.key in wanted_set}

    async def _fetch_by_keys(
        self, entity: str, ent: RestEntityConfig, by_keys: RestByKeys, wanted: list[str]
    ) -> list[Record]:
        if by_keys.style == "post":
            found = await _gather(
                self._post_keys(entity, ent, by_keys, chunk)
                for chunk in _chunks(wanted, by_keys.max)
            )
            return [r for records in found for r in records]
        if by_keys.style == "expression":
            build = self._expression_params(ent, by_keys)
        else:
            style: Literal["comma", "repeat"] = "repeat" if by_keys.style == "repeat" else "comma"
            build = self._batch_params(RestBatch(param=by_keys.param or "", style=style))
        # One row per key, and one more so a full page does not ask for another: a batch
        # fits in one page.
        size = max(1, min(by_keys.max, self.settings.pagination.page_size - 1))
        listings = await _gather(
            self._listing(entity, ent.path, params, want=len(batch) + 1)
            for chunk in _chunks(wanted, size)
            for batch, params in self._fitting_batches(ent, chunk, build)
        )
        return [r for listing in listings for r in listing]

    def _expression_params(
        self, ent: RestEntityConfig, by_keys: RestByKeys
    ) -> Callable[[list[str]], _Pairs | None]:
        """Keys as the query language's condition: ``field in (...)`` for a one-path key,
        ``(a = 'x' AND b = 'y') OR (...)`` for a key of several paths."""
        language = self.settings.query
        assert language is not None  # checked at load
        names = by_keys.part_names(ent.key_columns)
        kinds = by_keys.literals(len(names))

        def written(key: str) -> list[str] | None:
            """The key's parts as literals; ``None``: it cannot be in the source."""
            parts = _parts(key, len(names))
            if parts is None:
                return None
            out: list[str] = []
            for part, kind in zip(parts, kinds, strict=True):
                if kind == "text":
                    out.append(language.text(part))
                elif _NUMBER.fullmatch(part):
                    out.append(part)
                else:
                    return None  # not a number: cannot be in a number column, not asked
            return out

        def build(keys: list[str]) -> _Pairs | None:
            literals = [w for k in keys if (w := written(k)) is not None]
            if not literals:
                return None
            if len(names) == 1:
                return [(language.param, language.member(names[0], [w[0] for w in literals]))]
            # AND binds tighter than OR in SoQL and OData: one parenthesis per key.
            each = (
                "("
                + language.and_.join(language.equals(n, v) for n, v in zip(names, w, strict=True))
                + ")"
                for w in literals
            )
            return [(language.param, language.or_.join(each))]

        return build

    def _batch_params(self, batch: RestBatch) -> Callable[[list[str]], _Pairs | None]:
        def build(keys: list[str]) -> _Pairs | None:
            if batch.style == "repeat":
                return [(batch.param, k) for k in keys]
            # A key holding a comma would be read as two: it cannot be asked in a comma list.
            plain = [k for k in keys if "," not in k]
            if len(plain) < len(keys):
                _log.warning(
                    "source %s: %d key(s) holding a comma cannot be asked in the comma list "
                    "%s; reported as not found",
                    self.name,
                    len(keys) - len(plain),
                    batch.param,
                )
            return [(batch.param, ",".join(plain))] if plain else None

        return build

    def _fitting(
        self, ent: RestEntityConfig, keys: list[str], build: Callable[[list[str]], _Pairs | None]
    ) -> list[_Pairs]:
        return [params for _, params in self._fitting_batches(ent, keys, build)]

    def _fitting_batches(
        self, ent: RestEntityConfig, keys: list[str], build: Callable[[list[str]], _Pairs | None]
    ) -> list[tuple[list[str], _Pairs]]:
        """``keys`` as the query params of as few requests as keep each URL (paging params
        included) within ``max_url_length``: halved until they fit."""
        params = build(keys)
        if params is None:
            return []
        if self._url_length(ent, ent.path, params) <= self.settings.max_url_length:
            return [(keys, params)]
        if len(keys) == 1:
            _log.warning(
                "source %s: a key of %d characters makes a URL longer than max_url_length "
                "(%d); not asked, reported as not found",
                self.name,
                len(keys[0]),
                self.settings.max_url_length,
            )
            return []
        self.url_splits += 1
        half = (len(keys) + 1) // 2
        return self._fitting_batches(ent, keys[:half], build) + self._fitting_batches(
            ent, keys[half:], build
        )

    def _url_length(self, ent: RestEntityConfig, path: str, params: _Pairs) -> int:
        """The longest URL a listing with ``params`` sends, its paging params included."""
        pag = self.settings.pagination
        room: _Pairs = []
        order = self.settings.order_of(ent)
        if order is not None and pag.order_param is not None:
            room.append((pag.order_param, order))
        big = str(10**12)
        if pag.style == "page":
            room += [(pag.page_param, big), (pag.size_param, str(pag.page_size))]
        elif pag.style == "offset":
            room += [(pag.offset_param, big), (pag.limit_param, str(pag.page_size))]
        elif pag.style == "cursor":
            room += [(pag.limit_param, str(pag.page_size)), (pag.cursor_param, "x" * 64)]
        return self.transport.url_length(path, [*params, *room])

    async def _post_keys(
        self, entity: str, ent: RestEntityConfig, by_keys: RestByKeys, keys: list[str]
    ) -> list[Record]:
        path = by_keys.path or ent.path
        values = _key_values(tuple(by_keys.part_names(ent.key_columns)), keys)
        body = await self.transport.request(
            "POST", path, {}, json_body=_with_keys(by_keys.body, values)
        )
        fetched_at = utcnow()
        out: list[Record] = []
        for raw in self.paging.records_in(ent, body, f"POST {path}"):
            record = self._record(entity, ent, raw, fetched_at=fetched_at)
            if record is not None:
                out.append(record)
        return out

    async def _fetch_one(self, entity: str, ent: RestEntityConfig, key: str) -> Record | None:
        assert ent.item_path is not None
        path = ent.item_path
        if len(ent.key_columns) == 1:
            path = path.replace("{key}", quote(key, safe=""))
        else:
            # Each part quoted: a brace in one becomes %7B, never another placeholder.
            parts = split_key(key, len(ent.key_columns))
            for column, part in zip(ent.key_columns, parts, strict=True):
                path = path.replace("{" + column + "}", quote(part, safe=""))
        body = await self.transport.get(path, {}, missing_ok=True)
        if body is ABSENT:
            return None
        raw = body if ent.item_record_path is None else dig(body, ent.item_record_path)
        count(rows=1)
        return self._record(entity, ent, raw, key=key)

    def _key_filter(self, ent: RestEntityConfig) -> str | None:
        """The filterable field (or identifier) whose JSON path is the key, with op ``in``
        (none for a key of several paths)."""
        if len(ent.key_columns) > 1:
            return None
        declared: dict[str, bool] = {
            # an expression filter (no param) writes `in` itself
            name: param.param is None or param.op == "in"
            for name, param in ent.filters.items()
        }
        if ent.search is not None:
            declared = {name: f.op == "in" for name, f in ent.search.filters.items()}
        for name, takes_in in declared.items():
            if not takes_in:
                continue
            if is_identifier_field(name):
                mapped = ent.identifiers.get(name.split(":", 1)[1])
            else:
                mapped = ent.fields.get(name)
            if mapped == ent.key:
                return name
        return None

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        ent = child_mapping(self.settings.entities, self.name, entity, parent_entity)
        wanted = _unique(parent_keys)
        if ent.parent_batch is not None:
            listings = await _gather(
                self._listing(entity, ent.path, params)
                for chunk in _chunks(wanted, ent.parent_batch.max)
                for params in self._fitting(ent, chunk, self._batch_params(ent.parent_batch))
            )
        elif ent.parent_path is not None:
            template = ent.parent_path
            listings = await _gather(
                self._listing(
                    entity,
                    template.replace("{parent_key}", quote(key, safe="")),
                    {},
                    parent_key=key,
                )
                for key in wanted
            )
        else:
            raise ValueError(
                f"source {self.name!r} cannot list {entity!r} by {parent_entity!r}: set "
                f"`parent_batch` (a param taking many parent keys) or `parent_path` (e.g. "
                f"/{parent_entity}s/{{parent_key}}/{entity})"
            )
        grouped: dict[str, list[Record]] = {key: [] for key in wanted}
        for listing in listings:
            for record in listing:
                if record.parent_key in grouped:
                    grouped[record.parent_key].append(record)
        return grouped

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        ent = self._entity(entity)
        if first is not None and first < 0:
            raise ValueError("`first` must be >= 0")
        if ent.search is not None:
            return await self._search_find(entity, ent, ent.search, filters, first, after)
        params: dict[str, str] = {}
        local: list[FieldFilter] = []
        """Filters applied here to every row read."""
        hub_only: list[FieldFilter] = []
        """Of those, the ones the API was not asked to apply at all (superset conditions of
        the expression are re-checked here, but rarely drop a row)."""
        conditions: list[tuple[int, str]] = []
        for i, flt in enumerate(filters):
            if flt.op == "in" and not _param_value("in", flt.value):
                return Page([], has_next=False)  # `in []`: nothing can match
            pushed = ent.filters.get(flt.field)
            if pushed is not None and pushed.param is None:
                local_only = flt.field in ent.values or flt.field in ent.transforms
                condition = None if local_only else self._condition(ent, flt, pushed)
                values = _as_list(flt.value) if flt.op == "in" else []
                if condition is not None and len(values) > pushed.max:
                    if first is None and after is None:
                        return await self._find_in_chunks(
                            entity, filters, i, pushed.max, first, after
                        )
                    condition = None  # paged: no common order over several calls
                local.append(flt)
                if condition is None:
                    hub_only.append(flt)
                else:
                    conditions.append((i, condition))
                continue
            if pushed is not None and self.settings.case_sensitive(pushed) and _has_text(flt.value):
                pushed = None  # the API would miss other cases: filtered here instead
            # A field with a value mapping or transforms is filtered here, on the canonical
            # (transformed) values.
            local_only = flt.field in ent.values or flt.field in ent.transforms
            if (
                pushed is not None
                and pushed.param is not None
                and pushed.op == flt.op
                and not local_only
            ):
                values = _as_list(flt.value) if flt.op == "in" else []
                if len(values) > pushed.max:
                    return await self._find_in_chunks(entity, filters, i, pushed.max, first, after)
                params[pushed.param] = _param_value(flt.op, flt.value)
            else:
                local.append(flt)
                hub_only.append(flt)
        query: list[tuple[str, str]] = list(params.items())
        while conditions:
            language = self.settings.query
            assert language is not None  # an expression filter needs one (checked at load)
            expression = [(language.param, language.all_of(c for _, c in conditions))]
            if self._url_length(ent, ent.path, query + expression) <= self.settings.max_url_length:
                query += expression
                break
            # Too long a URL: an unpaged `in` is split into calls; else the longest
            # condition is left to the hub.
            i, longest = max(conditions, key=lambda ic: len(ic[1]))
            values = _as_list(filters[i].value) if filters[i].op == "in" else []
            if first is None and after is None and len(values) > 1:
                self.url_splits += 1
                return await self._find_in_chunks(
                    entity, filters, i, (len(values) + 1) // 2, first, after
                )
            conditions.remove((i, longest))
            hub_only.append(filters[i])
        # Without filters of its own here, each row read is a record: read what `first` and
        # the one row that says whether there is more need.
        want = None if first is None or hub_only else first + 1
        rows = self.paging.rows(ent, ent.path, query, after, want=want)
        return await self._page(entity, ent, rows, local, first)

    async def _page(
        self,
        entity: str,
        ent: RestEntityConfig,
        listing: AsyncGenerator[Row, None],
        local: list[FieldFilter],
        first: int | None,
    ) -> Page:
        """The records of ``listing`` that pass the filters applied here (``local``), up to
        ``first``, each with its cursor."""
        out: list[Record] = []
        has_next = False
        fetched_at = utcnow()
        # Filters applied here are tested on a record of the filtered fields only, built
        # like the whole record (value mappings, constants, coercion), so a row that fails
        # them costs no whole record.
        named = {flt.field for flt in local}
        probe_fields = {name: path for name, path in ent.fields.items() if name in named}
        probe_identifiers = {
            system: path
            for system, path in ent.identifiers.items()
            if identifier_field(system) in named
        }
        async with aclosing(listing) as rows:
            async for row in rows:
                raw = row.raw
                if local:
                    if not isinstance(raw, Mapping):
                        continue
                    probe = self.make_record(
                        entity,
                        "",
                        {name: dig(raw, path) for name, path in probe_fields.items()},
                        {system: dig(raw, path) for system, path in probe_identifiers.items()},
                        fetched_at=fetched_at,
                    )
                    if not matches(probe, local):
                        continue
                record = self._record(entity, ent, raw, fetched_at=fetched_at)
                if record is None:
                    continue
                if first is not None and len(out) >= first:
                    has_next = True
                    break
                record.cursor = row.cursor
                out.append(record)
        return Page(out, has_next=has_next)

    # -- POST search bodies ------------------------------------------------------------------
    async def _search_find(
        self,
        entity: str,
        ent: RestEntityConfig,
        search: RestSearch,
        filters: Sequence[FieldFilter],
        first: int | None,
        after: str | None,
    ) -> Page:
        """``find`` through the search body: each filter the body declares goes in at its
        placeholder (as JSON), the others are applied here."""
        values: dict[str, Any] = {}
        local: list[FieldFilter] = []
        for i, flt in enumerate(filters):
            if flt.op == "in" and not _as_list(flt.value):
                return Page([], has_next=False)  # `in []`: nothing can match
            value = None if flt.field in values else self._search_value(ent, search, flt)
            if value is not None:
                declared = search.filters[flt.field]
                if not (declared.op == "in" and len(value) > declared.max):
                    values[flt.field] = value
                    continue
                if first is None and after is None:
                    return await self._find_in_chunks(
                        entity, filters, i, declared.max, first, after
                    )
                # Paged: several calls have no common order to continue from; the hub
                # filters.
            local.append(flt)
        want = None if first is None or local else first + 1
        rows = self._search_rows(ent, search, values, after, want=want)
        return await self._page(entity, ent, rows, local, first)

    @staticmethod
    def _search_value(ent: RestEntityConfig, search: RestSearch, flt: FieldFilter) -> Any:
        """The JSON value ``flt`` puts at its placeholder, or ``None``: the API cannot be
        asked exactly (another op, a mapped or transformed field, text on an API comparing
        case-sensitively, a value JSON does not carry) and the hub filters."""
        declared = search.filters.get(flt.field)
        if declared is None or flt.field in ent.values or flt.field in ent.transforms:
            return None
        if declared.case_sensitive and _has_text(flt.value):
            return None
        try:
            if declared.op == "in" and flt.op in ("in", "eq"):
                values = _as_list(flt.value) if flt.op == "in" else [flt.value]
                return [json_value(v) for v in dict.fromkeys(values)]
            if declared.op == flt.op:
                return json_value(flt.value)
        except (ValueError, TypeError):  # TypeError: an unhashable value
            return None
        return None

    def _search_rows(
        self,
        ent: RestEntityConfig,
        search: RestSearch,
        values: Mapping[str, Any],
        after: str | None,
        *,
        want: int | None,
    ) -> AsyncGenerator[Row, None]:
        """The rows of the search with ``values`` at their placeholders, page by page."""
        path = search.path or ent.path

        async def send(ask: Ask) -> Any:
            body = fill(search.body, {**values, **_paging_values(ask)})
            return await self.transport.request("POST", path, {}, json_body=body)

        return self.paging.walk(ent, f"POST {path}", send, after, search, want=want)

    def _condition(
        self, ent: RestEntityConfig, flt: FieldFilter, pushed: RestFilterParam
    ) -> str | None:
        """``flt`` as a condition of the source's expression: exact, or a superset the hub
        narrows (text on an API comparing case-sensitively); ``None`` when the language cannot
        say it without losing a match (then the hub filters)."""
        language = self.settings.query
        assert language is not None
        field = ent.expression_field(flt.field, pushed)
        assert field is not None  # checked at load
        fold = self.settings.case_sensitive(pushed)
        if flt.op == "contains":
            if language.contains is None or not isinstance(flt.value, str):
                return None
            if not fold:
                return language.containing(field, flt.value)
            if language.upper is None or not folds_simply(flt.value):
                return None
            return language.containing(language.upper_of(field), flt.value.upper())
        if flt.op not in ("eq", "in"):
            return None
        values = _as_list(flt.value) if flt.op == "in" else [flt.value]
        texts = [v.strip() for v in values if isinstance(v, str)]
        numbers = [number_literal(v) for v in values if not isinstance(v, str)]
        if any(n is None for n in numbers):
            return None  # a date, a bool: compared by the hub in the field's type
        parts: list[str] = []
        if texts and fold:
            # The hub ignores case and surrounding spaces: ask for every row containing the
            # value in upper case (a superset), the hub keeps the equal ones.
            if (
                language.upper is None
                or language.contains is None
                or not all(folds_simply(t) for t in texts)
            ):
                return None
            upper = language.upper_of(field)
            parts += [language.containing(upper, t.upper()) for t in dict.fromkeys(texts)]
        elif texts:
            parts.append(language.member(field, [language.text(t) for t in dict.fromkeys(texts)]))
        if numbers:
            parts.append(language.member(field, [n for n in numbers if n is not None]))
        return language.any_of(parts)

    async def _find_in_chunks(
        self,
        entity: str,
        filters: Sequence[FieldFilter],
        index: int,
        size: int,
        first: int | None,
        after: str | None,
    ) -> Page:
        """An ``in`` filter with more values than the API takes at once, as several calls
        (concurrently, bounded by ``max_concurrency``). Unpaged only: the pages of several
        calls have no common order to continue from."""
        if first is not None or after is not None:
            raise ValueError(
                f"source {self.name}: an `in` filter on {filters[index].field} with more than "
                f"{size} values can only be used without paging"
            )
        values = _as_list(filters[index].value)
        chunks = [values[i : i + size] for i in range(0, len(values), size)]
        pages = await _gather(
            self.find(
                entity,
                [
                    *filters[:index],
                    FieldFilter(filters[index].field, "in", chunk),
                    *filters[index + 1 :],
                ],
            )
            for chunk in chunks
        )
        seen: set[str] = set()
        out: list[Record] = []
        for page in pages:
            for record in page.records:
                if record.key not in seen:
                    seen.add(record.key)
                    out.append(record)
        return Page(out, has_next=False)

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            if self.settings.health_path is not None:
                await self.transport.get(self.settings.health_path, {}, read_json=False)
            else:
                await self._probe()
        except Exception as exc:  # health never raises (CancelledError still propagates)
            detail = exc.message if isinstance(exc, EcehubError) else type(exc).__name__
            return Health(self.name, False, (time.perf_counter() - started) * 1000, detail)
        return Health(self.name, True, (time.perf_counter() - started) * 1000)

    async def _probe(self) -> None:
        """The first entity's list, asking for one record (POSTing its search body, if
        it is listed so)."""
        ent = next(iter(self.settings.entities.values()), None)
        if ent is None:
            await self.transport.get("/", {})
            return
        if ent.search is not None:
            first = Ask(1, page=ent.search.first_page, offset=0)
            body = fill(ent.search.body, _paging_values(first))
            await self.transport.request("POST", ent.search.path or ent.path, {}, json_body=body)
            return
        pag = self.settings.pagination
        params: dict[str, str] = {}
        match pag.style:
            case "page":
                params = {pag.page_param: str(pag.first_page), pag.size_param: "1"}
            case "offset":
                params = {pag.offset_param: "0", pag.limit_param: "1"}
            case "cursor":
                params = {pag.limit_param: "1"}
        await self.transport.get(ent.path, params)


def _parts(key: str, count: int) -> list[str] | None:
    """The ``count`` parts of ``key`` (:func:`~ecehub.connectors.transforms.split_key`), or
    ``None`` when it is not a key of that many."""
    try:
        return split_key(key, count)
    except ValueError:
        return None


def _key_values(names: tuple[str, ...], keys: list[str]) -> list[Any]:
    """Keys as a JSON body lists them: the keys themselves, or for a key of several paths
    one object per key, its parts under ``names`` (keys were checked to split)."""
    if len(names) == 1:
        return list(keys)
    return [dict(zip(names, split_key(key, len(names)), strict=True)) for key in keys]


def _with_keys(body: Any, keys: list[Any]) -> Any:
    """The POST body template with the list of keys where it says ``"{keys}"``."""
    if body == "{keys}":
        return keys
    if isinstance(body, dict):
        return {k: _with_keys(v, keys) for k, v in body.items()}
    if isinstance(body, list):
        return [_with_keys(v, keys) for v in body]
    return body


def _paging_values(ask: Ask) -> dict[str, Any]:
    """What a search body's paging placeholders hold for one request (the cursor only
    after the first page)."""
    values: dict[str, Any] = {"size": ask.size, "limit": ask.size}
    for name in ("page", "offset", "cursor"):
        if (value := getattr(ask, name)) is not None:
            values[name] = value
    return values


def _has_text(value: Any) -> bool:
    """Whether a filter value is (or holds) text, which a case-sensitive API compares
    differently from the hub."""
    if isinstance(value, str):
        return True
    return isinstance(value, (list, tuple, set, frozenset)) and any(
        isinstance(v, str) for v in value
    )
