"""Collaboration repository: notes, the activity log, funding entries and file metadata."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_

from ecehub.errors import ValidationFailed
from ecehub.hub.enums import ActivityKind, FundingPurpose, NoteVisibility, SubjectType
from ecehub.hub.models import ActivityRow, FileRow, FundingRow, NoteRow
from ecehub.hub.records import ActivityEntry, FileAttachment, FundingEntry, Note
from ecehub.hub.repository import Repository, required_name
from ecehub.hub.transaction import (
    ACTIVITY,
    FILE,
    FUNDING,
    GOAL,
    NOTE,
    TASK,
    Actor,
    Kind,
    WriteTransaction,
)

__all__ = ["CollaborationRepository"]


class CollaborationRepository(Repository):
    """What sectors record about their support: notes, activity, funding, files."""

    # -- notes -----------------------------------------------------------------------------------

    async def _check_subject(
        self, tx: WriteTransaction, program_id: str, subject_type: SubjectType, subject_id: str
    ) -> None:
        """A note or file about a goal or task must name one of the program's; about the
        program, the program itself. Sites, rooms and staff are sector data: not checked here."""
        if subject_type is SubjectType.PROGRAM and subject_id != program_id:
            raise ValidationFailed({"subject_id": "must be the program's own ID"})
        kinds: dict[SubjectType, Kind[Any]] = {SubjectType.GOAL: GOAL, SubjectType.TASK: TASK}
        kind = kinds.get(subject_type)
        if kind is not None:
            row = await tx.live(kind, subject_id, field="subject_id")
            if row.program_id != program_id:
                raise ValidationFailed({"subject_id": "belongs to another program"})

    async def create_note(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Note:
        """A note by ``actor`` (its author) on the program or one of its sites, rooms, staff,
        goals or tasks."""
        program_id = required_name(program_id, "program_id")
        values = self._input(NOTE, data)

        async def make(tx: WriteTransaction) -> Note:
            await self._check_subject(tx, program_id, values["subject_type"], values["subject_id"])
            row = {**values, "program_id": program_id, "author": tx.actor}
            return await tx.insert(NOTE, row)

        request = {**values, "program_id": program_id}
        return await self._create(NOTE, actor, idempotency_key, request, make)

    async def get_note(self, note_id: str, *, include_deleted: bool = False) -> Note | None:
        return await self._get(NOTE, note_id, include_deleted)

    def _visible(self, viewer: str | None) -> list[ColumnElement[bool]]:
        if viewer is None:
            return []
        return [or_(NoteRow.visibility != NoteVisibility.PRIVATE, NoteRow.author == viewer)]

    async def notes_for(
        self,
        subject_type: SubjectType,
        subject_ids: Iterable[str],
        *,
        viewer: str | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[Note]]:
        """Notes on each subject, newest first. With a ``viewer``, other authors' PRIVATE
        notes are left out (TEAM/PROGRAM visibility is for the auth layer to apply)."""
        return await self._grouped(
            NOTE,
            NoteRow.subject_id,
            subject_ids,
            include_deleted=include_deleted,
            order_by=[NoteRow.created_at.desc(), NoteRow.id.desc()],
            where=[NoteRow.subject_type == subject_type, *self._visible(viewer)],
        )

    async def notes_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        viewer: str | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[Note]]:
        """Every note of each program, on any subject, newest first."""
        return await self._grouped(
            NOTE,
            NoteRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[NoteRow.created_at.desc(), NoteRow.id.desc()],
            where=self._visible(viewer),
        )

    async def update_note(
        self, actor: Actor, note_id: str, version: int, changes: Mapping[str, Any]
    ) -> Note:
        """``body``, ``visibility`` and ``support_type`` can change; the subject cannot."""
        return await self._update(NOTE, actor, note_id, version, changes)

    async def delete_note(self, actor: Actor, note_id: str, version: int) -> Note:
        return await self._delete(NOTE, actor, note_id, version)

    async def restore_note(self, actor: Actor, note_id: str, version: int) -> Note:
        return await self._restore(NOTE, actor, note_id, version)

    # -- activity log ----------------------------------------------------------------------------

    async def create_activity(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ActivityEntry:
        """An activity-log entry by ``actor`` (its author)."""
        program_id = required_name(program_id, "program_id")
        values = self._input(ACTIVITY, data)

        async def make(tx: WriteTransaction) -> ActivityEntry:
            row = {**values, "program_id": program_id, "author": tx.actor}
            return await tx.insert(ACTIVITY, row)

        request = {**values, "program_id": program_id}
        return await self._create(ACTIVITY, actor, idempotency_key, request, make)

    async def get_activity(
        self, entry_id: str, *, include_deleted: bool = False
    ) -> ActivityEntry | None:
        return await self._get(ACTIVITY, entry_id, include_deleted)

    async def activity_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        kinds: Collection[ActivityKind] | None = None,
        support_types: Collection[str] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[ActivityEntry]]:
        """Each program's activity, newest first; ``since`` inclusive, ``until`` exclusive."""
        where: list[ColumnElement[bool]] = []
        if kinds is not None:
            where.append(ActivityRow.kind.in_(list(kinds)))
        if support_types is not None:
            where.append(ActivityRow.support_type.in_(list(support_types)))
        if since is not None:
            where.append(ActivityRow.occurred_at >= since)
        if until is not None:
            where.append(ActivityRow.occurred_at < until)
        return await self._grouped(
            ACTIVITY,
            ActivityRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[ActivityRow.occurred_at.desc(), ActivityRow.id.desc()],
            where=where,
        )

    async def update_activity(
        self, actor: Actor, entry_id: str, version: int, changes: Mapping[str, Any]
    ) -> ActivityEntry:
        return await self._update(ACTIVITY, actor, entry_id, version, changes)

    async def delete_activity(self, actor: Actor, entry_id: str, version: int) -> ActivityEntry:
        return await self._delete(ACTIVITY, actor, entry_id, version)

    async def restore_activity(self, actor: Actor, entry_id: str, version: int) -> ActivityEntry:
        return await self._restore(ACTIVITY, actor, entry_id, version)

    # -- funding ---------------------------------------------------------------------------------

    async def _check_task(self, tx: WriteTransaction, program_id: str, task_id: str) -> None:
        task = await tx.live(TASK, task_id, field="qip_task_id")
        if task.program_id != program_id:
            raise ValidationFailed({"qip_task_id": "is a task of another program"})

    async def create_funding(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> FundingEntry:
        """A hub funding entry: ``amount`` (> 0, at most 2 decimals) over a period, for a
        purpose, by support type; optionally for one of the program's QIP tasks."""
        program_id = required_name(program_id, "program_id")
        values = self._input(FUNDING, data)

        async def make(tx: WriteTransaction) -> FundingEntry:
            if values["qip_task_id"] is not None:
                await self._check_task(tx, program_id, values["qip_task_id"])
            return await tx.insert(FUNDING, {**values, "program_id": program_id})

        request = {**values, "program_id": program_id}
        return await self._create(FUNDING, actor, idempotency_key, request, make)

    async def get_funding(
        self, entry_id: str, *, include_deleted: bool = False
    ) -> FundingEntry | None:
        return await self._get(FUNDING, entry_id, include_deleted)

    async def funding_for_programs(
        self,
        program_ids: Iterable[str],
        *,
        support_types: Collection[str] | None = None,
        purposes: Collection[FundingPurpose] | None = None,
        period_from: dt.date | None = None,
        period_to: dt.date | None = None,
        include_deleted: bool = False,
    ) -> dict[str, list[FundingEntry]]:
        """Each program's funding entries, by period start. A period filter keeps entries whose
        period overlaps ``[period_from, period_to]`` (both inclusive). Sum the amounts in
        Python (``sum(..., Decimal(0))``): exact on every backend."""
        where: list[ColumnElement[bool]] = []
        if support_types is not None:
            where.append(FundingRow.support_type.in_(list(support_types)))
        if purposes is not None:
            where.append(FundingRow.purpose.in_(list(purposes)))
        if period_from is not None:
            where.append(FundingRow.period_end >= period_from)
        if period_to is not None:
            where.append(FundingRow.period_start <= period_to)
        return await self._grouped(
            FUNDING,
            FundingRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[FundingRow.period_start, FundingRow.created_at, FundingRow.id],
            where=where,
        )

    async def funding_for_tasks(
        self, task_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[FundingEntry]]:
        return await self._grouped(
            FUNDING,
            FundingRow.qip_task_id,
            task_ids,
            include_deleted=include_deleted,
            order_by=[FundingRow.period_start, FundingRow.created_at, FundingRow.id],
        )

    async def update_funding(
        self, actor: Actor, entry_id: str, version: int, changes: Mapping[str, Any]
    ) -> FundingEntry:
        values = self._changes(FUNDING, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(FUNDING, entry_id)
            if values.get("qip_task_id") is not None:
                await self._check_task(tx, row.program_id, values["qip_task_id"])
            tx.checked(FUNDING, row, values)
            return await tx.change(FUNDING, row, version, values)

    async def delete_funding(self, actor: Actor, entry_id: str, version: int) -> FundingEntry:
        return await self._delete(FUNDING, actor, entry_id, version)

    async def restore_funding(self, actor: Actor, entry_id: str, version: int) -> FundingEntry:
        return await self._restore(FUNDING, actor, entry_id, version)

    # -- file attachments (metadata; the bytes are the file storage's) ---------------------------

    async def create_file(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> FileAttachment:
        """Record an uploaded file (after its bytes are stored under ``storage_key``). A retry
        with the ``idempotency_key`` of the same file (same name, type and content; the new
        ``storage_key`` is not part of the request) returns the first record: its caller
        deletes the bytes it stored again."""
        program_id = required_name(program_id, "program_id")
        values = self._input(FILE, data)

        async def make(tx: WriteTransaction) -> FileAttachment:
            await self._check_subject(tx, program_id, values["subject_type"], values["subject_id"])
            return await tx.insert(FILE, {**values, "program_id": program_id})

        request = {k: v for k, v in values.items() if k != "storage_key"}
        request["program_id"] = program_id
        return await self._create(FILE, actor, idempotency_key, request, make)

    async def get_file(
        self, file_id: str, *, include_deleted: bool = False
    ) -> FileAttachment | None:
        return await self._get(FILE, file_id, include_deleted)

    async def files_for(
        self,
        subject_type: SubjectType,
        subject_ids: Iterable[str],
        *,
        include_deleted: bool = False,
    ) -> dict[str, list[FileAttachment]]:
        return await self._grouped(
            FILE,
            FileRow.subject_id,
            subject_ids,
            include_deleted=include_deleted,
            order_by=[FileRow.uploaded_at.desc(), FileRow.id.desc()],
            where=[FileRow.subject_type == subject_type],
        )

    async def files_for_programs(
        self, program_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[FileAttachment]]:
        return await self._grouped(
            FILE,
            FileRow.program_id,
            program_ids,
            include_deleted=include_deleted,
            order_by=[FileRow.uploaded_at.desc(), FileRow.id.desc()],
        )

    async def delete_file(self, actor: Actor, file_id: str, version: int) -> FileAttachment:
        """Soft delete: the bytes stay in storage, so a restore gets them back."""
        return await self._delete(FILE, actor, file_id, version)

    async def restore_file(self, actor: Actor, file_id: str, version: int) -> FileAttachment:
        return await self._restore(FILE, actor, file_id, version)
