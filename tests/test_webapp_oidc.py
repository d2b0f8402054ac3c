"""Signing in to the front end with OIDC authorization code + PKCE, in a real browser, against
a small identity provider on loopback (aiohttp.web: discovery document, authorize, token and
JWKS endpoints, real RS256 tokens) that the hub trusts through its JWKS:

- the page fetches the discovery document, sends an S256 challenge and a state, and swaps the
  code with its verifier; the provider checks the verifier against the challenge (a wrong
  one gets no token); the hub accepts the token the page then sends to /graphql;
- an answer whose state is not the one sent is refused by the page, which never asks for a
  token with that code.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.async_api import Request, Route, async_playwright, expect

from ecehub.app import create_app
from ecehub.config.model import Config
from tests.serving import loopback
from tests.test_graphiql_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.webapp_demo import serve_in_process

CLIENT_ID = "ecehub-app"
AUDIENCE = "ecehub-api"
USER = "admin@state.example"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Provider:
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    wrong_state: bool = False


def _cors(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@contextlib.asynccontextmanager
async def loopback_provider() -> AsyncIterator[Provider]:
    provider = Provider()

    async def discovery(request: web.Request) -> web.StreamResponse:
        return _cors(
            web.json_response(
                {
                    "issuer": provider.url,
                    "authorization_endpoint": f"{provider.url}/authorize",
                    "token_endpoint": f"{provider.url}/token",
                    "jwks_uri": f"{provider.url}/jwks",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )
        )

    async def authorize(request: web.Request) -> web.StreamResponse:
        query = request.query
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        code = secrets.token_urlsafe(16)
        provider.pending[code] = {
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
        }
        state = "not-the-state-sent" if provider.wrong_state else query["state"]
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': state})}")

    async def token(request: web.Request) -> web.StreamResponse:
        form = dict(await request.post())
        provider.token_requests.append({k: str(v) for k, v in form.items()})
        pending = provider.pending.pop(str(form.get("code")), None)
        if (
            pending is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != CLIENT_ID
            or form.get("redirect_uri") != pending["redirect_uri"]
            or s256(str(form.get("code_verifier"))) != pending["challenge"]
        ):
            return _cors(web.json_response({"error": "invalid_grant"}, status=400))
        now = int(time.time())
        claims = {"iss": provider.url, "aud": AUDIENCE, "sub": USER, "roles": ["state_admin"]}
        access = jwt.encode(
            {"alg": "RS256", "kid": "k1"},
            {**claims, "iat": now, "exp": now + 600},
            provider.key,
            algorithms=["RS256"],
        )
        provider.issued.append(access)
        return _cors(web.json_response({"access_token": access, "token_type": "Bearer"}))

    async def jwks(request: web.Request) -> web.StreamResponse:
        return web.json_response({"keys": [provider.key.as_dict(private=False)]})

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/authorize", authorize)
    app.router.add_post("/token", token)
    app.router.add_get("/jwks", jwks)
    async with loopback(app) as provider.url:
        yield provider


@contextlib.asynccontextmanager
async def hub_trusting(provider: Provider, tmp_path: Path) -> AsyncIterator[str]:
    config = Config.model_validate(
        {
            "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
            "auth": {
                "mode": "jwt",
                "issuer": provider.url,
                "audience": AUDIENCE,
                "jwks_url": f"{provider.url}/jwks",
                "algorithms": ["RS256"],
            },
            "server": {"app": {"oidc": {"issuer": provider.url, "client_id": CLIENT_ID}}},
        }
    )
    async with serve_in_process(create_app(config)) as url:
        yield url


async def test_pkce_sign_in_against_a_loopback_provider(tmp_path: Path) -> None:
    require_chromium()
    blocked: list[str] = []
    sent: list[dict[str, Any]] = []
    async with loopback_provider() as provider, hub_trusting(provider, tmp_path) as hub:

        async def loopback_only(route: Route, request: Request) -> None:
            if request.url.startswith((hub, provider.url)):
                if request.url.startswith(f"{hub}graphql"):
                    sent.append(await request.all_headers())
                await route.continue_()
            else:
                blocked.append(request.url)
                await route.abort("blockedbyclient")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
            )
            try:
                context = await browser.new_context()
                await context.route("**/*", loopback_only)
                page = await context.new_page()
                page.set_default_timeout(20_000)
                await page.goto(f"{hub}app/")
                await page.get_by_role("button", name="Sign in").click()
                await expect(
                    page.get_by_role("heading", name="Programs", exact=True)
                ).to_be_visible()
                await expect(page.locator("#who")).to_contain_text(f"{USER} (state_admin)")
                assert "code=" not in page.url, "the code is taken out of the address"
                stored = await page.evaluate("sessionStorage.getItem('ecehub.token')")

                # A forged answer (another state): refused, its code never swapped.
                provider.wrong_state = True
                before = len(provider.token_requests)
                await page.get_by_role("button", name="Sign out").click()
                await page.get_by_role("button", name="Sign in").click()
                await expect(page.get_by_role("alert")).to_contain_text("does not match")
                refused_token = await page.evaluate("sessionStorage.getItem('ecehub.token')")
            finally:
                await browser.close()
    [request] = provider.token_requests[:1]
    assert request["grant_type"] == "authorization_code" and request["client_id"] == CLIENT_ID
    assert len(request["code_verifier"]) >= 43
    assert stored == provider.issued[0]
    assert sent and all(h.get("authorization") == f"Bearer {stored}" for h in sent)
    assert len(provider.token_requests) == before, "a code with the wrong state was swapped"
    assert refused_token is None
    assert blocked == []
