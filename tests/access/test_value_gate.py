"""The invariant behind issue 14 ("Every path obeys the same rule"), generated from the schema
and the demo config's access rules: for every role and every ``Type.field`` it may not read,
the values that field carries never come back through provenance, conflicts, the audit log,
report and list filters, or error messages. The world and its planted values:
tests/access/gate_world.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from graphql import GraphQLObjectType
from strawberry.types.base import get_object_definition

from ecehub.access.fields import AUDIT_TYPES, FILTER_FIELDS, MERGED_TYPES, field_path
from ecehub.access.policy import Access
from ecehub.config import Config
from ecehub.config.canonical import ENTITIES
from ecehub.schema.query import ProgramFilter
from ecehub.schema.schema import build_schema
from tests.access.gate_world import (
    AGES,
    AUDIT,
    BIRTH_YEAR,
    REPORTS,
    World,
    errors,
    open_world,
    text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with open_world(tmp_path_factory) as w:
        yield w


# -- the invariant, from the schema and the access config --------------------------------------


def _schema_fields(config: Config) -> list[tuple[str, str]]:
    schema = build_schema(config)
    return [
        (name, field_name)
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
        for field_name in t.fields
    ]


def _canonical(entity: str) -> list[str]:
    return [*ENTITIES[entity].fields]


READERS = ["admin", "licensing_staff", "head_start_staff", "ta", "provider", "analyst", "anonymous"]


async def test_every_demo_role_has_a_reader(world: World) -> None:
    assert world.config.access is not None
    roles = {world.access(who).role for who in READERS}
    assert roles == set(world.config.access.roles)


async def test_the_value_paths_name_the_schema(world: World) -> None:
    """Every filter field is mapped, and every mapped path is the schema's own (a value shown
    under a field of another name than its canonical one, e.g. license_status as
    Program.license then License.status, must name real fields), as is every audited type."""
    fields = set(_schema_fields(world.config))
    definition = get_object_definition(ProgramFilter, strict=True)
    assert {f.python_name for f in definition.fields} == set(FILTER_FIELDS)
    unshown = {
        (entity, name)
        for entity in MERGED_TYPES
        for name in _canonical(entity)
        if not set(field_path(entity, name)) <= fields
    }
    # Canonical fields with no schema field: judged as the field they would be, so only
    # wildcards and allow lists cover them.
    assert unshown == {("program", "accreditation"), ("site", "phone"), ("site", "email")}
    assert {t for t in AUDIT_TYPES.values()} <= {t for t, _ in fields}
    for entity, name in FILTER_FIELDS.values():
        assert set(field_path(entity, name)) <= fields, (entity, name)


@pytest.mark.parametrize("who", READERS)
async def test_the_gate_refuses_every_value_of_a_refused_schema_field(
    world: World, who: str
) -> None:
    """The gate's answer for a canonical field is the field rules' answer for every schema
    field on its path; every schema field the role may not read that carries a canonical
    field's value makes the gate refuse that value."""
    access = world.access(who)
    refused = {f"{t}.{f}" for t, f in _schema_fields(world.config) if access.field_denial(t, f)}
    for entity in MERGED_TYPES:
        for name in _canonical(entity):
            path = [f"{t}.{f}" for t, f in field_path(entity, name)]
            verdict = access.value_denial(entity, name)
            if set(path) & refused:
                assert verdict is not None, (who, entity, name, path)
                assert verdict.field in path
            elif all(p in {f"{t}.{f}" for t, f in _schema_fields(world.config)} for p in path):
                assert verdict is None, (who, entity, name, verdict)


def _provenance_query(explicit: bool) -> str:
    def part(entity: str) -> str:
        args = ""
        if explicit:
            args = "(fields: [" + ", ".join(f'"{n}"' for n in _canonical(entity)) + "])"
        return (
            f"provenance{args} {{ field value }} "
            f"conflicts{args} {{ field values {{ field value }} }}"
        )

    return (
        "query($id: ID!) { program(id: $id) { "
        + part("program")
        + " sites { "
        + part("site")
        + " staff { "
        + part("staff")
        + " } } staff { "
        + part("staff")
        + " } } }"
    )


def _entries(node: Any, entity: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    if not isinstance(node, dict):
        return
    for entry in node.get("provenance") or []:
        out.append((entity, entry))
    for conflict in node.get("conflicts") or []:
        out.append((entity, conflict))
        out += [(entity, v) for v in conflict["values"]]
    for child, kind in (("sites", "site"), ("staff", "staff")):
        for n in node.get(child) or []:
            _entries(n, kind, out)


def _planted(world: World, access: Access) -> list[str]:
    """The planted values this reader may not see."""
    out = []
    if access.value_denial("staff", "birth_year"):
        out.append(str(BIRTH_YEAR))
    if access.value_denial("program", "ages_served"):
        out.append(AGES)
    return out


@pytest.mark.parametrize("explicit", [False, True], ids=["every field", "fields asked"])
@pytest.mark.parametrize("who", READERS)
async def test_no_refused_value_comes_back_through_provenance_or_conflicts(
    world: World, who: str, explicit: bool
) -> None:
    access = world.access(who)
    body = await world.run(who, _provenance_query(explicit), {"id": world.program})
    found: list[tuple[str, dict[str, Any]]] = []
    _entries((body.get("data") or {}).get("program"), "program", found)
    for entity, entry in found:
        assert access.value_denial(entity, entry["field"]) is None, (who, entity, entry)
    seen = text([e for _, e in found]) + text(errors(body))
    for value in _planted(world, access):
        assert value not in seen, (who, value)
    if who == "admin":
        assert str(BIRTH_YEAR) in seen and AGES in seen and not errors(body)


@pytest.mark.parametrize("who", READERS)
async def test_no_refused_value_comes_back_through_the_audit_log(world: World, who: str) -> None:
    access = world.access(who)
    body = await world.run(who, AUDIT, {"id": world.program})
    if access.field_denial("Query", "audit"):
        assert (body.get("data") or {}).get("audit") is None
        return
    for entry in body["data"]["audit"]["entries"]:
        type_name = AUDIT_TYPES.get(entry["objectType"])
        for side in (entry["before"], entry["after"]):
            for key, value in (side or {}).items():
                if type_name is not None and value is not None:
                    assert access.audit_field_denial(type_name, key) is None, (who, entry, key)
    for note, author in world.notes.items():
        visibility = note.rsplit("-", 1)[1].upper()
        if not access.reads_note(world.readers[author].sub, visibility):
            assert note not in text(body), (who, note)


@pytest.mark.parametrize("who", READERS)
async def test_no_filter_on_a_refused_field_answers(world: World, who: str) -> None:
    access = world.access(who)
    samples: dict[str, Any] = {
        "name": "a",
        "city": "a",
        "county": "a",
        "zip": "0",
        "licenseStatus": "Licensed",
        "licenseNumber": "x",
        "qrisLevel": 3,
        "qrisLevelMin": 3,
        "supportTypes": ["QRIS"],
        "state": "DC",
        "identifier": {"system": "LICENSE_NUMBER", "value": "x"},
        # A source this role sees (another's name is unknown to it: BAD_USER_INPUT).
        "sources": [
            next(
                name
                for name, source in world.config.sources.items()
                if access.sees_source(source.support_types)
            )
        ],
    }
    assert {k for k in samples} == {_camel(k) for k in FILTER_FIELDS}
    queries = {
        "programs": "query($f: ProgramFilter) { programs(filter: $f) { edges { node { id } } } }",
        **REPORTS,
    }
    for name, value in samples.items():
        entity, canonical = FILTER_FIELDS[_snake(name)]
        verdict = access.value_denial(entity, canonical)
        for root, query in queries.items():
            if access.field_denial("Query", root):
                continue
            body = await world.run(who, query, {"f": {name: value}})
            if verdict is None:
                assert not errors(body), (who, root, name, body)
                continue
            assert (body.get("data") or {}).get(root) is None, (who, root, name, body)
            assert {e["extensions"]["code"] for e in errors(body)} == {"FORBIDDEN"}
            assert all(str(value) not in e["message"] for e in errors(body) if len(str(value)) > 2)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
