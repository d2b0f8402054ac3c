"""The ``rest`` connector's HTTP side: the auth header or query param, one aiohttp
ClientSession per connector, and one GET turned into a JSON body or a source error.

Every request holds one slot of a per-connector semaphore of ``max_concurrency``. With OAuth2
client credentials the access token comes from
:class:`~ecehub.connectors.rest.oauth.ClientCredentialsTokens`; a 401 from the API drops it and
the request is sent once more with a new one. ``tls`` gives the session an SSL context (client
certificate, CA) used for the API and the token endpoint.
A 4xx other than 408 and 429 (and an OAuth2 401, retried once) is
:class:`~ecehub.errors.SourceRejected` (the request is wrong, the source is well); any other
non-2xx, a timeout or a transport error is a source failure.

Errors name the source, the method and the path only, never the base URL, a credential or a
query string: the API key may travel as a query param.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from yarl import URL

from ecehub.connectors.rest.failures import unanswered
from ecehub.connectors.rest.oauth import ClientCredentialsTokens
from ecehub.connectors.rest.paths import ABSENT
from ecehub.connectors.rest.settings import (
    ApiKeyAuth,
    BearerAuth,
    OAuth2ClientCredentialsAuth,
    RestSourceConfig,
)
from ecehub.connectors.usage import count
from ecehub.errors import SourceRejected, SourceTimeout, SourceUnavailable

__all__ = ["Query", "RestTransport", "pairs"]

Query = Mapping[str, str] | Sequence[tuple[str, str]]
"""Query parameters: a mapping, or pairs where a parameter may repeat."""


def pairs(params: Query) -> list[tuple[str, str]]:
    """``params`` as a new list of pairs."""
    return list(params.items()) if isinstance(params, Mapping) else list(params)


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    query: list[tuple[str, str]]
    json_body: Any
    shown: str
    missing_ok: bool
    read_json: bool


_log = logging.getLogger("ecehub.connectors.rest")  # the name it had before the package split

_REFUSED = object()
"""What one send returns when the API answered 401 to an OAuth2 access token."""

# 4xx answers that say "not now" rather than "not this request": worth a retry, and a sign of
# an unwell source (every other 4xx is SourceRejected: never retried, no breaker failure).
_TRANSIENT = frozenset({408, 429})


class RestTransport:
    """The session, auth and GET of one ``rest`` source (``source`` names it in errors)."""

    def __init__(self, source: str, config: RestSourceConfig) -> None:
        self.source = source
        self.settings = config
        self.timeout_s: float = config.timeout_s
        self._base_url = config.base_url.rstrip("/")
        self.shown_prefix = urlsplit(config.base_url).path.rstrip("/")
        self._secure = urlsplit(config.base_url).scheme == "https"
        headers = {"Accept": "application/json", **config.headers}
        self._auth_query: dict[str, str] = {}
        auth = config.auth
        if isinstance(auth, ApiKeyAuth):
            if auth.query:
                self._auth_query[auth.query] = auth.value.get_secret_value()
            elif auth.header:
                headers[auth.header] = auth.value.get_secret_value()
        elif isinstance(auth, BearerAuth):
            headers["Authorization"] = f"Bearer {auth.token.get_secret_value()}"
        self._headers = headers
        self._ssl: ssl.SSLContext | None = None
        if config.tls is not None:
            self._ssl = config.tls.ssl_context()
            if not config.tls.verify:
                _log.warning(
                    "source %s: tls.verify is false: the server's certificate is not checked "
                    "(for tests only)",
                    source,
                )
        self.tokens: ClientCredentialsTokens | None = None
        if isinstance(auth, OAuth2ClientCredentialsAuth):
            self.tokens = ClientCredentialsTokens(
                source, auth, timeout_s=self.timeout_s, ssl_context=self._ssl
            )
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The open session, if a request made one."""
        return self._session

    def _client(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """The session and the concurrency slots, created inside the running loop."""
        if self._session is None or self._session.closed or self._slots is None:
            # Per connect and per read, not in total: the gateway bounds the whole call (all
            # its requests) on the source's own time, without the event loop's lag; data that
            # has arrived resets a read timer before a late timer runs.
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeout_s, sock_read=self.timeout_s
            )
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=timeout,
                connector=None if self._ssl is None else aiohttp.TCPConnector(ssl=self._ssl),
            )
            self._slots = asyncio.Semaphore(self.settings.max_concurrency)
        return self._session, self._slots

    def url_length(self, path: str, params: Query) -> int:
        """The length of the URL a GET of ``path`` with ``params`` sends (the auth query
        param included), as aiohttp encodes it."""
        url = URL(self._base_url + path).update_query([*pairs(params), *self._auth_query.items()])
        return len(str(url))

    async def get(
        self,
        path: str,
        params: Query,
        *,
        missing_ok: bool = False,
        read_json: bool = True,
    ) -> Any:
        """GET ``path`` and return its JSON body (``ABSENT`` for a 404 when ``missing_ok``).
        ``params``: a mapping, or pairs (a parameter may repeat: ``id=1&id=2``)."""
        return await self.request("GET", path, params, missing_ok=missing_ok, read_json=read_json)

    async def request(
        self,
        method: str,
        path: str,
        params: Query,
        *,
        json_body: Any = None,
        missing_ok: bool = False,
        read_json: bool = True,
    ) -> Any:
        """``method`` (GET, or POST with ``json_body``) on ``path``: its JSON body."""
        shown = f"{method} {self.shown_prefix}{path}"
        query = [*pairs(params), *self._auth_query.items()]
        call = _Call(method, path, query, json_body, shown, missing_ok, read_json)
        if self.tokens is None:
            return await self._send(call, None)
        token = await self.tokens.access_token()
        body = await self._send(call, token)
        if body is not _REFUSED:
            return body
        # The token may be revoked or the server's keys rotated: one new token, one retry.
        _log.info("source %s: %s -> 401; asking for a new access token", self.source, shown)
        self.tokens.refused(token)
        token = await self.tokens.access_token()
        body = await self._send(call, token)
        if body is _REFUSED:
            raise SourceUnavailable(
                self.source,
                f"HTTP 401 from {shown} with a new access token: the API does not accept "
                f"this client's tokens (check scope and audience)",
            )
        return body

    async def _send(self, call: _Call, token: str | None) -> Any:
        """One request; ``_REFUSED`` when the API answers 401 to ``token``."""
        shown, missing_ok, read_json = call.shown, call.missing_ok, call.read_json
        session, slots = self._client()
        headers = None if token is None else {"Authorization": f"Bearer {token}"}
        async with slots:
            started = time.perf_counter()
            try:
                # No redirects: the auth header must not follow a redirect to another host.
                count(requests=1)
                async with session.request(
                    call.method,
                    self._base_url + call.path,
                    params=call.query,
                    json=call.json_body,
                    headers=headers,
                    allow_redirects=False,
                ) as resp:
                    _log.debug(
                        "source %s: %s -> %d in %.0f ms",
                        self.source,
                        shown,
                        resp.status,
                        (time.perf_counter() - started) * 1000,
                    )
                    if missing_ok and resp.status == 404:
                        return ABSENT
                    if resp.status == 401 and token is not None:
                        return _REFUSED
                    if 400 <= resp.status < 500 and resp.status not in _TRANSIENT:
                        raise SourceRejected(self.source, f"HTTP {resp.status} from {shown}")
                    if not 200 <= resp.status < 300:
                        raise SourceUnavailable(self.source, f"HTTP {resp.status} from {shown}")
                    if not read_json:
                        return None
                    body = await resp.read()
                    try:
                        return _json(body, resp)
                    except ValueError:
                        raise SourceUnavailable(self.source, f"invalid JSON from {shown}") from None
            except TimeoutError:
                raise SourceTimeout(
                    self.source, f"no answer within {self.timeout_s:g} s to {shown}"
                ) from None
            except aiohttp.ClientError as exc:
                # Not chained: aiohttp's messages may hold the full URL with its query.
                raise SourceUnavailable(
                    self.source, unanswered(exc, shown, secure=self._secure)
                ) from None

    async def aclose(self) -> None:
        session, self._session, self._slots = self._session, None, None
        if session is not None and not session.closed:
            await session.close()
        if self.tokens is not None:
            await self.tokens.aclose()


def _json(body: bytes, resp: aiohttp.ClientResponse) -> Any:
    """A source's JSON answer, decoded by orjson (a page of 1,000 rows decoded by the standard
    library was a tenth of a REST listing's CPU); what orjson refuses and the standard
    decoder reads (text in the charset the answer declares other than UTF-8, ``NaN``,
    integers beyond 64 bits) is read as before, with the same decoder aiohttp used. A
    ``ValueError`` when neither reads it."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body.decode(resp.get_encoding()))
    except (LookupError, UnicodeDecodeError) as error:  # an unknown charset; bad bytes
        raise ValueError(str(error)) from None
