"""jwt mode end to end: the app over the demo systems, tokens checked against a real JWKS
served on loopback. A bad token is answered 401 with its reason; no token is anonymous."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.config.model import AuthConfig
from ecehub.demo import DemoSystems
from ecehub.resolvers.runtime import Runtime
from tests.auth.conftest import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    hs256_with_public_key,
    sign,
    unsigned,
)

USER = "ta.lee@state.example"
FIRST_PROGRAM = "{ programs(first: 1) { nodes { id } } }"
CREATE_GOAL = """mutation($p: ID!) { createQipGoal(programId: $p,
  input: {title: "Coaching plan", supportTypes: ["QRIS"], targetDate: "2027-06-30"}) { id } }"""
AUDIT = "query($p: ID!) { audit(programId: $p) { entries { actor action objectType } } }"


@contextlib.asynccontextmanager
async def _hub(tmp_path: Path, auth: AuthConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with DemoSystems(programs=10, data_dir=tmp_path, hub_programs=0) as demo:
        config = load_config(demo.config_path, env={**os.environ, **demo.env})
        config = config.model_copy(update={"auth": auth, "access": None})
        hub = Runtime(config)
        transport = httpx.ASGITransport(app=create_app(config, hub))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield client
        finally:
            await hub.aclose()


def _jwt_mode(jwks_server: JwksServer) -> AuthConfig:
    return AuthConfig(
        mode="jwt", issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url, leeway_s=5
    )


async def _post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


async def test_a_valid_token_acts_as_its_subject(
    tmp_path: Path, rsa_key: RSAKey, ec_key: ECKey, jwks_server: JwksServer
) -> None:
    async with _hub(tmp_path, _jwt_mode(jwks_server)) as client:
        program = (await _post(client, FIRST_PROGRAM)).json()["data"]["programs"]["nodes"][0]
        token = sign(ec_key, "ES256", sub=USER)
        created = await _post(client, CREATE_GOAL, {"p": program["id"]}, token)
        assert created.status_code == 200 and "errors" not in created.json(), created.text
        audit = (await _post(client, AUDIT, {"p": program["id"]}, token)).json()
        assert {e["actor"] for e in audit["data"]["audit"]["entries"]} == {USER}


async def test_no_token_is_anonymous_and_the_dev_header_means_nothing(
    tmp_path: Path, jwks_server: JwksServer
) -> None:
    async with _hub(tmp_path, _jwt_mode(jwks_server)) as client:
        program = (await _post(client, FIRST_PROGRAM)).json()["data"]["programs"]["nodes"][0]
        write = await _post(
            client, CREATE_GOAL, {"p": program["id"]}, headers={"X-Ecehub-User": "admin"}
        )
        assert write.status_code == 200
        assert write.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        download = await client.get("/files/x", headers={"X-Ecehub-User": "admin"})
        assert download.status_code == 401
    assert jwks_server.fetches == 0


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k: sign(k["rsa"], "RS256", exp=1_000_000), "expired"),
        (lambda k: sign(k["rsa"], "RS256", nbf=4_000_000_000), "not_yet_valid"),
        (lambda k: sign(k["rsa"], "RS256", iss="https://evil.example"), "wrong_issuer"),
        (lambda k: sign(k["rsa"], "RS256", aud="someone-else"), "wrong_audience"),
        (lambda k: unsigned(), "algorithm_not_allowed"),
        (lambda k: sign(k["other"], "RS256"), "bad_signature"),
        (lambda k: hs256_with_public_key(k["rsa"]), "algorithm_not_allowed"),
        (lambda k: sign(k["rsa"], "RS512"), "algorithm_not_allowed"),
        (
            lambda k: sign(RSAKey.generate_key(2048, parameters={"kid": "x"}), "RS256"),
            "unknown_key",
        ),
        (lambda k: "not-a-jwt", "malformed"),
    ],
)
async def test_bad_tokens_get_401_with_the_reason_and_no_secret(
    tmp_path: Path,
    rsa_key: RSAKey,
    ec_key: ECKey,
    other_rsa_key: RSAKey,
    jwks_server: JwksServer,
    make: Any,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make({"rsa": rsa_key, "ec": ec_key, "other": other_rsa_key})
    async with _hub(tmp_path, _jwt_mode(jwks_server)) as client:
        answer = await _post(client, FIRST_PROGRAM, token=token)
        download = await client.get("/files/x", headers={"Authorization": f"Bearer {token}"})
        health = await client.get("/healthz", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and download.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    error = answer.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    assert health.status_code == 200
    private = [json.dumps(k.as_dict(private=True)) for k in (rsa_key, ec_key, other_rsa_key)]
    d_values = [str(k.as_dict(private=True)["d"]) for k in (rsa_key, ec_key, other_rsa_key)]
    seen = answer.text + caplog.text
    assert token not in seen
    assert not any(secret in seen for secret in private + d_values)


async def test_header_mode_warns_that_it_is_for_development(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ecehub.auth")
    async with _hub(tmp_path, AuthConfig()) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert "development only" in caplog.text.lower()
