"""The ``graphql`` connector's HTTP side: one aiohttp session per connector and one POST
turned into the answer's ``data`` or a source error.

An answer's ``errors`` are read as GraphQL means them: an error without a path, or at a root
field whose value is null, failed that call, so the whole call raises
:class:`~ecehub.errors.SourceUnavailable` with the source's own message; an error deeper in
the answer (one record's field) left the rest of the data good, so the data is used, the
value it concerns reads as null, and the errors are counted and logged (partial data,
accounted). Messages are cut short and never hold the URL or a header's value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ecehub.connectors.graphql.document import Document
from ecehub.connectors.graphql.settings import GraphqlSourceConfig
from ecehub.connectors.usage import count
from ecehub.errors import SourceTimeout, SourceUnavailable

__all__ = ["GraphqlTransport"]

log = logging.getLogger("ecehub.connectors.graphql")

_MESSAGE_CHARS = 200


class GraphqlTransport:
    """The session and POST of one ``graphql`` source (``source`` names it in errors)."""

    def __init__(self, source: str, config: GraphqlSourceConfig) -> None:
        self.source = source
        self.settings = config
        self.shown = f"POST {urlsplit(config.url).path or '/'}"
        # A header's value and its words ("Bearer <token>": the token on its own too).
        self._secrets = [
            secret
            for value in config.headers.values()
            for secret in [value.get_secret_value(), *value.get_secret_value().split()]
            if len(secret) >= 8
        ]
        query = urlsplit(config.url).query
        if query:
            self._secrets.append(query)
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self.requests = 0
        """Requests sent (for traces and tests)."""
        self.partial_errors = 0
        """GraphQL errors inside otherwise good answers (their values read as null)."""

    def _client(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """The session and the concurrency slots, made inside the running loop."""
        if self._session is None or self._session.closed or self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_concurrency)
            headers = {
                "Accept": "application/graphql-response+json, application/json",
                **{k: v.get_secret_value() for k, v in self.settings.headers.items()},
            }
            self._session = aiohttp.ClientSession(
                headers=headers, timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)
            )
        return self._session, self._slots

    async def aclose(self) -> None:
        session, self._session, self._slots = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _clean(self, message: Any) -> str:
        text = " ".join(str(message).split())
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        if len(text) > _MESSAGE_CHARS:
            text = text[: _MESSAGE_CHARS - 3] + "..."
        return text or "(no message)"

    def _message(self, error: Any) -> str:
        return self._clean(error.get("message") if isinstance(error, Mapping) else "")

    async def post(self, document: Document, operation: str) -> dict[str, Any]:
        """The ``data`` of the answer to ``document``."""
        session, slots = self._client()
        payload = {
            "query": document.text,
            "variables": document.variables,
            "operationName": operation,
        }
        async with slots:
            self.requests += 1
            count(requests=1)
            started = time.perf_counter()
            try:
                # No redirects: the headers (a token) must not follow one to another host.
                async with session.post(
                    self.settings.url, json=payload, allow_redirects=False
                ) as resp:
                    status = resp.status
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
            except TimeoutError:
                raise SourceTimeout(
                    self.source, f"no answer within {self.settings.timeout_s:g} s to {self.shown}"
                ) from None
            except aiohttp.ClientError as exc:
                # Not chained: aiohttp's message may hold the whole URL.
                raise SourceUnavailable(
                    self.source, f"{type(exc).__name__} on {self.shown}"
                ) from None
        log.debug(
            "source %s: %s %s -> %d in %.0f ms",
            self.source,
            self.shown,
            operation,
            status,
            (time.perf_counter() - started) * 1000,
        )
        return self._data(status, body, document)

    def _data(self, status: int, body: Any, document: Document) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            what = f"HTTP {status}" if not 200 <= status < 300 else "an answer that is not JSON"
            raise SourceUnavailable(self.source, f"{what} from {self.shown}")
        errors = body.get("errors") or []
        if not isinstance(errors, list):
            errors = [{"message": "malformed `errors`"}]
        data = body.get("data")
        first = f": {self._message(errors[0])}" if errors else ""
        if not isinstance(data, Mapping):
            if errors:
                raise SourceUnavailable(self.source, f"GraphQL error from {self.shown}{first}")
            raise SourceUnavailable(self.source, f"HTTP {status} from {self.shown} without `data`")
        if errors:
            failed = [e for e in errors if self._fails_a_call(e, data)]
            if failed:
                message = self._message(failed[0])
                raise SourceUnavailable(self.source, f"GraphQL error from {self.shown}: {message}")
            self.partial_errors += len(errors)
            log.warning(
                "source %s: %d GraphQL error(s) inside the answer to %s (first%s); the "
                "values they concern read as null",
                self.source,
                len(errors),
                self.shown,
                first,
            )
        return dict(data)

    @staticmethod
    def _fails_a_call(error: Any, data: Mapping[str, Any]) -> bool:
        if not isinstance(error, Mapping):
            return True
        path = error.get("path")
        if not isinstance(path, list) or not path:
            return True
        return len(path) == 1 or data.get(str(path[0])) is None
