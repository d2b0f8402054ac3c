"""The QIP life cycle at the store level: plan, goals, tasks, PD plans; versions, soft
deletes, restores and the audit entry of every write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from ecehub.errors import NotFound, ValidationFailed, VersionConflict
from ecehub.hub import AuditAction, GoalStatus, HubStore, ObjectType, TaskStatus, TrainingStatus
from tests.hub.conftest import OTHER_PROGRAM, PROGRAM

COACH = "coach@qris.example"
DIRECTOR = "director@ccl-104233.example"


async def test_one_qip_per_program_created_on_first_use(store: HubStore) -> None:
    first = await store.get_or_create_qip(COACH, PROGRAM)
    again = await store.get_or_create_qip(DIRECTOR, PROGRAM)
    assert again == first
    assert (first.program_id, first.version, first.created_by) == (PROGRAM, 1, COACH)
    assert first.created_at.tzinfo is dt.UTC

    found = await store.qip_for_programs([PROGRAM, OTHER_PROGRAM])
    assert found == {PROGRAM: first, OTHER_PROGRAM: None}
    audit = await store.audit_for_object(ObjectType.QIP, first.id)
    assert [(e.action, e.actor, e.before) for e in audit] == [(AuditAction.CREATE, COACH, None)]

    renamed = await store.update_qip(DIRECTOR, first.id, 1, {"title": "QIP 2025"})
    assert (renamed.title, renamed.version, renamed.updated_by) == ("QIP 2025", 2, DIRECTOR)


async def test_goal_and_task_life_cycle_with_audit(store: HubStore) -> None:
    goal = await store.create_goal(
        COACH,
        PROGRAM,
        {
            "title": "Raise ECERS-3 interaction scores",
            "support_types": ["QRIS", "HEAD_START"],
            "target_date": "2025-06-30",
        },
    )
    second = await store.create_goal(DIRECTOR, PROGRAM, {"title": "Staff retention"})
    assert (goal.position, second.position) == (0, 1)
    assert goal.support_types == ("QRIS", "HEAD_START")
    assert goal.target_date == dt.date(2025, 6, 30)
    assert goal.status is GoalStatus.NOT_STARTED
    qip = (await store.qip_for_programs([PROGRAM]))[PROGRAM]
    assert qip is not None and goal.qip_id == qip.id

    task = await store.create_task(
        DIRECTOR,
        goal.id,
        {"title": "Coaching on open-ended questions", "support_type": "QRIS", "owner": COACH},
    )
    assert (task.program_id, task.version, task.minutes_spent) == (PROGRAM, 1, 0)
    assert task.status is TaskStatus.NOT_STARTED

    started = await store.update_task(
        COACH, task.id, 1, {"status": "IN_PROGRESS", "minutes_spent": 90}
    )
    done = await store.update_task(COACH, task.id, 2, {"status": TaskStatus.DONE})
    assert (started.version, done.version, done.status, done.minutes_spent) == (
        2,
        3,
        TaskStatus.DONE,
        90,
    )
    assert done.updated_by == COACH and done.created_by == DIRECTOR

    # A stale version changes nothing and says what the current version is.
    with pytest.raises(VersionConflict) as conflict:
        await store.update_task(DIRECTOR, task.id, 2, {"title": "Overwritten?"})
    assert (conflict.value.current_version, conflict.value.object_id) == (3, task.id)
    assert conflict.value.code == "VERSION_CONFLICT"
    assert await store.get_task(task.id) == done

    deleted = await store.delete_task(DIRECTOR, task.id, 3)
    assert (deleted.version, deleted.deleted_by) == (4, DIRECTOR)
    assert deleted.deleted_at is not None
    assert await store.get_task(task.id) is None
    assert (await store.tasks_for_goals([goal.id]))[goal.id] == []
    hidden = await store.tasks_for_goals([goal.id], include_deleted=True)
    assert [t.id for t in hidden[goal.id]] == [task.id]
    with pytest.raises(NotFound):
        await store.update_task(COACH, task.id, 4, {"title": "edit a deleted task"})

    restored = await store.restore_task(COACH, task.id, 4)
    assert (restored.version, restored.deleted_at, restored.deleted_by) == (5, None, None)
    assert (await store.tasks_for_goals([goal.id, second.id])) == {
        goal.id: [restored],
        second.id: [],
    }

    # Deleting a goal hides its tasks from the program's task list; restoring brings them back.
    gone = await store.delete_goal(COACH, goal.id, goal.version)
    assert (await store.goals_for_qips([goal.qip_id]))[goal.qip_id] == [second]
    assert (await store.tasks_for_programs([PROGRAM]))[PROGRAM] == []
    await store.restore_goal(COACH, goal.id, gone.version)
    assert (await store.tasks_for_programs([PROGRAM]))[PROGRAM] == [restored]

    audit = await store.audit_for_object(ObjectType.QIP_TASK, task.id)
    assert [e.action for e in audit] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.UPDATE,
        AuditAction.DELETE,
        AuditAction.RESTORE,
    ]
    assert [e.actor for e in audit] == [DIRECTOR, COACH, COACH, DIRECTOR, COACH]
    create, start, finish, delete, restore = audit
    assert create.before is None and create.after is not None
    assert create.after["title"] == "Coaching on open-ended questions"
    assert start.before is not None and start.after is not None
    assert (start.before["status"], start.after["status"]) == ("NOT_STARTED", "IN_PROGRESS")
    assert (start.before["minutes_spent"], start.after["minutes_spent"]) == (0, 90)
    assert start.changed_fields() == [
        "minutes_spent",
        "status",
        "updated_at",
        "updated_by",
        "version",
    ]
    assert finish.changed_fields() == ["status", "updated_at", "version"]
    assert delete.changed_fields() == ["deleted_at", "deleted_by", "version"]
    assert restore.after is not None and restore.after["deleted_at"] is None
    assert all(e.program_id == PROGRAM for e in audit)


async def test_restore_needs_a_deleted_object_and_its_version(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Family engagement"})
    with pytest.raises(ValidationFailed) as live:
        await store.restore_goal(COACH, goal.id, goal.version)
    assert live.value.field_errors == {"id": "QIP_GOAL is not deleted"}
    deleted = await store.delete_goal(COACH, goal.id, goal.version)
    with pytest.raises(VersionConflict) as stale:
        await store.restore_goal(COACH, goal.id, goal.version)
    assert stale.value.current_version == deleted.version
    with pytest.raises(NotFound):
        await store.delete_goal(COACH, "no-such-goal", 1)


async def test_a_task_moves_only_within_its_qip(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "A"})
    other = await store.create_goal(COACH, PROGRAM, {"title": "B"})
    elsewhere = await store.create_goal(COACH, OTHER_PROGRAM, {"title": "C"})
    task = await store.create_task(COACH, goal.id, {"title": "Room arrangement"})
    moved = await store.update_task(COACH, task.id, 1, {"goal_id": other.id})
    assert moved.goal_id == other.id
    with pytest.raises(ValidationFailed) as refused:
        await store.update_task(COACH, task.id, 2, {"goal_id": elsewhere.id})
    assert refused.value.field_errors == {"goal_id": "must be a goal of the same QIP"}


async def test_pd_plan_with_goals_and_trainings(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Credentials"})
    other = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    staff = "@licensing:staff-77"
    plan = await store.create_pd_plan(
        COACH,
        PROGRAM,
        {
            "staff_id": staff,
            "credential_target": "ChildDevelopmentAssociate",
            "planned_hours": "120",
            "goal_ids": [goal.id],
        },
    )
    assert (plan.goal_ids, plan.planned_hours, plan.completed_hours) == (
        (goal.id,),
        Decimal("120.00"),
        Decimal("0.00"),
    )
    relinked = await store.update_pd_plan(
        COACH, plan.id, 1, {"goal_ids": [goal.id, other.id], "completed_hours": 7.5}
    )
    assert set(relinked.goal_ids) == {goal.id, other.id}
    assert (relinked.version, relinked.completed_hours) == (2, Decimal("7.50"))
    audit = await store.audit_for_object(ObjectType.PD_PLAN, plan.id)
    assert audit[-1].before is not None and audit[-1].after is not None
    assert audit[-1].before["goal_ids"] == [goal.id]
    assert sorted(audit[-1].after["goal_ids"]) == sorted([goal.id, other.id])
    assert audit[-1].after["completed_hours"] == "7.50"
    assert (await store.pd_plans_for_staff([staff]))[staff] == [relinked]
    assert await store.get_pd_plan(plan.id) == relinked
    assert await store.get_qip(plan.qip_id) == (await store.qip_for_programs([PROGRAM]))[PROGRAM]
    assert (await store.pd_plans_for_qips([plan.qip_id]))[plan.qip_id] == [relinked]

    with pytest.raises(ValidationFailed) as bad_goal:
        await store.update_pd_plan(COACH, plan.id, 2, {"goal_ids": ["not-a-goal"]})
    assert bad_goal.value.field_errors == {"goal_ids": "not goals of this QIP: not-a-goal"}

    training = await store.create_training(
        COACH, plan.id, {"title": "CDA prep 1", "topic": "Observation", "hours": "3"}
    )
    assert (training.status, training.program_id) == (TrainingStatus.PLANNED, PROGRAM)
    with pytest.raises(ValidationFailed) as incomplete:
        await store.update_training(COACH, training.id, 1, {"status": "COMPLETED"})
    assert incomplete.value.field_errors == {"completed_on": "required when status is COMPLETED"}
    completed = await store.update_training(
        COACH, training.id, 1, {"status": "COMPLETED", "completed_on": dt.date(2025, 3, 4)}
    )
    assert (completed.status, completed.version) == (TrainingStatus.COMPLETED, 2)
    assert (await store.trainings_for_pd_plans([plan.id]))[plan.id] == [completed]
    deleted = await store.delete_training(COACH, training.id, 2)
    assert (await store.trainings_for_pd_plans([plan.id]))[plan.id] == []
    await store.restore_training(COACH, training.id, deleted.version)
    gone = await store.delete_pd_plan(COACH, plan.id, 2)
    assert (await store.pd_plans_for_staff([staff]))[staff] == []
    assert (await store.restore_pd_plan(COACH, plan.id, gone.version)).version == gone.version + 1


async def test_batched_reads_make_one_query_for_many_programs(store: HubStore) -> None:
    programs = [f"@qris:{n}" for n in range(30)]
    for program in programs[:10]:
        goal = await store.create_goal(COACH, program, {"title": "Goal"})
        await store.create_task(COACH, goal.id, {"title": "Task"})
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        qips = await store.qip_for_programs(programs)
        qip_ids = [q.id for q in qips.values() if q is not None]
        goals = await store.goals_for_qips(qip_ids)
        tasks = await store.tasks_for_goals([g.id for gs in goals.values() for g in gs])
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    assert len(qip_ids) == 10 and sum(len(t) for t in tasks.values()) == 10
