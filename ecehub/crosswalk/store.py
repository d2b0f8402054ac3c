"""The identity crosswalk's store (its tables are in the hub database, beside the hub store's):
hub IDs of programs, sites and staff, and links from a hub ID to the records sector systems
hold about that object. It shares the hub store's engine (:meth:`CrosswalkStore.beside`).

A link is ``confirmed`` (it merges data), ``suggested`` (by the matcher, with a score and
reasons, waiting for a person) or ``rejected``; a person's decision may carry their reason.
A link is of one kind: ``SAME`` (the record is the object) or ``SITE`` (the record, a licensed
facility, is a site of the program: it shows among the program's sites and merges nothing).
A source record has at most one confirmed link of each kind (a partial unique index enforces
it). Hub IDs keep the forms identity resolution gives them
(``LICENSE_NUMBER:CCL-104233`` for a group with a shared identifier, ``@qris:Q-00012`` for a
record alone), so hub rows that point at programs stay valid.

Every write is one :class:`~ecehub.hub.transaction.WriteTransaction`: versioned (a stale
``version`` raises :class:`~ecehub.errors.VersionConflict`), audited with the actor and the
object before and after, and it bumps the crosswalk generation (``crosswalk_state``) in the
same transaction, so readers that cache the confirmed links know when to reload them.

Every write can be undone: :meth:`~CrosswalkStore.unlink` undoes
:meth:`~CrosswalkStore.link` (and ``link`` restores an unlinked pair),
:meth:`~CrosswalkStore.split` with the moved links and the old hub ID undoes
:meth:`~CrosswalkStore.merge`, :meth:`~CrosswalkStore.reject_link` and
:meth:`~CrosswalkStore.confirm_link` undo each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select, update

from ecehub.config.model import MergeRule
from ecehub.crosswalk.records import (
    CrosswalkLink,
    CrosswalkSnapshot,
    HubId,
    HubIdChange,
    LinkProposal,
    ProposalSummary,
    SuggestionPage,
)
from ecehub.errors import ValidationFailed, VersionConflict
from ecehub.hub.enums import AuditAction, LinkKind, LinkStatus, ObjectType
from ecehub.hub.models import CrosswalkStateRow, HubIdRow, LinkRow
from ecehub.hub.repository import Repository, required_name
from ecehub.hub.transaction import Actor, Kind, WriteTransaction
from ecehub.ids import InvalidCursor, decode_score_cursor, encode_score_cursor, record_hub_id

__all__ = [
    "CROSSWALK_ENTITIES",
    "HUB_ID",
    "LINK",
    "MAX_SUGGESTION_PAGE",
    "CrosswalkStore",
]

CROSSWALK_ENTITIES = MergeRule.CROSSWALK_ENTITIES
MAX_SUGGESTION_PAGE = 500
_PROPOSAL_CHUNK = 500
_SOURCE_LENGTH = 100

LINK: Kind[CrosswalkLink] = Kind(ObjectType.CROSSWALK_LINK, LinkRow, CrosswalkLink)
HUB_ID: Kind[HubId] = Kind(ObjectType.HUB_ID, HubIdRow, HubId, soft_delete=False)


def _entity(entity: str) -> str:
    if entity not in CROSSWALK_ENTITIES:
        raise ValidationFailed({"entity": f"must be one of {', '.join(CROSSWALK_ENTITIES)}"})
    return entity


def _source(value: str, field: str = "source") -> str:
    value = required_name(value, field)
    if len(value) > _SOURCE_LENGTH:
        raise ValidationFailed({field: f"must be at most {_SOURCE_LENGTH} characters"})
    return value


def _proposal(p: LinkProposal, index: int) -> LinkProposal:
    where = f"proposals[{index}]"
    try:
        hub_id = required_name(p.hub_id, "hub_id")
        source = _source(p.source)
        key = required_name(p.key, "key")
    except ValidationFailed as exc:
        raise ValidationFailed({f"{where}.{k}": v for k, v in exc.field_errors.items()}) from None
    if not isinstance(p.score, int | float) or not 0.0 <= float(p.score) <= 1.0:
        raise ValidationFailed({f"{where}.score": "must be a number from 0 to 1"})
    if not all(isinstance(r, str) for r in p.reasons):
        raise ValidationFailed({f"{where}.reasons": "must be strings"})
    kind = LinkKind(p.kind)
    return LinkProposal(hub_id, source, key, float(p.score), tuple(p.reasons), bool(p.auto), kind)


_REASON_LENGTH = 2000


def _reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    if len(reason) > _REASON_LENGTH:
        raise ValidationFailed({"reason": f"must be at most {_REASON_LENGTH} characters"})
    return reason.strip()


def _site_entity(entity: str, kind: LinkKind) -> None:
    if kind == LinkKind.SITE and entity != "program":
        raise ValidationFailed({"kind": "only a program has sites"})


class CrosswalkStore(Repository):
    """The crosswalk's reads and audited writes (see the module docstring)."""

    # -- reads -----------------------------------------------------------------------------------

    async def crosswalk_generation(self) -> int:
        """The crosswalk's generation: it changes with every crosswalk write."""
        async with self._reading() as session:
            generation = await session.scalar(
                select(CrosswalkStateRow.generation).where(CrosswalkStateRow.id == 1)
            )
        return int(generation or 0)

    async def crosswalk_snapshot(self) -> CrosswalkSnapshot:
        """Every confirmed link (``SITE`` links whole) and merged-away hub ID, with the
        generation they are at least
        as new as (read first: a write committed in between only makes the links newer, and
        the next generation check reloads them)."""
        async with self._reading() as session:
            generation = await session.scalar(
                select(CrosswalkStateRow.generation).where(CrosswalkStateRow.id == 1)
            )
            links = await session.execute(
                select(LinkRow.entity, LinkRow.source, LinkRow.source_key, LinkRow.hub_id).where(
                    LinkRow.status == LinkStatus.CONFIRMED,
                    LinkRow.deleted_at.is_(None),
                    LinkRow.kind == LinkKind.SAME,
                )
            )
            confirmed = {(e, s, k): h for e, s, k, h in links}
            merged = await session.execute(
                select(HubIdRow.entity, HubIdRow.hub_id, HubIdRow.merged_into).where(
                    HubIdRow.merged_into.is_not(None)
                )
            )
            merged_into = {(e, h): into for e, h, into in merged if into is not None}
            sites = await session.scalars(
                select(LinkRow)
                .where(
                    LinkRow.entity == "program",
                    LinkRow.status == LinkStatus.CONFIRMED,
                    LinkRow.deleted_at.is_(None),
                    LinkRow.kind == LinkKind.SITE,
                )
                .order_by(LinkRow.source, LinkRow.source_key)
            )
            site_links = tuple(LINK.to_record(row) for row in sites)
        return CrosswalkSnapshot(int(generation or 0), confirmed, merged_into, site_links)

    async def get_link(
        self, link_id: str, *, include_deleted: bool = False
    ) -> CrosswalkLink | None:
        return await self._get(LINK, link_id, include_deleted)

    async def get_hub_id(self, entity: str, hub_id: str) -> HubId | None:
        """The stored hub ID (``None`` when the crosswalk never wrote about it: its version
        is then 0 for :meth:`merge` and :meth:`split`)."""
        async with self._reading() as session:
            row = await session.scalar(
                select(HubIdRow).where(HubIdRow.entity == entity, HubIdRow.hub_id == hub_id)
            )
            return None if row is None else HUB_ID.to_record(row)

    async def suggestions(
        self,
        entity: str,
        *,
        first: int = 50,
        after: str | None = None,
        kind: LinkKind | None = None,
    ) -> SuggestionPage:
        """A page of the entity's suggested links (of ``kind``, default: every kind),
        highest score first (ties by link ID); ``after`` is the previous page's
        ``end_cursor``."""
        _entity(entity)
        if not 1 <= first <= MAX_SUGGESTION_PAGE:
            raise ValidationFailed({"first": f"must be from 1 to {MAX_SUGGESTION_PAGE}"})
        stmt = select(LinkRow).where(
            LinkRow.entity == entity,
            LinkRow.status == LinkStatus.SUGGESTED,
            LinkRow.deleted_at.is_(None),
        )
        if kind is not None:
            stmt = stmt.where(LinkRow.kind == kind)
        if after is not None:
            try:
                score, link_id = decode_score_cursor(after)
            except InvalidCursor as exc:
                raise ValidationFailed({"after": str(exc)}) from None
            stmt = stmt.where(
                (LinkRow.score < score) | ((LinkRow.score == score) & (LinkRow.id > link_id))
            )
        stmt = stmt.order_by(LinkRow.score.desc(), LinkRow.id).limit(first + 1)
        async with self._reading() as session:
            rows = list(await session.scalars(stmt))
        links = tuple(LINK.to_record(row) for row in rows[:first])
        last = links[-1] if links else None
        return SuggestionPage(
            links=links,
            end_cursor=None if last is None else encode_score_cursor(last.score or 0.0, last.id),
            has_next_page=len(rows) > first,
        )

    async def links_for_hub_ids(
        self,
        entity: str,
        hub_ids: Iterable[str],
        *,
        statuses: Collection[LinkStatus] | None = None,
        include_deleted: bool = False,
        kind: LinkKind | None = None,
    ) -> dict[str, list[CrosswalkLink]]:
        """Each hub ID's links (all statuses unless ``statuses``, every kind unless
        ``kind``), by source and key."""
        where = [LinkRow.entity == _entity(entity)]
        if statuses is not None:
            where.append(LinkRow.status.in_(list(statuses)))
        if kind is not None:
            where.append(LinkRow.kind == kind)
        return await self._grouped(
            LINK,
            LinkRow.hub_id,
            hub_ids,
            include_deleted=include_deleted,
            order_by=[LinkRow.source, LinkRow.source_key],
            where=where,
        )

    async def hub_ids_for_records(
        self, entity: str, records: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], str | None]:
        """The hub ID each ``(source, key)`` record is confirmed to, or ``None``."""
        wanted = list(dict.fromkeys(records))
        out: dict[tuple[str, str], str | None] = dict.fromkeys(wanted)
        keys = list(dict.fromkeys(k for _, k in wanted))
        found = await self._grouped(
            LINK,
            LinkRow.source_key,
            keys,
            include_deleted=False,
            order_by=[LinkRow.source],
            where=[
                LinkRow.entity == _entity(entity),
                LinkRow.status == LinkStatus.CONFIRMED,
                LinkRow.kind == LinkKind.SAME,
            ],
        )
        for key, links in found.items():
            for link in links:
                if (link.source, key) in out:
                    out[(link.source, key)] = link.hub_id
        return out

    async def iter_links(
        self,
        entity: str,
        *,
        statuses: Collection[LinkStatus] | None = None,
        include_deleted: bool = False,
        page_size: int = 1000,
    ) -> AsyncIterator[CrosswalkLink]:
        """Every link of the entity (for exports), by link ID, read a page at a time."""
        _entity(entity)
        after = ""
        while True:
            stmt = select(LinkRow).where(LinkRow.entity == entity, LinkRow.id > after)
            if statuses is not None:
                stmt = stmt.where(LinkRow.status.in_(list(statuses)))
            if not include_deleted:
                stmt = stmt.where(LinkRow.deleted_at.is_(None))
            async with self._reading() as session:
                rows = list(await session.scalars(stmt.order_by(LinkRow.id).limit(page_size)))
            for row in rows:
                yield LINK.to_record(row)
            if len(rows) < page_size:
                return
            after = rows[-1].id

    # -- writes ----------------------------------------------------------------------------------

    async def add_proposals(
        self, actor: Actor, entity: str, proposals: Iterable[LinkProposal]
    ) -> ProposalSummary:
        """Store the matcher's proposals as suggested links, 500 per transaction. Idempotent
        and resumable: a pair already stored as a suggestion is updated only if its score,
        reasons or ``auto`` changed; a pair a person decided on (confirmed, rejected,
        unlinked) and a record already confirmed to another hub ID are left alone. Re-running
        after a failure therefore completes the work without duplicating any of it."""
        entity = _entity(entity)
        unique: dict[tuple[str, str, str, LinkKind], LinkProposal] = {}
        for i, proposal in enumerate(proposals):
            p = _proposal(proposal, i)
            _site_entity(entity, p.kind)
            unique.setdefault((p.source, p.key, p.hub_id, p.kind), p)
        checked = list(unique.values())
        summary = ProposalSummary()
        for start in range(0, len(checked), _PROPOSAL_CHUNK):
            chunk = checked[start : start + _PROPOSAL_CHUNK]
            async with self._crosswalk_writing(actor) as tx:
                summary += await self._add_chunk(tx, entity, chunk)
        return summary

    async def _add_chunk(
        self, tx: WriteTransaction, entity: str, chunk: Sequence[LinkProposal]
    ) -> ProposalSummary:
        keys = list({p.key for p in chunk})
        rows = await tx.session.scalars(
            select(LinkRow)
            .where(LinkRow.entity == entity, LinkRow.source_key.in_(keys))
            .execution_options(populate_existing=True)
        )
        by_record: dict[tuple[str, str, LinkKind], list[LinkRow]] = {}
        for row in rows:
            by_record.setdefault((row.source, row.source_key, row.kind), []).append(row)
        counts = dict.fromkeys(("added", "updated", "unchanged", "decided", "linked_elsewhere"), 0)
        for p in chunk:
            existing = by_record.get((p.source, p.key, p.kind), [])
            pair = next((r for r in existing if r.hub_id == p.hub_id), None)
            confirmed = [r for r in existing if _is_confirmed(r)]
            if pair is not None and (
                pair.deleted_at is not None or pair.status != LinkStatus.SUGGESTED
            ):
                counts["decided"] += 1
            elif confirmed:
                counts["linked_elsewhere"] += 1
            elif pair is None:
                values = {
                    "entity": entity,
                    "kind": p.kind,
                    "hub_id": p.hub_id,
                    "source": p.source,
                    "source_key": p.key,
                    "status": LinkStatus.SUGGESTED,
                    "score": p.score,
                    "reasons": list(p.reasons),
                    "auto": p.auto,
                    "decided_by": None,
                    "decided_at": None,
                    "decision_reason": None,
                }
                await tx.insert(LINK, values)
                counts["added"] += 1
            elif (pair.score, tuple(pair.reasons), pair.auto) == (p.score, p.reasons, p.auto):
                counts["unchanged"] += 1
            else:
                values = {"score": p.score, "reasons": list(p.reasons), "auto": p.auto}
                await tx.change(LINK, pair, pair.version, values)
                counts["updated"] += 1
        if counts["added"] or counts["updated"]:
            await _bump(tx)
        return ProposalSummary(**counts)

    async def confirm_link(
        self, actor: Actor, link_id: str, version: int, reason: str | None = None
    ) -> CrosswalkLink:
        """Confirm a suggested (or rejected) link: from now on it merges data (a ``SITE``
        link: the record shows among the program's sites). ``reason``: why, if given."""
        reason = _reason(reason)
        async with self._crosswalk_writing(actor) as tx:
            row = await tx.live(LINK, link_id)
            if row.status == LinkStatus.CONFIRMED:
                raise ValidationFailed({"status": "the link is already confirmed"})
            await self._check_linkable(
                tx, row.entity, row.hub_id, row.source, row.source_key, row.kind
            )
            values = _decision(tx, LinkStatus.CONFIRMED, reason)
            link = await tx.change(LINK, row, version, values)
            await _bump(tx)
            return link

    async def reject_link(
        self, actor: Actor, link_id: str, version: int, reason: str | None = None
    ) -> CrosswalkLink:
        """Reject a suggested (or confirmed) link: it never merges data, and re-running the
        matcher does not suggest it again. ``reason``: why (kept with the decision)."""
        reason = _reason(reason)
        async with self._crosswalk_writing(actor) as tx:
            row = await tx.live(LINK, link_id)
            if row.status == LinkStatus.REJECTED:
                raise ValidationFailed({"status": "the link is already rejected"})
            decision = _decision(tx, LinkStatus.REJECTED, reason)
            link = await tx.change(LINK, row, version, decision)
            await _bump(tx)
            return link

    async def link(
        self,
        actor: Actor,
        entity: str,
        hub_id: str,
        source: str,
        key: str,
        kind: LinkKind = LinkKind.SAME,
    ) -> CrosswalkLink:
        """Link a source record to a hub ID by hand (confirmed; ``SITE``: as a site of the
        program). A pair that was unlinked is restored; a pair stored as a suggestion or
        rejection is confirmed in place."""
        entity = _entity(entity)
        _site_entity(entity, kind)
        hub_id = required_name(hub_id, "hub_id")
        source = _source(source)
        key = required_name(key, "key")
        async with self._crosswalk_writing(actor) as tx:
            await self._check_linkable(tx, entity, hub_id, source, key, kind)
            row = await tx.session.scalar(
                select(LinkRow)
                .where(
                    LinkRow.entity == entity,
                    LinkRow.kind == kind,
                    LinkRow.source == source,
                    LinkRow.source_key == key,
                    LinkRow.hub_id == hub_id,
                )
                .execution_options(populate_existing=True)
            )
            decision = _decision(tx, LinkStatus.CONFIRMED)
            if row is None:
                values = {
                    "entity": entity,
                    "kind": kind,
                    "hub_id": hub_id,
                    "source": source,
                    "source_key": key,
                    "score": None,
                    "reasons": [],
                    "auto": False,
                    **decision,
                }
                link = await tx.insert(LINK, values)
            elif row.deleted_at is not None:
                values = {"deleted_at": None, "deleted_by": None, **decision}
                link = await tx.change(LINK, row, row.version, values, action=AuditAction.RESTORE)
            else:
                link = await tx.change(LINK, row, row.version, decision)
            await _bump(tx)
            return link

    async def unlink(self, actor: Actor, link_id: str, version: int) -> CrosswalkLink:
        """Remove a link (soft: the pair and its last decision stay on record, so the matcher
        does not suggest it again; :meth:`link` brings it back)."""
        async with self._crosswalk_writing(actor) as tx:
            row = await tx.live(LINK, link_id)
            values = {"deleted_at": tx.now, "deleted_by": tx.actor}
            link = await tx.change(LINK, row, version, values, action=AuditAction.DELETE)
            await _bump(tx)
            return link

    async def merge(
        self, actor: Actor, entity: str, hub_id: str, into: str, *, version: int, into_version: int
    ) -> HubIdChange:
        """Merge the object ``hub_id`` into ``into``: its links move there, and records that
        would have had ``hub_id`` now have ``into`` (``hub_id`` still resolves, to ``into``).
        ``version`` and ``into_version`` are the hub IDs' versions (0 if never stored).
        :meth:`split` of the moved links back to ``hub_id`` undoes it."""
        entity = _entity(entity)
        hub_id = required_name(hub_id, "hub_id")
        into = required_name(into, "into")
        if hub_id == into:
            raise ValidationFailed({"into": "a hub ID cannot be merged into itself"})
        async with self._crosswalk_writing(actor) as tx:
            gone, gone_version = await self._hub_row(tx, entity, hub_id, version, "hub_id")
            kept, kept_version = await self._hub_row(tx, entity, into, into_version, "into")
            links = await self._live_links(tx, entity, hub_id)
            await self._check_free(tx, entity, into, links, "into")
            after_gone = await tx.change(HUB_ID, gone, gone_version, {"merged_into": into})
            after_kept = await tx.change(HUB_ID, kept, kept_version, {})
            earlier = await tx.session.scalars(
                select(HubIdRow)
                .where(HubIdRow.entity == entity, HubIdRow.merged_into == hub_id)
                .execution_options(populate_existing=True)
            )
            for row in list(earlier):
                await tx.change(HUB_ID, row, row.version, {"merged_into": into})
            moved = [await tx.change(LINK, r, r.version, {"hub_id": into}) for r in links]
            await _bump(tx)
            return HubIdChange((after_gone, after_kept), tuple(moved))

    async def split(
        self,
        actor: Actor,
        entity: str,
        hub_id: str,
        link_ids: Sequence[str],
        *,
        version: int,
        new_hub_id: str | None = None,
    ) -> HubIdChange:
        """Move some of ``hub_id``'s links to ``new_hub_id``: those records become another
        object. ``new_hub_id`` defaults to ``@source:key`` when the links are all to one
        record. A hub ID that was merged into ``hub_id`` comes back as it was (then
        ``link_ids`` may be empty: a merge of a hub ID without links moved none)."""
        entity = _entity(entity)
        hub_id = required_name(hub_id, "hub_id")
        if not link_ids and new_hub_id is None:
            raise ValidationFailed({"link_ids": "name at least one link to move"})
        async with self._crosswalk_writing(actor) as tx:
            links = await self._live_links(tx, entity, hub_id)
            by_id = {row.id: row for row in links}
            unknown = [i for i in link_ids if i not in by_id]
            if unknown:
                raise ValidationFailed({"link_ids": f"not live links of {hub_id}: {unknown}"})
            moving = [by_id[i] for i in dict.fromkeys(link_ids)]
            if new_hub_id is None:
                records = {(r.source, r.source_key) for r in moving}
                if len(records) != 1:
                    raise ValidationFailed({"new_hub_id": "required for links to many records"})
                ((source, key),) = records
                new_hub_id = record_hub_id(source, key)
            new_hub_id = required_name(new_hub_id, "new_hub_id")
            if new_hub_id == hub_id:
                raise ValidationFailed({"new_hub_id": "must differ from the hub ID split"})
            merged_into = await tx.session.scalar(
                select(HubIdRow.merged_into).where(
                    HubIdRow.entity == entity, HubIdRow.hub_id == new_hub_id
                )
            )
            if not moving and merged_into != hub_id:
                raise ValidationFailed(
                    {"link_ids": f"name at least one link to move ({new_hub_id} was not merged)"}
                )
            old, old_version = await self._hub_row(tx, entity, hub_id, version, "hub_id")
            new = await self._ensure_hub_row(tx, entity, new_hub_id)
            if new.merged_into not in (None, hub_id):
                raise ValidationFailed(
                    {"new_hub_id": f"was merged into {new.merged_into}, not into {hub_id}"}
                )
            await self._check_free(tx, entity, new_hub_id, moving, "new_hub_id")
            after_old = await tx.change(HUB_ID, old, old_version, {})
            if new.merged_into == hub_id:  # undoing a merge: the old object comes back
                after_new = await tx.change(HUB_ID, new, new.version, {"merged_into": None})
            else:
                after_new = HUB_ID.to_record(new)
            moved = [await tx.change(LINK, r, r.version, {"hub_id": new_hub_id}) for r in moving]
            await _bump(tx)
            return HubIdChange((after_old, after_new), tuple(moved))

    # -- checks within a write -------------------------------------------------------------------

    @asynccontextmanager
    async def _crosswalk_writing(self, actor: Actor) -> AsyncIterator[WriteTransaction]:
        """A write transaction that first locks the crosswalk's state row: crosswalk writes
        run one at a time, so each one's checks (one confirmed link per record, a hub ID not
        merged away) see every write before it. SQLite's ``BEGIN IMMEDIATE`` already does
        this; on PostgreSQL it is the ``SELECT ... FOR UPDATE``."""
        async with self._writing(actor) as tx:
            await tx.session.execute(
                select(CrosswalkStateRow.generation)
                .where(CrosswalkStateRow.id == 1)
                .with_for_update()
            )
            yield tx

    async def _ensure_hub_row(self, tx: WriteTransaction, entity: str, hub_id: str) -> Any:
        row = await tx.session.scalar(
            select(HubIdRow)
            .where(HubIdRow.entity == entity, HubIdRow.hub_id == hub_id)
            .execution_options(populate_existing=True)
        )
        if row is not None:
            return row
        values = {"entity": entity, "hub_id": hub_id, "merged_into": None}
        created = await tx.insert(HUB_ID, values)
        return await tx.load(HUB_ID, created.id)

    async def _hub_row(
        self, tx: WriteTransaction, entity: str, hub_id: str, version: int, field: str
    ) -> tuple[Any, int]:
        """The hub ID's row (created when the caller saw it unstored, at version 0) and the
        version a guarded update of it must expect. A merged-away hub ID is refused."""
        existing = await tx.session.scalar(
            select(HubIdRow.version).where(HubIdRow.entity == entity, HubIdRow.hub_id == hub_id)
        )
        if existing is None and version != 0:
            raise VersionConflict(ObjectType.HUB_ID.name, hub_id, 0)
        row = await self._ensure_hub_row(tx, entity, hub_id)
        if row.merged_into is not None:
            raise ValidationFailed({field: f"{hub_id} was merged into {row.merged_into}"})
        return row, row.version if existing is None else version

    async def _check_linkable(
        self,
        tx: WriteTransaction,
        entity: str,
        hub_id: str,
        source: str,
        key: str,
        kind: LinkKind = LinkKind.SAME,
    ) -> None:
        """A link may be confirmed to a live hub ID, for a record confirmed nowhere else
        (as that kind of link: a site of one program may be the same as another)."""
        merged = await tx.session.scalar(
            select(HubIdRow.merged_into).where(HubIdRow.entity == entity, HubIdRow.hub_id == hub_id)
        )
        if merged is not None:
            raise ValidationFailed({"hub_id": f"{hub_id} was merged into {merged}"})
        other = await tx.session.scalar(
            select(LinkRow.hub_id).where(
                LinkRow.entity == entity,
                LinkRow.source == source,
                LinkRow.source_key == key,
                LinkRow.kind == kind,
                LinkRow.status == LinkStatus.CONFIRMED,
                LinkRow.deleted_at.is_(None),
            )
        )
        if other is not None:
            what = "a site of" if kind == LinkKind.SITE else "linked to"
            raise ValidationFailed(
                {"key": f"{source} {key} is already {what} {other}; unlink it first"}
            )
        await self._ensure_hub_row(tx, entity, hub_id)

    async def _live_links(self, tx: WriteTransaction, entity: str, hub_id: str) -> list[Any]:
        rows = await tx.session.scalars(
            select(LinkRow)
            .where(LinkRow.entity == entity, LinkRow.hub_id == hub_id, LinkRow.deleted_at.is_(None))
            .order_by(LinkRow.source, LinkRow.source_key)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def _check_free(
        self, tx: WriteTransaction, entity: str, hub_id: str, links: Sequence[Any], field: str
    ) -> None:
        """Links may move to ``hub_id`` only if it has no link (live or not) for their records."""
        if not links:
            return
        keys = [r.source_key for r in links]
        taken = await tx.session.execute(
            select(LinkRow.source, LinkRow.source_key, LinkRow.kind).where(
                LinkRow.entity == entity, LinkRow.hub_id == hub_id, LinkRow.source_key.in_(keys)
            )
        )
        moving = {(r.source, r.source_key, r.kind) for r in links}
        clashes = sorted({(s, k) for s, k, kind in taken if (s, k, kind) in moving})
        if clashes:
            listed = ", ".join(f"{s} {k}" for s, k in clashes)
            raise ValidationFailed({field: f"{hub_id} already has links for {listed}"})


def _is_confirmed(row: Any) -> bool:
    return bool(row.status == LinkStatus.CONFIRMED and row.deleted_at is None)


def _decision(
    tx: WriteTransaction, status: LinkStatus, reason: str | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "decided_by": tx.actor,
        "decided_at": tx.now,
        "decision_reason": reason,
    }


async def _bump(tx: WriteTransaction) -> None:
    connection = await tx.session.connection()
    await connection.execute(
        update(CrosswalkStateRow)
        .where(CrosswalkStateRow.id == 1)
        .values(generation=CrosswalkStateRow.generation + 1)
    )
