"""The exception tree of ecehub.

    EcehubError
    ├── ConfigError            a configuration file is malformed (names file, path and fix)
    ├── ConnectorNotFound      no connector is registered under a source's ``kind``
    └── SourceError            a source call failed; carries the source name, never secrets
        ├── SourceUnavailable  the source refused, errored or could not be reached
        └── SourceTimeout      the source did not answer within its ``timeout_s``

Errors carry their context (file, config path, source name) and a suggestion, never a secret
value: messages are built from names, never from URLs or credentials.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConnectorNotFound",
    "EcehubError",
    "SourceError",
    "SourceTimeout",
    "SourceUnavailable",
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
    """A call to a source failed. ``code`` is the GraphQL error code clients see."""

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"source {source!r}: {message}")
        self.source = source


class SourceUnavailable(SourceError):
    code = "SOURCE_UNAVAILABLE"


class SourceTimeout(SourceError):
    code = "SOURCE_TIMEOUT"
