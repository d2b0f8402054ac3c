"""Notes, activity, funding and file metadata; exact money; UTC times; the paged audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecehub.errors import ValidationFailed
from ecehub.hub import (
    ActivityKind,
    AuditAction,
    FundingPurpose,
    HubStore,
    NoteVisibility,
    ObjectType,
    SubjectType,
)
from tests.hub.conftest import OTHER_PROGRAM, PROGRAM

COACH = "coach@qris.example"
CONSULTANT = "consultant@licensing.example"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _funding(amount: str, **more: object) -> dict[str, object]:
    return {
        "amount": amount,
        "support_type": "QRIS",
        "purpose": "MATERIALS",
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
        **more,
    }


async def test_money_is_exact_decimal(store: HubStore) -> None:
    await store.create_funding(COACH, PROGRAM, _funding("0.10"))
    await store.create_funding(COACH, PROGRAM, _funding("0.20"))
    entries = (await store.funding_for_programs([PROGRAM]))[PROGRAM]
    amounts = [e.amount for e in entries]
    assert all(type(a) is Decimal for a in amounts)
    assert sorted(amounts) == [Decimal("0.10"), Decimal("0.20")]
    assert sum(amounts, Decimal(0)) == Decimal("0.30")
    assert str(sum(amounts, Decimal(0))) == "0.30"

    # The extremes of NUMERIC(14, 2) round-trip unchanged on every backend.
    for amount in ("999999999999.99", "123456789012.34", "0.01", "70000000000.07", "3"):
        entry = await store.create_funding(COACH, OTHER_PROGRAM, _funding(amount))
        stored = await store.get_funding(entry.id)
        assert stored is not None and stored.amount == Decimal(amount)
        assert str(stored.amount) == str(Decimal(amount).quantize(Decimal("0.01")))
    total = sum(
        (e.amount for e in (await store.funding_for_programs([OTHER_PROGRAM]))[OTHER_PROGRAM]),
        Decimal(0),
    )
    assert total == Decimal("1193456789015.41")

    audit = await store.audit_for_object(ObjectType.FUNDING_ENTRY, entries[0].id)
    assert audit[0].after is not None and audit[0].after["amount"] in ("0.10", "0.20")


async def test_funding_filters_and_tasks(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Materials"})
    task = await store.create_task(COACH, goal.id, {"title": "Buy blocks"})
    q1 = await store.create_funding(COACH, PROGRAM, _funding("100.00"))
    q2 = await store.create_funding(
        COACH,
        PROGRAM,
        _funding(
            "40.00",
            support_type="HEAD_START",
            purpose="QIP_TASK",
            qip_task_id=task.id,
            period_start=dt.date(2025, 4, 1),
            period_end=dt.date(2025, 6, 30),
        ),
    )
    find = store.funding_for_programs
    assert [e.id for e in (await find([PROGRAM]))[PROGRAM]] == [q1.id, q2.id]
    assert [e.id for e in (await find([PROGRAM], support_types=["HEAD_START"]))[PROGRAM]] == [q2.id]
    by_purpose = await find([PROGRAM], purposes=[FundingPurpose.MATERIALS])
    assert [e.id for e in by_purpose[PROGRAM]] == [q1.id]
    april = await find([PROGRAM], period_from=dt.date(2025, 4, 15), period_to=dt.date(2025, 5, 1))
    assert [e.id for e in april[PROGRAM]] == [q2.id]
    march = await find([PROGRAM], period_to=dt.date(2025, 3, 31))
    assert [e.id for e in march[PROGRAM]] == [q1.id]
    assert (await store.funding_for_tasks([task.id]))[task.id] == [q2]

    deleted = await store.delete_funding(CONSULTANT, q1.id, 1)
    assert [e.id for e in (await find([PROGRAM]))[PROGRAM]] == [q2.id]
    assert len((await find([PROGRAM], include_deleted=True))[PROGRAM]) == 2
    restored = await store.restore_funding(CONSULTANT, q1.id, deleted.version)
    changed = await store.update_funding(COACH, q1.id, restored.version, {"amount": "100.5"})
    assert (changed.amount, changed.version) == (Decimal("100.50"), 4)


async def test_notes_on_subjects_with_private_notes_kept_private(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    on_program = await store.create_note(
        COACH,
        PROGRAM,
        {"subject_type": "PROGRAM", "subject_id": PROGRAM, "body": "Met the director."},
    )
    private = await store.create_note(
        CONSULTANT,
        PROGRAM,
        {
            "subject_type": SubjectType.GOAL,
            "subject_id": goal.id,
            "body": "Check the fire drill log next time.",
            "visibility": "PRIVATE",
            "support_type": "LICENSING",
        },
    )
    staff_note = await store.create_note(
        COACH,
        PROGRAM,
        {"subject_type": "STAFF", "subject_id": "@hs:staff-9", "body": "CDA in progress."},
    )
    assert (on_program.author, on_program.visibility) == (COACH, NoteVisibility.TEAM)
    assert (await store.notes_for(SubjectType.GOAL, [goal.id]))[goal.id] == [private]
    assert (await store.notes_for(SubjectType.GOAL, [goal.id], viewer=COACH))[goal.id] == []
    everything = await store.notes_for_programs([PROGRAM, OTHER_PROGRAM], viewer=CONSULTANT)
    assert {n.id for n in everything[PROGRAM]} == {on_program.id, private.id, staff_note.id}
    assert everything[OTHER_PROGRAM] == []
    assert len((await store.notes_for_programs([PROGRAM], viewer=COACH))[PROGRAM]) == 2

    edited = await store.update_note(CONSULTANT, private.id, 1, {"visibility": "TEAM"})
    assert (edited.visibility, edited.subject_id, edited.version) == (
        NoteVisibility.TEAM,
        goal.id,
        2,
    )
    with pytest.raises(ValidationFailed) as fixed:
        await store.update_note(
            CONSULTANT, private.id, 2, {"subject_type": "PROGRAM", "subject_id": PROGRAM}
        )
    assert fixed.value.field_errors == {
        "subject_type": "cannot be changed",
        "subject_id": "cannot be changed",
    }
    gone = await store.delete_note(CONSULTANT, private.id, 2)
    assert (await store.notes_for(SubjectType.GOAL, [goal.id]))[goal.id] == []
    assert await store.get_note(private.id, include_deleted=True) == gone
    await store.restore_note(CONSULTANT, private.id, gone.version)


async def test_activity_log_in_utc_newest_first(store: HubStore) -> None:
    central = dt.timezone(dt.timedelta(hours=-6))
    visit = await store.create_activity(
        CONSULTANT,
        PROGRAM,
        {
            "kind": "SITE_VISIT",
            "support_type": "LICENSING",
            "occurred_at": dt.datetime(2025, 3, 4, 9, 30, tzinfo=central),
            "minutes": 120,
            "staff_ids": ["@hs:staff-1", "@hs:staff-2", "@hs:staff-1"],
            "room_id": "@head_start:room-4",
            "summary": "Annual inspection",
        },
    )
    call = await store.create_activity(
        COACH,
        PROGRAM,
        {"kind": "PHONE_VIRTUAL", "occurred_at": "2025-03-05T14:00:00+00:00", "minutes": 15},
    )
    assert visit.occurred_at == dt.datetime(2025, 3, 4, 15, 30, tzinfo=dt.UTC)
    assert visit.occurred_at.tzinfo is dt.UTC and visit.created_at.tzinfo is dt.UTC
    assert visit.staff_ids == ("@hs:staff-1", "@hs:staff-2")
    assert (visit.author, visit.kind) == (CONSULTANT, ActivityKind.SITE_VISIT)

    log = await store.activity_for_programs([PROGRAM])
    assert [a.id for a in log[PROGRAM]] == [call.id, visit.id]
    since = dt.datetime(2025, 3, 5, tzinfo=dt.UTC)
    assert [a.id for a in (await store.activity_for_programs([PROGRAM], since=since))[PROGRAM]] == [
        call.id
    ]
    assert [a.id for a in (await store.activity_for_programs([PROGRAM], until=since))[PROGRAM]] == [
        visit.id
    ]
    visits = await store.activity_for_programs([PROGRAM], kinds=[ActivityKind.SITE_VISIT])
    assert [a.id for a in visits[PROGRAM]] == [visit.id]
    licensing = await store.activity_for_programs([PROGRAM], support_types=["LICENSING"])
    assert [a.id for a in licensing[PROGRAM]] == [visit.id]

    longer = await store.update_activity(CONSULTANT, visit.id, 1, {"minutes": 150})
    assert longer.minutes == 150 and longer.occurred_at == visit.occurred_at
    gone = await store.delete_activity(CONSULTANT, visit.id, 2)
    assert [a.id for a in (await store.activity_for_programs([PROGRAM]))[PROGRAM]] == [call.id]
    await store.restore_activity(CONSULTANT, visit.id, gone.version)


async def test_file_metadata(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Curriculum"})
    task = await store.create_task(COACH, goal.id, {"title": "Lesson plans"})
    upload = await store.create_file(
        COACH,
        PROGRAM,
        {
            "subject_type": "TASK",
            "subject_id": task.id,
            "filename": "lesson-plan.pdf",
            "content_type": "application/pdf",
            "size_bytes": 48213,
            "sha256": SHA.upper(),
            "storage_key": "files/2025/ab/lesson-plan.pdf",
        },
    )
    assert (upload.uploaded_by, upload.sha256, upload.version) == (COACH, SHA, 1)
    assert (await store.files_for(SubjectType.TASK, [task.id]))[task.id] == [upload]
    assert (await store.files_for_programs([PROGRAM]))[PROGRAM] == [upload]
    gone = await store.delete_file(COACH, upload.id, 1)
    assert (await store.files_for(SubjectType.TASK, [task.id]))[task.id] == []
    assert await store.get_file(upload.id) is None
    assert await store.get_file(upload.id, include_deleted=True) == gone
    back = await store.restore_file(COACH, upload.id, gone.version)
    audit = await store.audit_for_object(ObjectType.FILE_ATTACHMENT, upload.id)
    assert [e.action for e in audit] == [
        AuditAction.CREATE,
        AuditAction.DELETE,
        AuditAction.RESTORE,
    ]
    assert back.version == 3


async def test_audit_log_pages_newest_first(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Goal"})
    for n in range(6):
        goal = await store.update_goal(COACH, goal.id, goal.version, {"position": n + 10})
    await store.create_goal(COACH, OTHER_PROGRAM, {"title": "Elsewhere"})

    seen: list[int] = []
    after: str | None = None
    pages = 0
    while True:
        page = await store.audit_for_program(PROGRAM, first=3, after=after)
        pages += 1
        seen += [e.id for e in page.entries]
        if not page.has_next_page:
            break
        after = page.end_cursor
    # the QIP's creation, the goal's creation and six updates: 8 entries in 3 pages
    assert (len(seen), pages, len(set(seen))) == (8, 3, 8)
    everything = (await store.audit_for_program(PROGRAM, first=500)).entries
    assert [e.id for e in everything] == seen
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
    assert everything[-1].object_type is ObjectType.QIP
    assert everything[0].action is AuditAction.UPDATE
    assert everything[0].before is not None and everything[0].after is not None
    assert (everything[0].before["position"], everything[0].after["position"]) == (14, 15)
    assert all(e.program_id == PROGRAM for e in everything)
