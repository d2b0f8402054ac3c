"""Federation subgraph mode (``server.federation.enabled``) on the demo graph with the demo
config's access rules and real ES256 tokens: ``_service { sdl }`` declares the entities,
``_entities`` answers what the root fields answer, batched, and every access rule holds on it
exactly as on ``program(id:)``, ``site(id:)`` and ``staff(id:)`` (same data, same refusals,
same messages), through aliases and fragments too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ecehub.auth.devtokens import DevKey
from tests.graph_helpers import GraphClient, calls_by_source, demo_graph

pytestmark = pytest.mark.asyncio(loop_scope="module")

ENTITIES = """query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    __typename
    ... on Program { id name sites { id } }
    ... on Site { id name }
    ... on Staff { id name }
  }
}"""


@dataclass
class World:
    client: GraphClient
    tokens: dict[str, str | None]
    inside: str  # the provider's program
    outside: str  # a program outside the provider's and the TA's scope
    programs: list[str]
    inside_site: str
    outside_site: str
    inside_staff: str
    outside_staff: str
    rated_head_start: str  # a program Head Start and QRIS both know

    async def run(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.client.query(query, variables, token=self.tokens[role])


def program_ref(program_id: str) -> dict[str, str]:
    return {"__typename": "Program", "id": program_id}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("entities")
    key = DevKey.load_or_create(tmp / "keys")
    async with demo_graph(tmp, 20, dev_key=key, federation=True) as (_, client):
        admin = key.mint(sub="admin@state.example", roles=["state_admin"])
        listed = await client.query(
            "{ programs(first: 20) { nodes { id sources { source } sites { id } staff { id } } } }",
            token=admin,
        )
        assert "errors" not in listed, listed
        nodes = [n for n in listed["data"]["programs"]["nodes"] if n["sites"] and n["staff"]]
        inside, outside = nodes[0], nodes[1]
        tokens: dict[str, str | None] = {
            "admin": admin,
            "provider": key.mint(
                sub="director@abc.example", roles=["provider"], programs=[inside["id"]]
            ),
            "ta": key.mint(sub="coach@qris.example", roles=["ta_staff"], programs=[inside["id"]]),
            "head_start_staff": key.mint(
                sub="monitor@headstart.example",
                roles=["sector_staff"],
                support_types=["HEAD_START"],
            ),
            "anonymous": None,
        }
        yield World(
            client,
            tokens,
            inside["id"],
            outside["id"],
            [n["id"] for n in nodes],
            inside["sites"][0]["id"],
            outside["sites"][0]["id"],
            inside["staff"][0]["id"],
            outside["staff"][0]["id"],
            next(
                n["id"]
                for n in nodes
                if {"head_start", "qris"} <= {s["source"] for s in n["sources"]}
            ),
        )


def coded(body: dict[str, Any]) -> list[tuple[list[str | int], str, str]]:
    """(path, code, message) of every error of an answer, in path order."""
    errors = [(e.get("path") or [], e["extensions"]["code"], e["message"]) for e in body["errors"]]
    return sorted(errors, key=lambda e: [str(p) for p in e[0]])


async def test_service_sdl_declares_program_site_and_staff_as_entities(world: World) -> None:
    body = await world.run("admin", "{ _service { sdl } }")
    assert "errors" not in body, body
    sdl = body["data"]["_service"]["sdl"]
    for type_name in ("Program", "Site", "Staff"):
        assert f'type {type_name} @key(fields: "id"' in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    assert "type Room @key" not in sdl


async def test_entities_answer_what_the_root_fields_answer(world: World) -> None:
    reps = [
        program_ref(world.outside),
        {"__typename": "Site", "id": world.outside_site},
        {"__typename": "Staff", "id": world.outside_staff},
    ]
    body = await world.run("admin", ENTITIES, {"reps": reps})
    assert "errors" not in body, body
    program, site, staff = body["data"]["_entities"]
    root = await world.run(
        "admin",
        """query($p: ID!, $s: ID!, $t: ID!) {
          program(id: $p) { id name sites { id } } site(id: $s) { id name }
          staff(id: $t) { id name } }""",
        {"p": world.outside, "s": world.outside_site, "t": world.outside_staff},
    )
    assert "errors" not in root, root
    assert program == {"__typename": "Program", **root["data"]["program"]}
    assert site == {"__typename": "Site", **root["data"]["site"]}
    assert staff == {"__typename": "Staff", **root["data"]["staff"]}


async def test_entities_are_resolved_in_one_batch_whatever_their_number(world: World) -> None:
    """Eight programs at once cost each source no more calls than the costliest one alone
    (one per entity, as strawberry's own resolve_reference would, costs their sum)."""
    programs = world.programs[:8]
    alone: dict[str, int] = {}
    for program in programs:
        one = await world.run("admin", ENTITIES, {"reps": [program_ref(program)]})
        assert "errors" not in one, one
        for source, calls in calls_by_source(one).items():
            alone[source] = max(alone.get(source, 0), calls)
    many = await world.run("admin", ENTITIES, {"reps": [program_ref(p) for p in programs]})
    assert "errors" not in many, many
    assert [e["id"] for e in many["data"]["_entities"]] == programs
    assert len(programs) == 8
    assert calls_by_source(many) == alone


async def test_a_provider_gets_the_same_refusal_through_entities_as_through_program(
    world: World,
) -> None:
    query = """query($reps: [_Any!]!, $out: ID!) {
      viaEntities: _entities(representations: $reps) { ...OnEntity }
      viaRoot: program(id: $out) { ...OnProgram }
    }
    fragment OnEntity on _Entity { ... on Program { ...OnProgram } }
    fragment OnProgram on Program { id name }"""
    reps = [program_ref(world.inside), program_ref(world.outside)]
    body = await world.run("provider", query, {"reps": reps, "out": world.outside})
    assert body["data"]["viaRoot"] is None
    inside, outside = body["data"]["viaEntities"]
    assert inside["id"] == world.inside and inside["name"]
    assert outside is None
    errors = coded(body)
    assert [(path, code) for path, code, _ in errors] == [
        (["viaEntities", 1], "NOT_FOUND"),
        (["viaRoot"], "NOT_FOUND"),
    ]
    assert errors[0][2] == errors[1][2]
    assert world.outside not in str(inside)


@pytest.mark.parametrize("type_name", ["Site", "Staff"])
async def test_a_provider_gets_no_site_or_staff_of_another_program(
    world: World, type_name: str
) -> None:
    outside = world.outside_site if type_name == "Site" else world.outside_staff
    inside = world.inside_site if type_name == "Site" else world.inside_staff
    root_field = type_name.lower()
    query = f"""query($reps: [_Any!]!, $out: ID!) {{
      e: _entities(representations: $reps) {{ ... on {type_name} {{ id }} }}
      r: {root_field}(id: $out) {{ id }}
    }}"""
    reps = [{"__typename": type_name, "id": i} for i in (inside, outside)]
    body = await world.run("provider", query, {"reps": reps, "out": outside})
    assert body["data"] == {"e": [{"id": inside}, None], "r": None}
    errors = coded(body)
    assert [(path, code) for path, code, _ in errors] == [
        (["e", 1], "NOT_FOUND"),
        (["r"], "NOT_FOUND"),
    ]
    assert errors[0][2] == errors[1][2]


@pytest.mark.parametrize(
    ("role", "type_name", "field"),
    [
        ("ta", "Staff", "birthYear"),  # deny: [Staff.birthYear]
        ("head_start_staff", "Program", "qrisRating { level }"),  # sector_fields: QRIS only
    ],
)
async def test_field_rules_hold_on_entities(
    world: World, role: str, type_name: str, field: str
) -> None:
    """A field the role may not read is refused the same way on both paths."""
    object_id = world.inside_staff if type_name == "Staff" else world.rated_head_start
    root_field = type_name.lower()
    query = f"""query($reps: [_Any!]!, $id: ID!) {{
      e: _entities(representations: $reps) {{ ... on {type_name} {{ id {field} }} }}
      r: {root_field}(id: $id) {{ id {field} }}
    }}"""
    reps = [{"__typename": type_name, "id": object_id}]
    body = await world.run(role, query, {"reps": reps, "id": object_id})
    name = field.split()[0]
    assert body["data"] == {
        "e": [{"id": object_id, name: None}],
        "r": {"id": object_id, name: None},
    }
    errors = coded(body)
    assert [(path, code) for path, code, _ in errors] == [
        (["e", 0, name], "FORBIDDEN"),
        (["r", name], "FORBIDDEN"),
    ]
    assert errors[0][2] == errors[1][2]


async def test_a_role_with_an_allow_list_must_name_entities(world: World) -> None:
    """The public directory allows ``Query.program``, not ``Query._entities``: refused."""
    body = await world.run("anonymous", ENTITIES, {"reps": [program_ref(world.inside)]})
    assert body["data"] is None
    assert [(path, code) for path, code, _ in coded(body)] == [(["_entities"], "FORBIDDEN")]


@pytest.mark.parametrize(
    ("representation", "says"),
    [
        ({"__typename": "Room", "id": "x"}, "__typename must be one of Program, Site, Staff"),
        ({"id": "x"}, "__typename must be one of"),
        ({"__typename": "Program"}, "needs its id"),
        ({"__typename": "Program", "id": 7}, "needs its id"),
        ({"__typename": "Program", "id": "not-an-id"}, ""),
        ("Program", "must be an object"),
    ],
)
async def test_a_bad_representation_is_bad_user_input(
    world: World, representation: Any, says: str
) -> None:
    reps = [representation, program_ref(world.inside)]
    body = await world.run("admin", ENTITIES, {"reps": reps})
    refused, found = body["data"]["_entities"]
    assert refused is None and found["id"] == world.inside
    [(path, code, message)] = coded(body)
    assert (path, code) == (["_entities", 0], "BAD_USER_INPUT")
    assert says in message


async def test_an_overlong_id_refuses_the_request_before_anything_runs(world: World) -> None:
    reps = [{"__typename": "Program", "id": "P" * 2000}, program_ref(world.inside)]
    body = await world.run("admin", ENTITIES, {"reps": reps})
    assert body["data"] is None
    [(_, code, message)] = coded(body)
    assert code == "BAD_USER_INPUT" and "too long" in message


async def test_without_federation_the_schema_has_no_entities(tmp_path: Path) -> None:
    async with demo_graph(tmp_path, 4) as (_, client):
        body = await client.query("{ _service { sdl } }")
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
