"""Authentication: who is acting on a request (see :mod:`ecehub.auth.middleware`)."""

from ecehub.auth.errors import AuthError, Reason, TokenRejected
from ecehub.auth.keys import JwksKeys, KeySource, StaticKeys, parse_keys
from ecehub.auth.middleware import (
    ACTOR_HEADER,
    Authenticate,
    Authentication,
    authentication_middleware,
    authentication_of,
)
from ecehub.auth.tokens import Principal, TokenVerifier

__all__ = [
    "ACTOR_HEADER",
    "AuthError",
    "Authenticate",
    "Authentication",
    "JwksKeys",
    "KeySource",
    "Principal",
    "Reason",
    "StaticKeys",
    "TokenRejected",
    "TokenVerifier",
    "authentication_middleware",
    "authentication_of",
    "parse_keys",
]
