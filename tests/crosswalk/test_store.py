"""The crosswalk store, on SQLite and PostgreSQL: proposals stored idempotently and
resumably without overriding people's decisions, every decision versioned, audited and
reversible, and the generation that tells readers to reload."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ecehub.crosswalk.records import CrosswalkLink, LinkProposal, ProposalSummary
from ecehub.crosswalk.store import CrosswalkStore
from ecehub.errors import ValidationFailed, VersionConflict
from ecehub.hub import AuditAction, HubStore, LinkStatus, ObjectType, downgrade, upgrade
from ecehub.hub.enums import LinkKind
from ecehub.hub.models import LinkRow, new_id

LICENSED = "LICENSE_NUMBER:CCL-104233"
OTHER = "LICENSE_NUMBER:CCL-200001"
ALICE = "alice@state.example"
BOB = "bob@state.example"


def proposal(key: str, score: float, hub_id: str = LICENSED, **kw: Any) -> LinkProposal:
    return LinkProposal(hub_id, "qris", key, score, kw.pop("reasons", ("name 0.97",)), **kw)


def state(link: CrosswalkLink) -> tuple[Any, ...]:
    """A link without its bookkeeping (version, stamps)."""
    return (link.hub_id, link.source, link.source_key, link.status, link.deleted_at is None)


async def suggested(store: CrosswalkStore, entity: str = "program") -> list[CrosswalkLink]:
    links: list[CrosswalkLink] = []
    after = None
    while True:
        page = await store.suggestions(entity, first=2, after=after)
        links.extend(page.links)
        if not page.has_next_page:
            return links
        after = page.end_cursor


async def test_proposals_are_stored_once_and_listed_by_score(store: CrosswalkStore) -> None:
    proposals = [proposal("Q-1", 0.71), proposal("Q-2", 0.93), proposal("Q-3", 0.71)]
    first = await store.add_proposals(ALICE, "program", proposals)
    assert first == ProposalSummary(added=3)
    generation = await store.crosswalk_generation()

    again = await store.add_proposals(ALICE, "program", proposals + proposals)
    assert again == ProposalSummary(unchanged=3)
    assert await store.crosswalk_generation() == generation  # nothing written, nothing bumped

    listed = await suggested(store)
    assert listed[0].source_key == "Q-2"
    assert sorted(link.source_key for link in listed[1:]) == ["Q-1", "Q-3"]
    assert [link.score for link in listed] == [0.93, 0.71, 0.71]
    assert all(link.status is LinkStatus.SUGGESTED and link.version == 1 for link in listed)

    rescored = await store.add_proposals(ALICE, "program", [proposal("Q-1", 0.8, auto=True)])
    assert rescored == ProposalSummary(updated=1)
    q1 = next(link for link in await suggested(store) if link.source_key == "Q-1")
    assert (q1.score, q1.auto, q1.version) == (0.8, True, 2)
    assert await store.crosswalk_generation() > generation


async def test_adding_proposals_resumes_where_it_stopped(store: CrosswalkStore) -> None:
    proposals = [proposal(f"Q-{n:05d}", 0.6 + n / 10_000) for n in range(1200)]
    # A first run that stopped after 700 proposals (two transactions of 500 and 200) ...
    assert await store.add_proposals(BOB, "program", proposals[:700]) == ProposalSummary(added=700)
    # ... is completed, not duplicated, by running everything again.
    summary = await store.add_proposals(BOB, "program", proposals)
    assert summary == ProposalSummary(added=500, unchanged=700)
    page = await store.suggestions("program", first=500)
    assert page.has_next_page and page.links[0].source_key == "Q-01199"
    total = len(page.links)
    while page.has_next_page:
        page = await store.suggestions("program", first=500, after=page.end_cursor)
        total += len(page.links)
    assert total == 1200


async def test_a_rerun_never_overrides_a_person(store: CrosswalkStore) -> None:
    await store.add_proposals(ALICE, "program", [proposal(k, 0.7) for k in ("Q-1", "Q-2", "Q-3")])
    links = {link.source_key: link for link in await suggested(store)}
    await store.confirm_link(BOB, links["Q-1"].id, links["Q-1"].version)
    await store.reject_link(BOB, links["Q-2"].id, links["Q-2"].version)
    await store.unlink(BOB, links["Q-3"].id, links["Q-3"].version)

    rerun = [proposal(k, 0.9, auto=True) for k in ("Q-1", "Q-2", "Q-3")]
    rerun.append(proposal("Q-1", 0.9, hub_id=OTHER))  # Q-1 is confirmed to LICENSED already
    summary = await store.add_proposals(ALICE, "program", rerun)
    assert summary == ProposalSummary(decided=3, linked_elsewhere=1)
    assert (await store.suggestions("program")).links == ()
    after = {k: await store.get_link(v.id, include_deleted=True) for k, v in links.items()}
    assert after["Q-1"] is not None and after["Q-1"].status is LinkStatus.CONFIRMED
    assert after["Q-2"] is not None and after["Q-2"].status is LinkStatus.REJECTED
    assert after["Q-3"] is not None and after["Q-3"].deleted_at is not None
    assert all(link is not None and link.score == 0.7 for link in after.values())


async def test_confirm_is_versioned_audited_and_bumps_the_generation(store: CrosswalkStore) -> None:
    await store.add_proposals(ALICE, "program", [proposal("Q-7", 0.82)])
    (link,) = await suggested(store)
    before = await store.crosswalk_generation()

    confirmed = await store.confirm_link(BOB, link.id, link.version)
    assert (confirmed.status, confirmed.decided_by, confirmed.version) == (
        LinkStatus.CONFIRMED,
        BOB,
        2,
    )
    assert await store.crosswalk_generation() == before + 1
    with pytest.raises(VersionConflict) as conflict:
        await store.reject_link(ALICE, link.id, link.version)
    assert conflict.value.current_version == 2
    assert await store.crosswalk_generation() == before + 1

    history = await HubStore.beside(store).audit_for_object(ObjectType.CROSSWALK_LINK, link.id)
    assert [(e.action, e.actor) for e in history] == [
        (AuditAction.CREATE, ALICE),
        (AuditAction.UPDATE, BOB),
    ]
    assert history[1].before is not None and history[1].before["status"] == "SUGGESTED"
    assert history[1].after is not None and history[1].after["status"] == "CONFIRMED"
    assert history[1].changed_fields() == [
        "decided_at",
        "decided_by",
        "status",
        "updated_at",
        "updated_by",
        "version",
    ]
    program_log = await HubStore.beside(store).audit_for_program(LICENSED)
    assert {e.object_type for e in program_log.entries} == {
        ObjectType.CROSSWALK_LINK,
        ObjectType.HUB_ID,
    }

    assert await store.hub_ids_for_records("program", [("qris", "Q-7"), ("qris", "Q-8")]) == {
        ("qris", "Q-7"): LICENSED,
        ("qris", "Q-8"): None,
    }
    snapshot = await store.crosswalk_snapshot()
    assert snapshot.generation == before + 1
    assert snapshot.confirmed == {("program", "qris", "Q-7"): LICENSED}

    rejected = await store.reject_link(ALICE, link.id, confirmed.version)
    assert rejected.status is LinkStatus.REJECTED
    assert (await store.crosswalk_snapshot()).confirmed == {}
    again = await store.confirm_link(ALICE, link.id, rejected.version)
    assert state(again) == state(confirmed)


async def test_a_record_has_at_most_one_confirmed_link(
    store: CrosswalkStore, migrated_url: str
) -> None:
    await store.add_proposals(
        ALICE, "program", [proposal("Q-1", 0.9), proposal("Q-1", 0.8, hub_id=OTHER)]
    )
    first, second = await suggested(store)
    await store.confirm_link(BOB, first.id, first.version)
    with pytest.raises(ValidationFailed) as refused:
        await store.confirm_link(BOB, second.id, second.version)
    assert "already linked to" in refused.value.field_errors["key"]
    with pytest.raises(ValidationFailed):
        await store.link(BOB, "program", OTHER, "qris", "Q-1")

    # The database holds the rule too, whoever writes.
    now = first.created_at
    row: dict[str, Any] = {
        "id": new_id(),
        "entity": "program",
        "hub_id": "LICENSE_NUMBER:CCL-3",
        "source": "qris",
        "source_key": "Q-1",
        "status": "CONFIRMED",
        "score": None,
        "reasons": [],
        "auto": False,
        "created_at": now,
        "created_by": BOB,
        "updated_at": now,
        "updated_by": BOB,
        "version": 1,
    }
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as connection:
            await connection.execute(insert(LinkRow), [row])


async def test_link_and_unlink_undo_each_other(store: CrosswalkStore) -> None:
    assert await store.hub_ids_for_records("program", [("qris", "Q-9")]) == {("qris", "Q-9"): None}
    linked = await store.link(ALICE, "program", LICENSED, "qris", "Q-9")
    assert (linked.status, linked.score, linked.decided_by) == (LinkStatus.CONFIRMED, None, ALICE)
    assert await store.hub_ids_for_records("program", [("qris", "Q-9")]) == {
        ("qris", "Q-9"): LICENSED
    }
    with pytest.raises(ValidationFailed):
        await store.link(ALICE, "program", LICENSED, "qris", "Q-9")

    with pytest.raises(VersionConflict):
        await store.unlink(BOB, linked.id, linked.version + 1)
    unlinked = await store.unlink(BOB, linked.id, linked.version)
    assert unlinked.deleted_by == BOB
    assert await store.hub_ids_for_records("program", [("qris", "Q-9")]) == {("qris", "Q-9"): None}
    assert await store.links_for_hub_ids("program", [LICENSED]) == {LICENSED: []}

    relinked = await store.link(BOB, "program", LICENSED, "qris", "Q-9")
    assert relinked.id == linked.id and state(relinked) == state(linked)
    history = await HubStore.beside(store).audit_for_object(ObjectType.CROSSWALK_LINK, linked.id)
    assert [(e.action, e.actor) for e in history] == [
        (AuditAction.CREATE, ALICE),
        (AuditAction.DELETE, BOB),
        (AuditAction.RESTORE, BOB),
    ]


async def test_merge_then_split_restores_both_objects(store: CrosswalkStore) -> None:
    qris_only = "@qris:Q-4"
    a = await store.link(ALICE, "program", qris_only, "qris", "Q-4")
    b = await store.link(ALICE, "program", qris_only, "head_start", "12")
    c = await store.link(ALICE, "program", LICENSED, "pre_k", "PK-1")
    before = {k: state(v) for k, v in (("a", a), ("b", b), ("c", c))}
    assert await store.get_hub_id("program", OTHER) is None

    with pytest.raises(VersionConflict):
        await store.merge(BOB, "program", qris_only, LICENSED, version=0, into_version=1)
    gone = await store.get_hub_id("program", qris_only)
    kept = await store.get_hub_id("program", LICENSED)
    assert gone is not None and kept is not None
    merged = await store.merge(
        BOB, "program", qris_only, LICENSED, version=gone.version, into_version=kept.version
    )
    assert [h.merged_into for h in merged.hub_ids] == [LICENSED, None]
    assert sorted(link.source_key for link in merged.links) == ["12", "Q-4"]
    links = await store.links_for_hub_ids("program", [qris_only, LICENSED])
    assert links[qris_only] == []
    assert sorted(link.source_key for link in links[LICENSED]) == ["12", "PK-1", "Q-4"]
    snapshot = await store.crosswalk_snapshot()
    assert snapshot.merged_into == {("program", qris_only): LICENSED}
    with pytest.raises(ValidationFailed):  # a merged-away hub ID takes no new links
        await store.link(BOB, "program", qris_only, "qris", "Q-5")

    survivor = merged.hub_ids[1]
    with pytest.raises(VersionConflict):
        await store.split(
            BOB,
            "program",
            LICENSED,
            [x.id for x in merged.links],
            version=survivor.version - 1,
            new_hub_id=qris_only,
        )
    split = await store.split(
        BOB,
        "program",
        LICENSED,
        [x.id for x in merged.links],
        version=survivor.version,
        new_hub_id=qris_only,
    )
    assert [h.merged_into for h in split.hub_ids] == [None, None]
    now = {
        k: state(link)
        for k, link in zip("abc", [await store.get_link(x.id) for x in (a, b, c)], strict=True)
        if link is not None
    }
    assert now == before
    assert (await store.crosswalk_snapshot()).merged_into == {}
    hub_history = await HubStore.beside(store).audit_for_program(qris_only)
    assert {e.object_type for e in hub_history.entries} == {
        ObjectType.HUB_ID,
        ObjectType.CROSSWALK_LINK,
    }
    assert {e.actor for e in hub_history.entries} == {ALICE, BOB}


async def test_split_of_one_record_defaults_to_its_own_hub_id(store: CrosswalkStore) -> None:
    link = await store.link(ALICE, "site", LICENSED, "qris", "S-1")
    split = await store.split(ALICE, "site", LICENSED, [link.id], version=1)
    assert split.links[0].hub_id == "@qris:S-1"
    assert await store.hub_ids_for_records("site", [("qris", "S-1")]) == {
        ("qris", "S-1"): "@qris:S-1"
    }
    # Program links are another entity's: untouched by the site crosswalk.
    assert await store.hub_ids_for_records("program", [("qris", "S-1")]) == {("qris", "S-1"): None}


async def test_inputs_are_checked(store: CrosswalkStore) -> None:
    with pytest.raises(ValidationFailed) as bad_entity:
        await store.add_proposals(ALICE, "room", [proposal("Q-1", 0.5)])
    assert "entity" in bad_entity.value.field_errors
    with pytest.raises(ValidationFailed) as bad_score:
        await store.add_proposals(ALICE, "program", [proposal("Q-1", 0.5), proposal("Q-2", 1.5)])
    assert list(bad_score.value.field_errors) == ["proposals[1].score"]
    with pytest.raises(ValidationFailed):
        await store.add_proposals(
            ALICE, "program", [dataclasses.replace(proposal("Q", 1), key=" ")]
        )
    with pytest.raises(ValidationFailed):
        await store.suggestions("program", after="not-a-cursor")
    with pytest.raises(ValidationFailed):
        await store.merge(ALICE, "program", LICENSED, LICENSED, version=0, into_version=0)
    assert (await store.suggestions("program")).links == ()  # nothing was written


async def test_downgrade_removes_the_crosswalk_and_its_audit(migrated_url: str) -> None:
    async with CrosswalkStore(migrated_url) as store:
        await store.link(ALICE, "program", LICENSED, "qris", "Q-1")
        await HubStore.beside(store).create_note(
            ALICE, LICENSED, {"subject_type": "PROGRAM", "subject_id": LICENSED, "body": "hi"}
        )
    assert await downgrade(migrated_url, "0001") == "0001"
    async with HubStore(migrated_url) as hub_store:
        entries = (await hub_store.audit_for_program(LICENSED)).entries
        assert [e.object_type for e in entries] == [ObjectType.NOTE]
    assert await upgrade(migrated_url) == "0004"
    async with CrosswalkStore(migrated_url) as store:
        assert await store.crosswalk_generation() == 0
        assert await store.hub_ids_for_records("program", [("qris", "Q-1")]) == {
            ("qris", "Q-1"): None
        }


async def test_a_merge_without_links_is_undone_by_a_split_without_links(
    store: CrosswalkStore,
) -> None:
    merged = await store.merge(
        ALICE, "staff", "@qris:W-1", "REGISTRY_ID:R-9", version=0, into_version=0
    )
    assert merged.links == ()
    assert (await store.crosswalk_snapshot()).merged_into == {
        ("staff", "@qris:W-1"): "REGISTRY_ID:R-9"
    }
    with pytest.raises(ValidationFailed):  # nothing to move, nothing merged into it
        await store.split(ALICE, "staff", "REGISTRY_ID:R-9", [], version=2, new_hub_id="@qris:W-2")
    split = await store.split(
        ALICE, "staff", "REGISTRY_ID:R-9", [], version=2, new_hub_id="@qris:W-1"
    )
    assert [h.merged_into for h in split.hub_ids] == [None, None]
    assert (await store.crosswalk_snapshot()).merged_into == {}
    assert await store.get_hub_id("staff", "@qris:W-2") is None


async def test_every_link_can_be_read_for_an_export(store: CrosswalkStore) -> None:
    await store.add_proposals(ALICE, "program", [proposal(f"Q-{n}", 0.6) for n in range(7)])
    first = (await suggested(store))[0]
    await store.reject_link(BOB, first.id, first.version)
    everything = [link async for link in store.iter_links("program", page_size=3)]
    assert len(everything) == 7 and len({link.id for link in everything}) == 7
    assert [link.id for link in everything] == sorted(link.id for link in everything)
    rejected = [link async for link in store.iter_links("program", statuses=[LinkStatus.REJECTED])]
    assert [link.id for link in rejected] == [first.id]
    assert [link async for link in store.iter_links("site")] == []


async def test_concurrent_decisions_keep_one_confirmed_link_per_record(migrated_url: str) -> None:
    """Four stores (as four hub processes) confirm rival suggestions for the same records at
    once: for each record exactly one confirm applies, the others are refused, never a
    database error; a decision on a link already decided meets a version conflict."""
    stores = [CrosswalkStore(migrated_url) for _ in range(4)]
    try:
        hubs = [f"LICENSE_NUMBER:CCL-{n}" for n in range(4)]
        records = [f"Q-{n}" for n in range(5)]
        await stores[0].add_proposals(
            ALICE, "program", [proposal(r, 0.7, hub_id=h) for r in records for h in hubs]
        )
        rivals = await suggested(stores[0])
        assert len(rivals) == 20

        async def decide(n: int, link: CrosswalkLink) -> str:
            store = stores[n % len(stores)]
            try:
                await store.confirm_link(f"user-{n}", link.id, link.version)
            except ValidationFailed:
                return "refused"
            return "confirmed"

        outcomes = await asyncio.gather(*(decide(n, link) for n, link in enumerate(rivals)))
        assert outcomes.count("confirmed") == len(records)
        confirmed = [
            link async for link in stores[1].iter_links("program", statuses=[LinkStatus.CONFIRMED])
        ]
        assert sorted(link.source_key for link in confirmed) == records

        late = await asyncio.gather(
            *(stores[n].reject_link(BOB, confirmed[0].id, 1) for n in range(2)),
            return_exceptions=True,
        )
        assert all(isinstance(e, VersionConflict) for e in late)
    finally:
        for store in stores:
            await store.aclose()


# --- Site links ----------------------------------------------------------------------------

GRANTEE = "HEAD_START_GRANT:01CH010527"


async def test_a_site_link_is_proposed_decided_with_a_reason_and_merges_nothing(
    store: CrosswalkStore,
) -> None:
    await store.add_proposals(
        ALICE,
        "program",
        [
            proposal("CCL-1", 0.9, hub_id=GRANTEE, kind=LinkKind.SITE),
            proposal("CCL-2", 0.8, hub_id=GRANTEE, kind=LinkKind.SITE),
        ],
    )
    page = await store.suggestions("program", kind=LinkKind.SITE)
    first, second = page.links
    assert (first.kind, first.source_key, second.source_key) == (LinkKind.SITE, "CCL-1", "CCL-2")
    confirmed = await store.confirm_link(ALICE, first.id, first.version, "on the PIR center list")
    rejected = await store.reject_link(ALICE, second.id, second.version, "closed in 2024")
    assert (confirmed.status, confirmed.decision_reason) == (
        LinkStatus.CONFIRMED,
        "on the PIR center list",
    )
    assert (rejected.status, rejected.decision_reason) == (LinkStatus.REJECTED, "closed in 2024")
    # A site link merges nothing: the facility is still its own program.
    assert await store.hub_ids_for_records("program", [("qris", "CCL-1")]) == {
        ("qris", "CCL-1"): None
    }
    assert (await store.crosswalk_snapshot()).confirmed == {}
    sites = await store.links_for_hub_ids(
        "program", [GRANTEE], statuses=[LinkStatus.CONFIRMED], kind=LinkKind.SITE
    )
    assert [link.source_key for link in sites[GRANTEE]] == ["CCL-1"]
    # The same facility may be the same as one program and a site of another ...
    same = await store.link(ALICE, "program", LICENSED, "qris", "CCL-1")
    assert same.kind == LinkKind.SAME
    # ... but a site of one program at a time.
    with pytest.raises(ValidationFailed, match="already a site of"):
        await store.link(ALICE, "program", "@pir:2", "qris", "CCL-1", LinkKind.SITE)
    # The rejection's reason is in the audit, with the decision.
    entries = (await HubStore.beside(store).audit_for_program(GRANTEE)).entries
    assert any((e.after or {}).get("decision_reason") == "closed in 2024" for e in entries)


async def test_only_programs_have_sites(store: CrosswalkStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.add_proposals(ALICE, "staff", [proposal("S-1", 0.9, kind=LinkKind.SITE)])


async def test_downgrade_to_0003_drops_site_links_and_keeps_the_others(migrated_url: str) -> None:
    async with CrosswalkStore(migrated_url) as store:
        await store.link(ALICE, "program", LICENSED, "qris", "Q-1")
        await store.link(ALICE, "program", GRANTEE, "licensing", "CCL-1", LinkKind.SITE)
    assert await downgrade(migrated_url, "0003") == "0003"
    assert await upgrade(migrated_url) == "0004"
    async with CrosswalkStore(migrated_url) as store:
        links = await store.links_for_hub_ids("program", [LICENSED, GRANTEE])
    assert [(link.kind, link.source_key) for link in links[LICENSED]] == [(LinkKind.SAME, "Q-1")]
    assert links[GRANTEE] == []
