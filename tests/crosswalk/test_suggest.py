"""``suggest_links`` over the demo sector systems at the hardest noise level, against the
demo world's truth: programs first, then staff compared within the programs the crosswalk
identity has merged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecehub.config import load_config
from ecehub.crosswalk.link_identity import identity_for
from ecehub.crosswalk.records import CrosswalkLink
from ecehub.crosswalk.suggest import suggest_links
from ecehub.demo import DemoSystems
from ecehub.errors import EcehubError
from ecehub.resolvers.runtime import Runtime
from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders

MATCHER = "matcher@ecehub"
RATER = "rater@qris.example"


async def suggestions(hub: Runtime, entity: str) -> list[CrosswalkLink]:
    links: list[CrosswalkLink] = []
    after: str | None = None
    while True:
        page = await hub.crosswalk_store.suggestions(entity, first=500, after=after)
        links += page.links
        if not page.has_next_page:
            return links
        after = page.end_cursor


async def confirm_auto(hub: Runtime, entity: str) -> int:
    """What ``ecehub crosswalk apply`` does."""
    auto = [link for link in await suggestions(hub, entity) if link.auto]
    for link in auto:
        await hub.crosswalk_store.confirm_link(RATER, link.id, link.version)
    return len(auto)


def staff_pairs(links: list[CrosswalkLink]) -> dict[tuple[str, str], CrosswalkLink]:
    """(Head Start staff ID, registry ID) of each QRIS registry record proposed to a Head
    Start person (hub ID ``@head_start:<staff ID>``)."""
    pairs: dict[tuple[str, str], CrosswalkLink] = {}
    for link in links:
        assert link.source == "qris" and link.hub_id.startswith("@head_start:"), link
        pairs[(link.hub_id.removeprefix("@head_start:"), link.source_key)] = link
    return pairs


async def test_staff_without_a_registry_id_are_proposed_to_the_right_person(
    tmp_path: Path,
) -> None:
    async with DemoSystems(programs=200, data_dir=tmp_path, noise="hardest") as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        assert config.uses_crosswalk("program") and config.uses_crosswalk("staff")
        world = demo.world
        truth = {(str(link.head_start_staff_id), link.registry_id) for link in world.staff_links}
        no_id = {str(s.staff_id) for s in world.head_start.staff if s.registry_id is None}
        # People the shared registry ID cannot join: what the staff matcher is for.
        unjoined = {pair for pair in truth if pair[0] in no_id}
        assert len(unjoined) >= 30

        hub = Runtime(config)
        try:
            # Before any program link is confirmed, people are compared only where the
            # license number already joins their center and their QRIS provider.
            [first] = await suggest_links(hub, "staff", actor=MATCHER)
            assert (first.right, first.left) == ("qris", "head_start")
            before = staff_pairs(await suggestions(hub, "staff"))
            assert before and len(set(before) - truth) <= max(1, len(before) // 20)

            await suggest_links(hub, "program", actor=MATCHER)
            assert await confirm_auto(hub, "program") > 0
            [second] = await suggest_links(hub, "staff", actor=MATCHER)
            proposed = staff_pairs(await suggestions(hub, "staff"))
            right = set(proposed) & truth
            auto = {pair for pair, link in proposed.items() if link.auto}
            # The confirmed program links bring more people into one program.
            assert set(before) < set(proposed)
            assert len(right) * 10 >= len(unjoined) * 9
            assert len(proposed) - len(right) <= max(1, len(proposed) // 20)
            assert auto <= truth and len(auto) * 10 >= len(right) * 9
            assert second.proposals == len(proposed)

            # Confirmed, a link makes the two records one person.
            staff_id, registry_id = sorted(auto)[0]
            link = proposed[(staff_id, registry_id)]
            await hub.crosswalk_store.confirm_link(RATER, link.id, link.version)
            identity = identity_for(config, Loaders(SourceGateway(hub.connectors)), hub.crosswalk)
            person = (await identity.resolve("staff", [link.hub_id]))[link.hub_id]
            assert {(r.source, r.key) for r in person.records} == {
                ("head_start", staff_id),
                ("qris", registry_id),
            }
        finally:
            await hub.aclose()


async def test_suggest_needs_a_matcher_and_sane_thresholds(tmp_path: Path) -> None:
    async with DemoSystems(programs=5, data_dir=tmp_path) as demo:
        hub = Runtime(load_config(demo.config_path, env={**os.environ, **demo.env}))
        try:
            with pytest.raises(EcehubError, match="no matcher for site records"):
                await suggest_links(hub, "site", actor=MATCHER)
            with pytest.raises(EcehubError, match="auto_link / suggest: thresholds"):
                await suggest_links(hub, "staff", actor=MATCHER, auto_link=0.4, suggest=0.6)
            with pytest.raises(EcehubError, match="--left must name one of the sources of staff"):
                await suggest_links(hub, "staff", left="licensing", actor=MATCHER)
        finally:
            await hub.aclose()
