"""The ``csv`` connector over HTTP: files served by a loopback server with ETag, read with
conditional GETs, the conformance kit over URLs, timeouts and a call that gives up while a
file is read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from ecehub.connectors import Connector
from ecehub.errors import SourceTimeout
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements, build_connector
from tests.connectors.test_csv import csv_connector, csv_source, csv_text, program_source
from tests.serving import loopback

# -- a loopback HTTP server for CSV files ------------------------------------------------------


@dataclass
class FileServer:
    """Serves ``files`` by name with ETag and Last-Modified, answering conditional GETs."""

    files: dict[str, bytes] = field(default_factory=dict)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    url: str = ""
    delay_s: float = 0.0
    hold: asyncio.Event | None = None
    """When set, answers wait for it."""

    def status_of(self, name: str) -> list[int]:
        return [status for path, status in self.statuses if path == f"/files/{name}"]


def file_app(state: FileServer) -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.hold is not None:
            await state.hold.wait()
        name = request.match_info["name"]
        if name not in state.files:
            state.statuses.append((request.path, 404))
            return web.Response(status=404)
        body = state.files[name]
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            state.statuses.append((request.path, 304))
            return web.Response(status=304, headers={"ETag": etag})
        state.statuses.append((request.path, 200))
        return web.Response(body=body, headers={"ETag": etag}, content_type="text/csv")

    app = web.Application()
    app.router.add_get("/files/{name}", serve)
    return app


@pytest.fixture
async def file_server() -> AsyncIterator[FileServer]:
    state = FileServer()
    async with loopback(file_app(state)) as state.url:
        yield state


class TestCsvUrlConformance(ConnectorConformance):
    requirements = Requirements()

    @pytest.fixture
    async def connector(self, file_server: FileServer) -> AsyncIterator[Connector]:
        for entity, rows in CONFORMANCE_DATA.items():
            file_server.files[f"{entity}.csv"] = csv_text(rows).encode()
        locations = {e: f"{file_server.url}/files/{e}.csv" for e in CONFORMANCE_DATA}
        connector = build_connector("conformance_csv_url", csv_source(locations))
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, file_server: FileServer) -> AsyncIterator[Connector]:
        locations = {e: f"{file_server.url}/files/missing-{e}.csv" for e in CONFORMANCE_DATA}
        connector = build_connector("conformance_csv_url", csv_source(locations))
        yield connector
        await connector.aclose()


async def test_a_url_is_read_again_with_a_conditional_get(file_server: FileServer) -> None:
    file_server.files["p.csv"] = b"id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n"
    source = program_source(f"{file_server.url}/files/p.csv")
    async with csv_connector("csv_url", source) as connector:
        first = await connector.fetch("program", ["P1"])
        second = await connector.fetch("program", ["P1"])
        assert (
            first["P1"].fields
            == second["P1"].fields
            == {
                "name": "Sunny",
                "city": "Springfield",
                "qris_level": 3,
            }
        )
        assert file_server.status_of("p.csv") == [200, 304]
        file_server.files["p.csv"] = (
            b"id,Name,City,Level,License\nP1,Sunny Side,Springfield,4,L-1\n"
        )
        third = await connector.fetch("program", ["P1"])
        assert third["P1"].fields["name"] == "Sunny Side" and third["P1"].fields["qris_level"] == 4
        assert file_server.status_of("p.csv") == [200, 304, 200]


async def test_recheck_s_spares_the_requests_in_between(file_server: FileServer) -> None:
    file_server.files["p.csv"] = b"id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n"
    source = program_source(f"{file_server.url}/files/p.csv", recheck_s=300)
    async with csv_connector("csv_url", source) as connector:
        for _ in range(5):
            assert list(await connector.fetch("program", ["P1"])) == ["P1"]
        assert file_server.status_of("p.csv") == [200]


async def test_a_url_that_does_not_answer_in_time_is_a_timeout(file_server: FileServer) -> None:
    file_server.files["p.csv"] = b"id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n"
    file_server.delay_s = 2
    source = program_source(f"{file_server.url}/files/p.csv?token=sekret", timeout_s=0.2)
    async with csv_connector("csv_url", source) as connector:
        with pytest.raises(SourceTimeout) as caught:
            await connector.fetch("program", ["P1"])
    assert "sekret" not in str(caught.value) and "/files/p.csv" in str(caught.value)


async def test_a_call_that_gives_up_does_not_waste_the_read(file_server: FileServer) -> None:
    file_server.files["p.csv"] = b"id,Name,City,Level,License\nP1,Sunny,Springfield,3,L-1\n"
    file_server.hold = asyncio.Event()
    async with csv_connector("csv_slow", program_source(f"{file_server.url}/files/p.csv")) as c:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):  # as the gateway bounds a call by timeout_s
                await c.fetch("program", ["P1"])
        second = asyncio.ensure_future(c.fetch("program", ["P1"]))
        await asyncio.sleep(0)
        file_server.hold.set()
        assert list(await second) == ["P1"]
    assert file_server.status_of("p.csv") == [200]  # one read, shared by both calls
