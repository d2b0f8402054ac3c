"""The crosswalk review queue through GraphQL, with the demo's access rules and real tokens:
a suggestion is listed with its record, the program it would join, its score and reasons; a
TA may neither read the queue nor decide; a state administrator confirms it (the program now
shows both sectors' data), and unlinks it (split back), all audited."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecehub.auth.devtokens import DevKey, dev_auth_config
from ecehub.config import load_config
from ecehub.crosswalk.records import LinkProposal
from ecehub.crosswalk.store import CrosswalkStore
from ecehub.demo import DemoSystems
from ecehub.hub import HubStore
from ecehub.hub.enums import LinkKind
from ecehub.ids import encode_global_id
from tests.schema.test_crosswalk_identity import graph, unjoined, with_crosswalk

QUEUE = """{ crosswalkSuggestions(first: 10) { pageInfo { hasNextPage endCursor }
  links { id version status score reasons source sourceKey programId
          record { name } program { name sources { source } } } } }"""
CONFIRM = """mutation($id: ID!, $v: Int!) { confirmLink(id: $id, version: $v)
  { status version decidedBy } }"""
UNLINK = (
    """mutation($id: ID!, $v: Int!) { unlinkRecord(id: $id, version: $v) { status version } }"""
)
PROGRAM = """query($id: ID!) { program(id: $id) { sources { source key } qrisRating { level } } }"""
NOTE = """mutation($id: ID!) { createNote(programId: $id, input: {subjectType: PROGRAM,
  subjectId: $id, body: "Met the director", visibility: TEAM}) { id } }"""
NOTES = """query($id: ID!) { program(id: $id) { notes { body } } }"""
CROSSWALK = """query($id: ID!) { crosswalk(programId: $id) { version links { id status } } }"""


async def test_review_queue_confirm_and_unlink_with_roles(tmp_path: Path) -> None:
    async with DemoSystems(programs=60, data_dir=tmp_path) as demo:
        truth, provider = unjoined(demo, "missing")
        hub_id = f"LICENSE_NUMBER:{truth.license_no}"
        pid = encode_global_id("Program", hub_id)
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            await store.add_proposals(
                "matcher@ecehub",
                "program",
                [LinkProposal(hub_id, "qris", provider.provider_id, 0.93, ("same phone",))],
            )
        key = DevKey.load_or_create(tmp_path / "keys")
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = with_crosswalk(config.model_copy(update={"auth": dev_auth_config(key)}))
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        ta = key.mint(sub="coach@qris.example", roles=["ta_staff"], programs=[pid])
        async with graph(demo, config) as (_, client):

            async def ok(query: str, token: str, **variables: Any) -> Any:
                body = await client.query(query, variables, token=token)
                assert "errors" not in body, body
                return body["data"]

            queue = (await ok(QUEUE, admin))["crosswalkSuggestions"]
            [link] = queue["links"]
            assert link["status"] == "SUGGESTED" and link["reasons"] == ["same phone"]
            assert (link["source"], link["sourceKey"], link["programId"]) == (
                "qris",
                provider.provider_id,
                pid,
            )
            assert link["record"]["name"] == provider.display_name
            assert {s["source"] for s in link["program"]["sources"]} == {"licensing"}

            # A TA may not read the queue, nor decide (nothing changes).
            refused = await client.query(QUEUE, token=ta)
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            refused = await client.query(
                CONFIRM, {"id": link["id"], "v": link["version"]}, token=ta
            )
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert (await ok(QUEUE, admin))["crosswalkSuggestions"]["links"][0][
                "status"
            ] == "SUGGESTED"

            # A note written about the QRIS record while it stood alone ...
            alone = encode_global_id("Program", f"@qris:{provider.provider_id}")
            await ok(NOTE, admin, id=alone)
            assert (await ok(NOTES, admin, id=pid))["program"]["notes"] == []

            confirmed = (await ok(CONFIRM, admin, id=link["id"], v=link["version"]))["confirmLink"]
            # ... follows it into the program it joined.
            joined = (await ok(NOTES, admin, id=pid))["program"]["notes"]
            assert [n["body"] for n in joined] == ["Met the director"]
            assert (
                confirmed["status"] == "CONFIRMED"
                and confirmed["decidedBy"] == "admin@state.example"
            )
            merged = (await ok(PROGRAM, admin, id=pid))["program"]
            assert ("qris", provider.provider_id) in {
                (s["source"], s["key"]) for s in merged["sources"]
            }
            assert merged["qrisRating"] is not None
            assert (await ok(QUEUE, admin))["crosswalkSuggestions"]["links"] == []

            [stored] = (await ok(CROSSWALK, admin, id=pid))["crosswalk"]["links"]
            unlinked = await ok(UNLINK, admin, id=stored["id"], v=confirmed["version"])
            assert unlinked["unlinkRecord"]["version"] == confirmed["version"] + 1
            split = (await ok(PROGRAM, admin, id=pid))["program"]
            assert {s["source"] for s in split["sources"]} == {"licensing"}
            assert (await ok(NOTES, admin, id=pid))["program"]["notes"] == []
            assert len((await ok(NOTES, admin, id=alone))["program"]["notes"]) == 1

        async with HubStore(demo.env["ECEHUB_HUB_URL"]) as hub_store:
            audit = await hub_store.audit_for_program(hub_id, first=100)
        actions = [(e.actor, e.action.value, e.object_type.value) for e in audit.entries]
        assert ("admin@state.example", "UPDATE", "CROSSWALK_LINK") in actions
        assert ("admin@state.example", "DELETE", "CROSSWALK_LINK") in actions
        # The refused confirm: audited as denied (on the first crosswalk object it touched).
        assert {a for a in actions if a[1] == "DENY"} <= {
            ("coach@qris.example", "DENY", "CROSSWALK_LINK"),
            ("coach@qris.example", "DENY", "HUB_ID"),
        }
        assert any(a[1] == "DENY" for a in actions)


MERGE = """mutation($p: ID!, $into: ID!) { mergePrograms(programId: $p, into: $into, version: 0,
  intoVersion: 0) { objects { programId mergedInto version } moved { id } } }"""
SPLIT = """mutation($p: ID!, $v: Int!, $new: ID!) { splitProgram(programId: $p, linkIds: [],
  version: $v, newProgramId: $new) { objects { programId mergedInto version } } }"""


async def test_merge_and_split_back_through_graphql(tmp_path: Path) -> None:
    async with DemoSystems(programs=60, data_dir=tmp_path) as demo:
        truth, provider = unjoined(demo, "missing")
        pid = encode_global_id("Program", f"LICENSE_NUMBER:{truth.license_no}")
        alone = encode_global_id("Program", f"@qris:{provider.provider_id}")
        key = DevKey.load_or_create(tmp_path / "keys")
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = with_crosswalk(config.model_copy(update={"auth": dev_auth_config(key)}))
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        async with graph(demo, config) as (_, client):

            async def ok(query: str, **variables: Any) -> Any:
                body = await client.query(query, variables, token=admin)
                assert "errors" not in body, body
                return body["data"]

            before = (await ok(PROGRAM, id=pid))["program"]
            merged = (await ok(MERGE, p=alone, into=pid))["mergePrograms"]
            gone, kept = merged["objects"]
            assert (gone["programId"], gone["mergedInto"]) == (alone, pid)
            joined = (await ok(PROGRAM, id=pid))["program"]
            assert ("qris", provider.provider_id) in {
                (s["source"], s["key"]) for s in joined["sources"]
            }
            assert (await ok(PROGRAM, id=alone))["program"] == joined  # the old ID resolves there

            split = (await ok(SPLIT, p=pid, v=kept["version"], new=alone))["splitProgram"]
            assert [o["mergedInto"] for o in split["objects"]] == [None, None]
            assert (await ok(PROGRAM, id=pid))["program"] == before
            stale = await client.query(MERGE, {"p": alone, "into": pid}, token=admin)
            assert stale["errors"][0]["extensions"]["code"] == "VERSION_CONFLICT"


REJECT = (
    """mutation($id: ID!, $v: Int!) { rejectLink(id: $id, version: $v) { status decidedBy } }"""
)


async def test_a_rejected_suggestion_leaves_the_queue_and_merges_nothing(tmp_path: Path) -> None:
    async with DemoSystems(programs=60, data_dir=tmp_path) as demo:
        truth, provider = unjoined(demo, "missing")
        hub_id = f"LICENSE_NUMBER:{truth.license_no}"
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            await store.add_proposals(
                "matcher@ecehub",
                "program",
                [LinkProposal(hub_id, "qris", provider.provider_id, 0.7, ("same ZIP",))],
            )
        key = DevKey.load_or_create(tmp_path / "keys")
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = with_crosswalk(config.model_copy(update={"auth": dev_auth_config(key)}))
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        async with graph(demo, config) as (_, client):
            queue = await client.query(QUEUE, token=admin)
            [link] = queue["data"]["crosswalkSuggestions"]["links"]
            body = await client.query(REJECT, {"id": link["id"], "v": link["version"]}, token=admin)
            assert body["data"]["rejectLink"] == {
                "status": "REJECTED",
                "decidedBy": "admin@state.example",
            }
            after = await client.query(QUEUE, token=admin)
            assert after["data"]["crosswalkSuggestions"]["links"] == []
            pid = encode_global_id("Program", hub_id)
            program = await client.query(PROGRAM, {"id": pid}, token=admin)
            assert {s["source"] for s in program["data"]["program"]["sources"]} == {"licensing"}


SITE_QUEUE = """{ crosswalkSuggestions(first: 10, kind: SITE) { links { id version kind
  source sourceKey programId reasons record { name } } } }"""
CONFIRM_WHY = """mutation($id: ID!, $v: Int!, $why: String) {
  confirmLink(id: $id, version: $v, reason: $why) { status kind decisionReason } }"""
REJECT_WHY = """mutation($id: ID!, $v: Int!, $why: String) {
  rejectLink(id: $id, version: $v, reason: $why) { status kind decisionReason decidedBy } }"""
SITE_FIELDS = """id name sources { source key } provenance(fields: ["name"]) { field source
  value wins } crosswalkLink { source sourceKey reasons decidedBy decisionReason }"""
SITES = f"""query($id: ID!) {{ program(id: $id) {{ sources {{ source key }} sites {{
  {SITE_FIELDS} }} }} }}"""
SITE = f"""query($id: ID!) {{ site(id: $id) {{ {SITE_FIELDS} }} }}"""


async def test_a_facility_proposed_as_a_site_is_confirmed_and_shows_among_the_sites(
    tmp_path: Path,
) -> None:
    # One Head Start program (a center of a grantee) and another licensed facility: the
    # matcher proposes the facility as a site of the program; an administrator confirms it
    # (with a reason) and the program's sites include the facility, with the decision; a
    # second proposal is rejected with a reason. The facility stays its own program.
    async with DemoSystems(programs=60, data_dir=tmp_path) as demo:
        world = demo.world
        program_truth, facility_truth, other_truth = [
            t for t in world.truth if t.license_no and t.head_start_center_id is None
        ][:3]
        hub_id = f"LICENSE_NUMBER:{program_truth.license_no}"
        pid = encode_global_id("Program", hub_id)
        names = {f.license_no: f.facility_name for f in world.licensing.facilities}
        facility, other_facility = facility_truth.license_no or "", other_truth.license_no or ""
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            await store.add_proposals(
                "matcher@ecehub",
                "program",
                [
                    LinkProposal(
                        hub_id,
                        "licensing",
                        key,
                        score,
                        (f"matches site {key} of program {hub_id}",),
                        kind=LinkKind.SITE,
                    )
                    for key, score in ((facility, 0.97), (other_facility, 0.6))
                ],
            )
        key = DevKey.load_or_create(tmp_path / "keys")
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = with_crosswalk(config.model_copy(update={"auth": dev_auth_config(key)}))
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        ta = key.mint(sub="coach@qris.example", roles=["ta_staff"], programs=[pid])
        async with graph(demo, config) as (_, client):

            async def ok(query: str, token: str, **variables: Any) -> Any:
                body = await client.query(query, variables, token=token)
                assert "errors" not in body, body
                return body["data"]

            before = (await ok(SITES, admin, id=pid))["program"]["sites"]
            assert all(s["crosswalkLink"] is None for s in before)
            site, other = (await ok(SITE_QUEUE, admin))["crosswalkSuggestions"]["links"]
            assert (site["kind"], site["programId"], site["sourceKey"]) == (
                "SITE",
                pid,
                facility,
            )
            assert site["record"]["name"] == names[facility]

            refused = await client.query(
                CONFIRM_WHY, {"id": site["id"], "v": site["version"], "why": "x"}, token=ta
            )
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

            confirmed = await ok(
                CONFIRM_WHY, admin, id=site["id"], v=site["version"], why="on the center list"
            )
            assert confirmed["confirmLink"] == {
                "status": "CONFIRMED",
                "kind": "SITE",
                "decisionReason": "on the center list",
            }
            rejected = await ok(
                REJECT_WHY, admin, id=other["id"], v=other["version"], why="another grantee's"
            )
            assert rejected["rejectLink"]["decisionReason"] == "another grantee's"
            assert rejected["rejectLink"]["status"] == "REJECTED"

            program = (await ok(SITES, admin, id=pid))["program"]
            linked = [s for s in program["sites"] if s["crosswalkLink"] is not None]
            assert [s["name"] for s in linked] == [names[facility]]
            [facility_site] = linked
            assert facility_site["crosswalkLink"]["decidedBy"] == "admin@state.example"
            assert facility_site["crosswalkLink"]["decisionReason"] == "on the center list"
            assert {s["source"] for s in facility_site["sources"]} == {"licensing"}
            [name_provenance] = facility_site["provenance"]
            assert (name_provenance["source"], name_provenance["wins"]) == ("licensing", True)
            # The facility did not join the program: its records are not the program's.
            assert ("licensing", facility) not in {
                (s["source"], s["key"]) for s in program["sources"]
            }
            assert (await ok(SITE_QUEUE, admin))["crosswalkSuggestions"]["links"] == []

            # The ID the program's sites give the facility fetches it: for the TA whose
            # program it is a site of too, though licensing's own site of that facility
            # (the same ID: the license number) belongs to a program outside their scope.
            for token in (admin, ta):
                assert (await ok(SITE, token, id=facility_site["id"]))["site"] == facility_site
            # The rejected facility is no site of the program: outside the TA's programs, and
            # for the administrator the sources' own site of that facility.
            rejected_id = encode_global_id("Site", f"LICENSE_NUMBER:{other_facility}")
            refused = await client.query(SITE, {"id": rejected_id}, token=ta)
            assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            own = (await ok(SITE, admin, id=rejected_id))["site"]
            assert own["crosswalkLink"] is None
            assert {"source": "licensing", "key": other_facility} in own["sources"]

        async with HubStore(demo.env["ECEHUB_HUB_URL"]) as hub_store:
            audit = await hub_store.audit_for_program(hub_id, first=100)
        reasons = {(e.after or {}).get("decision_reason") for e in audit.entries}
        assert {"on the center list", "another grantee's"} <= reasons
