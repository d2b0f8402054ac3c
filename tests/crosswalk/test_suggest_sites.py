"""``suggest_sites`` over two real SQLite systems whose levels differ (tests/crosswalk/
site_world.py): licensed facilities proposed as sites of the Head Start grantee whose center
they match, stored as ``SITE`` suggestions, idempotently, never over a person's decision."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ecehub.config import load_config
from ecehub.crosswalk.records import CrosswalkLink
from ecehub.crosswalk.suggest import SourceSuggestions, suggest_links, suggest_sites
from ecehub.errors import EcehubError
from ecehub.hub.enums import LinkKind, LinkStatus
from ecehub.resolvers.runtime import Runtime
from tests.crosswalk.site_world import make_site_world

MATCHER = "matcher@ecehub"
RATER = "rater@state.example"
G1, G2 = "@head_start:G-1", "@head_start:G-2"


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Runtime]:
    world = await make_site_world(tmp_path)
    runtime = Runtime(load_config(world.config_path))
    try:
        yield runtime
    finally:
        await runtime.aclose()


async def site_links(hub: Runtime) -> dict[str, CrosswalkLink]:
    """Every program link, by the licensing facility's key (each is a SITE link here)."""
    links = [link async for link in hub.crosswalk_store.iter_links("program")]
    assert all(link.kind == LinkKind.SITE and link.source == "licensing" for link in links)
    return {link.source_key: link for link in links}


async def test_facilities_are_proposed_as_sites_of_the_grantee_whose_center_they_match(
    hub: Runtime,
) -> None:
    lines: list[str] = []
    done: list[SourceSuggestions] = []
    [found] = await suggest_sites(
        hub, left="head_start", actor=MATCHER, progress=lines.append, done=done.append
    )
    assert done == [found]
    assert (found.left, found.right, found.kind) == ("head_start", "licensing", LinkKind.SITE)
    # Four centers under a known grantee match a facility; L-500 is grantee G-3 itself (the
    # same license number), so there is nothing to decide about it.
    assert (found.matches, found.proposals, found.auto) == (4, 3, 2)
    assert str(found) == (
        "licensing -> sites of head_start: 4 matches, 3 to decide: 3 added, 0 updated, "
        "0 unchanged, 0 already decided, 0 linked elsewhere"
    )
    # The center of an unknown grantee cannot make a facility a site of anything: counted.
    assert "head_start: 4 of 5 site records under a program" in lines

    links = await site_links(hub)
    assert {k: (link.hub_id, link.auto) for k, link in links.items()} == {
        "L-100": (G1, True),
        "L-200": (G1, True),
        "L-300": (G2, False),
    }
    assert all(link.status == LinkStatus.SUGGESTED for link in links.values())
    assert links["L-100"].reasons == (
        "matches site C-1 of program " + G1,
        "same LICENSE_NUMBER L-100",
    )
    assert links["L-300"].reasons[0] == "matches site C-3 of program " + G2
    assert "different street numbers (9 / 88)" in links["L-300"].reasons
    assert 0.5 <= (links["L-300"].score or 0) < 0.95

    # The review queue lists them as site links.
    page = await hub.crosswalk_store.suggestions("program", kind=LinkKind.SITE)
    assert [link.source_key for link in page.links] == ["L-100", "L-200", "L-300"]
    assert (await hub.crosswalk_store.suggestions("program", kind=LinkKind.SAME)).links == ()


async def test_running_again_updates_scores_and_leaves_decisions_alone(hub: Runtime) -> None:
    await suggest_sites(hub, left="head_start", actor=MATCHER)
    store = hub.crosswalk_store
    links = await site_links(hub)
    await store.confirm_link(RATER, links["L-100"].id, links["L-100"].version)
    await store.reject_link(RATER, links["L-300"].id, links["L-300"].version, "another grantee")

    [again] = await suggest_sites(hub, left="head_start", actor=MATCHER)
    s = again.stored
    assert (s.added, s.updated, s.unchanged, s.decided, s.linked_elsewhere) == (0, 0, 1, 2, 0)
    # A stricter auto threshold changes L-200's suggestion (no longer auto): updated.
    [stricter] = await suggest_sites(hub, left="head_start", actor=MATCHER, auto_link=0.999)
    assert (stricter.stored.updated, stricter.stored.decided, stricter.auto) == (1, 2, 1)

    after = await site_links(hub)
    assert set(after) == {"L-100", "L-200", "L-300"}
    assert after["L-100"].status == LinkStatus.CONFIRMED
    assert after["L-300"].status == LinkStatus.REJECTED
    assert after["L-300"].decision_reason == "another grantee"
    assert (after["L-200"].status, after["L-200"].auto) == (LinkStatus.SUGGESTED, False)


async def test_the_program_level_source_must_be_named_and_have_sites(hub: Runtime) -> None:
    with pytest.raises(
        EcehubError, match=r"--left must name the program-level source.*: head_start"
    ):
        await suggest_sites(hub, left=None, actor=MATCHER)
    with pytest.raises(EcehubError, match="--left must name the program-level source"):
        await suggest_sites(hub, left="licensing", actor=MATCHER)
    with pytest.raises(EcehubError, match="--right head_start: name sources of program"):
        await suggest_sites(hub, left="head_start", right=["head_start"], actor=MATCHER)
    with pytest.raises(EcehubError, match="auto_link / suggest: thresholds"):
        await suggest_sites(hub, left="head_start", actor=MATCHER, auto_link=0.4, suggest=0.6)
    with pytest.raises(EcehubError, match=r"no matcher for site records.*--kind site"):
        await suggest_links(hub, "site", actor=MATCHER)
    assert [link async for link in hub.crosswalk_store.iter_links("program")] == []
