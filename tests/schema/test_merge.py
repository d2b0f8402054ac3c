"""Merge rules through GraphQL on the demo graph: the demo config prefers QRIS for a
program's e-mail and phone; everything else follows source precedence (licensing first)."""

from __future__ import annotations

from pathlib import Path

from tests.graph_helpers import demo_graph

QUERY = """query($lic: String!) { programs(first: 5, filter: {licenseNumber: $lic}) { nodes {
  name email phone
  provenance(fields: ["email", "phone", "name"]) { field source fetchedAt value wins }
  conflicts(fields: ["email", "phone", "name", "city"]) {
    field rule values { source value wins fetchedAt } }
} } }"""


async def test_a_program_whose_sources_disagree_shows_the_rules_winner_and_the_conflict(
    tmp_path: Path,
) -> None:
    async with demo_graph(tmp_path, programs=120) as (demo, client):
        facilities = {f.license_no: f for f in demo.world.licensing.facilities}
        providers = [
            p
            for p in demo.world.qris.providers
            if p.license_number in facilities
            and p.email
            and facilities[p.license_number].email_addr
            and p.email != facilities[p.license_number].email_addr
        ]
        # Licensing and QRIS keep different e-mail addresses for this program.
        qris = providers[0]
        licensing = facilities[qris.license_number or ""]
        body = await client.query(QUERY, {"lic": licensing.license_no})
    assert "errors" not in body, body["errors"]
    [node] = body["data"]["programs"]["nodes"]

    # The rule: QRIS's e-mail is shown, and provenance says so (shown value first, wins).
    assert node["email"] == qris.email
    email = [p for p in node["provenance"] if p["field"] == "email"]
    assert [(p["source"], p["value"], p["wins"]) for p in email] == [
        ("qris", qris.email, True),
        ("licensing", licensing.email_addr, False),
    ]
    assert all(p["fetchedAt"] for p in email)
    # No rule for the name: licensing wins by precedence, as before.
    name = [p for p in node["provenance"] if p["field"] == "name"]
    assert node["name"] == licensing.facility_name
    assert (name[0]["source"], name[0]["wins"]) == ("licensing", True)
    assert [p["wins"] for p in name[1:]] == [False] * (len(name) - 1)
    # Phone: QRIS's own formatting is shown.
    assert node["phone"] == qris.phone
    assert (
        next(p for p in node["provenance"] if p["field"] == "phone" and p["wins"])["source"]
        == "qris"
    )

    conflicts = {c["field"]: c for c in node["conflicts"]}
    assert conflicts["email"]["rule"] == "first non-null: qris, source precedence"
    assert [(v["source"], v["value"], v["wins"]) for v in conflicts["email"]["values"]] == [
        ("qris", qris.email, True),
        ("licensing", licensing.email_addr, False),
    ]
    # Same digits in each agency's house style are not a conflict; other digits are.
    digits = {
        "".join(c for c in p["value"] if c.isdigit())
        for p in node["provenance"]
        if p["field"] == "phone"
    }
    assert ("phone" in conflicts) is (len(digits) > 1)
    # The same city in every source: not listed.
    assert "city" not in conflicts


async def test_without_fields_conflicts_cover_every_field(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, programs=40) as (_, client):
        body = await client.query(
            "{ programs(first: 40) { nodes { name names conflicts { field values { source } } } } }"
        )
    assert "errors" not in body, body["errors"]
    nodes = body["data"]["programs"]["nodes"]
    # A program whose sources spell its name differently lists the name among its conflicts,
    # one value per source.
    spelled = [n for n in nodes if len({" ".join(x.split()).casefold() for x in n["names"]}) > 1]
    assert spelled
    for n in spelled:
        [name] = [c for c in n["conflicts"] if c["field"] == "name"]
        assert len(name["values"]) >= 2
    # Conflicts never list a field only one source gives.
    assert all(len(c["values"]) >= 2 for n in nodes for c in n["conflicts"])
