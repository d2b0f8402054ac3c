"""GraphiQL from the package: its page loads nothing from outside the server, every file it
loads is served with its content type and the bytes the manifest records, the demo's headers
are pre-filled only where the app was given them, and production serves neither."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from ecehub.app import create_app
from ecehub.config import parse_config
from ecehub.graphiql import MANIFEST, assets

ROOT = Path(__file__).resolve().parents[1]
PAGE_URL = "http://hub/graphql"


class _Loads(HTMLParser):
    """The URLs a page's <script src> and <link href> load, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = found.get("src") is None
            if found.get("src") is not None:
                self.urls.append((tag, found["src"] or ""))
        elif tag == "link" and found.get("href") is not None:
            self.urls.append((tag, found["href"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


def _loads(html: str) -> _Loads:
    parser = _Loads()
    parser.feed(html)
    return parser


def _client(tmp_path: Path, **app: Any) -> httpx.AsyncClient:
    mode = app.pop("mode", "development")
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    config = parse_config({"hub": {"url": url}, "server": {"mode": mode}}, env={})
    transport = httpx.ASGITransport(app=create_app(config, **app))
    return httpx.AsyncClient(transport=transport, base_url="http://hub")


async def _page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_page_loads_only_the_packaged_files_and_each_matches_the_manifest(
    tmp_path: Path,
) -> None:
    async with _client(tmp_path) as client:
        page = await _page(client)
        loads = _loads(page)
        served = {
            url: await client.get(urljoin(PAGE_URL, url))
            for tag, url in loads.urls
            if tag == "script" or url.endswith(".css")
        }
    assert "unpkg" not in page and "cdn" not in page.lower()
    for tag, url in loads.urls:
        # No http(s)://, no protocol-relative //host: nothing a browser fetches elsewhere.
        assert not urlsplit(url).scheme or url == "data:,", (tag, url)
        assert not url.startswith("//") and "://" not in url, (tag, url)
    expected = {a.href: a for a in assets()}
    assert set(served) == set(expected)  # every manifest file, and no other
    scripts = [url for tag, url in loads.urls if tag == "script"]
    assert scripts == [a.href for a in assets() if a.href.endswith(".js")]  # in the order
    for url, response in served.items():
        asset = expected[url]
        assert response.status_code == 200, url
        kind = "text/javascript" if url.endswith(".js") else "text/css"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.content) == asset.bytes
        assert hashlib.sha256(response.content).hexdigest() == asset.sha256, url
        assert f'integrity="{asset.integrity}"' in page  # the browser checks it too
    # The page is strawberry's GraphiQL with the explorer plugin.
    script = "".join(loads.inline)
    assert "GraphiQLPluginExplorer.explorerPlugin()" in script
    assert "const DEFAULT_HEADERS = {};" in script  # nothing pre-filled outside the demo


def test_the_manifest_lists_exactly_the_committed_files_of_the_pinned_packages() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    static = MANIFEST.parent
    on_disk = {p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file()}
    assert on_disk - {"MANIFEST.json"} == {a.path for a in assets()}
    for asset in assets():
        data = (static / asset.path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (asset.bytes, asset.sha256)
        assert manifest["packages"][asset.package]["version"] == asset.version
        assert asset.path.startswith(asset.package.lstrip("@").replace("/", "-") + "-")
    packages = {name: p["version"] for name, p in manifest["packages"].items()}
    assert {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"} <= set(packages)
    # An installed wheel carries them: pyproject's package data covers every file.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for pattern in ("graphiql/page.html", "graphiql/static/MANIFEST.json"):
        assert f'"{pattern}"' in pyproject
    suffixes = {Path(a.path).suffix for a in assets()}
    assert all(f'"graphiql/static/*/*{s}"' in pyproject for s in suffixes)


async def test_only_manifest_files_are_served(tmp_path: Path) -> None:
    async with _client(tmp_path) as client:
        manifest = await client.get("/graphiql/static/MANIFEST.json")
        unknown = await client.get("/graphiql/static/graphiql-3.8.3/nope.js")
        escape = await client.get("/graphiql/static/../page.html")
        source = await client.get("/graphiql/static/%2e%2e/__init__.py")
    assert [r.status_code for r in (manifest, unknown, escape, source)] == [404] * 4


async def test_headers_are_prefilled_only_when_the_app_is_given_them(tmp_path: Path) -> None:
    tokens = iter(["first</script><script>alert(1)</script>", "second"])

    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {next(tokens)}"}

    async with _client(tmp_path, ide_headers=headers) as client:
        first, second = await _page(client), await _page(client)
    assert "</script><script>alert(1)" not in first  # cannot end the page's script
    for page, token in ((first, "first</script><script>alert(1)</script>"), (second, "second")):
        [script] = [s for s in _loads(page).inline if "DEFAULT_HEADERS" in s]
        literal = script.split("const DEFAULT_HEADERS = ", 1)[1].split(";\n", 1)[0]
        assert json.loads(literal) == {"Authorization": f"Bearer {token}"}  # fresh per page


@pytest.mark.parametrize("ide_headers", [None, lambda: {"Authorization": "Bearer x"}])
async def test_production_serves_neither_graphiql_nor_its_files(
    tmp_path: Path, ide_headers: Any
) -> None:
    async with _client(tmp_path, mode="production", ide_headers=ide_headers) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        files = [await client.get(urljoin(PAGE_URL, a.href)) for a in assets()]
    assert page.status_code != 200 or "graphiql" not in page.text.lower()
    assert "Bearer" not in page.text
    assert {f.status_code for f in files} == {404}
