"""The ``graphql`` connector: a source that is itself a GraphQL API.

How each call reaches it (see :mod:`ecehub.connectors.graphql.document` for the documents):

- ``fetch``: the entity's ``fetch`` field, every key in one request (aliased calls of
  ``max`` keys, or one per key for a field taking one key; more than ``max_aliases`` calls
  take more requests, sent together), keys as variables;
- ``children``: the ``children`` field with the parent keys, the same way; a record's parent
  is read at its ``parent`` path, else at ``parent_key_path`` in the object holding it
  (children listed inside their parent), else it is the key its aliased call asked for;
- ``find``: the ``find`` field page by page; filters with a ``filters`` argument are pushed
  down as variables, and every filter is checked here with
  :func:`~ecehub.connectors.base.matches` on the canonical record.

``Record.cursor`` (opaque, :func:`ecehub.ids.encode_source_cursor`): the edge's own cursor
(connection with ``edges``), the page's ``after`` and the index in that page (connection
without edge cursors), or the record's absolute index (offset, none).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from graphql import GraphQLError, build_client_schema, get_introspection_query, parse, validate

from ecehub.config.canonical import ENTITIES
from ecehub.config.model import SourceConfig
from ecehub.connectors.base import (
    Connector,
    FieldFilter,
    Health,
    Page,
    Record,
    child_mapping,
    entity_mapping,
    matches,
    utcnow,
)
from ecehub.connectors.graphql.document import (
    Document,
    find_document,
    keys_documents,
    record_tree,
    to_variable,
    walk,
)
from ecehub.connectors.graphql.settings import (
    GraphqlEntityConfig,
    GraphqlFindQuery,
    GraphqlKeysQuery,
    GraphqlSourceConfig,
)
from ecehub.connectors.graphql.transport import GraphqlTransport
from ecehub.connectors.paths import dig
from ecehub.connectors.usage import count as count_usage
from ecehub.errors import EcehubError, SourceError, SourceUnavailable
from ecehub.ids import decode_source_cursor, encode_source_cursor

__all__ = ["GraphqlConnector"]

log = logging.getLogger("ecehub.connectors.graphql")

_KIND = "graphql"

_T = TypeVar("_T")


async def _gather(coros: Iterable[Coroutine[Any, Any, _T]]) -> list[_T]:
    """Run concurrently; on the first failure cancel the rest, wait for them, re-raise.
    (Not ``asyncio.TaskGroup``: on Python 3.11 a failing child leaves the parent task
    marked as cancelling, which breaks an enclosing ``asyncio.timeout``.)"""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


@dataclass
class _Tally:
    """What one call could not take as it is."""

    keyless: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)


class GraphqlConnector(Connector):
    kind = _KIND
    logs_unparsable = False  # it reports unreadable values per read itself
    evaluates_transformed = True  # every filter is checked on the records (matches)
    settings_model: ClassVar[type[SourceConfig]] = GraphqlSourceConfig

    def __init__(self, name: str, config: SourceConfig) -> None:
        if not isinstance(config, GraphqlSourceConfig):
            raise TypeError(f"source {name!r}: GraphqlConnector needs a GraphqlSourceConfig")
        super().__init__(name, config)
        self.settings: GraphqlSourceConfig = config
        self.transport = GraphqlTransport(name, config)
        self.unreadable: Counter[str] = Counter()
        """Values read as null because they are not of their field's type, by
        ``entity.field``, since the connector was made (each call also logs its own)."""

    async def aclose(self) -> None:
        await self.transport.aclose()

    # -- records -----------------------------------------------------------------------------
    def _entity(self, entity: str) -> GraphqlEntityConfig:
        return entity_mapping(self.settings.entities, self.name, entity)

    def _record(
        self,
        entity: str,
        ent: GraphqlEntityConfig,
        raw: Any,
        fetched_at: dt.datetime,
        tally: _Tally,
        *,
        parent_key: str | None = None,
    ) -> Record | None:
        """The canonical record of one answer item; ``None`` (counted) without a key."""
        key = dig(raw, ent.key) if isinstance(raw, Mapping) else None
        if key is None or str(key).strip() == "":
            tally.keyless += 1
            return None
        fields = {name: dig(raw, path) for name, path in ent.fields.items()}
        found_parent = dig(raw, ent.parent_column) if ent.parent_column else None
        record = self.make_record(
            entity,
            key,
            fields,
            {system: dig(raw, path) for system, path in ent.identifiers.items()},
            parent_key if found_parent is None else found_parent,
            fetched_at,
        )
        for name, value in fields.items():
            if (
                value is not None
                and value != ""
                and record.fields.get(name) is None
                and not self.declared_null(entity, name, value)
            ):
                tally.unreadable[name] += 1
        return record

    def _report(self, entity: str, tally: _Tally) -> None:
        """Log what one call could not take as it is (once per call, with counts, never a
        value) and add it to :attr:`unreadable`."""
        if tally.keyless:
            log.warning(
                "source %s: %d %s record(s) without a value at the key path %r (skipped)",
                self.name,
                tally.keyless,
                entity,
                self._entity(entity).key,
            )
        kinds = ENTITIES[entity].fields
        for name, count in sorted(tally.unreadable.items()):
            self.unreadable[f"{entity}.{name}"] += count
            log.warning(
                "source %s: %s.%s: %d value(s) are not a valid %s (read as null)",
                self.name,
                entity,
                name,
                count,
                kinds[name],
            )

    async def _by_keys(
        self,
        entity: str,
        ent: GraphqlEntityConfig,
        query: GraphqlKeysQuery,
        keys: list[str],
        operation: str,
        *,
        parents: bool,
    ) -> list[Record]:
        """The records ``query`` answers for ``keys``: one request for up to
        ``max_aliases`` calls, the requests of more sent together."""
        documents = keys_documents(
            operation, query, record_tree(ent), keys, self.settings.max_aliases
        )
        answers = await _gather(self.transport.post(d, operation) for d in documents)
        fetched_at = utcnow()
        out: list[Record] = []
        tally = _Tally()
        for document, data in zip(documents, answers, strict=True):
            for alias, asked in document.aliases:
                # A field taking one key answers for it: the parent of what it lists.
                known = asked[0] if parents and not query.takes_list else None
                found_items = list(walk(data.get(alias), query.records_path))
                count_usage(rows=len(found_items))
                for raw, holder in found_items:
                    if parents and query.parent_key_path is not None:
                        found = dig(holder, query.parent_key_path)
                        known = None if found is None else str(found)
                    record = self._record(entity, ent, raw, fetched_at, tally, parent_key=known)
                    if record is not None:
                        out.append(record)
        self._report(entity, tally)
        return out

    # -- the contract ------------------------------------------------------------------------
    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        ent = self._entity(entity)
        wanted = list(dict.fromkeys(str(k) for k in keys))
        if ent.fetch is None:
            by_key = self._key_filter(ent)
            if by_key is None:
                raise ValueError(
                    f"source {self.name!r} cannot fetch {entity!r} by key: set `fetch` (a root "
                    f"field taking keys, e.g. {{field: providers, argument: ids, type: "
                    f"'[ID!]!'}}) or a `filters` entry with op `in` for the field or "
                    f"identifier whose path is the key ({ent.key!r})"
                )
            if not wanted:
                return {}
            # One listing call with every key as the filter's value (the find pages it).
            page = await self.find(entity, [FieldFilter(by_key, "in", wanted)])
            records = page.records
        else:
            if not wanted:
                return {}
            records = await self._by_keys(
                entity, ent, ent.fetch, wanted, "EcehubFetch", parents=False
            )
        asked = set(wanted)
        for record in records:
            record.cursor = None
        return {r.key: r for r in records if r.key in asked}

    @staticmethod
    def _key_filter(ent: GraphqlEntityConfig) -> str | None:
        """The field or identifier whose path is the key and whose ``filters`` argument
        takes many values (``op: in``), if one is."""
        for name, argument in ent.filters.items():
            if argument.op != "in":
                continue
            if name.startswith("identifier:"):
                path = ent.identifiers.get(name.split(":", 1)[1])
            else:
                path = ent.fields.get(name)
            if path == ent.key:
                return name
        return None

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        ent = child_mapping(self.settings.entities, self.name, entity, parent_entity)
        if ent.children is None:
            raise ValueError(
                f"source {self.name!r} cannot list {entity!r} by {parent_entity!r}: set "
                f"`children` (a root field taking parent keys)"
            )
        wanted = list(dict.fromkeys(str(k) for k in parent_keys))
        grouped: dict[str, list[Record]] = {key: [] for key in wanted}
        if not wanted:
            return grouped
        records = await self._by_keys(
            entity, ent, ent.children, wanted, "EcehubChildren", parents=True
        )
        seen: set[str] = set()
        orphans = 0
        for record in records:
            if record.parent_key is None:
                orphans += 1
            elif record.parent_key in grouped and record.key not in seen:
                seen.add(record.key)
                grouped[record.parent_key].append(record)
        if orphans:
            log.warning(
                "source %s: %d %s record(s) without a value at the parent path %r (skipped)",
                self.name,
                orphans,
                entity,
                ent.parent_column,
            )
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
        if ent.find is None:
            raise ValueError(
                f"source {self.name!r} cannot list {entity!r}: set `find` (a root field "
                f"listing records)"
            )
        self.check_find(entity, filters, first)
        pushed = self._pushed(entity, ent, filters)
        if pushed is None:
            return Page([], has_next=False)  # a filter on a constant that does not hold
        start = self._start(ent.find, after)
        everything_pushed = len(pushed) == len(filters)
        return await self._pages(
            entity, ent, ent.find, filters, pushed, start, first, everything_pushed
        )

    def _pushed(
        self, entity: str, ent: GraphqlEntityConfig, filters: Sequence[FieldFilter]
    ) -> list[tuple[str, str, Any]] | None:
        """The filters sent as arguments ``(argument, type, value)``; ``None`` when one
        decides that nothing matches."""
        out: list[tuple[str, str, Any]] = []
        for flt in filters:
            argument = ent.filters.get(flt.field)
            if argument is None:
                continue
            try:
                translated = self.source_filters(entity, [flt])
            except ValueError:
                continue  # another op on a field with values: checked here instead
            if translated is None:
                return None
            if not translated:
                continue
            source_filter = translated[0]
            op, value = source_filter.op, source_filter.value
            if op == "in" and argument.op == "eq":
                values = list(value)
                if len(values) != 1:
                    continue
                op, value = "eq", values[0]
            elif op == "eq" and argument.op == "in":
                op, value = "in", [value]
            if op != argument.op:
                continue
            try:
                out.append((argument.argument, argument.type, to_variable(argument.type, value)))
            except (ValueError, TypeError):
                continue  # the API cannot take it: checked here instead
        return out

    def _start(self, query: GraphqlFindQuery, after: str | None) -> tuple[str, Any, int]:
        """Where a listing starts: ``(style, source position, records to skip)``."""
        if after is None:
            return ("o", 0, 0) if query.paging != "connection" else ("p", None, 0)
        style, position, index = decode_source_cursor(_KIND, after, 3)
        connection = query.paging == "connection"
        valid = (
            isinstance(index, int)
            and not isinstance(index, bool)
            and index >= 0
            and (
                (style == "e" and connection and isinstance(position, str))
                or (style == "p" and connection and (position is None or isinstance(position, str)))
                or (style == "o" and not connection and position is None)
            )
        )
        if not valid:
            raise ValueError(
                f"invalid `after` cursor {after[:80]!r} for a listing of source {self.name!r}"
            )
        if style == "e":
            return ("p", position, 0)
        return (style, position, index + 1)

    async def _pages(
        self,
        entity: str,
        ent: GraphqlEntityConfig,
        query: GraphqlFindQuery,
        filters: Sequence[FieldFilter],
        pushed: list[tuple[str, str, Any]],
        start: tuple[str, Any, int],
        first: int | None,
        everything_pushed: bool,
    ) -> Page:
        style, position, skip = start
        offset = 0
        if style == "o" and query.paging == "offset":
            offset, skip = skip, 0  # the API skips them: ask from there
        size = query.page_size
        if first is not None and everything_pushed and query.paging != "none":
            size = max(1, min(size, first + 1 + skip))  # enough to tell has_next, no more
        inner = record_tree(ent)
        out: list[Record] = []
        followed: set[str] = set()
        tally = _Tally()
        while True:
            page: dict[str, Any] = {}
            if query.paging == "connection":
                page = {"first": size, "after": position}
            elif query.paging == "offset":
                page = {"offset": offset, "limit": size}
            document = find_document(query, inner, pushed, page)
            data = await self.transport.post(document, "EcehubFind")
            value = data.get("r")
            items = walk(value, query.path)
            count_usage(rows=len(items))
            fetched_at = utcnow()
            for index, (raw, above) in enumerate(items):
                if index < skip:
                    continue
                record = self._record(entity, ent, raw, fetched_at, tally)
                if record is None:
                    continue
                if not matches(record, filters):
                    continue
                if first is not None and len(out) >= first:
                    self._report(entity, tally)
                    return Page(out, has_next=True)
                record.cursor = self._cursor(query, position, offset, index, above)
                out.append(record)
            skip = 0
            if query.paging == "none":
                break
            if query.paging == "offset":
                if len(items) < size:
                    break
                offset += len(items)
                continue
            info = dig(value, query.page_info_path)
            end = dig(info, "endCursor") if isinstance(info, Mapping) else None
            if not (isinstance(info, Mapping) and info.get("hasNextPage")) or end is None:
                break
            if str(end) in followed:
                raise SourceUnavailable(
                    self.name, f"{self.transport.shown} returned a page cursor it gave before"
                )
            followed.add(str(end))
            position = str(end)
        self._report(entity, tally)
        return Page(out, has_next=False)

    @staticmethod
    def _cursor(query: GraphqlFindQuery, position: Any, offset: int, index: int, above: Any) -> str:
        if query.paging != "connection":
            return encode_source_cursor(_KIND, "o", None, offset + index)
        edge_cursor = above.get("cursor") if isinstance(above, Mapping) else None
        if isinstance(edge_cursor, str) and edge_cursor:
            return encode_source_cursor(_KIND, "e", edge_cursor, 0)
        return encode_source_cursor(_KIND, "p", position, index)

    # -- health and verify -------------------------------------------------------------------
    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            await self.transport.post(
                Document("query EcehubHealth { __typename }", {}, []), "EcehubHealth"
            )
        except Exception as exc:  # health never raises (CancelledError still propagates)
            detail = exc.message if isinstance(exc, EcehubError) else type(exc).__name__
            return Health(self.name, False, (time.perf_counter() - started) * 1000, detail)
        return Health(self.name, True, (time.perf_counter() - started) * 1000)

    async def verify(self) -> list[str]:
        """Each query this source will be sent, validated against the API's own schema (by
        introspection): an unknown field or argument, a wrong type, a path that is not there.
        Nothing is reported when the API does not allow introspection."""
        introspection = Document(get_introspection_query(), {}, [])
        try:
            data = await self.transport.post(introspection, "IntrospectionQuery")
            schema = build_client_schema(data)  # type: ignore[arg-type]
        except (SourceError, TypeError, GraphQLError) as exc:
            # Introspection turned off (as in production mode) or not answered in time.
            log.info("source %s: cannot verify the mapping: %s", self.name, exc)
            return []
        problems: list[str] = []
        for entity, ent in self.settings.entities.items():
            inner = record_tree(ent)
            documents: list[tuple[str, Document]] = []
            if ent.fetch is not None:
                documents.append(
                    ("fetch", keys_documents("EcehubFetch", ent.fetch, inner, ["1"], 1)[0])
                )
            if ent.children is not None:
                documents.append(
                    (
                        "children",
                        keys_documents("EcehubChildren", ent.children, inner, ["1"], 1)[0],
                    )
                )
            if ent.find is not None:
                page: dict[str, Any] = {}
                if ent.find.paging == "connection":
                    page = {"first": 1, "after": None}
                elif ent.find.paging == "offset":
                    page = {"offset": 0, "limit": 1}
                arguments = [(a.argument, a.type, None) for a in ent.filters.values()]
                documents.append(("find", find_document(ent.find, inner, arguments, page)))
            for what, document in documents:
                for error in validate(schema, parse(document.text)):
                    problems.append(f"entity {entity!r} {what}: {error.message}")
        return problems
