"""Every refused write names each offending field, says what is wrong, and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import pytest

from ecehub.errors import ValidationFailed
from ecehub.hub import HubStore
from tests.hub.conftest import OTHER_PROGRAM, PROGRAM

COACH = "coach@qris.example"


async def refused(call: Awaitable[Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failure:
        await call
    assert failure.value.code == "VALIDATION_FAILED"
    return failure.value.field_errors


async def test_qip_goal_and_task_fields(store: HubStore) -> None:
    assert await refused(store.create_goal(COACH, PROGRAM, {})) == {"title": "required"}
    assert await refused(store.create_goal(COACH, PROGRAM, {"title": "  "})) == {
        "title": "required"
    }
    errors = await refused(
        store.create_goal(
            COACH,
            PROGRAM,
            {
                "title": "x" * 201,
                "support_types": ["QRIS", "TEA_PARTY"],
                "target_date": "30/06/2025",
                "status": "FINISHED",
                "colour": "red",
            },
        )
    )
    assert errors == {
        "title": "must be at most 200 characters",
        "support_types": "unknown support type TEA_PARTY: use one of ACCREDITATION, "
        "EARLY_INTERVENTION, HEAD_START, LICENSING, PRE_K, QRIS",
        "target_date": "must be a date as YYYY-MM-DD",
        "status": "must be one of NOT_STARTED, IN_PROGRESS, DONE, DROPPED",
        "colour": "unknown field",
    }

    goal = await store.create_goal(COACH, PROGRAM, {"title": "Outdoor learning"})
    assert await refused(
        store.create_task(COACH, goal.id, {"title": "Plant a garden", "minutes_spent": -5})
    ) == {"minutes_spent": "must be 0 or more"}
    assert await refused(
        store.create_task(COACH, goal.id, {"title": "T", "minutes_spent": "90", "due_date": 3})
    ) == {"minutes_spent": "must be a whole number", "due_date": "must be a date as YYYY-MM-DD"}
    task = await store.create_task(COACH, goal.id, {"title": "Plant a garden"})
    assert await refused(store.update_task(COACH, task.id, 1, {})) == {
        "changes": "give at least one field to change"
    }
    assert await refused(store.update_task(COACH, task.id, 1, {"title": None})) == {
        "title": "required"
    }
    assert await refused(store.update_task("  ", task.id, 1, {"title": "New"})) == {
        "actor": "required"
    }
    assert await refused(store.create_goal(COACH, "", {"title": "No program"})) == {
        "program_id": "required"
    }
    unchanged = await store.get_task(task.id)
    assert unchanged is not None and unchanged.version == 1


async def test_activity_note_and_file_fields(store: HubStore) -> None:
    assert await refused(
        store.create_activity(
            COACH,
            PROGRAM,
            {"kind": "SITE_VISIT", "occurred_at": dt.datetime(2025, 3, 4, 10), "minutes": -1},
        )
    ) == {
        "occurred_at": "must have a time zone (e.g. 2024-05-01T09:30:00-05:00)",
        "minutes": "must be 0 or more",
    }
    assert await refused(store.create_activity(COACH, PROGRAM, {"staff_ids": "@hs:1"})) == {
        "kind": "required",
        "occurred_at": "required",
        "staff_ids": "must be a list of IDs",
    }
    assert await refused(
        store.create_note(COACH, PROGRAM, {"subject_type": "PROGRAM", "subject_id": PROGRAM})
    ) == {"body": "required"}
    assert await refused(
        store.create_note(
            COACH,
            PROGRAM,
            {"subject_type": "PROGRAM", "subject_id": OTHER_PROGRAM, "body": "Hello"},
        )
    ) == {"subject_id": "must be the program's own ID"}
    assert await refused(
        store.create_note(
            COACH, PROGRAM, {"subject_type": "GOAL", "subject_id": "nope", "body": "Hello"}
        )
    ) == {"subject_id": "no QIP_GOAL with this ID"}
    elsewhere = await store.create_goal(COACH, OTHER_PROGRAM, {"title": "Theirs"})
    assert await refused(
        store.create_note(
            COACH, PROGRAM, {"subject_type": "GOAL", "subject_id": elsewhere.id, "body": "Hi"}
        )
    ) == {"subject_id": "belongs to another program"}
    assert await refused(
        store.create_file(
            COACH,
            PROGRAM,
            {
                "subject_type": "PROGRAM",
                "subject_id": PROGRAM,
                "filename": "plan.pdf",
                "content_type": "application/pdf",
                "size_bytes": -1,
                "sha256": "abc",
                "storage_key": "",
            },
        )
    ) == {
        "size_bytes": "must be 0 or more",
        "sha256": "must be 64 hexadecimal digits",
        "storage_key": "required",
    }


async def test_funding_fields(store: HubStore) -> None:
    base = {
        "amount": "250.00",
        "support_type": "QRIS",
        "purpose": "MATERIALS",
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
    }
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"amount": "0"}, {"amount": "must be greater than 0"}),
        ({"amount": "-3.50"}, {"amount": "must be greater than 0"}),
        ({"amount": "10.005"}, {"amount": "must have at most 2 decimal places"}),
        (
            {"amount": 0.1},
            {"amount": "must be a decimal string such as '12.50', not a binary float"},
        ),
        ({"amount": "ten"}, {"amount": "must be a decimal number such as 12.50"}),
        ({"amount": "1000000000000"}, {"amount": "must be at most 999999999999.99"}),
        ({"currency": "dollars"}, {"currency": "must be a 3-letter ISO 4217 code such as USD"}),
        ({"period_end": "2024-12-31"}, {"period_end": "must not be before period_start"}),
        ({"purpose": "QIP_TASK"}, {"qip_task_id": "required when purpose is QIP_TASK"}),
        ({"qip_task_id": "no-such-task"}, {"qip_task_id": "no QIP_TASK with this ID"}),
        (
            {"support_type": "qris", "purpose": "BAKE_SALE"},
            {
                "support_type": "must be a support type code such as HEAD_START",
                "purpose": "must be one of PROFESSIONAL_DEVELOPMENT, PROGRAM_SUPPORT, MATERIALS, "
                "QIP_TASK, SCHOLARSHIP, WAGE_INCENTIVE, OTHER",
            },
        ),
    ]
    for change, expected in cases:
        assert await refused(store.create_funding(COACH, PROGRAM, {**base, **change})) == expected

    entry = await store.create_funding(COACH, PROGRAM, base)
    assert await refused(
        store.update_funding(COACH, entry.id, 1, {"period_start": "2025-06-01"})
    ) == {"period_end": "must not be before period_start"}
    goal = await store.create_goal(COACH, OTHER_PROGRAM, {"title": "Theirs"})
    their_task = await store.create_task(COACH, goal.id, {"title": "Their task"})
    assert await refused(
        store.update_funding(COACH, entry.id, 1, {"qip_task_id": their_task.id})
    ) == {"qip_task_id": "is a task of another program"}

    # Nothing refused was written: one funding entry, one audit entry.
    assert [f.id for f in (await store.funding_for_programs([PROGRAM]))[PROGRAM]] == [entry.id]
    page = await store.audit_for_program(PROGRAM)
    assert [e.object_id for e in page.entries] == [entry.id]


async def test_pd_training_and_audit_paging_arguments(store: HubStore) -> None:
    plan = await store.create_pd_plan(COACH, PROGRAM, {"staff_id": "@hs:staff-1"})

    async def errors(data: dict[str, Any]) -> dict[str, str]:
        return await refused(store.create_training(COACH, plan.id, data))

    assert await errors({"title": "CPR", "hours": "-1"}) == {"hours": "must be 0 or more"}
    assert await errors({"title": "CPR", "hours": "1.234"}) == {
        "hours": "must have at most 2 decimal places"
    }
    assert await errors({"title": "CPR", "status": "COMPLETED"}) == {
        "completed_on": "required when status is COMPLETED"
    }
    assert await refused(store.create_pd_plan(COACH, PROGRAM, {"goal_ids": ["g1"]})) == {
        "staff_id": "required"
    }
    assert await refused(store.audit_for_program(PROGRAM, first=0)) == {
        "first": "must be from 1 to 500"
    }
    assert await refused(store.audit_for_program(PROGRAM, after="garbage")) == {
        "after": "not a cursor of this list"
    }
