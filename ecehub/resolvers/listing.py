"""Listing merged objects across sources with filters and stable cursor pagination.

Semantics: an object is found through one of its records, its *witness*. The witness comes
from a listed source (not ``lookup_only``) of the asked support types and named sources when
one is configured (``supportTypes: [HEAD_START]`` with ``city``: programs whose Head Start
record is in that city); else from any listed source that can evaluate one of the filters
(every listed source when none can), and the support types and sources are then satisfied
by any of the object's records. The witness matches every filter its source can evaluate; a
filter its source cannot evaluate is matched by another of the object's records (a source
that can evaluate it).

Plan: each such source is an *anchor*, enumerated with every filter it can evaluate pushed
down, so a page of its records is a page of listed objects: one call asks for the rows the
page needs. An anchor that leaves something to other sources (a filter it cannot evaluate, a
support type or source it is not) is read whole, in one call, rather than page by page in
small chunks until enough objects pass: calls stay bounded by the number of sources, rows
grow with the anchor's matches. Each round of records is completed with the members other
sources hold (one batched call per source); an object is listed only at its first anchor in
precedence order, so it appears once across pages. Order: by source precedence, then by
each source's key order.
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
class _Anchor:
    """A source an object can be found through, and what is left to the others."""

    source: str
    pushed: tuple[FieldFilter, ...]
    """The filters this source evaluates: its records are asked for with them."""
    rest: tuple[FieldFilter, ...]
    """The filters it cannot evaluate: another record of the object must match each."""
    member: bool
    """This source is of the asked support types and among the named sources (if asked)."""

    @property
    def whole(self) -> bool:
        """Objects found here may still fail on other records: read all its matches at
        once instead of page by page."""
        return bool(self.rest) or not self.member


@dataclass(frozen=True)
class _Plan:
    anchors: tuple[_Anchor, ...]
    fingerprint: str
    typed: frozenset[str]
    """Every source (listed or not) of the asked support types."""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(a.source for a in self.anchors)


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


def plan(config: Config, gateway: SourceGateway, q: ListQuery, *, listed: bool = True) -> _Plan:
    """The anchors of a query (see module docstring). ``listed=False``: every source holding
    the entity may witness, lookup-only ones too (for objects fetched by ID, not listed)."""
    holding = [name for name, src in config.sources.items() if q.entity in src.entities]
    candidates = [
        s for s in holding if not (listed and config.sources[s].entities[q.entity].lookup_only)
    ]
    typed = frozenset(_typed_sources(config, q))

    def evaluates(source: str, f: FieldFilter) -> bool:
        return gateway.connector(source).can_filter(q.entity, base_field(f.field))

    def member(source: str) -> bool:
        return (not q.support_types or source in typed) and (not q.sources or source in q.sources)

    anchors: list[_Anchor] = []
    possible = (
        all(any(evaluates(s, f) for s in holding) for f in q.filters)
        and (not q.support_types or any(s in typed for s in holding))
        and (not q.sources or any(s in q.sources for s in holding))
    )
    if possible:
        witnesses = [s for s in candidates if member(s)] if q.support_types or q.sources else []
        if not witnesses:
            # No listed source is of those types (or named): any listed source that can
            # evaluate a filter finds the objects, whose other records then decide.
            # (every listed source when none can: a lookup-only source's filter).
            witnesses = [
                s for s in candidates if any(evaluates(s, f) for f in q.filters)
            ] or candidates
        for s in witnesses:
            pushed = tuple(f for f in q.filters if evaluates(s, f))
            rest = tuple(f for f in q.filters if not evaluates(s, f))
            anchors.append(_Anchor(s, pushed, rest, member(s)))
    digest = hashlib.sha256(repr((q, [a.source for a in anchors])).encode()).hexdigest()[:12]
    return _Plan(tuple(anchors), digest, typed)


def _encode(p: _Plan, source: str, cursor: str | None) -> str:
    return encode_list_cursor(p.fingerprint, s=source, c=cursor)


def _decode(p: _Plan, after: str) -> tuple[int, str | None]:
    source, cursor = decode_list_cursor(p.fingerprint, after, "s", "c")
    if source not in p.sources:
        raise other_query_cursor()
    return p.sources.index(source), cursor


def _qualifies(
    merged: Merged,
    anchor: _Anchor,
    q: ListQuery,
    p: _Plan,
    gateway: SourceGateway,
    witness: Record | None = None,
) -> bool:
    """Whether ``merged`` is found through ``anchor`` (by ``witness``, else any of its
    records from the anchor's source)."""
    own = (
        [witness]
        if witness is not None
        else [r for r in merged.records if r.source == anchor.source]
    )
    if not any(all(_holds(gateway, r, f) for f in anchor.pushed) for r in own):
        return False
    for f in anchor.rest:
        if not any(_holds(gateway, r, f) for r in merged.records):
            return False
    if not anchor.member:
        if q.support_types and not any(r.source in p.typed for r in merged.records):
            return False
        if q.sources and not any(r.source in q.sources for r in merged.records):
            return False
    return True


def _listed_earlier(
    merged: Merged, q: ListQuery, p: _Plan, gateway: SourceGateway, position: int
) -> bool:
    return any(_qualifies(merged, a, q, p, gateway) for a in p.anchors[:position])


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
    pages: dict[tuple[str, str | None], Page] = {}
    group_of: dict[tuple[str, str], Merged] = {}

    def size(anchor: _Anchor, current: bool) -> int | None:
        if anchor.whole:
            return None
        # Every record of the current anchor's page is a listed object (its source applied
        # every filter); a later anchor's first page may repeat the objects listed before
        # it, at most a page of them, so it asks for two pages' worth.
        return first if current else 2 * first + 1

    async def load_round(position: int, cursor: str | None) -> None:
        # This anchor's next page and the first page of every later one, all at once, then
        # their members in one batch per source: a page costs the same calls for any size.
        wanted = [(p.anchors[position], cursor, True)] + [
            (a, None, False) for a in p.anchors[position + 1 :] if (a.source, None) not in pages
        ]
        found = await asyncio.gather(
            *(
                gateway.find(a.source, q.entity, a.pushed, first=size(a, current), after=c)
                for a, c, current in wanted
            )
        )
        pages.update(((a.source, c), page) for (a, c, _), page in zip(wanted, found, strict=True))
        records = [r for page in found for r in page.records]
        for merged in await identity.complete(q.entity, records):
            group_of.update({(r.source, r.key): merged for r in merged.records})

    result = ListResult()
    emitted: set[str] = set()
    while position < len(p.anchors) and len(result.items) <= first:
        anchor = p.anchors[position]
        source = anchor.source
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
            if not _qualifies(merged, anchor, q, p, gateway, record) or _listed_earlier(
                merged, q, p, gateway, position
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
    p = plan(config, gateway, q, listed=False)
    unique = {m.hub_id: m for m in found.values()}
    matching = [
        unique[h]
        for h in sorted(unique)
        if any(_qualifies(unique[h], a, q, p, gateway) for a in p.anchors)
    ]
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
