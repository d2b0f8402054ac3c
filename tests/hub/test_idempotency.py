"""Idempotency keys of the hub store's creates, on SQLite and PostgreSQL: a retry with the
same key by the same actor returns the first call's object and writes nothing; the same key
with another input is refused; keys are per actor, expire, and ~20 concurrent calls with one
key make exactly one object."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ecehub.errors import ValidationFailed
from ecehub.hub import HubStore
from ecehub.hub.models import IdempotencyKeyRow
from tests.hub.conftest import OTHER_PROGRAM, PROGRAM, SUPPORT_TYPES
from tests.test_cli import run

COACH = "coach@qris.example"
CONSULTANT = "consultant@licensing.example"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

Create = Callable[[str | None], Awaitable[Any]]


async def _audit_count(store: HubStore, program: str = PROGRAM) -> int:
    return len((await store.audit_for_program(program, first=500)).entries)


async def _keys(store: HubStore) -> int:
    async with store.engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(IdempotencyKeyRow))
    return int(count or 0)


async def _creates(store: HubStore) -> dict[str, Create]:
    """Every create of the hub store, with a fixed input, taking the key."""
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    task = await store.create_task(COACH, goal.id, {"title": "Read aloud"})
    plan = await store.create_pd_plan(COACH, PROGRAM, {"staff_id": "@licensing:staff-7"})
    return {
        "goal": lambda key: store.create_goal(
            COACH, PROGRAM, {"title": "Outdoor play"}, idempotency_key=key
        ),
        "task": lambda key: store.create_task(
            COACH, goal.id, {"title": "Coach lead teachers"}, idempotency_key=key
        ),
        "pd_plan": lambda key: store.create_pd_plan(
            COACH,
            PROGRAM,
            {"staff_id": "@licensing:staff-8", "planned_hours": "12", "goal_ids": [goal.id]},
            idempotency_key=key,
        ),
        "training": lambda key: store.create_training(
            COACH, plan.id, {"title": "CLASS basics", "hours": "3.5"}, idempotency_key=key
        ),
        "note": lambda key: store.create_note(
            COACH,
            PROGRAM,
            {"subject_type": "GOAL", "subject_id": goal.id, "body": "Going well"},
            idempotency_key=key,
        ),
        "activity": lambda key: store.create_activity(
            COACH,
            PROGRAM,
            {"kind": "SITE_VISIT", "occurred_at": "2025-03-05T14:00:00+00:00", "minutes": 90},
            idempotency_key=key,
        ),
        "funding": lambda key: store.create_funding(
            COACH,
            PROGRAM,
            {
                "amount": "250.00",
                "support_type": "QRIS",
                "purpose": "QIP_TASK",
                "period_start": "2025-01-01",
                "period_end": "2025-03-31",
                "qip_task_id": task.id,
            },
            idempotency_key=key,
        ),
        "file": lambda key: store.create_file(
            COACH,
            PROGRAM,
            {
                "subject_type": "TASK",
                "subject_id": task.id,
                "filename": "plan.pdf",
                "content_type": "application/pdf",
                "size_bytes": 100,
                "sha256": SHA,
                "storage_key": f"files/{key}/plan.pdf",  # a new key per upload: not compared
            },
            idempotency_key=key,
        ),
    }


async def test_every_create_retried_with_its_key_returns_the_first_object(
    store: HubStore,
) -> None:
    creates = await _creates(store)
    for name, create in creates.items():
        first = await create(f"key-{name}")
        audited = await _audit_count(store)
        again = await create(f"key-{name}")
        assert again == first, name  # same ID, same version, same everything
        assert await _audit_count(store) == audited, f"{name}: a retry wrote an audit entry"
    assert await _keys(store) == len(creates)


async def test_without_a_key_each_call_creates(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    one = await store.create_task(COACH, goal.id, {"title": "Read aloud"})
    two = await store.create_task(COACH, goal.id, {"title": "Read aloud"})
    assert one.id != two.id
    assert await _keys(store) == 0


async def test_a_retry_returns_the_object_as_it_is_now_and_nothing_new(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    task = await store.create_task(COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k")
    done = await store.update_task(COACH, task.id, 1, {"status": "DONE"})
    again = await store.create_task(COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k")
    assert again == done
    assert [t.id for t in (await store.tasks_for_goals([goal.id]))[goal.id]] == [task.id]


async def test_the_same_key_with_another_input_is_refused(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    other_goal = await store.create_goal(COACH, PROGRAM, {"title": "Math"})
    await store.create_task(COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k")
    audited = await _audit_count(store)
    refusals = [
        store.create_task(COACH, goal.id, {"title": "Read aloud!"}, idempotency_key="k"),
        store.create_task(COACH, other_goal.id, {"title": "Read aloud"}, idempotency_key="k"),
        # another kind of object under the same key
        store.create_goal(COACH, PROGRAM, {"title": "Read aloud"}, idempotency_key="k"),
    ]
    for refusal in refusals:
        with pytest.raises(ValidationFailed) as refused:
            await refusal
        assert set(refused.value.field_errors) == {"idempotency_key"}
        assert "different request" in refused.value.field_errors["idempotency_key"]
    assert await _audit_count(store) == audited
    assert len((await store.tasks_for_goals([goal.id, other_goal.id]))[goal.id]) == 1


async def test_inputs_that_normalise_alike_are_the_same_request(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    data = {"title": "  Read aloud ", "due_date": "2027-01-31"}
    first = await store.create_task(COACH, goal.id, data, idempotency_key="k")
    again = await store.create_task(
        COACH,
        goal.id,
        {"title": "Read aloud", "due_date": dt.date(2027, 1, 31)},
        idempotency_key="k",
    )
    assert again.id == first.id


async def test_keys_are_per_actor(store: HubStore) -> None:
    goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
    mine = await store.create_task(COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k")
    theirs = await store.create_task(
        CONSULTANT, goal.id, {"title": "Something else"}, idempotency_key="k"
    )
    assert theirs.id != mine.id
    assert theirs.created_by == CONSULTANT
    again = await store.create_task(COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k")
    assert again.id == mine.id


async def test_a_failed_create_keeps_no_key(store: HubStore) -> None:
    data = {"subject_type": "GOAL", "subject_id": "no-such-goal", "body": "hi"}
    with pytest.raises(ValidationFailed):
        await store.create_note(COACH, PROGRAM, data, idempotency_key="k")
    assert await _keys(store) == 0
    note = await store.create_note(
        COACH,
        PROGRAM,
        {"subject_type": "PROGRAM", "subject_id": PROGRAM, "body": "hi"},
        idempotency_key="k",
    )
    assert note.body == "hi"


@pytest.mark.parametrize("key", ["", "   ", "x" * 201])
async def test_a_key_must_be_1_to_200_characters(store: HubStore, key: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await store.create_goal(COACH, PROGRAM, {"title": "Literacy"}, idempotency_key=key)
    assert set(refused.value.field_errors) == {"idempotency_key"}
    assert await _audit_count(store) == 0


async def test_keys_expire_and_are_pruned_on_the_actors_next_keyed_write(
    migrated_url: str,
) -> None:
    now = [dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)]
    async with HubStore(migrated_url, support_types=SUPPORT_TYPES, clock=lambda: now[0]) as store:
        store.idempotency_window = dt.timedelta(hours=24)
        goal = await store.create_goal(COACH, PROGRAM, {"title": "Literacy"})
        first = await store.create_task(
            COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k"
        )
        await store.create_goal(CONSULTANT, OTHER_PROGRAM, {"title": "x"}, idempotency_key="c")

        now[0] += dt.timedelta(hours=23, minutes=59)
        within = await store.create_task(
            COACH, goal.id, {"title": "Read aloud"}, idempotency_key="k"
        )
        assert within.id == first.id

        now[0] += dt.timedelta(minutes=1)  # 24 h after the first call: expired
        later = await store.create_task(
            COACH, goal.id, {"title": "Another input is fine now"}, idempotency_key="k"
        )
        assert later.id != first.id
        # the coach's expired key made way; the consultant's expired one waits for their write
        assert await _keys(store) == 2
        await store.create_note(
            CONSULTANT,
            OTHER_PROGRAM,
            {"subject_type": "PROGRAM", "subject_id": OTHER_PROGRAM, "body": "hi"},
            idempotency_key="n",
        )
        assert await _keys(store) == 2  # the coach's new key and the consultant's new one


async def test_the_window_comes_from_the_config() -> None:
    from ecehub.config.model import HubConfig

    assert HubConfig().idempotency_key_ttl_s == 24 * 3600
    with pytest.raises(ValueError):
        HubConfig(idempotency_key_ttl_s=0)


CONCURRENT = 20
CLIENTS = 4


async def test_20_concurrent_retries_with_one_key_make_one_object(migrated_url: str) -> None:
    clients = [HubStore(migrated_url, support_types=SUPPORT_TYPES) for _ in range(CLIENTS)]
    try:
        goal = await clients[0].create_goal(COACH, PROGRAM, {"title": "Literacy"})
        audited = await _audit_count(clients[0])
        results = await asyncio.gather(
            *(
                clients[n % CLIENTS].create_task(
                    COACH, goal.id, {"title": "Read aloud"}, idempotency_key="retry-1"
                )
                for n in range(CONCURRENT)
            )
        )
        tasks = (await clients[1].tasks_for_goals([goal.id]))[goal.id]
        audit_after = await _audit_count(clients[2])
        keys = await _keys(clients[3])
    finally:
        for client in clients:
            await client.aclose()
    assert len({r.id for r in results}) == 1
    assert [t.id for t in tasks] == [results[0].id]
    assert audit_after == audited + 1
    assert keys == 1


async def test_20_concurrent_calls_with_one_key_and_other_inputs_make_one_object(
    migrated_url: str,
) -> None:
    clients = [HubStore(migrated_url, support_types=SUPPORT_TYPES) for _ in range(CLIENTS)]
    try:
        goal = await clients[0].create_goal(COACH, PROGRAM, {"title": "Literacy"})
        results = await asyncio.gather(
            *(
                clients[n % CLIENTS].create_task(
                    COACH, goal.id, {"title": f"Task {n % 2}"}, idempotency_key="mixed"
                )
                for n in range(CONCURRENT)
            ),
            return_exceptions=True,
        )
        tasks = (await clients[1].tasks_for_goals([goal.id]))[goal.id]
    finally:
        for client in clients:
            await client.aclose()
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(tasks) == 1
    assert {r.id for r in made} == {tasks[0].id}
    assert all(r.title == tasks[0].title for r in made)
    assert len(made) == CONCURRENT // 2
    assert all(isinstance(r, ValidationFailed) for r in refused)


async def test_prune_audit_deletes_every_actors_expired_keys(migrated_url: str) -> None:
    now = [dt.datetime.now(dt.UTC) - dt.timedelta(days=2)]
    async with HubStore(migrated_url, support_types=SUPPORT_TYPES, clock=lambda: now[0]) as store:
        await store.create_goal(COACH, PROGRAM, {"title": "Old"}, idempotency_key="old")
        await store.create_goal(CONSULTANT, PROGRAM, {"title": "Old"}, idempotency_key="old")
        now[0] = dt.datetime.now(dt.UTC)
        await store.create_goal(CONSULTANT, OTHER_PROGRAM, {"title": "New"}, idempotency_key="n")
        assert await _keys(store) == 2  # the consultant's write pruned their own expired key
    code, out, err = await run("db", "prune-audit", "--url", migrated_url, "--days", "60")
    assert code == 0, err
    assert out.splitlines()[1] == "deleted 1 expired idempotency keys"
    async with HubStore(migrated_url) as store:
        assert await _keys(store) == 1
