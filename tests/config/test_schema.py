"""The config's JSON Schema (``ecehub config schema``): the example configs pass it, the
mistakes editors should catch fail it, and each source is checked by its kind's settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ecehub.config.schema import config_json_schema
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = config_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.protocols.Validator, data: Any) -> list[str]:
    return sorted(e.message for e in validator.iter_errors(data))


@pytest.mark.parametrize("name", ["demo.yaml", "state.example.yaml"])
def test_the_example_configs_pass(validator: jsonschema.protocols.Validator, name: str) -> None:
    data = yaml.safe_load((ROOT / "config" / name).read_text().replace("${", "$<"))
    assert _errors(validator, data) == []


def test_mistakes_fail(validator: jsonschema.protocols.Validator) -> None:
    rest = {"kind": "rest", "base_url": "http://q", "entities": {}}
    assert _errors(validator, {"sources": {"qris": {**rest, "timout_s": 3}}})
    assert _errors(validator, {"sources": {"qris": {**rest, "table": "x"}}})  # sql's setting
    assert _errors(validator, {"sources": {"qris": {"kind": "ftp"}}})
    assert _errors(validator, {"sources": {"Bad Name": rest}})
    assert _errors(validator, {"servr": {}})
    assert _errors(validator, {"sources": {"qris": rest}}) == []


def test_rest_auth_and_tls_settings_are_described(
    validator: jsonschema.protocols.Validator,
) -> None:
    oauth = {
        "type": "oauth2_client_credentials",
        "token_url": "https://idp.example/oauth/token",
        "client_id_env": "QRIS_CLIENT_ID",
        "client_secret_env": "QRIS_CLIENT_SECRET",
        "scope": ["providers:read"],
        "auth_method": "client_secret_post",
    }
    tls = {"client_cert": "certs/hub.pem", "client_key": "certs/hub.key", "ca_file": "ca.pem"}
    rest = {"kind": "rest", "base_url": "https://q", "auth": oauth, "tls": tls}

    def errors(**changes: Any) -> list[str]:
        return _errors(validator, {"sources": {"qris": {**rest, **changes}}})

    assert errors() == []
    assert errors(auth={**oauth, "client_secret": "s3cr3t"})  # secrets are not written here
    assert errors(auth={**oauth, "client_secret_env": "$<QRIS_CLIENT_SECRET}"})  # a name, not ${}
    assert errors(auth={**oauth, "auth_method": "private_key_jwt"})
    assert errors(tls={**tls, "key_password": "pw"})
    assert errors(tls={**tls, "verify": "no"})


async def test_the_command_writes_it(tmp_path: Path) -> None:
    out = tmp_path / "ecehub-config.schema.json"
    code, _, err = await run("config", "schema", "-o", str(out))
    assert code == 0, err
    assert json.loads(out.read_text())["title"] == "ecehub configuration"


def test_the_csv_and_graphql_kinds_are_described(validator: jsonschema.protocols.Validator) -> None:
    csv = {
        "kind": "csv",
        "delimiter": ";",
        "entities": {
            "enrollment": {
                "file": ["a.csv", "https://data.example.org/b.csv"],
                "key": ["program", "year"],
                "parent": {"program": "program"},
                "fields": {"count": "kids"},
            }
        },
    }
    assert _errors(validator, {"sources": {"registry": csv}}) == []
    assert _errors(validator, {"sources": {"registry": {**csv, "delimeter": ";"}}})
    assert _errors(validator, {"sources": {"registry": {**csv, "base_url": "http://x"}}})
    graphql = {
        "kind": "graphql",
        "url": "https://partner.example.org/graphql",
        "entities": {
            "program": {
                "key": "id",
                "fetch": {"field": "providers", "argument": "ids"},
                "find": {"field": "providerList", "paging": "offset"},
            }
        },
    }
    assert _errors(validator, {"sources": {"partner": graphql}}) == []
    assert _errors(validator, {"sources": {"partner": {**graphql, "records_path": "data"}}})
