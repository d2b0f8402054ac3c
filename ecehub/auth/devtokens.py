"""Development tokens: a local ES256 signing key (made once, private key kept with 0600
permissions, public JWK written next to it for ``auth.keys``) and tokens minted with it.
Never for production: whoever holds the key directory can act as anyone."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from ecehub.config.model import AuthConfig

__all__ = [
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "DevKey",
    "dev_auth_config",
]

DEV_ISSUER = "ecehub-dev"
DEV_AUDIENCE = "ecehub"
PRIVATE_KEY_FILE = "dev-signing-key.jwk.json"
PUBLIC_KEY_FILE = "dev-signing-key.pub.jwk.json"


@dataclass(frozen=True)
class DevKey:
    key: ECKey
    directory: Path

    @property
    def public_path(self) -> Path:
        return self.directory / PUBLIC_KEY_FILE

    @classmethod
    def load_or_create(cls, directory: Path) -> DevKey:
        """The key in ``directory``, generated (P-256) on first use."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = directory / PRIVATE_KEY_FILE
        if private.exists():
            key = ECKey.import_key(json.loads(private.read_text(encoding="utf-8")))
        else:
            key = ECKey.generate_key("P-256", auto_kid=True)
            data = json.dumps(key.as_dict(private=True)).encode()
            # Created 0600 from the start (O_EXCL): the private key is never readable by others.
            fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        key.ensure_kid()
        public = json.dumps({**key.as_dict(private=False), "alg": "ES256", "use": "sig"})
        (directory / PUBLIC_KEY_FILE).write_text(public + "\n", encoding="utf-8")
        return cls(key, directory)

    def mint(
        self,
        *,
        sub: str,
        roles: Sequence[str] = (),
        programs: Sequence[str] = (),
        support_types: Sequence[str] = (),
        ttl_s: int = 3600,
        issuer: str = DEV_ISSUER,
        audience: str = DEV_AUDIENCE,
        now: int | None = None,
    ) -> str:
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": sub,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_s,
            "roles": list(roles),
            "programs": list(programs),
        }
        if support_types:
            claims["support_types"] = list(support_types)
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)


def dev_auth_config(key: DevKey) -> AuthConfig:
    """jwt mode trusting only the local dev key."""
    return AuthConfig(
        mode="jwt",
        issuer=DEV_ISSUER,
        audience=DEV_AUDIENCE,
        keys=[str(key.public_path)],
        algorithms=["ES256"],
    )
