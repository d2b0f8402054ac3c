"""Many clients update one task at once: no update is lost.

200 coroutines, spread over four stores (four engines and connection pools, as four hub
processes would have), each read the task in a session of its own and then add their own
delta to ``minutes_spent`` with the version they read. Start times are spread (seeded) over
1.5 s, so reads interleave with writes and both outcomes are common. Every write must either
apply or get VersionConflict; the task must end up holding exactly the applied deltas, at
version 1 + applied; and the audit log must show the applied writes as one unbroken chain.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

from ecehub.errors import VersionConflict
from ecehub.hub import AuditAction, HubStore, ObjectType
from tests.hub.conftest import PROGRAM, SUPPORT_TYPES

WRITERS = 200
CLIENTS = 4


@dataclass(frozen=True)
class Outcome:
    delta: int
    read_version: int
    applied: bool
    conflict_version: int | None = None


async def _one_writer(store: HubStore, task_id: str, writer: int, start: float) -> Outcome:
    delta = writer + 1  # every writer's delta is different, so applied ones can be told apart
    await asyncio.sleep(start)
    seen = await store.get_task(task_id)
    assert seen is not None
    try:
        await store.update_task(
            f"writer-{writer}",
            task_id,
            seen.version,
            {"minutes_spent": seen.minutes_spent + delta},
        )
    except VersionConflict as conflict:
        return Outcome(delta, seen.version, False, conflict.current_version)
    return Outcome(delta, seen.version, True)


async def test_200_concurrent_updates_of_one_task_lose_nothing(migrated_url: str) -> None:
    clients = [HubStore(migrated_url, support_types=SUPPORT_TYPES) for _ in range(CLIENTS)]
    try:
        goal = await clients[0].create_goal("coach", PROGRAM, {"title": "Outdoor play"})
        task = await clients[0].create_task("coach", goal.id, {"title": "Playground audit"})

        starts = random.Random(4).choices([n / 100 for n in range(150)], k=WRITERS)
        outcomes = await asyncio.gather(
            *(_one_writer(clients[n % CLIENTS], task.id, n, starts[n]) for n in range(WRITERS))
        )

        applied = [o for o in outcomes if o.applied]
        conflicts = [o for o in outcomes if not o.applied]
        final = await clients[1].get_task(task.id)
        audit = await clients[2].audit_for_object(ObjectType.QIP_TASK, task.id)
    finally:
        for client in clients:
            await client.aclose()

    assert final is not None
    assert len(applied) + len(conflicts) == WRITERS
    assert applied, "at least one write applies"
    assert final.minutes_spent == sum(o.delta for o in applied)
    assert final.version == 1 + len(applied)
    # Each applied write was based on a distinct version; each conflict saw a newer one.
    assert len({o.read_version for o in applied}) == len(applied)
    for conflict in conflicts:
        assert conflict.conflict_version is not None
        assert conflict.conflict_version > conflict.read_version

    updates = [e for e in audit if e.action is AuditAction.UPDATE]
    assert len(updates) == len(applied)
    pairs = [(e.before, e.after) for e in updates if e.before is not None and e.after is not None]
    assert len(pairs) == len(applied)
    pairs.sort(key=lambda pair: int(pair[1]["version"]))
    minutes, audited_deltas = 0, Counter[int]()
    for version, (before, after) in enumerate(pairs, start=2):
        assert (before["version"], after["version"]) == (version - 1, version)
        assert before["minutes_spent"] == minutes
        minutes = after["minutes_spent"]
        audited_deltas[after["minutes_spent"] - before["minutes_spent"]] += 1
    assert minutes == final.minutes_spent
    assert audited_deltas == Counter(o.delta for o in applied)
    backend = migrated_url.split(":", 1)[0]
    print(f"\n{backend}: {len(applied)} applied, {len(conflicts)} conflicts of {WRITERS}")
