"""The ``rest`` connector: aiohttp, one ClientSession per connector, driven by config only.

Keys, fields, identifiers and parents are dotted JSON paths inside one record
(``location.city``, ``phones.0.number``); a path that is not there reads as ``None``.

How each call reaches the API:

- ``fetch``: ``batch`` param (``?ids=a,b,c`` in chunks of ``batch.max``), else ``item_path``
  per key (404 = missing), else ``find`` with an ``in`` filter on the key;
- ``children``: ``parent_batch`` param in chunks, else ``parent_path`` per parent;
- ``find``: filters with a matching ``filters`` entry become query params, the rest are
  applied here with :func:`~ecehub.connectors.base.matches`.

Every request holds one slot of a per-connector semaphore of ``max_concurrency``.

``Record.cursor`` (where a ``find`` continues): for the ``page``, ``offset`` and ``none``
styles the record's absolute index in the listing; for ``cursor`` the JSON
``[page cursor, index within page]``.

Errors name the source, the method and the path only, never the base URL, a credential or a
query string: the API key may travel as a query param.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Coroutine, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from ecehub.config.canonical import is_identifier_field
from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.base import (
    Connector,
    FieldFilter,
    FilterOp,
    Health,
    Page,
    Record,
    matches,
)
from ecehub.errors import EcehubError, SourceTimeout, SourceUnavailable

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "PaginationConfig",
    "RestBatch",
    "RestConnector",
    "RestEntityConfig",
    "RestFilterParam",
    "RestSourceConfig",
]

_log = logging.getLogger(__name__)

_T = TypeVar("_T")

_IN_FILTER_CHUNK = 100
"""Keys per request when ``fetch`` falls back to an ``in`` filter param."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("a path starts with '/', e.g. /v1/providers")
    return value


_ApiPath = Annotated[str, AfterValidator(_check_path)]


class ApiKeyAuth(_Strict):
    type: Literal["api_key"]
    header: str | None = "X-API-Key"
    query: str | None = Field(default=None, description="send the key as this query param")
    value: SecretStr


class BearerAuth(_Strict):
    type: Literal["bearer"]
    token: SecretStr


class PaginationConfig(_Strict):
    """How list endpoints page. ``page``: page number + size; ``offset``: offset + limit;
    ``cursor``: an opaque cursor the API returns at ``next_cursor_path`` (page size sent as
    ``limit_param``); ``none``: one call.

    A page shorter than ``page_size`` is taken as the last one, so ``page_size`` must not
    exceed what the API actually returns per page."""

    style: Literal["page", "offset", "cursor", "none"] = "page"
    page_param: str = "page"
    first_page: int = 1
    size_param: str = "page_size"
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"
    page_size: int = Field(default=100, ge=1, le=10_000)


class RestBatch(_Strict):
    """A query parameter taking many values at once (comma-separated), e.g. ``ids``."""

    param: str
    max: int = Field(default=100, ge=1, le=10_000)


class RestFilterParam(_Strict):
    """Push a canonical filter down as a query parameter. ``op`` is what the API does with
    it; a filter with no matching param (or another op) is applied client-side."""

    param: str
    op: FilterOp = "eq"
    max: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="most values one call may carry for op `in`; more are split into calls",
    )


class RestEntityConfig(EntityConfig):
    """``path`` is the list endpoint; ``key``, ``fields``, ``identifiers`` and ``parent`` are
    JSON paths (dotted, e.g. ``address.city``) inside one record."""

    path: _ApiPath
    records_path: str | None = Field(default=None, description="overrides the source's")
    item_path: _ApiPath | None = Field(
        default=None, description="per-key endpoint, e.g. /providers/{key}, when no batch param"
    )
    item_record_path: str | None = Field(
        default=None,
        description="JSON path of the record in an item_path response (default: the whole body)",
    )
    batch: RestBatch | None = None
    parent_batch: RestBatch | None = Field(
        default=None, description="param filtering the list by many parent keys at once"
    )
    parent_path: _ApiPath | None = Field(
        default=None, description="per-parent endpoint, e.g. /providers/{parent_key}/staff"
    )
    filters: dict[str, RestFilterParam] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        if self.item_path is not None and "{key}" not in self.item_path:
            raise ValueError("item_path needs a {key} placeholder, e.g. /providers/{key}")
        if self.parent_path is not None and "{parent_key}" not in self.parent_path:
            raise ValueError(
                "parent_path needs a {parent_key} placeholder, e.g. /providers/{parent_key}/staff"
            )
        if (self.parent_batch or self.parent_path) and not self.parent:
            raise ValueError(
                "parent_batch/parent_path need `parent: {parent_entity: json.path}` to group by"
            )
        return self


class RestSourceConfig(SourceConfig):
    base_url: str
    auth: Annotated[ApiKeyAuth | BearerAuth, Field(discriminator="type")] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str = Field(
        default="data", description="JSON path of the record array ('' = the body itself)"
    )
    pagination: PaginationConfig = Field(default_factory=PaginationConfig)
    max_concurrency: int = Field(default=8, ge=1, le=256)
    health_path: _ApiPath | None = Field(
        default=None,
        description="GET this for health(); default: the first entity's list, one record",
    )
    entities: dict[str, RestEntityConfig] = Field(default_factory=dict)  # type: ignore[assignment]

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        # The message must not echo the value: it may carry credentials.
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("base_url must be an absolute http:// or https:// URL")
        return value


# -- JSON paths -----------------------------------------------------------------------------
_ABSENT = object()


def _lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path, or ``_ABSENT``. ``""`` is the object itself."""
    if path in {"", "."}:
        return obj
    for part in path.split("."):
        if isinstance(obj, Mapping):
            if part not in obj:
                return _ABSENT
            obj = obj[part]
        elif isinstance(obj, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(obj) <= index < len(obj):
                return _ABSENT
            obj = obj[index]
        else:
            return _ABSENT
    return obj


def _dig(obj: Any, path: str) -> Any:
    value = _lookup(obj, path)
    return None if value is _ABSENT else value


# -- helpers --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Row:
    raw: Any
    cursor: str


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


class RestConnector(Connector):
    kind = "rest"
    settings_model: ClassVar[type[SourceConfig]] = RestSourceConfig

    def __init__(self, name: str, config: SourceConfig) -> None:
        if not isinstance(config, RestSourceConfig):
            raise TypeError(f"source {name!r}: RestConnector needs a RestSourceConfig")
        super().__init__(name, config)
        self.settings: RestSourceConfig = config
        self._base_url = config.base_url.rstrip("/")
        self._shown_prefix = urlsplit(config.base_url).path.rstrip("/")
        headers = {"Accept": "application/json", **config.headers}
        self._auth_query: dict[str, str] = {}
        auth = config.auth
        if isinstance(auth, ApiKeyAuth):
            if auth.query:
                self._auth_query[auth.query] = auth.value.get_secret_value()
            elif auth.header:
                headers[auth.header] = auth.value.get_secret_value()
        elif isinstance(auth, BearerAuth):
            headers["Authorization"] = f"Bearer {auth.token.get_secret_value()}"
        self._headers = headers
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None

    # -- HTTP --------------------------------------------------------------------------------
    def _client(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """The session and the concurrency slots, created inside the running loop."""
        if self._session is None or self._session.closed or self._slots is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
            self._slots = asyncio.Semaphore(self.settings.max_concurrency)
        return self._session, self._slots

    async def _get(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        missing_ok: bool = False,
        read_json: bool = True,
    ) -> Any:
        """GET ``path`` and return its JSON body (``_ABSENT`` for a 404 when ``missing_ok``)."""
        session, slots = self._client()
        shown = f"GET {self._shown_prefix}{path}"
        query = {**params, **self._auth_query}
        async with slots:
            started = time.perf_counter()
            try:
                # No redirects: the auth header must not follow a redirect to another host.
                async with session.get(
                    self._base_url + path, params=query, allow_redirects=False
                ) as resp:
                    _log.debug(
                        "source %s: %s -> %d in %.0f ms",
                        self.name,
                        shown,
                        resp.status,
                        (time.perf_counter() - started) * 1000,
                    )
                    if missing_ok and resp.status == 404:
                        return _ABSENT
                    if not 200 <= resp.status < 300:
                        raise SourceUnavailable(self.name, f"HTTP {resp.status} from {shown}")
                    if not read_json:
                        return None
                    try:
                        return await resp.json(content_type=None)
                    except ValueError:
                        raise SourceUnavailable(self.name, f"invalid JSON from {shown}") from None
            except TimeoutError:
                raise SourceTimeout(
                    self.name, f"no answer within {self.timeout_s:g} s to {shown}"
                ) from None
            except aiohttp.ClientError as exc:
                # Not chained: aiohttp's messages may hold the full URL with its query.
                raise SourceUnavailable(self.name, f"{type(exc).__name__} on {shown}") from None

    def _records_in(self, ent: RestEntityConfig, body: Any, path: str) -> list[Any]:
        records_path = (
            ent.records_path if ent.records_path is not None else self.settings.records_path
        )
        records = _lookup(body, records_path)
        if records is None:
            return []
        if not isinstance(records, list):
            raise SourceUnavailable(
                self.name,
                f"no record list at {records_path or '<body>'!r} in the answer to GET "
                f"{self._shown_prefix}{path} (check records_path)",
            )
        return records

    # -- paging ------------------------------------------------------------------------------
    async def _rows(
        self,
        ent: RestEntityConfig,
        path: str,
        params: Mapping[str, str],
        after: str | None,
        *,
        missing_ok: bool = False,
    ) -> AsyncGenerator[_Row, None]:
        """Every raw record of a listing from just after ``after``, page by page.
        With ``missing_ok`` a 404 ends the listing instead of failing it."""
        pag = self.settings.pagination
        if pag.style == "cursor":
            rows_after = self._cursor_rows(ent, path, params, after, missing_ok=missing_ok)
            async with aclosing(rows_after) as rows:
                async for row in rows:
                    yield row
            return
        start = 0 if after is None else self._index_after(after)
        size = pag.page_size
        page = start // size
        offset = start
        while True:
            query = dict(params)
            if pag.style == "page":
                query[pag.page_param] = str(pag.first_page + page)
                query[pag.size_param] = str(size)
                base = page * size
            elif pag.style == "offset":
                query[pag.offset_param] = str(offset)
                query[pag.limit_param] = str(size)
                base = offset
            else:
                base = 0
            body = await self._get(path, query, missing_ok=missing_ok)
            if body is _ABSENT:
                return
            records = self._records_in(ent, body, path)
            for i, raw in enumerate(records, base):
                if i >= start:
                    yield _Row(raw, str(i))
            if pag.style == "none" or len(records) < size:
                return
            page += 1
            offset += len(records)

    async def _cursor_rows(
        self,
        ent: RestEntityConfig,
        path: str,
        params: Mapping[str, str],
        after: str | None,
        *,
        missing_ok: bool,
    ) -> AsyncGenerator[_Row, None]:
        pag = self.settings.pagination
        page_cursor, skip = (None, -1) if after is None else self._page_cursor_after(after)
        followed: set[str] = set()
        while True:
            query = {**params, pag.limit_param: str(pag.page_size)}
            if page_cursor is not None:
                query[pag.cursor_param] = str(page_cursor)
            body = await self._get(path, query, missing_ok=missing_ok)
            if body is _ABSENT:
                return
            records = self._records_in(ent, body, path)
            for j, raw in enumerate(records):
                if j > skip:
                    yield _Row(raw, json.dumps([page_cursor, j]))
            next_cursor = _dig(body, pag.next_cursor_path)
            if next_cursor in (None, "") or len(records) < pag.page_size:
                return
            marker = json.dumps(next_cursor)
            if marker in followed:
                raise SourceUnavailable(
                    self.name, f"GET {self._shown_prefix}{path} returned a cursor it gave before"
                )
            followed.add(marker)
            page_cursor, skip = next_cursor, -1

    def _index_after(self, after: str) -> int:
        try:
            index = int(after)
        except ValueError:
            index = -1
        if index < 0:
            raise ValueError(f"source {self.name!r}: invalid `after` cursor {after!r}")
        return index + 1

    def _page_cursor_after(self, after: str) -> tuple[Any, int]:
        try:
            page_cursor, index = json.loads(after)
        except (ValueError, TypeError):
            index = None
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ValueError(f"source {self.name!r}: invalid `after` cursor {after!r}")
        return page_cursor, index

    # -- records -----------------------------------------------------------------------------
    def _entity(self, entity: str) -> RestEntityConfig:
        ent = self.settings.entities.get(entity)
        if ent is None:
            raise ValueError(
                f"source {self.name!r} does not map entity {entity!r}; it maps: "
                f"{', '.join(self.settings.entities) or '(none)'}"
            )
        return ent

    def _record(
        self,
        entity: str,
        ent: RestEntityConfig,
        raw: Any,
        *,
        key: str | None = None,
        parent_key: str | None = None,
    ) -> Record | None:
        if not isinstance(raw, Mapping):
            return None
        found_key = _dig(raw, ent.key)
        found_key = key if found_key is None else found_key
        if found_key is None:
            return None
        found_parent = _dig(raw, ent.parent_column) if ent.parent_column else None
        return self.make_record(
            entity,
            found_key,
            {name: _dig(raw, path) for name, path in ent.fields.items()},
            {system: _dig(raw, path) for system, path in ent.identifiers.items()},
            parent_key if found_parent is None else found_parent,
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
        listing = self._rows(ent, path, params, None, missing_ok=parent_key is not None)
        async with aclosing(listing) as rows:
            async for row in rows:
                record = self._record(entity, ent, row.raw, parent_key=parent_key)
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
        body = await self._get(path, {}, missing_ok=True)
        if body is _ABSENT:
            return None
        raw = body if ent.item_record_path is None else _dig(body, ent.item_record_path)
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
        ent = self._entity(entity)
        if ent.parent_entity != parent_entity:
            raise ValueError(
                f"source {self.name!r} maps {entity!r} under {ent.parent_entity!r}, "
                f"not {parent_entity!r}"
            )
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
            # A field with a value mapping is filtered here, on the canonical values.
            if pushed is not None and pushed.op == flt.op and flt.field not in ent.values:
                values = _as_list(flt.value) if flt.op == "in" else []
                if len(values) > pushed.max:
                    return await self._find_in_chunks(entity, filters, i, pushed.max, first, after)
                params[pushed.param] = _param_value(flt.op, flt.value)
            else:
                local.append(flt)
        out: list[Record] = []
        has_next = False
        async with aclosing(self._rows(ent, ent.path, params, after)) as rows:
            async for row in rows:
                record = self._record(entity, ent, row.raw)
                if record is None or not matches(record, local):
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
                await self._get(self.settings.health_path, {}, read_json=False)
            else:
                path, params = self._probe()
                await self._get(path, params)
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

    async def aclose(self) -> None:
        session, self._session, self._slots = self._session, None, None
        if session is not None and not session.closed:
            await session.close()
