"""File attachments: multipart uploads through GraphQL, downloads from /files/{id}, limits,
soft delete and restore; on SQLite and PostgreSQL hub stores. Plus the storage and the
upload rules on their own."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import Config, load_config
from ecehub.demo import DemoSystems
from ecehub.downloads import content_disposition
from ecehub.hub.files import (
    FilePolicy,
    FileTooLarge,
    FileTypeRefused,
    LocalFileStorage,
    StoredFileMissing,
    sanitise_filename,
    store_upload,
)
from ecehub.resolvers.runtime import Runtime
from tests.graph_helpers import GraphClient

COACH = "coach@qris.example"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CSV = "site,children\nMaple Street,42\nÉcole du Parc,18\n".encode()

UPLOAD = """mutation($p: ID!, $t: SubjectType!, $s: ID!, $file: Upload!) {
  uploadFile(programId: $p, subjectType: $t, subjectId: $s, file: $file) {
    id filename contentType sizeBytes sha256 uploadedBy version } }"""
FILES = """query($id: ID!) { program(id: $id) {
  files { id filename sizeBytes sha256 version }
  qip { goals { tasks { id files { id filename contentType sizeBytes sha256 } } } } } }"""
AUDIT = """query($p: ID!) { audit(programId: $p, first: 50) { entries { action objectType } } }"""
DELETE = """mutation($id: ID!, $v: Int!) { deleteFile(id: $id, version: $v) { id version } }"""
RESTORE = """mutation($id: ID!, $v: Int!) { restoreFile(id: $id, version: $v) { id version } }"""
PROGRAMS = "{ programs(first: 2) { nodes { id } } }"
GOAL_AND_TASK = """mutation($p: ID!) {
  createQipGoal(programId: $p, input: {title: "Family engagement"}) { id } }"""
TASK = """mutation($g: ID!) {
  createQipTask(goalId: $g, input: {title: "Collect enrollment data"}) { id } }"""


@contextlib.asynccontextmanager
async def files_graph(
    tmp_path: Path, hub_url: str, *, max_bytes: int | None = None
) -> AsyncIterator[tuple[GraphClient, Path]]:
    """The demo graph with its files in ``tmp_path/files`` (and a smaller limit if asked)."""
    files_dir = tmp_path / "files"
    async with DemoSystems(hub_url=hub_url, programs=12, data_dir=tmp_path) as demo:
        env = {**os.environ, **demo.env, "ECEHUB_FILES_DIR": str(files_dir)}
        # No roles: these tests are about files (access to them: tests/access).
        config = load_config(demo.config_path, env=env).model_copy(update={"access": None})
        if max_bytes is not None:
            config = with_max_bytes(config, max_bytes)
        hub = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, hub))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield GraphClient(client), files_dir
        finally:
            await hub.aclose()


def with_max_bytes(config: Config, max_bytes: int) -> Config:
    return config.model_copy(
        update={"files": config.files.model_copy(update={"max_bytes": max_bytes})}
    )


async def upload(
    client: GraphClient,
    variables: dict[str, Any],
    content: bytes,
    filename: str,
    content_type: str,
    user: str | None = COACH,
) -> dict[str, Any]:
    """One multipart request per the GraphQL multipart request spec."""
    operations = {"query": UPLOAD, "variables": {**variables, "file": None}}
    headers = {"X-Ecehub-User": user} if user is not None else {}
    response = await client.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, content_type)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ok(client: GraphClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await client.query(query, variables, user=COACH)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def program_ids(client: GraphClient) -> list[str]:
    body = await client.query(PROGRAMS)
    return [n["id"] for n in body["data"]["programs"]["nodes"]]


def on_disk(files_dir: Path) -> list[str]:
    return sorted(p.name for p in files_dir.iterdir()) if files_dir.exists() else []


async def file_audit(client: GraphClient, pid: str) -> list[str]:
    entries = (await ok(client, AUDIT, {"p": pid}))["audit"]["entries"]
    return [e["action"] for e in entries if e["objectType"] == "FILE_ATTACHMENT"]


async def test_upload_list_download_delete_restore(tmp_path: Path, hub_db_url: str) -> None:
    async with files_graph(tmp_path, hub_db_url) as (client, files_dir):
        pid = (await program_ids(client))[0]
        body = await upload(
            client,
            {"p": pid, "t": "PROGRAM", "s": pid},
            PDF,
            "../../QIP évidence\u202e <draft>.pdf",
            "application/pdf",
        )
        assert "errors" not in body, body["errors"]
        pdf = body["data"]["uploadFile"]
        assert pdf["filename"] == "QIP évidence _draft_.pdf"
        assert pdf["contentType"] == "application/pdf"
        assert pdf["sizeBytes"] == len(PDF)
        assert pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert pdf["uploadedBy"] == COACH and pdf["version"] == 1

        goal = (await ok(client, GOAL_AND_TASK, {"p": pid}))["createQipGoal"]
        task = (await ok(client, TASK, {"g": goal["id"]}))["createQipTask"]
        body = await upload(
            client,
            {"p": pid, "t": "TASK", "s": task["id"]},
            CSV,
            "enrollment.csv",
            "text/csv; charset=utf-8",
        )
        assert "errors" not in body, body["errors"]
        csv = body["data"]["uploadFile"]

        view = (await ok(client, FILES, {"id": pid}))["program"]
        assert [(f["id"], f["sha256"], f["sizeBytes"]) for f in view["files"]] == [
            (pdf["id"], hashlib.sha256(PDF).hexdigest(), len(PDF))
        ]
        task_files = view["qip"]["goals"][0]["tasks"][0]["files"]
        assert task_files == [
            {
                "id": csv["id"],
                "filename": "enrollment.csv",
                "contentType": "text/csv",
                "sizeBytes": len(CSV),
                "sha256": hashlib.sha256(CSV).hexdigest(),
            }
        ]
        # Storage keys are random, never the client's filename; no temporary file remains.
        stored = on_disk(files_dir)
        assert len(stored) == 2 and all(len(k) == 32 and "." not in k for k in stored)
        assert await file_audit(client, pid) == ["CREATE", "CREATE"]

        # Download: byte-identical, as an attachment, with the stored type.
        http = client.client
        got = await http.get(f"/files/{pdf['id']}", headers={"X-Ecehub-User": COACH})
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-length"] == str(len(PDF))
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"] == (
            'attachment; filename="QIP _vidence _draft_.pdf"; '
            "filename*=UTF-8''QIP%20%C3%A9vidence%20_draft_.pdf"
        )
        got = await http.get(f"/files/{csv['id']}", headers={"X-Ecehub-User": COACH})
        assert got.content == CSV and got.headers["content-type"] == "text/csv"
        assert (await http.get(f"/files/{pdf['id']}")).status_code == 401
        unknown = await http.get("/files/not-an-id", headers={"X-Ecehub-User": COACH})
        assert unknown.status_code == 404
        assert (
            await http.get(f"/files/{goal['id']}", headers={"X-Ecehub-User": COACH})
        ).status_code == 404

        # Soft delete keeps the bytes; the file is gone from lists and downloads.
        deleted = (await ok(client, DELETE, {"id": pdf["id"], "v": 1}))["deleteFile"]
        assert deleted["version"] == 2
        assert (await ok(client, FILES, {"id": pid}))["program"]["files"] == []
        gone = await http.get(f"/files/{pdf['id']}", headers={"X-Ecehub-User": COACH})
        assert gone.status_code == 404
        assert len(on_disk(files_dir)) == 2
        stale = await client.query(RESTORE, {"id": pdf["id"], "v": 1}, user=COACH)
        assert stale["errors"][0]["extensions"]["code"] == "VERSION_CONFLICT"
        assert stale["errors"][0]["extensions"]["currentVersion"] == 2

        restored = (await ok(client, RESTORE, {"id": pdf["id"], "v": 2}))["restoreFile"]
        assert restored["version"] == 3
        assert [f["id"] for f in (await ok(client, FILES, {"id": pid}))["program"]["files"]] == [
            pdf["id"]
        ]
        back = await http.get(f"/files/{pdf['id']}", headers={"X-Ecehub-User": COACH})
        assert back.content == PDF
        assert await file_audit(client, pid) == ["RESTORE", "DELETE", "CREATE", "CREATE"]


async def test_refused_uploads_leave_no_file_and_no_row(tmp_path: Path, hub_db_url: str) -> None:
    async with files_graph(tmp_path, hub_db_url, max_bytes=1000) as (client, files_dir):
        pid = (await program_ids(client))[0]
        target = {"p": pid, "t": "PROGRAM", "s": pid}

        big = await upload(client, target, b"x" * 5000, "big.txt", "text/plain")
        ext = big["errors"][0]["extensions"]
        assert ext["code"] == "FILE_TOO_LARGE" and ext["maxBytes"] == 1000
        assert big["data"] is None

        exe = await upload(client, target, b"MZ\x90\x00", "setup.exe", "application/x-msdownload")
        ext = exe["errors"][0]["extensions"]
        assert ext["code"] == "FILE_TYPE_REFUSED"
        assert ext["contentType"] == "application/x-msdownload"
        assert "application/pdf" in ext["allowedTypes"] and "text/csv" in ext["allowedTypes"]

        # Mislabelled: a PNG sent as a PDF, and a PNG sent as text.
        for content_type in ("application/pdf", "text/plain"):
            body = await upload(client, target, PNG, "scan.pdf", content_type)
            assert body["errors"][0]["extensions"]["code"] == "FILE_TYPE_REFUSED"

        assert on_disk(files_dir) == []
        assert (await ok(client, FILES, {"id": pid}))["program"]["files"] == []
        assert await file_audit(client, pid) == []

        # Exactly at the limit is fine: the limit is inclusive.
        fits = await upload(client, target, b"y" * 1000, "fits.txt", "text/plain")
        assert fits["data"]["uploadFile"]["sizeBytes"] == 1000
        assert len(on_disk(files_dir)) == 1
        assert await file_audit(client, pid) == ["CREATE"]


async def test_a_failed_metadata_write_removes_the_stored_bytes(
    tmp_path: Path, hub_db_url: str
) -> None:
    async with files_graph(tmp_path, hub_db_url) as (client, files_dir):
        pid, other = await program_ids(client)
        goal = (await ok(client, GOAL_AND_TASK, {"p": other}))["createQipGoal"]
        # The goal is another program's: the store refuses the row after the bytes were stored.
        body = await upload(
            client, {"p": pid, "t": "GOAL", "s": goal["id"]}, PDF, "a.pdf", "application/pdf"
        )
        ext = body["errors"][0]["extensions"]
        assert ext["code"] == "VALIDATION_FAILED" and "subject_id" in ext["fields"]
        assert on_disk(files_dir) == []
        assert await file_audit(client, pid) == []


async def test_uploads_need_an_actor_and_a_multipart_file(tmp_path: Path, hub_db_url: str) -> None:
    async with files_graph(tmp_path, hub_db_url) as (client, files_dir):
        pid = (await program_ids(client))[0]
        target = {"p": pid, "t": "PROGRAM", "s": pid}
        body = await upload(client, target, PDF, "a.pdf", "application/pdf", user=None)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert on_disk(files_dir) == []
        # A file given as a plain JSON value instead of a multipart part is refused.
        body = await client.query(UPLOAD, {**target, "file": "JVBERi0x"}, user=COACH)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert (await ok(client, FILES, {"id": pid}))["program"]["files"] == []


# -- the storage and the rules on their own ---------------------------------------------------


POLICY = FilePolicy(max_bytes=100_000, allowed_types=("application/pdf", "text/plain"))


async def _stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_local_storage_round_trip_and_atomic_writes(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "store")
    stored = await store_upload(
        storage,
        POLICY,
        filename="r.pdf",
        content_type="application/pdf",
        chunks=_stream(b"%P", b"DF-1.4 ", b"body"),
    )
    assert stored.size_bytes == 13 and stored.sha256 == hashlib.sha256(b"%PDF-1.4 body").hexdigest()
    chunks = await storage.open(stored.storage_key)
    assert b"".join([c async for c in chunks]) == b"%PDF-1.4 body"

    async def broken() -> AsyncIterator[bytes]:
        yield b"some text"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put("0" * 32, broken())
    assert on_disk(tmp_path / "store") == [stored.storage_key]

    await storage.delete(stored.storage_key)
    await storage.delete(stored.storage_key)  # already gone: fine
    assert on_disk(tmp_path / "store") == []
    with pytest.raises(StoredFileMissing):
        await storage.open(stored.storage_key)
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.open("../etc/passwd")


async def test_the_size_limit_stops_the_stream_as_soon_as_it_is_passed(tmp_path: Path) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"a" * 1000

    storage = LocalFileStorage(tmp_path)
    policy = FilePolicy(max_bytes=10_500, allowed_types=("text/plain",))
    with pytest.raises(FileTooLarge) as caught:
        await store_upload(
            storage, policy, filename="x.txt", content_type="text/plain", chunks=endless()
        )
    assert caught.value.max_bytes == 10_500
    assert pulled == 11
    assert on_disk(tmp_path) == []


async def test_the_type_is_checked_before_anything_is_read(tmp_path: Path) -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b"hello"

    with pytest.raises(FileTypeRefused) as caught:
        await store_upload(
            LocalFileStorage(tmp_path),
            POLICY,
            filename="a.html",
            content_type="text/html",
            chunks=chunks(),
        )
    assert pulled == 0 and caught.value.allowed == ("application/pdf", "text/plain")
    assert on_disk(tmp_path) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\ana\\plan.docx", "plan.docx"),
        ("../../etc/passwd", "passwd"),
        ("..hidden", "hidden"),
        ('a"b<c>|d?.txt', "a_b_c__d_.txt"),
        ("tab\there\nnew.csv", "tab here new.csv"),
        ("", "file"),
        ("...", "file"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_filenames_are_sanitised(raw: str, clean: str) -> None:
    assert sanitise_filename(raw) == clean


def test_content_disposition_quotes_the_utf8_name() -> None:
    assert content_disposition("plan 2026 ñ.pdf") == (
        "attachment; filename=\"plan 2026 _.pdf\"; filename*=UTF-8''plan%202026%20%C3%B1.pdf"
    )
