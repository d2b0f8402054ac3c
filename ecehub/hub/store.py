"""The hub store's repository: what the GraphQL layer reads and writes.

:class:`HubStore` is built from a URL (or a config) and returns frozen records
(:mod:`ecehub.hub.records`), never ORM rows. Conventions of every method:

- writes take the acting user's name first (``actor``), validate their input (raising
  :class:`~ecehub.errors.ValidationFailed` with one message per field), and write an audit
  entry in the same transaction;
- updates, deletes and restores take the ``version`` the client read; a stale one raises
  :class:`~ecehub.errors.VersionConflict` with the current version and changes nothing;
- deletes are soft: reads hide deleted objects unless ``include_deleted=True``, and
  ``restore_*`` brings them back;
- batched reads (``*_for_*``) take many parent IDs and make one query (one per 1,000 IDs),
  returning a dict with an entry, possibly empty, for every ID asked: made for DataLoaders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select

from ecehub.config.model import Config
from ecehub.errors import ValidationFailed
from ecehub.hub.collaboration import CollaborationRepository
from ecehub.hub.engine import hub_url
from ecehub.hub.enums import AuditAction, ObjectType
from ecehub.hub.models import HUB_ID_LENGTH, AuditRow, IdempotencyKeyRow
from ecehub.hub.qip import QipRepository
from ecehub.hub.records import AuditEntry, AuditPage
from ecehub.hub.transaction import to_record
from ecehub.ids import decode_audit_cursor

__all__ = ["ANY_PROGRAM", "MAX_AUDIT_PAGE", "Denial", "HubStore"]

ANY_PROGRAM = "*"
"""The ``program_id`` of an audit entry about no single program (a refused report field)."""

MAX_AUDIT_PAGE = 500


@dataclass(frozen=True)
class Denial:
    """One refused access, for the audit log: what was asked (``object_type``/``object_id``,
    e.g. FIELD ``Staff.birthYear`` or PROGRAM ``LICENSE_NUMBER:CCL-1``), of which program,
    why, and how often in the request."""

    program_id: str
    object_type: ObjectType
    object_id: str
    reason: str
    operation: str
    count: int = 1


class HubStore(QipRepository, CollaborationRepository):
    """Repository over the hub store database at ``url`` (async SQLAlchemy).

    ``support_types`` are the codes inputs may use (the config's ``support_types``); ``None``
    accepts any UPPER_SNAKE code. ``clock`` gives the time writes are stamped with.
    Create it once per process; close it with :meth:`aclose` (or ``async with``).
    """

    denial_window = dt.timedelta(hours=1)
    """Refusals of one actor's access to one object within this time are one audit entry."""

    @classmethod
    def from_config(cls, config: Config, **engine_options: Any) -> HubStore:
        """The store at the config's ``hub.url``, accepting the config's support types."""
        codes = [s.code for s in config.support_types]
        store = cls(hub_url(config), support_types=codes, **engine_options)
        store.denial_window = dt.timedelta(seconds=config.hub.denial_audit_window_s)
        store.idempotency_window = dt.timedelta(seconds=config.hub.idempotency_key_ttl_s)
        return store

    # -- audit log -------------------------------------------------------------------------------

    async def audit_for_program(
        self, program_id: str, *, first: int = 50, after: str | None = None
    ) -> AuditPage:
        """A page of the program's audit log, newest first. ``after`` is the ``end_cursor`` of
        the previous page."""
        if not 1 <= first <= MAX_AUDIT_PAGE:
            raise ValidationFailed({"first": f"must be from 1 to {MAX_AUDIT_PAGE}"})
        stmt = select(AuditRow).where(AuditRow.program_id == program_id)
        if after is not None:
            try:
                at, entry_id = decode_audit_cursor(after)
            except ValueError as exc:
                raise ValidationFailed({"after": str(exc)}) from None
            stmt = stmt.where(or_(AuditRow.at < at, (AuditRow.at == at) & (AuditRow.id < entry_id)))
        stmt = stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(first + 1)
        async with self._reading() as session:
            rows = list(await session.scalars(stmt))
        entries = tuple(to_record(AuditEntry, row) for row in rows[:first])
        return AuditPage(
            entries=entries,
            end_cursor=entries[-1].cursor if entries else None,
            has_next_page=len(rows) > first,
        )

    async def audit_for_object(self, object_type: ObjectType, object_id: str) -> list[AuditEntry]:
        """Every audited write of one object, oldest first."""
        stmt = (
            select(AuditRow)
            .where(AuditRow.object_type == object_type, AuditRow.object_id == object_id)
            .order_by(AuditRow.at, AuditRow.id)
        )
        async with self._reading() as session:
            return [to_record(AuditEntry, row) for row in await session.scalars(stmt)]

    async def prune_audit(self, actor: str, older_than: dt.datetime) -> int:
        """Delete the audit entries from before ``older_than`` (the retention), in one
        transaction that also audits the pruning itself (action ``PRUNE``, who, before when,
        how many); the number deleted."""
        async with self._writing(actor) as tx:
            result = await tx.session.execute(delete(AuditRow).where(AuditRow.at < older_than))
            deleted = int(getattr(result, "rowcount", 0) or 0)
            tx.session.add(
                AuditRow(
                    program_id=ANY_PROGRAM,
                    actor=tx.actor,
                    at=tx.now,
                    action=AuditAction.PRUNE,
                    object_type=ObjectType.AUDIT_LOG,
                    object_id="audit_entry",
                    before=None,
                    after={"older_than": older_than.isoformat(), "deleted": deleted},
                )
            )
        return deleted

    async def prune_idempotency_keys(self) -> int:
        """Delete every actor's expired idempotency keys (each keyed write already deletes its
        own actor's); the number deleted. Expired keys are never used, so this only frees
        space: ``ecehub db prune-audit`` runs it."""
        table = IdempotencyKeyRow
        async with self._writes() as session, session.begin():
            result = await session.execute(delete(table).where(table.expires_at <= self._clock()))
            return int(getattr(result, "rowcount", 0) or 0)

    async def record_denials(
        self, actor: str, denials: Sequence[Denial], *, at: dt.datetime | None = None
    ) -> None:
        """Audit refused reads or writes (action ``DENY``) in one transaction; an anonymous
        actor is recorded as ``anonymous``. A refusal like one already audited for the same
        actor within :attr:`denial_window` (same object, program, reason and operation) adds
        its count to that entry (``after.count``, ``after.last_at``) instead of a new entry,
        so repeated refused requests cannot grow the audit log without bound."""
        if not denials:
            return
        async with self._writing(actor or "anonymous") as tx:
            now = at or tx.now
            recent: dict[tuple[str, ...], AuditRow] = {}
            if self.denial_window > dt.timedelta(0):
                rows = await tx.session.scalars(
                    select(AuditRow).where(
                        AuditRow.action == AuditAction.DENY,
                        AuditRow.actor == tx.actor,
                        AuditRow.at >= now - self.denial_window,
                        AuditRow.object_type.in_({d.object_type for d in denials}),
                        AuditRow.object_id.in_({d.object_id[:36] for d in denials}),
                    )
                )
                recent = {_denial_key(r.program_id, r.object_type, r.after): r for r in rows}
            for d in denials:
                program_id = d.program_id[:HUB_ID_LENGTH]
                after = {
                    "asked": d.object_id,
                    "reason": d.reason,
                    "operation": d.operation,
                    "count": d.count,
                }
                key = _denial_key(program_id, d.object_type, after)
                row = recent.get(key)
                if row is not None and row.after is not None:
                    count = int(row.after.get("count") or 1) + d.count
                    last = max(
                        now, dt.datetime.fromisoformat(row.after.get("last_at") or now.isoformat())
                    )
                    row.after = {**row.after, "count": count, "last_at": last.isoformat()}
                    continue
                recent[key] = AuditRow(
                    program_id=program_id,
                    actor=tx.actor,
                    at=now,
                    action=AuditAction.DENY,
                    object_type=d.object_type,
                    object_id=d.object_id[:36],
                    before=None,
                    after=after,
                )
                tx.session.add(recent[key])


def _denial_key(
    program_id: str, object_type: ObjectType, after: dict[str, Any] | None
) -> tuple[str, ...]:
    """What makes two refusals the same for the audit log."""
    found = after or {}
    return (
        program_id,
        object_type.value,
        str(found.get("asked")),
        str(found.get("reason")),
        str(found.get("operation")),
    )
