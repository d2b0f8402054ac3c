"""The auth: section is checked when the config is loaded; errors name the setting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from ecehub.app import create_app
from ecehub.auth import AuthError, parse_keys
from ecehub.config import load_config
from ecehub.config.loader import parse_config
from ecehub.errors import ConfigError


def _auth(**values: Any) -> dict[str, Any]:
    return {"auth": {"mode": "jwt", "issuer": "i", "audience": "a", **values}}


@pytest.mark.parametrize(
    ("values", "path", "words"),
    [
        ({"keys": ["k"], "algorithms": ["RS256", "HS256"]}, "auth.algorithms", "HS256"),
        ({"keys": ["k"], "algorithms": ["none"]}, "auth.algorithms", "none"),
        ({"keys": ["k"], "algorithms": ["ES256", "NONE"]}, "auth.algorithms", "none"),
        ({"keys": ["k"], "algorithms": ["XY999"]}, "auth.algorithms", "unknown"),
        ({"keys": ["k"], "algorithms": []}, "auth.algorithms", ""),
        ({}, "auth", "jwks_url or keys"),
        ({"keys": ["k"], "jwks_url": "https://idp/jwks"}, "auth", "exactly one"),
        ({"keys": ["k"], "issuer": None}, "auth", "issuer"),
    ],
)
def test_unsafe_or_incomplete_auth_is_refused(
    values: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(_auth(**values))
    paths = [p for p, _ in refused.value.problems]
    assert path in paths, refused.value.problems
    assert words.lower() in str(refused.value).lower()


def test_header_mode_is_the_default_and_hs_only_is_allowed() -> None:
    assert parse_config({}).auth.mode == "header"
    config = parse_config(_auth(keys=["k"], algorithms=["HS256"]))
    assert config.auth.algorithms == ["HS256"]


def test_static_keys_come_as_jwk_jwks_pem_or_a_file(tmp_path: Path) -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "r"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "e"})
    jwk = json.dumps(rsa.as_dict(private=False))
    jwks = json.dumps({"keys": [ec.as_dict(private=False)]})
    pem = ec.as_pem(private=False).decode()
    (tmp_path / "pub.json").write_text(jwk)
    keys = parse_keys([jwk, jwks, pem, "pub.json"], tmp_path)
    assert [k.key_type for k in keys] == ["RSA", "EC", "EC", "RSA"]


@pytest.mark.parametrize("bad", ["nope.json", '{"kty": "RSA"}', "-----BEGIN junk"])
def test_unusable_keys_name_their_place_not_their_value(tmp_path: Path, bad: str) -> None:
    with pytest.raises(AuthError) as refused:
        parse_keys([bad], tmp_path)
    assert "auth.keys[0]" in str(refused.value)


def test_a_private_key_in_config_is_refused(tmp_path: Path) -> None:
    private = json.dumps(ECKey.generate_key("P-256").as_dict(private=True))
    with pytest.raises(AuthError) as refused:
        parse_keys([private], tmp_path)
    assert "private" in str(refused.value)
    assert private not in str(refused.value)


def test_a_bad_key_file_stops_the_app_with_a_config_error(tmp_path: Path) -> None:
    file = tmp_path / "ecehub.yaml"
    file.write_text("auth: {mode: jwt, issuer: i, audience: a, keys: [missing.json]}\n")
    with pytest.raises(ConfigError) as refused:
        create_app(load_config(file))
    assert refused.value.problems[0][0] == "auth.keys[0]"
