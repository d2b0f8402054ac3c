"""The reference front end, served at ``/app``: plain ES modules, one CSS file and one HTML
page from ``static/`` (no build step, no CDN: it works with no network), talking only to
``/graphql`` with the user's bearer token.

Its GraphQL operations live in one file, ``operations.graphql`` (one named operation each, no
fragments); ``/app/operations.json`` gives the page each one's text and sha256, and the page
sends the hash as ``extensions.persistedQuery.sha256Hash``. In persisted-query ``allow_list``
mode the server adds these operations to the allow list while the app is enabled
(:func:`allow_list`), so turning the app on never means allowing arbitrary queries.

Sign-in: with the state's identity provider (``server.app.oidc``: authorization code with
PKCE, done in the page), or, in the demo only, by picking one of the demo's development
tokens from ``/app/dev-tokens``. That route exists only when the caller of ``create_app``
passes a token roster (only ``ecehub demo`` does) and the server is in development mode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphql import OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from ecehub.config.model import Config
from ecehub.schema.persisted import query_hash

__all__ = [
    "APP_PATH",
    "OPERATIONS",
    "DevTokens",
    "allow_list",
    "content_security_policy",
    "operations",
    "webapp_routes",
]

APP_PATH = "/app"
STATIC_DIR = Path(__file__).with_name("static")
OPERATIONS = Path(__file__).with_name("operations.graphql")

DevTokens = Callable[[], Sequence[Mapping[str, Any]]]
"""Gives, each time it is asked, the development tokens the sign-in page offers: each a
mapping with ``role``, ``label``, ``sub``, ``programs`` and ``token``."""

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The files change with the package, not by version in their names: revalidate each time.
_REVALIDATE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@functools.cache
def operations() -> dict[str, str]:
    """``{operation name: its exact text}`` from ``operations.graphql``."""
    body = OPERATIONS.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for definition in parse(body).definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            raise ValueError(f"{OPERATIONS}: every definition must be a named operation")
        assert definition.loc is not None
        found[definition.name.value] = body[definition.loc.start : definition.loc.end]
    return found


def allow_list() -> dict[str, str]:
    """The app's operations as a persisted-query allow list: ``{sha256 hex: text}``."""
    return {query_hash(text): text for text in operations().values()}


@functools.cache
def _static_files() -> dict[str, Path]:
    """Every file the app serves, by its path under ``static/`` (nothing else is served)."""
    return {
        path.relative_to(STATIC_DIR).as_posix(): path
        for path in sorted(STATIC_DIR.rglob("*"))
        if path.is_file() and path.suffix in _CONTENT_TYPES
    }


def content_security_policy(config: Config) -> str:
    """Scripts and styles from the server only, no inline code; the page may talk to the
    server and, when OIDC sign-in is configured, to the identity provider."""
    connect = ["'self'"]
    oidc = config.server.app.oidc
    if oidc is not None:
        parts = urlsplit(oidc.issuer)
        if parts.scheme and parts.netloc:
            connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def webapp_routes(config: Config, dev_tokens: DevTokens | None = None) -> list[BaseRoute]:
    """The routes under ``/app``; none when ``server.app.enabled`` is false. ``dev_tokens``
    is honoured in development mode only."""
    if not config.server.app.enabled:
        return []
    policy = content_security_policy(config)
    headers = {**_REVALIDATE, "Content-Security-Policy": policy, "Referrer-Policy": "no-referrer"}
    offer_tokens = dev_tokens is not None and config.server.mode == "development"
    oidc = config.server.app.oidc
    persisted_only = config.server.persisted_queries.mode == "allow_list"

    async def index(request: Request) -> Response:
        return FileResponse(
            STATIC_DIR / "index.html", media_type=_CONTENT_TYPES[".html"], headers=headers
        )

    async def to_index(request: Request) -> Response:
        return RedirectResponse(f"{request.url.path}/", status_code=308)

    async def static(request: Request) -> Response:
        found = _static_files().get(request.path_params["path"])
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(found, media_type=_CONTENT_TYPES[found.suffix], headers=headers)

    async def settings(request: Request) -> Response:
        body = {
            "devTokens": offer_tokens,
            "persistedOnly": persisted_only,
            "oidc": (
                None
                if oidc is None
                else {"issuer": oidc.issuer, "clientId": oidc.client_id, "scope": oidc.scope}
            ),
        }
        return JSONResponse(body, headers=headers)

    async def operation_list(request: Request) -> Response:
        body = {
            name: {"sha256": query_hash(text), "query": text} for name, text in operations().items()
        }
        return JSONResponse(body, headers=headers)

    async def tokens(request: Request) -> Response:
        assert dev_tokens is not None
        # Bearer tokens: never kept by a browser or proxy cache.
        private = {**headers, "Cache-Control": "no-store"}
        return JSONResponse({"tokens": [dict(t) for t in dev_tokens()]}, headers=private)

    return [
        Route(APP_PATH, to_index, methods=["GET", "HEAD"]),
        Route(f"{APP_PATH}/", index, methods=["GET", "HEAD"]),
        Route(f"{APP_PATH}/config.json", settings, methods=["GET"]),
        Route(f"{APP_PATH}/operations.json", operation_list, methods=["GET"]),
        *([Route(f"{APP_PATH}/dev-tokens", tokens, methods=["GET"])] if offer_tokens else []),
        Route(f"{APP_PATH}/static/{{path:path}}", static, methods=["GET", "HEAD"]),
    ]
