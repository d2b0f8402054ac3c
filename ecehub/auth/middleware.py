"""The ASGI middleware that decides who is acting, once per request.

``header`` mode (development only): the ``X-Ecehub-User`` header names the user. ``jwt`` mode:
an ``Authorization: Bearer`` token is verified (:mod:`ecehub.auth.tokens`); a bad one is
answered 401 with a GraphQL-style error and ``WWW-Authenticate``; no token means anonymous.
Either way the result is put on the request (``request.state.ecehub_auth``), where the HTTP
app reads it (:func:`authentication_of`) and hands it to the request's context. ``/healthz``,
``/readyz`` and ``/metrics`` stay open.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ecehub.auth.errors import AuthError, TokenRejected
from ecehub.auth.tokens import Authentication, Principal, TokenVerifier
from ecehub.config.model import Config
from ecehub.errors import error_body

__all__ = [
    "ACTOR_HEADER",
    "OPEN_PATHS",
    "STATE_KEY",
    "Authenticate",
    "Authentication",
    "authentication_middleware",
    "authentication_of",
]

log = logging.getLogger("ecehub.auth")

ACTOR_HEADER = "X-Ecehub-User"
STATE_KEY = "ecehub_auth"
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Never authenticated nor rate limited: the probes and the Prometheus scrape."""


def authentication_of(request: Any) -> Authentication | None:
    """What the middleware decided for ``request`` (a Starlette request or websocket), or
    ``None`` when it did not run."""
    scope = getattr(request, "scope", None)
    state = scope.get("state") if isinstance(scope, dict) else None
    found = state.get(STATE_KEY) if isinstance(state, dict) else None
    return found if isinstance(found, Authentication) else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


class Authenticate:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier | None) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if self.verifier is None:
            user = _header(scope, ACTOR_HEADER.lower().encode()).strip()[:200]
            auth = Authentication("header", Principal(user) if user else None)
        else:
            try:
                auth = Authentication("jwt", await self._verify(scope))
            except TokenRejected as exc:
                await self._refuse(scope, receive, send, exc)
                return
        scope.setdefault("state", {})[STATE_KEY] = auth
        await self.app(scope, receive, send)

    async def _verify(self, scope: Scope) -> Principal | None:
        assert self.verifier is not None
        value = _header(scope, b"authorization").strip()
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("malformed", "the Authorization header is not 'Bearer <token>'")
        try:
            return await self.verifier.verify(token.strip())
        except TokenRejected:
            raise
        except AuthError as exc:
            # The keys could not be had (JWKS down): the token cannot be trusted.
            log.warning("bearer token not verified: %s", exc.message)
            raise TokenRejected("unknown_key", "the signing keys are unavailable") from None

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: TokenRejected) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": exc.reason})
            return
        body = error_body(
            f"invalid bearer token: {exc.message}", "UNAUTHENTICATED", reason=exc.reason
        )
        challenge = f'Bearer error="invalid_token", error_description="{exc.reason}"'
        response = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)


def authentication_middleware(config: Config) -> Middleware:
    """The middleware for ``config.auth``; in header mode it logs that it is for development."""
    auth = config.auth
    if auth.mode == "header":
        log.warning(
            "auth.mode is 'header': the %s header names the acting user, unchecked. "
            "For development only; set auth.mode: jwt in front of real data.",
            ACTOR_HEADER,
        )
        return Middleware(Authenticate, verifier=None)
    base_dir: Path | None = config.file.parent if config.file else None
    try:
        verifier = TokenVerifier.from_config(auth, base_dir)
    except AuthError as exc:
        from ecehub.errors import ConfigError

        where, _, problem = exc.message.partition(": ")
        raise ConfigError(str(config.file or "<config>"), [(where, problem)]) from None
    return Middleware(Authenticate, verifier=verifier)
