"""Request IDs and the log format.

Every HTTP request gets an ID (:class:`RequestId`, the outermost middleware): the caller's
``X-Request-ID`` when it is a sane token (:data:`SANE_ID`: letters, digits and ``._:=+/-``, at
most 128 characters), else a new one; the answer carries it back in ``X-Request-ID``. While
the request is handled it is in a context variable (:data:`request_id`), and every log record
made meanwhile carries it as ``record.request_id`` (``-`` outside a request):
:func:`install_record_factory` adds it as the record is made, whichever handler (a test's
included) gets it; :class:`RequestIdFilter` makes sure a handler's records have it.

:func:`setup_logging` is the logging of ``ecehub serve`` and ``ecehub demo``
(``server.log_format``): ``text`` lines, or one JSON object per line (:class:`JsonFormatter`)
with the time, level, logger, message, request ID and, for a server fault, its traceback.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "HEADER",
    "NO_REQUEST",
    "SANE_ID",
    "JsonFormatter",
    "RequestId",
    "RequestIdFilter",
    "install_record_factory",
    "new_request_id",
    "request_id",
    "setup_logging",
]

HEADER = "X-Request-ID"
NO_REQUEST = "-"
"""A log record's ``request_id`` when it was not made while handling a request."""

SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")
"""An incoming request ID that is kept; any other (a log-injecting newline, a quote, 10 KB of
text) is replaced by a new one."""

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ecehub_request_id", default=None
)
"""The ID of the request being handled (``None`` outside one)."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_HEADER_KEY = HEADER.lower().encode()


def new_request_id() -> str:
    return uuid.uuid4().hex


def _incoming(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == _HEADER_KEY:
            text = value.decode("latin-1").strip()
            return text if SANE_ID.fullmatch(text) else None
    return None


class RequestId:
    """ASGI middleware: gives the request its ID (kept from ``X-Request-ID`` when sane), sets
    :data:`request_id` while it is handled and answers the ID in ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        header = (_HEADER_KEY, rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _HEADER_KEY]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = request_id.set(rid)
        await self.app(scope, receive, send_with_id)
        # Reset only when the request ends normally: the server logs an exception that
        # escapes the app (a fault) after this returns, and that line keeps the ID.
        request_id.reset(token)


def _current() -> str:
    return request_id.get() or NO_REQUEST


_installed = False


def install_record_factory() -> None:
    """Make every log record carry ``request_id`` from the moment it is made (once per
    process; the factory in place before keeps making the record)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class RequestIdFilter(logging.Filter):
    """Gives a record without ``request_id`` the current one (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id``; ``exception`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(log_format: Literal["text", "json"] = "text", level: int = logging.INFO) -> None:
    """One handler on the root logger, to stderr, in ``log_format``; uvicorn's loggers (its
    access lines too) propagate to it, so give uvicorn ``log_config=None``."""
    install_record_factory()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
