"""Listing merged objects across sources with filters and stable cursor pagination.

Semantics: an object matches a filter when *any* of its source records matches it (a name
search finds "ABC Learning Ctr" under either sector's spelling), and a support-type filter
when one of its records comes from a source of that type.

Plan: pick the one filter that the fewest sources can evaluate (``pivot``); every matching
object has a record in one of those sources that passes it, so enumerating those sources with
the pivot pushed down finds them all. Each page of records is completed with the members other
sources hold (one batched call per source), the remaining filters are checked on the merged
object, and an object is listed only at its first enumerated source in precedence order, so
it appears once across pages. Order: by source precedence, then by each source's key order.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ecehub.config.model import Config
from ecehub.config.scales import base_field
from ecehub.connectors.base import FieldFilter, Page, Record, matches
from ecehub.connectors.scaled import for_source
from ecehub.crosswalk.identity import Identity, Merged
from ecehub.ids import decode_list_cursor, encode_list_cursor, other_query_cursor
from ecehub.sources.gateway import SourceGateway

__all__ = ["ListItem", "ListQuery", "ListResult", "list_merged", "list_scoped"]

_OVERFETCH = 25


@dataclass(frozen=True)
class ListQuery:
    entity: str
    filters: tuple[FieldFilter, ...] = ()
    support_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    """Objects one of these sources knows (none: any)."""


@dataclass
class ListItem:
    """One listed object and where its list continues after it. The cursor is encoded when
    asked for (most queries ask for ``endCursor`` only, not an edge's each)."""

    merged: Merged
    position: Callable[[], str]

    @functools.cached_property
    def cursor(self) -> str:
        return self.position()


@dataclass
class ListResult:
    items: list[ListItem] = field(default_factory=list)
    has_next: bool = False


@dataclass(frozen=True)
class _Plan:
    sources: tuple[str, ...]
    pushed: tuple[FieldFilter, ...]
    fingerprint: str


def _holders(
    gateway: SourceGateway, candidates: Sequence[str], q: ListQuery, f: FieldFilter
) -> list[str]:
    name = base_field(f.field)
    return [s for s in candidates if gateway.connector(s).can_filter(q.entity, name)]


def _holds(gateway: SourceGateway, record: Record, f: FieldFilter) -> bool:
    """Whether ``record``'s source maps ``f``'s field and ``record`` passes ``f`` (a filter
    on a normalised level in that source's own levels)."""
    conn = gateway.connector(record.source)
    if not conn.can_filter(record.entity, base_field(f.field)):
        return False
    return matches(record, [for_source(record.source, conn.entities.get(record.entity), f)])


def _typed_sources(config: Config, q: ListQuery) -> list[str]:
    wanted = set(q.support_types)
    return [
        name
        for name, src in config.sources.items()
        if q.entity in src.entities and wanted & set(src.support_types)
    ]


def plan(config: Config, gateway: SourceGateway, q: ListQuery) -> _Plan:
    """Choose the sources to enumerate and the filter to push down (see module docstring).
    The support-type condition competes as a pivot like any filter: its holders are the
    sources of those types. A ``lookup_only`` source is never enumerated, so a condition
    one of them can evaluate is no pivot (enumerating the other holders would miss the
    objects it alone matches): the listed sources are enumerated and the condition is
    checked on the completed objects."""
    holding = [name for name, src in config.sources.items() if q.entity in src.entities]
    listed = [s for s in holding if not config.sources[s].entities[q.entity].lookup_only]
    sources = listed
    pushed: tuple[FieldFilter, ...] = ()
    # (holder count, rank, order, holders, filter or None for the support-type condition)
    options: list[tuple[int, int, int, list[str], FieldFilter | None]] = []
    if q.support_types:
        typed = [s for s in _typed_sources(config, q) if s in holding]
        options.append((len(typed), 0, -1, typed, None))
    if q.sources:
        named = [s for s in holding if s in q.sources]
        options.append((len(named), 0, -2, named, None))
    for i, f in enumerate(q.filters):
        holders = _holders(gateway, holding, q, f)
        options.append((len(holders), 0 if f.op in ("eq", "in") else 1, i, holders, f))
    # No source can evaluate some condition: nothing can match it.
    if any(n == 0 for n, *_ in options):
        sources = []
    else:
        usable = [o for o in options if set(o[3]) <= set(listed)]
        if usable:
            _, _, _, sources, pivot = min(usable, key=lambda o: o[:3])
            pushed = () if pivot is None else (pivot,)
    digest = hashlib.sha256(repr((q, sources)).encode()).hexdigest()[:12]
    return _Plan(tuple(sources), pushed, digest)


def _encode(p: _Plan, source: str, cursor: str | None) -> str:
    return encode_list_cursor(p.fingerprint, s=source, c=cursor)


def _decode(p: _Plan, after: str) -> tuple[int, str | None]:
    source, cursor = decode_list_cursor(p.fingerprint, after, "s", "c")
    if source not in p.sources:
        raise other_query_cursor()
    return p.sources.index(source), cursor


def _passes(merged: Merged, q: ListQuery, gateway: SourceGateway, typed: set[str]) -> bool:
    if q.support_types and not any(r.source in typed for r in merged.records):
        return False
    if q.sources and not any(r.source in q.sources for r in merged.records):
        return False
    return all(any(_holds(gateway, r, f) for r in merged.records) for f in q.filters)


def _listed_earlier(merged: Merged, p: _Plan, position: int, gateway: SourceGateway) -> bool:
    earlier = set(p.sources[:position])
    return any(
        r.source in earlier and all(_holds(gateway, r, f) for f in p.pushed) for r in merged.records
    )


async def list_merged(
    config: Config,
    gateway: SourceGateway,
    identity: Identity,
    q: ListQuery,
    *,
    first: int,
    after: str | None = None,
) -> ListResult:
    p = plan(config, gateway, q)
    position, cursor = (0, None) if after is None else _decode(p, after)
    # A source's page says itself whether more follows, so ask for `first` (or a few more
    # when filters may drop some), not one more only to learn that.
    size = max(first, _OVERFETCH)
    pages: dict[tuple[str, str | None], Page] = {}
    group_of: dict[tuple[str, str], Merged] = {}

    async def load_round(position: int, cursor: str | None) -> None:
        # This source's next page and the first page of every later one, all at once, then
        # their members in one batch per source: a page costs the same calls for any size.
        wanted = [(p.sources[position], cursor)] + [
            (s, None) for s in p.sources[position + 1 :] if (s, None) not in pages
        ]
        found = await asyncio.gather(
            *(gateway.find(s, q.entity, p.pushed, first=size, after=c) for s, c in wanted)
        )
        pages.update(zip(wanted, found, strict=True))
        records = [r for page in found for r in page.records]
        for merged in await identity.complete(q.entity, records):
            group_of.update({(r.source, r.key): merged for r in merged.records})

    typed = set(_typed_sources(config, q))
    result = ListResult()
    emitted: set[str] = set()
    while position < len(p.sources) and len(result.items) <= first:
        source = p.sources[position]
        if (source, cursor) not in pages:
            if len(result.items) == first:
                # The page is full and a source says it has more: not another round of
                # calls only to learn whether one of them is new (it may not be: then the
                # next page is empty).
                result.has_next = True
                break
            await load_round(position, cursor)
        page = pages[(source, cursor)]
        for record in page.records:
            merged = group_of.get((record.source, record.key))
            if merged is None or merged.hub_id in emitted:
                continue
            if not _passes(merged, q, gateway, typed) or _listed_earlier(
                merged, p, position, gateway
            ):
                continue
            emitted.add(merged.hub_id)
            result.items.append(
                ListItem(merged, functools.partial(_encode, p, source, record.cursor))
            )
            if len(result.items) > first:
                break
        if page.has_next and page.records:
            cursor = page.records[-1].cursor
        else:
            position, cursor = position + 1, None
    result.has_next = result.has_next or len(result.items) > first
    del result.items[first:]
    return result


async def list_scoped(
    config: Config,
    gateway: SourceGateway,
    identity: Identity,
    q: ListQuery,
    scope: Sequence[str],
    *,
    first: int,
    after: str | None = None,
) -> ListResult:
    """List only the objects with these hub IDs (a role's programs): they are fetched by key
    (one batched call per source), filtered like :func:`list_merged` filters and listed in
    hub ID order, so pages and counts hold nothing outside ``scope``."""
    found = await identity.resolve(q.entity, sorted(set(scope)))
    typed = set(_typed_sources(config, q))
    unique = {m.hub_id: m for m in found.values()}
    matching = [unique[h] for h in sorted(unique) if _passes(unique[h], q, gateway, typed)]
    fingerprint = hashlib.sha256(repr((q, "scoped")).encode()).hexdigest()[:12]
    start = 0
    if after is not None:
        [last] = decode_list_cursor(fingerprint, after, "h")
        start = next((i for i, m in enumerate(matching) if m.hub_id > str(last)), len(matching))

    window = matching[start : start + first]
    return ListResult(
        items=[
            ListItem(m, functools.partial(encode_list_cursor, fingerprint, h=m.hub_id))
            for m in window
        ],
        has_next=start + first < len(matching),
    )
