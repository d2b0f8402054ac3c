"""The exception tree of ecehub.

    EcehubError
    ├── ConfigError            a configuration file is malformed (names file, path and fix)
    ├── ConnectorNotFound      no connector is registered under a source's ``kind``
    ├── SourceError            a source call failed; carries the source name, never secrets
    │   ├── SourceUnavailable  the source refused, errored or could not be reached
    │   │   └── SourceRejected the source refused the request itself (HTTP 4xx): not retried
    │   ├── SourceTimeout      the source did not answer within its ``timeout_s``
    │   └── SourceCircuitOpen  the source's circuit breaker is open: refused without a call
    └── HubStoreError          a hub-store read or write was refused; ``code`` for GraphQL
        ├── ValidationFailed   input broke a rule; ``field_errors`` maps field -> message
        ├── VersionConflict    the client's ``version`` is stale; carries the current one
        └── NotFound           no live hub object has that ID

Errors carry their context (file, config path, source name) and a suggestion, never a secret
value: messages are built from names, never from URLs or credentials. :func:`error_body` is
the JSON answer of a request refused before GraphQL runs (a bad token, a rate limit, a body
too large, a malformed request).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "ConnectorNotFound",
    "EcehubError",
    "Forbidden",
    "HubStoreError",
    "NotFound",
    "SourceCircuitOpen",
    "SourceError",
    "SourceRejected",
    "SourceTimeout",
    "SourceUnavailable",
    "ValidationFailed",
    "VersionConflict",
    "error_body",
]


class EcehubError(Exception):
    """Root of every error ecehub raises on purpose."""

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    def __str__(self) -> str:
        if self.suggestion:
            return f"{self.message}\n  fix: {self.suggestion}"
        return self.message


class ConfigError(EcehubError):
    """A configuration file could not be loaded or is invalid.

    ``problems`` lists ``(path, message)`` pairs, e.g.
    ``("sources.qris.entities.program.key", "field required")``.
    """

    def __init__(
        self, file: str, problems: list[tuple[str, str]], *, suggestion: str | None = None
    ) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}: invalid configuration"]
        lines += [f"  {path or '<root>'}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines), suggestion=suggestion)


class ConnectorNotFound(EcehubError):
    """No connector class is registered for a source's ``kind``."""


class SourceError(EcehubError):
    """A call to a source failed. ``code`` is the GraphQL error code clients see.

    ``retriable``: whether trying the same read again may succeed (a 5xx, a dropped
    connection, a timeout with budget left). ``source_fault``: whether the failure says the
    source is unwell, so it counts towards opening its circuit breaker (a request the source
    refused as malformed does not, nor does a refusal by the breaker itself)."""

    code = "SOURCE_UNAVAILABLE"
    retriable = True
    source_fault = True

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"source {source!r}: {message}")
        self.source = source


class SourceUnavailable(SourceError):
    code = "SOURCE_UNAVAILABLE"


class SourceRejected(SourceUnavailable):
    """The source answered that the request itself is wrong (an HTTP 4xx other than 408 and
    429: a filter or parameter it does not take, a credential it refuses). Asking again
    gives the same answer, and the source is well: never retried, not a breaker failure."""

    retriable = False
    source_fault = False


class SourceTimeout(SourceError):
    code = "SOURCE_TIMEOUT"


class SourceCircuitOpen(SourceError):
    """The source failed often enough that its circuit breaker opened: the call was refused
    at once, without reaching the source. ``retry_in_s``: when the breaker lets a probe call
    through (0 while a probe is already under way)."""

    code = "SOURCE_CIRCUIT_OPEN"
    retriable = False
    source_fault = False

    def __init__(self, source: str, message: str, *, retry_in_s: float) -> None:
        super().__init__(source, message)
        self.retry_in_s = retry_in_s


class HubStoreError(EcehubError):
    """The hub store refused a read or write. ``code`` is the GraphQL error code clients see."""

    code = "HUB_STORE_ERROR"


class ValidationFailed(HubStoreError):
    """Input broke one or more rules; nothing was written.

    ``field_errors`` maps each offending input field to what is wrong with it, e.g.
    ``{"title": "required", "period_end": "must not be before period_start"}``.
    """

    code = "VALIDATION_FAILED"

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = dict(field_errors)
        detail = "; ".join(f"{name}: {msg}" for name, msg in sorted(self.field_errors.items()))
        super().__init__(f"invalid input: {detail}", suggestion="correct the fields named")


class VersionConflict(HubStoreError):
    """An update or delete named a ``version`` that is no longer current; nothing was written."""

    code = "VERSION_CONFLICT"

    def __init__(self, object_type: str, object_id: str, current_version: int) -> None:
        self.object_type = object_type
        self.object_id = object_id
        self.current_version = current_version
        super().__init__(
            f"{object_type} {object_id} was changed by someone else "
            f"(now at version {current_version})",
            suggestion="read it again and re-apply your change to the current version",
        )


class NotFound(HubStoreError):
    """No live hub object of that type has that ID (or it is deleted)."""

    code = "NOT_FOUND"

    def __init__(self, object_type: str, object_id: str, *, detail: str = "not found") -> None:
        self.object_type = object_type
        self.object_id = object_id
        super().__init__(f"{object_type} {object_id}: {detail}")


class Forbidden(HubStoreError):
    """The acting user's role may not do this (read this field, see this program, write this
    object); nothing was written."""

    code = "FORBIDDEN"

    def __init__(self, message: str, *, program_id: str | None = None) -> None:
        self.program_id = program_id
        super().__init__(message, suggestion="ask a state administrator for access")


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL-style answer with one error and no data."""
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}],
    }
