"""Why a bearer token was refused.

    EcehubError
    └── AuthError
        └── TokenRejected   a bearer token failed a check; ``reason`` says which

Messages name the check that failed, never the token, a key or a claim value.
"""

from __future__ import annotations

from typing import Literal

from ecehub.errors import EcehubError

__all__ = ["AuthError", "Reason", "TokenRejected"]

Reason = Literal[
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "bad_signature",
    "algorithm_not_allowed",
    "malformed",
    "unknown_key",
]


class AuthError(EcehubError):
    """Authentication went wrong."""


class TokenRejected(AuthError):
    """A bearer token was refused; the request is answered 401 with ``reason``."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
