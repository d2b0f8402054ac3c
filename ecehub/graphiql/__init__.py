"""GraphiQL served from the package, so it works without internet (no CDN).

The page (``page.html``, strawberry's GraphiQL page pointed at local copies) loads its
scripts and styles from ``/graphiql/static/<path>``: the files in ``static/``, copied from
the npm registry by ``scripts/refresh-graphiql`` and listed with their versions and sha256
in ``static/MANIFEST.json``. Only the files the manifest lists are served, each with the
browser checking its sha256 (subresource integrity). The app serves the page and the files
in development mode only.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["ASSETS_PATH", "MANIFEST", "Asset", "assets", "graphiql_assets_route", "graphiql_page"]

STATIC_DIR = Path(__file__).with_name("static")
MANIFEST = STATIC_DIR / "MANIFEST.json"
PAGE = Path(__file__).with_name("page.html")
ASSETS_PATH = "/graphiql/static"

_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# A file's path names its package's version, so a browser may keep it.
_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One file of the manifest: ``path`` under ``static/`` (and the URL), copied from
    ``file`` in the npm package ``package`` at ``version``."""

    path: str
    package: str
    version: str
    file: str
    bytes: int
    sha256: str

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[Path(self.path).suffix]

    @property
    def integrity(self) -> str:
        """The subresource-integrity value of the manifest's sha256."""
        return "sha256-" + base64.b64encode(bytes.fromhex(self.sha256)).decode()

    @property
    def href(self) -> str:
        # Relative to /graphql, so the page also works when the app is mounted under a prefix.
        return f"{ASSETS_PATH.lstrip('/')}/{self.path}"


@functools.cache
def assets() -> tuple[Asset, ...]:
    """The manifest's files, in the order the page loads them."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return tuple(Asset(**entry) for entry in manifest["assets"])


def _script_json(value: object) -> str:
    """``value`` as a JavaScript literal that cannot end the <script> element it is put in."""
    text = json.dumps(value, indent=2, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.cache
def _template() -> str:
    return PAGE.read_text(encoding="utf-8")


def graphiql_page(headers: Mapping[str, str] | None = None) -> str:
    """The GraphiQL page; ``headers`` pre-fill its Headers editor (the demo's admin token;
    nothing anywhere else)."""
    styles = "\n    ".join(
        f'<link rel="stylesheet" href="{a.href}" integrity="{a.integrity}" />'
        for a in assets()
        if a.path.endswith(".css")
    )
    scripts = "\n    ".join(
        f'<script src="{a.href}" integrity="{a.integrity}"></script>'
        for a in assets()
        if a.path.endswith(".js")
    )
    return (
        _template()
        .replace("<!-- ecehub:styles -->", styles)
        .replace("<!-- ecehub:scripts -->", scripts)
        .replace("/* ecehub:headers */ {}", _script_json(dict(headers or {})))
    )


async def _serve_asset(request: Request) -> Response:
    found = {a.path: a for a in assets()}.get(request.path_params["path"])
    if found is None:
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(
        STATIC_DIR / found.path,
        media_type=found.content_type,
        headers={"Cache-Control": _CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )


def graphiql_assets_route() -> Route:
    """``GET /graphiql/static/<path>``: a file the manifest lists (404 for any other)."""
    return Route(f"{ASSETS_PATH}/{{path:path}}", _serve_asset, methods=["GET", "HEAD"])
