"""The demo world the value-gate tests share (tests/access/test_value_leaks.py and
test_value_gate.py): the demo graph with the demo config's access rules and real tokens, with
planted values: every Head Start staff member's ``birth_year`` is :data:`BIRTH_YEAR`, every
licensing facility's ``ages_served`` :data:`AGES`, and the admin and the TA each wrote notes
marked :data:`NOTE_MARK` at every visibility, each edited once (the audit log holds before and
after)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ecehub.access.policy import Access, AccessPolicy
from ecehub.auth.devtokens import DevKey
from ecehub.auth.tokens import Authentication, Principal
from ecehub.config import Config, load_config
from ecehub.demo import DemoSystems
from tests.graph_helpers import GraphClient, demo_graph

BIRTH_YEAR = 1066
AGES = "planted-ages-7f3a"
NOTE_MARK = "planted-note-"


@dataclass
class Reader:
    """One token and the claims it was minted with."""

    sub: str
    claims: dict[str, Any]
    token: str | None


@dataclass
class World:
    demo: DemoSystems
    client: GraphClient
    config: Config
    readers: dict[str, Reader]
    program: str  # a rich program (all three sectors, staff with birth years) everyone reads
    notes: dict[str, str] = field(default_factory=dict)  # body -> author's reader name

    async def run(self, who: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.client.query(query, variables, token=self.readers[who].token)

    def access(self, who: str) -> Access:
        reader = self.readers[who]
        if reader.token is None:
            auth = None
        else:
            auth = Authentication("jwt", Principal(reader.sub, reader.claims))
        return AccessPolicy(self.config).access_for(auth)


def _plant(demo: DemoSystems) -> None:
    for name, sql in (
        ("HEADSTART_DB_URL", f"UPDATE staff_member SET birth_year = {BIRTH_YEAR}"),
        ("LICENSING_DB_URL", f"UPDATE facility SET ages_served = '{AGES}'"),
    ):
        path = demo.env[name].removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            db.execute(sql)


NOTE = """mutation($id: ID!, $v: NoteVisibility!, $b: String!) { createNote(programId: $id,
  input: {subjectType: PROGRAM, subjectId: $id, body: $b, visibility: $v}) { id version } }"""
EDIT = """mutation($id: ID!, $v: Int!, $b: String!) { updateNote(id: $id, version: $v,
  patch: {body: $b}) { version } }"""


def _mint(key: DevKey, sub: str, claims: dict[str, list[str]]) -> str:
    return key.mint(
        sub=sub,
        roles=claims.get("roles", ()),
        programs=claims.get("programs", ()),
        support_types=claims.get("support_types", ()),
    )


@contextlib.asynccontextmanager
async def open_world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("gate")
    key = DevKey.load_or_create(tmp / "keys")
    async with demo_graph(tmp, 30, dev_key=key) as (demo, client):
        _plant(demo)
        config = load_config(demo.config_path, env={**demo.env})
        admin_claims = {"roles": ["state_admin"]}
        admin = _mint(key, "admin@state.example", admin_claims)
        listed = await client.query(
            "{ programs(first: 60) { nodes { id sources { source } staff { birthYear } } } }",
            token=admin,
        )
        assert "errors" not in listed, listed
        program = next(
            n["id"]
            for n in listed["data"]["programs"]["nodes"]
            if {"licensing", "qris", "head_start"} <= {s["source"] for s in n["sources"]}
            and any(s["birthYear"] == BIRTH_YEAR for s in n["staff"])
        )
        specs: dict[str, tuple[str, dict[str, list[str]] | None]] = {
            "admin": ("admin@state.example", admin_claims),
            "licensing_staff": (
                "consultant@licensing.example",
                {"roles": ["sector_staff"], "support_types": ["LICENSING"]},
            ),
            "head_start_staff": (
                "monitor@headstart.example",
                {"roles": ["sector_staff"], "support_types": ["HEAD_START"]},
            ),
            "ta": ("coach@qris.example", {"roles": ["ta_staff"], "programs": [program]}),
            "provider": ("director@abc.example", {"roles": ["provider"], "programs": [program]}),
            "analyst": ("analyst@state.example", {"roles": ["analyst"]}),
            "anonymous": ("", None),
        }
        readers = {
            who: Reader(sub, claims or {}, None if claims is None else _mint(key, sub, claims))
            for who, (sub, claims) in specs.items()
        }
        w = World(demo, client, config, readers, program)
        # Notes at every visibility by the admin and the TA, each edited once (so the audit
        # log holds before and after).
        for author in ("admin", "ta"):
            for visibility in ("PRIVATE", "TEAM", "PROGRAM"):
                body = f"{NOTE_MARK}{author}-{visibility}".lower()
                made = await w.run(author, NOTE, {"id": program, "v": visibility, "b": body})
                assert "errors" not in made, made
                note = made["data"]["createNote"]
                edited = await w.run(
                    author, EDIT, {"id": note["id"], "v": note["version"], "b": body + "-edited"}
                )
                assert "errors" not in edited, edited
                w.notes[body] = author
        yield w


def text(value: Any) -> str:
    return json.dumps(value, default=str)


def errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("errors") or [])


AUDIT = """query($id: ID!) { audit(programId: $id, first: 500) { entries { objectType objectId
  action before after } } }"""

REPORTS = {
    "fundingReport": """query($f: ProgramFilter) { fundingReport(filter: {programs: $f}) {
      programCount totals { overall { amount currency } } } }""",
    "supportSummary": """query($f: ProgramFilter) { supportSummary(filter: $f) {
      programCount } }""",
    "enrollmentReport": """query($f: ProgramFilter) { enrollmentReport(filter: $f) {
      programCount total } }""",
}
