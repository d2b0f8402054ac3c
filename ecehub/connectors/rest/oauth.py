"""Access tokens of one ``rest`` source by OAuth2 client credentials (RFC 6749 section 4.4).

authlib builds the protocol's parts (the token request body, the client authentication of
``client_secret_basic`` / ``client_secret_post``); aiohttp carries the request, as it carries
the API's (authlib's own async client would need httpx). A token is kept per source and
refreshed ``refresh_leeway_s`` before it expires, or halfway through a shorter life, on
``time.monotonic`` (``clock`` may be replaced in tests). Not authlib's ``OAuth2Token``: its
``is_expired`` reads wall-clock seconds, which a clock step moves, and it raises on an
``expires_in`` that is not an integer ("3600.0").

One refresh at a time: calls that find the token due wait on one ``asyncio.Lock``; the first
asks the token endpoint, the others take its token, or its error, without asking again.

No access token, client secret or token endpoint URL appears in a log line or an error: errors
name the source and, for a refused request, the OAuth2 error code (``invalid_client``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from ecehub.connectors.rest.credentials import OAuth2ClientCredentialsAuth
from ecehub.connectors.rest.failures import unanswered
from ecehub.errors import SourceError, SourceTimeout, SourceUnavailable

__all__ = ["ClientCredentialsTokens"]

_log = logging.getLogger("ecehub.connectors.rest")

# An RFC 6749 error code (5.2) is shown; anything else the endpoint says is not.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class _Held:
    access_token: str
    refresh_at: float | None
    """The clock reading from which the token is refreshed; ``None``: the endpoint gave no
    ``expires_in``, so it is kept until the API refuses it."""


class ClientCredentialsTokens:
    """The access token of one source: asked for, kept, refreshed, dropped on a 401."""

    def __init__(
        self,
        source: str,
        auth: OAuth2ClientCredentialsAuth,
        *,
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.source = source
        self.auth = auth
        self.timeout_s = timeout_s
        self.clock: Callable[[], float] = time.monotonic
        self._ssl = ssl_context
        self._held: _Held | None = None
        self._finished = 0
        """Token requests finished (answered, failed or cancelled)."""
        self._last_failure: tuple[type[SourceError], str] | None = None
        self._lock: asyncio.Lock | None = None
        self._session: aiohttp.ClientSession | None = None

    def _due(self, held: _Held | None) -> bool:
        return held is None or (held.refresh_at is not None and self.clock() >= held.refresh_at)

    async def access_token(self) -> str:
        """A token to send now: the kept one while it is fresh, else a new one."""
        held = self._held
        if held is not None and not self._due(held):
            return held.access_token
        if self._lock is None:
            self._lock = asyncio.Lock()
        finished = self._finished
        async with self._lock:
            held = self._held
            if self._finished != finished:
                # A request finished while this call waited: share its outcome.
                if held is not None and not self._due(held):
                    return held.access_token
                if self._last_failure is not None:
                    kind, detail = self._last_failure
                    raise kind(self.source, detail)
            self._last_failure = None
            try:
                held = await self._request()
            finally:
                self._finished += 1
            self._held = held
            return held.access_token

    def _failure(self, kind: type[SourceError], detail: str) -> SourceError:
        """The error of this attempt, kept for the calls waiting on it."""
        self._last_failure = (kind, detail)
        return kind(self.source, detail)

    def refused(self, access_token: str) -> None:
        """The API answered 401 to ``access_token``: drop it, unless it was replaced already
        (many calls refused with the same token cause one refresh)."""
        held = self._held
        if held is not None and held.access_token == access_token:
            self._held = None

    def _client(self) -> aiohttp.ClientSession:
        # A session of its own: the API's headers (config `headers`) never reach the token
        # endpoint, which may be another host.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True),
            )
        return self._session

    async def _request(self) -> _Held:
        client_id, client_secret = self.auth.credentials()
        body = prepare_token_request(
            "client_credentials", scope=self.auth.scope, audience=self.auth.audience
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        client_auth = ClientAuth(client_id, client_secret, self.auth.auth_method)
        # Untyped in types-Authlib 1.8: returns (uri, headers, body).
        _, headers, body = client_auth.prepare(  # type: ignore[no-untyped-call]
            "POST", self.auth.token_url, headers, body
        )
        session = self._client()
        asked_at = self.clock()
        started = time.perf_counter()
        try:
            # No redirects: the client secret must not follow a redirect to another host.
            async with session.post(
                self.auth.token_url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                try:
                    payload: Any = await resp.json(content_type=None)
                except ValueError:
                    payload = None
        except TimeoutError:
            raise self._failure(
                SourceTimeout, f"no answer from the token endpoint within {self.timeout_s:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            # Not chained: aiohttp's message holds the token endpoint's URL.
            secure = self.auth.token_url.startswith("https:")
            raise self._failure(
                SourceUnavailable, unanswered(exc, "the token endpoint", secure=secure)
            ) from None
        _log.debug(
            "source %s: token endpoint -> %d in %.0f ms",
            self.source,
            status,
            (time.perf_counter() - started) * 1000,
        )
        if status != 200 or not isinstance(payload, dict) or "error" in payload:
            raise self._refusal(status, payload)
        return self._held_token(payload, asked_at)

    def _refusal(self, status: int, payload: Any) -> SourceError:
        code = payload.get("error") if isinstance(payload, dict) else None
        shown = f"HTTP {status}"
        if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
            shown = f"{shown}, {code}"
        if status >= 500:
            detail = f"the token endpoint failed ({shown})"
        elif code == "invalid_client" or status == 401:
            detail = (
                f"the token endpoint refused the client credentials ({shown}): check the "
                f"client ID and secret in {self.auth.client_id_env} and "
                f"{self.auth.client_secret_env}, and auth_method ({self.auth.auth_method})"
            )
        elif code in {"invalid_scope", "invalid_target", "unauthorized_client"}:
            detail = (
                f"the token endpoint refused the token request ({shown}): check scope and "
                f"audience, and that the client may use client credentials"
            )
        else:
            detail = f"the token endpoint gave no access token ({shown})"
        return self._failure(SourceUnavailable, detail)

    def _held_token(self, payload: dict[str, Any], asked_at: float) -> _Held:
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise self._failure(
                SourceUnavailable, "the token endpoint's answer has no access_token"
            )
        token_type = payload.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise self._failure(
                SourceUnavailable, "the token endpoint gave a token that is not a Bearer token"
            )
        lifetime = payload.get("expires_in")
        if lifetime is None:
            _log.debug(
                "source %s: the access token has no expires_in; kept until a 401", self.source
            )
            return _Held(access, None)
        try:
            lifetime_s = float(lifetime)
        except (TypeError, ValueError):
            lifetime_s = math.nan
        if not lifetime_s > 0 or math.isinf(lifetime_s):
            _log.warning(
                "source %s: the token endpoint's expires_in is not a positive number of "
                "seconds; the token is kept until the API refuses it",
                self.source,
            )
            return _Held(access, None)
        # Counted from when it was asked for: the answer's travel time is spent already.
        leeway = min(self.auth.refresh_leeway_s, lifetime_s / 2)
        return _Held(access, asked_at + lifetime_s - leeway)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        self._held, self._lock = None, None
        if session is not None and not session.closed:
            await session.close()
