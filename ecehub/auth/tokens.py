"""Verifying a bearer token (a compact JWS JWT) with joserfc.

The header's ``alg`` is checked against the configured allow-list before anything else, so an
unsigned token (``alg: none``) or an HMAC token made with a public key as its secret never
reaches a verifier; the key must then fit that algorithm. ``iss``, ``aud`` and ``exp`` are
required; ``exp``, ``nbf`` and ``iat`` are checked with ``leeway_s``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)

from ecehub.auth.errors import Reason, TokenRejected
from ecehub.auth.keys import KeySource, key_source
from ecehub.config.model import AuthConfig

__all__ = ["Authentication", "Principal", "TokenVerifier", "token_header"]


@dataclass(frozen=True)
class Principal:
    """Who a verified token says is acting, and every claim it carries (for roles later)."""

    user: str
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Authentication:
    """The outcome for one request: ``principal`` is ``None`` for an anonymous one."""

    mode: str
    principal: Principal | None = None

    @property
    def user(self) -> str | None:
        return self.principal.user if self.principal else None


def _b64_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def token_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, unverified; :class:`TokenRejected` ``malformed``
    when the token is not three base64url segments with a JSON object header."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("malformed", "the token is not a signed JWT (three segments)")
    try:
        header = _b64_json(parts[0])
    except (ValueError, binascii.Error, UnicodeError):
        raise TokenRejected("malformed", "the token header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise TokenRejected("malformed", "the token header is not a JSON object")
    return header


_CLAIM_REASONS: dict[str, tuple[Reason, str]] = {
    "iss": ("wrong_issuer", "the token was not issued by the configured issuer"),
    "aud": ("wrong_audience", "the token is not meant for this audience"),
    "nbf": ("not_yet_valid", "the token is not valid yet (nbf)"),
    "iat": ("not_yet_valid", "the token was issued in the future (iat)"),
    "exp": ("malformed", "the token's exp is not a date"),
}


class TokenVerifier:
    def __init__(
        self,
        config: AuthConfig,
        keys: KeySource,
        *,
        now: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.config = config
        self.keys = keys
        self.algorithms = frozenset(config.algorithms)
        self._now = now

    @classmethod
    def from_config(cls, config: AuthConfig, base_dir: Path | None = None) -> TokenVerifier:
        return cls(config, key_source(config, base_dir))

    async def verify(self, token: str) -> Principal:
        header = token_header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            allowed = ", ".join(sorted(self.algorithms))
            raise TokenRejected(
                "algorithm_not_allowed", f"the token's algorithm is not allowed; allowed: {allowed}"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("malformed", "the token's kid is not a string")
        key = await self.keys.key_for(alg, kid)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError:
            raise TokenRejected("bad_signature", "the token's signature does not verify") from None
        except JoseError as exc:
            raise TokenRejected("malformed", f"the token is malformed ({exc.error})") from None
        claims = dict(decoded.claims)
        self._check_claims(claims)
        user = claims.get(self.config.user_claim)
        if not isinstance(user, str) or not user.strip():
            raise TokenRejected(
                "malformed", f"the token has no {self.config.user_claim!r} claim naming the user"
            )
        return Principal(user=user.strip()[:200], claims=claims)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=self._now,
            leeway=self.config.leeway_s,
            iss={"essential": True, "value": self.config.issuer or ""},
            aud={"essential": True, "value": self.config.audience or ""},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenRejected("expired", "the token has expired") from None
        except MissingClaimError as exc:
            raise TokenRejected(
                "malformed", f"the token lacks required claims: {exc.claim}"
            ) from None
        except ClaimError as exc:
            reason, message = _CLAIM_REASONS.get(
                exc.claim, ("malformed", f"the token's {exc.claim} claim is invalid")
            )
            raise TokenRejected(reason, message) from None
