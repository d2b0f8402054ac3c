"""A loopback API behind OAuth2 client credentials, for the ``rest`` auth tests: a token
endpoint (``/oauth/token``) and the conformance dataset (``/secure/api/...``) served only to a
bearer the endpoint issued, over plain HTTP or TLS. The knobs a test turns and what the servers
saw are on :class:`SecuredUpstream`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.connectors.test_conformance import Upstream, build_app, rest_source

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "ENV",
    "Clock",
    "SecuredUpstream",
    "oauth_source",
    "serve_secured",
]

CLIENT_ID = "ecehub-qris-client"
# Random per run: a test that finds it in a log or an error found a leak, not a coincidence.
CLIENT_SECRET = f"cs-{secrets.token_hex(12)}"
ENV = {"QRIS_CLIENT_ID": CLIENT_ID, "QRIS_CLIENT_SECRET": CLIENT_SECRET}


@dataclass
class SecuredUpstream:
    url: str = ""
    expires_in: int | str | None = 3600
    token_delay_s: float = 0.0
    token_gate: asyncio.Event | None = None
    """When set, the token endpoint answers only once the event is set."""
    token_status: int | None = None
    """Make the token endpoint answer this status (with an OAuth2 error) instead of a token."""
    api_refuses_all: bool = False
    requires_bearer: bool = True
    """False: the API is open to any client that reaches it (the TLS tests' plain API)."""
    issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str | None]] = field(default_factory=list)
    bearers: list[str | None] = field(default_factory=list)
    """The bearer token of each API request, in order."""
    client_certs: list[str | None] = field(default_factory=list)
    """The common name of the client certificate of each request over TLS."""

    def revoke_all(self) -> None:
        self.valid.clear()


def _client_of(request: web.Request, form: Any) -> tuple[str, str | None, str | None]:
    """How the client authenticated (basic / post / none), its ID and secret."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return "basic", client_id, secret
    if "client_secret" in form:
        return "post", form.get("client_id"), form.get("client_secret")
    return "none", form.get("client_id"), None


def _peer_name(request: web.Request) -> str | None:
    cert = request.transport.get_extra_info("peercert") if request.transport else None
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def build_secured_app(state: SecuredUpstream) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        method, client_id, secret = _client_of(request, form)
        state.token_requests.append(
            {
                "method": method,
                "grant_type": form.get("grant_type"),  # type: ignore[dict-item]
                "scope": form.get("scope"),  # type: ignore[dict-item]
                "audience": form.get("audience"),  # type: ignore[dict-item]
            }
        )
        if state.token_delay_s:
            await asyncio.sleep(state.token_delay_s)
        if state.token_gate is not None:
            await state.token_gate.wait()
        if state.token_status is not None:
            return web.json_response(
                {"error": "temporarily_unavailable"}, status=state.token_status
            )
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            # A careless server echoes what it was sent: the hub must not pass it on.
            return web.json_response(
                {"error": "invalid_client", "error_description": f"bad secret {secret}"},
                status=401,
            )
        issued = f"at-{len(state.issued) + 1}-{secrets.token_hex(8)}"
        state.issued.append(issued)
        state.valid.add(issued)
        body: dict[str, Any] = {"access_token": issued, "token_type": "Bearer"}
        if state.expires_in is not None:
            body["expires_in"] = state.expires_in
        return web.json_response(body)

    @web.middleware
    async def bearer_only(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.secure:
            state.client_certs.append(_peer_name(request))
        if not request.path.startswith("/secure/") or not state.requires_bearer:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        bearer = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        state.bearers.append(bearer)
        if state.api_refuses_all or bearer not in state.valid:
            return web.json_response({"error": "invalid_token"}, status=401)
        return await handler(request)

    app = web.Application(middlewares=[bearer_only])
    app.router.add_post("/oauth/token", token)
    app.add_subapp("/secure", build_app(Upstream()))
    return app


@contextlib.asynccontextmanager
async def serve_secured(
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[SecuredUpstream]:
    """The secured API on a free loopback port (https:// with ``ssl_context``)."""
    state = SecuredUpstream()
    runner = web.AppRunner(build_secured_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"{'https' if ssl_context else 'http'}://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def oauth_source(state: SecuredUpstream, **auth: Any) -> dict[str, Any]:
    """A ``rest`` source of the conformance dataset behind OAuth2 (``auth`` overrides)."""
    source = rest_source(f"{state.url}/secure/api")
    source["auth"] = {
        "type": "oauth2_client_credentials",
        "token_url": f"{state.url}/oauth/token",
        "client_id_env": "QRIS_CLIENT_ID",
        "client_secret_env": "QRIS_CLIENT_SECRET",
        "scope": ["providers:read", "sites:read"],
        "audience": "https://qris.example",
        **auth,
    }
    return source


class Clock:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
