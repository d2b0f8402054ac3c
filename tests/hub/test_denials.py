"""Refused accesses in the audit log, on SQLite and PostgreSQL: the same refusal by the same
actor within the window is one entry with a count, so repeated refused requests cannot grow
the log without bound; another object, actor, reason or a later window is an entry of its own."""

from __future__ import annotations

import datetime as dt

from ecehub.hub import AuditAction, HubStore, ObjectType
from ecehub.hub.store import ANY_PROGRAM, Denial

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
BIRTH_YEAR = Denial(ANY_PROGRAM, ObjectType.FIELD, "Staff.birthYear", "not for role ta", "query")
PROGRAM = Denial("LICENSE_NUMBER:CCL-1", ObjectType.PROGRAM, "LICENSE_NUMBER:CCL-1", "out", "query")


async def _denials(
    store: HubStore, object_type: ObjectType, object_id: str
) -> list[dict[str, object]]:
    entries = await store.audit_for_object(object_type, object_id)
    return [
        {"actor": e.actor, "at": e.at, **(e.after or {})}
        for e in entries
        if e.action is AuditAction.DENY
    ]


async def test_one_entry_per_actor_object_and_window(store: HubStore) -> None:
    for minutes in (0, 1, 59):
        await store.record_denials("", [BIRTH_YEAR], at=T0 + dt.timedelta(minutes=minutes))
    await store.record_denials(
        "", [BIRTH_YEAR.__class__(**{**BIRTH_YEAR.__dict__, "count": 4})], at=T0
    )
    [entry] = await _denials(store, ObjectType.FIELD, "Staff.birthYear")
    assert entry["actor"] == "anonymous"
    assert entry["count"] == 7 and entry["at"] == T0
    assert entry["last_at"] == (T0 + dt.timedelta(minutes=59)).isoformat()

    # Another actor, another reason, another object: entries of their own.
    await store.record_denials("ta@qris.example", [BIRTH_YEAR], at=T0)
    other_reason = Denial(ANY_PROGRAM, ObjectType.FIELD, "Staff.birthYear", "other", "query")
    await store.record_denials("", [other_reason, PROGRAM], at=T0)
    assert len(await _denials(store, ObjectType.FIELD, "Staff.birthYear")) == 3
    assert len(await _denials(store, ObjectType.PROGRAM, "LICENSE_NUMBER:CCL-1")) == 1

    # After the window, a new entry.
    await store.record_denials("", [BIRTH_YEAR], at=T0 + dt.timedelta(hours=1, minutes=1))
    counts = sorted(
        int(str(e["count"]))
        for e in await _denials(store, ObjectType.FIELD, "Staff.birthYear")
        if e["actor"] == "anonymous" and e["reason"] == BIRTH_YEAR.reason
    )
    assert counts == [1, 7]


async def test_a_zero_window_keeps_an_entry_per_request(store: HubStore) -> None:
    store.denial_window = dt.timedelta(0)
    for _ in range(3):
        await store.record_denials("", [BIRTH_YEAR], at=T0)
    assert [e["count"] for e in await _denials(store, ObjectType.FIELD, "Staff.birthYear")] == [
        1,
        1,
        1,
    ]
