"""The ``rest`` connector: the connector contract (``fetch``, ``children``, ``find``,
``health``) over the source's listings, with records built from the entity's JSON paths.

How each call reaches the API:

- ``fetch``: ``batch`` param (``?ids=a,b,c`` in chunks of ``batch.max``), else ``item_path``
  per key (404 = missing), else ``find`` with an ``in`` filter on the key;
- ``children``: ``parent_batch`` param in chunks, else ``parent_path`` per parent;
- ``find``: filters with a matching ``filters`` entry become query params, the rest are
  applied here with :func:`~ecehub.connectors.base.matches`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import Any, ClassVar, TypeVar
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
from ecehub.connectors.rest.paging import RestPaging
from ecehub.connectors.rest.paths import ABSENT, dig
from ecehub.connectors.rest.settings import RestEntityConfig, RestSourceConfig
from ecehub.connectors.rest.transport import RestTransport
from ecehub.errors import EcehubError

__all__ = ["RestConnector"]

_T = TypeVar("_T")

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
        found_key = dig(raw, ent.key)
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
        params: Mapping[str, str],
        *,
        parent_key: str | None = None,
    ) -> list[Record]:
        """Every record of a listing; ``parent_key`` marks a per-parent endpoint, where a 404
        (an unknown parent, on most APIs) means no children."""
        ent = self._entity(entity)
        out: list[Record] = []
        fetched_at = utcnow()
        listing = self.paging.rows(ent, path, params, None, missing_ok=parent_key is not None)
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
        if not wanted:
            return {}
        if ent.batch is not None:
            param, size = ent.batch.param, ent.batch.max
            listings = await _gather(
                self._listing(entity, ent.path, {param: ",".join(chunk)})
                for chunk in _chunks(wanted, size)
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

    async def _fetch_one(self, entity: str, ent: RestEntityConfig, key: str) -> Record | None:
        assert ent.item_path is not None
        path = ent.item_path.replace("{key}", quote(key, safe=""))
        body = await self.transport.get(path, {}, missing_ok=True)
        if body is ABSENT:
            return None
        raw = body if ent.item_record_path is None else dig(body, ent.item_record_path)
        return self._record(entity, ent, raw, key=key)

    def _key_filter(self, ent: RestEntityConfig) -> str | None:
        """The filterable field (or identifier) whose JSON path is the key, with op ``in``."""
        for name, param in ent.filters.items():
            if param.op != "in":
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
            param, size = ent.parent_batch.param, ent.parent_batch.max
            listings = await _gather(
                self._listing(entity, ent.path, {param: ",".join(chunk)})
                for chunk in _chunks(wanted, size)
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
        params: dict[str, str] = {}
        local: list[FieldFilter] = []
        for i, flt in enumerate(filters):
            if flt.op == "in" and not _param_value("in", flt.value):
                return Page([], has_next=False)  # `in []`: nothing can match
            pushed = ent.filters.get(flt.field)
            if pushed is not None and pushed.case_sensitive and _has_text(flt.value):
                pushed = None  # the API would miss other cases: filtered here instead
            # A field with a value mapping or transforms is filtered here, on the canonical
            # (transformed) values.
            local_only = flt.field in ent.values or flt.field in ent.transforms
            if pushed is not None and pushed.op == flt.op and not local_only:
                values = _as_list(flt.value) if flt.op == "in" else []
                if len(values) > pushed.max:
                    return await self._find_in_chunks(entity, filters, i, pushed.max, first, after)
                params[pushed.param] = _param_value(flt.op, flt.value)
            else:
                local.append(flt)
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
        # Without filters of its own here, each row read is a record: read what `first` and
        # the one row that says whether there is more need.
        want = None if first is None or local else first + 1
        rows_after = self.paging.rows(ent, ent.path, params, after, want=want)
        async with aclosing(rows_after) as rows:
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
                path, params = self._probe()
                await self.transport.get(path, params)
        except Exception as exc:  # health never raises (CancelledError still propagates)
            detail = exc.message if isinstance(exc, EcehubError) else type(exc).__name__
            return Health(self.name, False, (time.perf_counter() - started) * 1000, detail)
        return Health(self.name, True, (time.perf_counter() - started) * 1000)

    def _probe(self) -> tuple[str, dict[str, str]]:
        """The first entity's list, asking for one record."""
        ent = next(iter(self.settings.entities.values()), None)
        if ent is None:
            return "/", {}
        pag = self.settings.pagination
        match pag.style:
            case "page":
                return ent.path, {pag.page_param: str(pag.first_page), pag.size_param: "1"}
            case "offset":
                return ent.path, {pag.offset_param: "0", pag.limit_param: "1"}
            case "cursor":
                return ent.path, {pag.limit_param: "1"}
        return ent.path, {}


def _has_text(value: Any) -> bool:
    """Whether a filter value is (or holds) text, which a case-sensitive API compares
    differently from the hub."""
    if isinstance(value, str):
        return True
    return isinstance(value, (list, tuple, set, frozenset)) and any(
        isinstance(v, str) for v in value
    )
