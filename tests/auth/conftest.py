"""Real keys, real tokens and a real JWKS server on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

from tests.serving import loopback

ISSUER = "https://idp.example/realms/ece"
AUDIENCE = "ecehub-api"

Mint = Callable[..., str]


@pytest.fixture(scope="session")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


@pytest.fixture(scope="session")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


@pytest.fixture(scope="session")
def other_rsa_key() -> RSAKey:
    """Not published anywhere, but claims the published key's kid."""
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ta.lee@state.example",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Key, alg: str, header: dict[str, Any] | None = None, **overrides: Any) -> str:
    head = {"alg": alg, "kid": key.kid, **(header or {})}
    return jwt.encode(head, claims(**overrides), key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(**overrides: Any) -> str:
    """An ``alg: none`` token, built by hand: no library will make one."""
    head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{b64(json.dumps(claims(**overrides)).encode())}."


def hs256_with_public_key(key: RSAKey, **overrides: Any) -> str:
    """HS256 with the RSA public key's PEM as the HMAC secret (the algorithm-confusion
    attack), built by hand: joserfc refuses to make one."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    body = b64(json.dumps(claims(**overrides)).encode())
    secret = key.as_bytes(private=False)
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


@dataclass
class JwksServer:
    url: str
    keys: list[Key] = field(default_factory=list)
    fetches: int = 0

    def publish(self, *keys: Key) -> None:
        self.keys = list(keys)


@pytest.fixture
async def jwks_server(rsa_key: RSAKey, ec_key: ECKey) -> AsyncIterator[JwksServer]:
    server = JwksServer(url="")
    server.publish(rsa_key, ec_key)

    async def jwks(request: web.Request) -> web.Response:
        server.fetches += 1
        return web.json_response({"keys": [k.as_dict(private=False) for k in server.keys]})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    async with loopback(app) as url:
        server.url = f"{url}/.well-known/jwks.json"
        yield server
