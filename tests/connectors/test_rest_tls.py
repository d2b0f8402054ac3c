"""Client certificates (mutual TLS) on a ``rest`` source, against a loopback HTTPS server that
requires one signed by its CA. The certificates are made here (a CA, the server's, the hub's,
and one from a stranger CA) with ``cryptography``; the config is a YAML file naming them
relative to its own folder, loaded and built as the hub does."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ecehub.config import load_config
from ecehub.connectors.rest import RestConnector
from ecehub.errors import ConfigError, SourceUnavailable
from ecehub.resolvers.runtime import build_connectors
from ecehub.testing import CONFORMANCE_DATA
from tests.connectors.secured_upstream import (
    CLIENT_SECRET,
    ENV,
    SecuredUpstream,
    oauth_source,
    serve_secured,
)
from tests.connectors.test_conformance import rest_source

KEY_PASSWORD = "kp-correct-horse-battery"
CLIENT_NAME = "ecehub-test-client"


# -- a small PKI -------------------------------------------------------------------------


@dataclass
class Issuer:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: Issuer | None,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)  # type: ignore[list-item]
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    return builder.sign(issuer.key if issuer else key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if password is None
        else serialization.BestAvailableEncryption(password.encode())
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _issuer(name: str) -> Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    return Issuer(key, _certificate(name, key, None, ca=True))


@dataclass
class Pki:
    folder: Path
    """Where the config file goes; the certificates are in its ``certs/`` folder."""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("mtls")
    certs = folder / "certs"
    certs.mkdir()
    ca, stranger = _issuer("ecehub test CA"), _issuer("a stranger's CA")
    server_key, client_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in "abc")
    server = _certificate("127.0.0.1", server_key, ca, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client = _certificate(CLIENT_NAME, client_key, ca, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    other = _certificate("intruder", other_key, stranger, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    files = {
        "ca.pem": _pem(ca.cert),
        "server.pem": _pem(server),
        "server.key": _key_pem(server_key),
        "client.pem": _pem(client),
        "client.key": _key_pem(client_key),
        "client-encrypted.key": _key_pem(client_key, KEY_PASSWORD),
        "stranger.pem": _pem(other),
        "stranger.key": _key_pem(other_key),
    }
    for name, data in files.items():
        (certs / name).write_bytes(data)
    return Pki(folder)


@pytest.fixture
async def tls_api(pki: Pki) -> AsyncIterator[SecuredUpstream]:
    """The API over HTTPS, requiring a client certificate signed by the test CA."""
    certs = pki.folder / "certs"
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=certs / "ca.pem")
    context.load_cert_chain(certs / "server.pem", certs / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    async with serve_secured(context) as state:
        state.requires_bearer = False
        yield state


def _config(pki: Pki, source: dict[str, Any], tls: dict[str, Any] | None) -> Path:
    if tls is not None:
        source = {**source, "tls": tls}
    path = pki.folder / "state.yaml"
    path.write_text(yaml.safe_dump({"sources": {"qris": source}}))
    return path


@pytest.fixture
async def connected(pki: Pki) -> AsyncIterator[list[RestConnector]]:
    made: list[RestConnector] = []
    yield made
    for connector in made:
        await connector.aclose()


def build(
    path: Path, made: list[RestConnector], env: dict[str, str] | None = None
) -> RestConnector:
    """The source of the config file at ``path``, built as the hub builds its connectors."""
    connector = build_connectors(load_config(path, env=env or {}))["qris"]
    assert isinstance(connector, RestConnector)
    made.append(connector)
    return connector


CLIENT_TLS = {"client_cert": "certs/client.pem", "client_key": "certs/client.key"}
TRUST = {"ca_file": "certs/ca.pem"}


# -- the handshake -----------------------------------------------------------------------


async def test_the_right_client_certificate_opens_the_api(
    pki: Pki, tls_api: SecuredUpstream, connected: list[RestConnector]
) -> None:
    path = _config(pki, rest_source(f"{tls_api.url}/secure/api"), {**CLIENT_TLS, **TRUST})
    connector = build(path, connected)
    found = await connector.fetch("program", ["P1", "P2"])
    assert set(found) == {"P1", "P2"}
    assert (await connector.health()).ok
    assert tls_api.client_certs and set(tls_api.client_certs) == {CLIENT_NAME}


async def test_an_encrypted_key_opens_with_its_password_from_the_environment(
    pki: Pki, tls_api: SecuredUpstream, connected: list[RestConnector]
) -> None:
    tls = {
        **TRUST,
        "client_cert": "certs/client.pem",
        "client_key": "certs/client-encrypted.key",
        "key_password_env": "QRIS_KEY_PASSWORD",
    }
    path = _config(pki, rest_source(f"{tls_api.url}/secure/api"), tls)
    connector = build(path, connected, {"QRIS_KEY_PASSWORD": KEY_PASSWORD})
    assert set(await connector.fetch("program", ["P3"])) == {"P3"}


@pytest.mark.parametrize(
    ("tls", "hint"),
    [
        pytest.param(TRUST, "check tls.client_cert", id="no-client-certificate"),
        pytest.param(
            {**TRUST, "client_cert": "certs/stranger.pem", "client_key": "certs/stranger.key"},
            "check tls.client_cert",
            id="a-stranger-ca's-certificate",
        ),
        pytest.param(CLIENT_TLS, "set tls.ca_file", id="the-server-not-trusted"),
        pytest.param(None, "set tls.ca_file", id="no-tls-settings"),
    ],
)
async def test_a_refused_handshake_is_source_unavailable(
    pki: Pki,
    tls_api: SecuredUpstream,
    connected: list[RestConnector],
    tls: dict[str, Any] | None,
    hint: str,
) -> None:
    path = _config(pki, rest_source(f"{tls_api.url}/secure/api"), tls)
    connector = build(path, connected)
    with pytest.raises(SourceUnavailable) as exc:
        await connector.fetch("program", ["P1"])
    assert exc.value.code == "SOURCE_UNAVAILABLE" and exc.value.source == "qris"
    message = str(exc.value)
    assert message.startswith("source 'qris': ") and "GET /secure/api/program" in message
    assert hint in message and "127.0.0.1" not in message
    health = await connector.health()
    assert not health.ok and hint in (health.detail or "")
    assert tls_api.client_certs == []  # no request reached the API


async def test_verify_false_skips_the_server_check_and_says_so(
    pki: Pki,
    tls_api: SecuredUpstream,
    connected: list[RestConnector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = _config(pki, rest_source(f"{tls_api.url}/secure/api"), {**CLIENT_TLS, "verify": False})
    connector = build(path, connected)
    assert set(await connector.fetch("program", ["P5"])) == {"P5"}  # no ca_file: not checked
    assert "source qris: tls.verify is false" in caplog.text


async def test_the_token_endpoint_is_reached_with_the_same_certificate(
    pki: Pki, tls_api: SecuredUpstream, connected: list[RestConnector]
) -> None:
    tls_api.requires_bearer = True
    path = _config(pki, oauth_source(tls_api), {**CLIENT_TLS, **TRUST})
    connector = build(path, connected, ENV)
    assert len((await connector.find("program")).records) == len(CONFORMANCE_DATA["program"])
    assert len(tls_api.token_requests) == 1 and set(tls_api.bearers) == set(tls_api.issued)
    # The token request and every API page came over the hub's client certificate.
    assert len(tls_api.client_certs) == 1 + len(tls_api.bearers)
    assert set(tls_api.client_certs) == {CLIENT_NAME}


# -- the config ----------------------------------------------------------------------------


def _problem(pki: Pki, tls: dict[str, Any], env: dict[str, str] | None = None) -> str:
    path = _config(pki, rest_source("https://qris.example/api"), tls)
    with pytest.raises(ConfigError) as exc:
        load_config(path, env=env or {})
    text = str(exc.value)
    assert text.startswith(f"{path}: invalid configuration")
    return text


def test_a_missing_file_is_named_with_where_it_was_looked_for(pki: Pki) -> None:
    text = _problem(pki, {"client_cert": "certs/nope.pem"})
    assert "sources.qris.tls.client_cert" in text
    assert f"no such file: {pki.folder / 'certs' / 'nope.pem'}" in text
    assert "relative path is read from the config file's folder" in text


@pytest.mark.parametrize(
    ("tls", "env", "expected"),
    [
        pytest.param(
            {"client_cert": "certs/client.pem", "client_key": "certs/stranger.key"},
            {},
            "do not load: a PEM certificate and the matching private key are expected",
            id="key-of-another-certificate",
        ),
        pytest.param(
            {"client_cert": "certs/client.pem", "client_key": "certs/client-encrypted.key"},
            {},
            "the client key is encrypted: set key_password_env",
            id="encrypted-key-no-password",
        ),
        pytest.param(
            {
                "client_cert": "certs/client.pem",
                "client_key": "certs/client-encrypted.key",
                "key_password_env": "QRIS_KEY_PASSWORD",
            },
            {"QRIS_KEY_PASSWORD": "not-the-password"},
            "do not load",
            id="wrong-password",
        ),
        pytest.param(
            {"ca_file": "certs/client.key"}, {}, "does not load as a PEM CA bundle", id="bad-ca"
        ),
        pytest.param(
            {"client_key": "certs/client.key"}, {}, "need client_cert", id="key-without-cert"
        ),
    ],
)
def test_files_that_do_not_load_fail_when_the_config_loads(
    pki: Pki, tls: dict[str, Any], env: dict[str, str], expected: str
) -> None:
    text = _problem(pki, tls, env)
    assert "sources.qris.tls" in text and expected in text
    assert "not-the-password" not in text


def test_a_literal_key_password_is_refused(pki: Pki) -> None:
    text = _problem(pki, {**CLIENT_TLS, "key_password": KEY_PASSWORD})
    assert "`key_password` is not a setting" in text and "key_password_env" in text
    assert KEY_PASSWORD not in text


def test_tls_needs_an_https_base_url(pki: Pki) -> None:
    path = _config(pki, rest_source("http://qris.example/api"), CLIENT_TLS)
    with pytest.raises(ConfigError, match="`tls` needs an https:// base_url"):
        load_config(path, env={})


def test_no_secret_reaches_the_loaded_settings_repr(pki: Pki) -> None:
    tls = {**CLIENT_TLS, "client_key": "certs/client-encrypted.key"}
    tls["key_password_env"] = "QRIS_KEY_PASSWORD"
    path = _config(pki, rest_source("https://qris.example/api"), tls)
    config = load_config(path, env={"QRIS_KEY_PASSWORD": KEY_PASSWORD})
    source = config.sources["qris"]
    assert KEY_PASSWORD not in repr(source) and CLIENT_SECRET not in repr(source)
