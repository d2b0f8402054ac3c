"""TokenVerifier: every refusal has its reason; JWKS fetched, cached and rotated."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc.jwk import ECKey, Key, RSAKey

from ecehub.auth import JwksKeys, StaticKeys, TokenRejected, TokenVerifier
from ecehub.config.model import AuthConfig
from tests.auth.conftest import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    b64,
    hs256_with_public_key,
    sign,
    unsigned,
)

NOW = int(time.time())


def _config(**overrides: object) -> AuthConfig:
    values: dict[str, object] = {
        "mode": "jwt",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_url": "http://127.0.0.1:9/unused",
    }
    values.update(overrides)
    return AuthConfig.model_validate(values)


def _static(rsa_key: RSAKey, ec_key: ECKey, **overrides: object) -> TokenVerifier:
    public: list[Key] = [
        RSAKey.import_key(rsa_key.as_dict(private=False)),
        ECKey.import_key(ec_key.as_dict(private=False)),
    ]
    return TokenVerifier(_config(**overrides), StaticKeys(public))


async def test_a_valid_token_gives_its_subject_and_claims(rsa_key: RSAKey, ec_key: ECKey) -> None:
    verifier = _static(rsa_key, ec_key)
    for key, alg in ((rsa_key, "RS256"), (ec_key, "ES256")):
        principal = await verifier.verify(sign(key, alg, roles=["ta_staff"]))
        assert principal.user == "ta.lee@state.example"
        assert principal.claims["roles"] == ["ta_staff"]


async def test_the_user_claim_is_configurable(rsa_key: RSAKey, ec_key: ECKey) -> None:
    verifier = _static(rsa_key, ec_key, user_claim="email")
    principal = await verifier.verify(sign(rsa_key, "RS256", email="lee@state.example"))
    assert principal.user == "lee@state.example"
    with pytest.raises(TokenRejected) as refused:
        await verifier.verify(sign(rsa_key, "RS256"))
    assert refused.value.reason == "malformed"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": NOW - 120}, "expired"),
        ({"nbf": NOW + 3600}, "not_yet_valid"),
        ({"iat": NOW + 3600}, "not_yet_valid"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"aud": "another-api"}, "wrong_audience"),
        ({"aud": ["a", "b"]}, "wrong_audience"),
        ({"exp": None}, "malformed"),
        ({"iss": None}, "malformed"),
    ],
)
async def test_claims_are_enforced(
    rsa_key: RSAKey, ec_key: ECKey, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(sign(rsa_key, "RS256", **overrides))
    assert refused.value.reason == reason


async def test_leeway_forgives_a_little_clock_skew(rsa_key: RSAKey, ec_key: ECKey) -> None:
    verifier = _static(rsa_key, ec_key, leeway_s=30)
    await verifier.verify(sign(rsa_key, "RS256", exp=int(time.time()) - 10))
    await verifier.verify(sign(rsa_key, "RS256", nbf=int(time.time()) + 10))


async def test_unsigned_tokens_are_refused_before_any_key_is_looked_at(
    rsa_key: RSAKey, ec_key: ECKey
) -> None:
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(unsigned())
    assert refused.value.reason == "algorithm_not_allowed"


async def test_hs256_made_with_the_public_key_is_refused(rsa_key: RSAKey, ec_key: ECKey) -> None:
    token = hs256_with_public_key(rsa_key)
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(token)
    assert refused.value.reason == "algorithm_not_allowed"


async def test_an_algorithm_off_the_allow_list_is_refused(rsa_key: RSAKey, ec_key: ECKey) -> None:
    verifier = _static(rsa_key, ec_key, algorithms=["ES256"])
    with pytest.raises(TokenRejected) as refused:
        await verifier.verify(sign(rsa_key, "RS256"))
    assert refused.value.reason == "algorithm_not_allowed"
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(sign(rsa_key, "PS256"))
    assert refused.value.reason == "algorithm_not_allowed"


async def test_a_token_signed_with_another_key_is_refused(
    rsa_key: RSAKey, ec_key: ECKey, other_rsa_key: RSAKey
) -> None:
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(sign(other_rsa_key, "RS256"))
    assert refused.value.reason == "bad_signature"


async def test_a_tampered_payload_is_refused(rsa_key: RSAKey, ec_key: ECKey) -> None:
    head, _, sig = sign(rsa_key, "RS256").split(".")
    forged = b64(
        b'{"iss":"%s","aud":"%s","sub":"admin","exp":9999999999}'
        % (ISSUER.encode(), AUDIENCE.encode())
    )
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(f"{head}.{forged}.{sig}")
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "!!.e30.x", "e30.e30.e30.e30"])
async def test_garbage_is_malformed(rsa_key: RSAKey, ec_key: ECKey, token: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(token)
    assert refused.value.reason in {"malformed", "algorithm_not_allowed"}


async def test_an_unknown_kid_is_refused(rsa_key: RSAKey, ec_key: ECKey) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "who"})
    with pytest.raises(TokenRejected) as refused:
        await _static(rsa_key, ec_key).verify(sign(stranger, "RS256"))
    assert refused.value.reason == "unknown_key"


async def test_jwks_is_fetched_once_and_cached(rsa_key: RSAKey, jwks_server: JwksServer) -> None:
    verifier = TokenVerifier(_config(), JwksKeys(jwks_server.url))
    for _ in range(5):
        await verifier.verify(sign(rsa_key, "RS256"))
    assert jwks_server.fetches == 1


async def test_a_rotated_key_is_picked_up_after_one_refetch(
    rsa_key: RSAKey, jwks_server: JwksServer
) -> None:
    keys = JwksKeys(jwks_server.url, refetch_min_s=0)
    verifier = TokenVerifier(_config(), keys)
    await verifier.verify(sign(rsa_key, "RS256"))
    rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    jwks_server.publish(rotated)
    principal = await verifier.verify(sign(rotated, "RS256"))
    assert principal.user == "ta.lee@state.example"
    assert jwks_server.fetches == 2
    # The retired key is gone from the provider, so from us too.
    with pytest.raises(TokenRejected) as refused:
        await verifier.verify(sign(rsa_key, "RS256"))
    assert refused.value.reason == "unknown_key"


async def test_unknown_kids_refetch_at_most_every_refetch_min_s(
    rsa_key: RSAKey, jwks_server: JwksServer
) -> None:
    verifier = TokenVerifier(_config(), JwksKeys(jwks_server.url, refetch_min_s=60))
    await verifier.verify(sign(rsa_key, "RS256"))
    for n in range(5):
        stranger = RSAKey.generate_key(2048, parameters={"kid": f"junk-{n}"})
        with pytest.raises(TokenRejected):
            await verifier.verify(sign(stranger, "RS256"))
    assert jwks_server.fetches == 1
