"""Audit retention, on SQLite and PostgreSQL: entries older than the retention are deleted
and the pruning is itself audited; ``ecehub db prune-audit`` takes the retention from
``--days`` or the config and refuses to run without one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ecehub.hub import AuditAction, HubStore, ObjectType
from ecehub.hub.store import ANY_PROGRAM, Denial
from tests.hub.conftest import PROGRAM
from tests.test_cli import run

NOW = dt.datetime.now(dt.UTC)
REFUSAL = Denial(PROGRAM, ObjectType.PROGRAM, PROGRAM, "out of scope", "query")


async def _entries(store: HubStore) -> list[tuple[AuditAction, dt.datetime]]:
    page = await store.audit_for_program(PROGRAM, first=500)
    return [(e.action, e.at) for e in page.entries]


async def test_old_entries_go_and_the_pruning_is_audited(store: HubStore) -> None:
    for days in (400, 200, 10):
        await store.record_denials(f"user-{days}", [REFUSAL], at=NOW - dt.timedelta(days=days))
    deleted = await store.prune_audit("retention@state.example", NOW - dt.timedelta(days=365))
    assert deleted == 1
    assert [at for _, at in await _entries(store)] == [
        NOW - dt.timedelta(days=10),
        NOW - dt.timedelta(days=200),
    ]
    [pruned] = [
        e
        for e in (await store.audit_for_program(ANY_PROGRAM)).entries
        if e.action is AuditAction.PRUNE
    ]
    assert pruned.actor == "retention@state.example"
    assert pruned.object_type is ObjectType.AUDIT_LOG
    assert pruned.after is not None and pruned.after["deleted"] == 1


async def test_the_command_takes_days_or_the_config(
    store: HubStore, migrated_url: str, tmp_path: Path
) -> None:
    for days in (100, 40, 5):
        await store.record_denials(f"user-{days}", [REFUSAL], at=NOW - dt.timedelta(days=days))
    code, _, err = await run("db", "prune-audit", "--url", migrated_url)
    assert code == 2 and "no retention" in err
    code, out, err = await run("db", "prune-audit", "--url", migrated_url, "--days", "60")
    assert code == 0, err
    assert out.startswith("deleted 1 audit entries")
    config = tmp_path / "state.yaml"
    config.write_text(f"hub: {{url: '{migrated_url}', audit_retention_days: 30}}\n")
    code, out, err = await run("db", "prune-audit", "--config", str(config))
    assert code == 0, err
    assert out.startswith("deleted 1 audit entries")
    assert [at for _, at in await _entries(store)] == [NOW - dt.timedelta(days=5)]
