"""OAuth2 client credentials on a ``rest`` source, against a loopback token endpoint and an API
that takes only the bearer tokens it issued: the token is kept, refreshed before it expires,
asked for once however many calls need it, replaced once after a 401; and no secret or token
shows in an error or a log line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.connectors import Connector, FieldFilter
from ecehub.connectors.rest import RestConnector
from ecehub.errors import ConfigError, SourceTimeout, SourceUnavailable
from ecehub.resolvers.runtime import Runtime
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, Requirements, build_connector
from tests.connectors.secured_upstream import (
    CLIENT_SECRET,
    ENV,
    Clock,
    SecuredUpstream,
    oauth_source,
    serve_secured,
)
from tests.graph_helpers import GraphClient

SOURCE = "qris_oauth"


@pytest.fixture
async def secured() -> AsyncIterator[SecuredUpstream]:
    async with serve_secured() as state:
        yield state


@pytest.fixture
async def made() -> AsyncIterator[list[RestConnector]]:
    connectors: list[RestConnector] = []
    yield connectors
    for connector in connectors:
        await connector.aclose()


def connect(
    made: list[RestConnector],
    state: SecuredUpstream,
    *,
    env: dict[str, str] | None = None,
    clock: Clock | None = None,
    **auth: Any,
) -> RestConnector:
    """A connector built from config, as the hub builds one; ``clock`` drives its tokens."""
    connector = build_connector(
        SOURCE, oauth_source(state, **auth), env=ENV if env is None else env
    )
    assert isinstance(connector, RestConnector) and connector.transport.tokens is not None
    if clock is not None:
        connector.transport.tokens.clock = clock
    made.append(connector)
    return connector


def _message(exc: pytest.ExceptionInfo[SourceUnavailable]) -> str:
    return str(exc.value)


# -- the token: asked for, kept, refreshed -------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_one_token_serves_many_calls(
    secured: SecuredUpstream, made: list[RestConnector], auth_method: str
) -> None:
    connector = connect(made, secured, auth_method=auth_method)
    programs = await connector.find("program")
    fetched = await connector.fetch("program", ["P1", "P2"])
    sites = await connector.children("site", "program", ["P1"])
    assert (
        len(programs.records) == len(CONFORMANCE_DATA["program"])
        and set(fetched) == {"P1", "P2"}
        and sites["P1"]
    )
    assert secured.token_requests == [
        {
            "method": auth_method.removeprefix("client_secret_"),
            "grant_type": "client_credentials",
            "scope": "providers:read sites:read",
            "audience": "https://qris.example",
        }
    ]
    [token] = secured.issued
    assert len(secured.bearers) >= 5 and set(secured.bearers) == {token}


async def test_the_token_is_refreshed_before_it_expires(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    clock = Clock()
    secured.expires_in = 300
    connector = connect(made, secured, clock=clock, refresh_leeway_s=60)
    await connector.fetch("program", ["P1"])
    clock.now += 239  # 61 s left: still used
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 1
    clock.now += 1  # 60 s left: refreshed although the old one is still valid
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 2
    first, second = secured.issued
    assert secured.bearers == [first, first, second] and first in secured.valid


async def test_a_short_lived_token_is_refreshed_halfway(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    clock = Clock()
    secured.expires_in = 10  # shorter than the 60 s leeway: it would never be fresh
    connector = connect(made, secured, clock=clock)
    await connector.fetch("program", ["P1"])
    clock.now += 4.9
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 1
    clock.now += 0.2
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 2


async def test_a_token_without_expiry_is_kept_until_refused(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    clock = Clock()
    secured.expires_in = None
    connector = connect(made, secured, clock=clock)
    await connector.fetch("program", ["P1"])
    clock.now += 86_400
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 1
    secured.revoke_all()
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 2


async def test_an_unreadable_expiry_is_reported_and_the_token_kept_until_refused(
    secured: SecuredUpstream, made: list[RestConnector], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    secured.expires_in = "soon"
    connector = connect(made, secured, clock=clock)
    await connector.fetch("program", ["P1"])
    clock.now += 86_400
    await connector.fetch("program", ["P1"])
    assert len(secured.token_requests) == 1
    assert f"source {SOURCE}: the token endpoint's expires_in is not a positive" in caplog.text


async def test_twenty_concurrent_calls_share_one_token_request(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    clock = Clock()
    secured.token_delay_s = 0.2  # every call arrives while the first request is out
    connector = connect(made, secured, clock=clock)
    results = await asyncio.gather(*(connector.fetch("program", ["P3"]) for _ in range(20)))
    assert all(set(r) == {"P3"} for r in results)
    assert len(secured.token_requests) == 1
    clock.now += 3600  # expired: twenty calls at once again make one request
    await asyncio.gather(*(connector.fetch("program", ["P3"]) for _ in range(20)))
    assert len(secured.token_requests) == 2
    assert set(secured.bearers) == set(secured.issued)


# -- a 401 from the API ------------------------------------------------------------------


async def test_a_revoked_token_is_replaced_once_and_the_call_succeeds(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    connector = connect(made, secured)
    await connector.fetch("program", ["P1"])
    secured.revoke_all()  # e.g. the provider rotated its keys
    found = await connector.fetch("program", ["P2"])
    assert set(found) == {"P2"}
    first, second = secured.issued
    assert secured.bearers == [first, first, second]


async def test_twenty_calls_refused_at_once_cause_one_refresh(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    connector = connect(made, secured)
    await connector.fetch("program", ["P1"])
    secured.revoke_all()
    secured.token_delay_s = 0.2
    results = await asyncio.gather(*(connector.fetch("program", ["P4"]) for _ in range(20)))
    assert all(set(r) == {"P4"} for r in results)
    assert len(secured.token_requests) == 2


async def test_an_api_that_refuses_every_token_is_unavailable_after_one_retry(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    secured.api_refuses_all = True
    connector = connect(made, secured)
    with pytest.raises(SourceUnavailable) as exc:
        await connector.fetch("program", ["P1"])
    assert exc.value.source == SOURCE and exc.value.code == "SOURCE_UNAVAILABLE"
    assert "HTTP 401" in _message(exc) and "new access token" in _message(exc)
    assert len(secured.token_requests) == 2 and len(secured.bearers) == 2
    assert not any(token in _message(exc) for token in secured.issued)


# -- the token endpoint failing ----------------------------------------------------------


async def test_a_wrong_client_secret_is_a_clear_error_that_shows_no_secret(
    secured: SecuredUpstream, made: list[RestConnector], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "cs-wrong-7f3a9b1c2d"
    connector = connect(made, secured, env={**ENV, "QRIS_CLIENT_SECRET": wrong})
    calls = [connector.fetch("program", ["P1"]) for _ in range(5)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, SourceUnavailable) for o in outcomes)
    message = str(outcomes[0])
    assert message.startswith(f"source {SOURCE!r}: the token endpoint refused the client ")
    assert "HTTP 401, invalid_client" in message
    assert "QRIS_CLIENT_ID" in message and "QRIS_CLIENT_SECRET" in message
    assert len(secured.token_requests) == 1  # the waiting calls took the first one's answer
    health = await connector.health()
    assert not health.ok and "invalid_client" in (health.detail or "")
    for text in [caplog.text, *(str(o) for o in outcomes), health.detail or ""]:
        assert wrong not in text and CLIENT_SECRET not in text and "bad secret" not in text


async def test_a_failing_or_unreachable_token_endpoint_is_named(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    secured.token_status = 503
    connector = connect(made, secured)
    with pytest.raises(SourceUnavailable, match="the token endpoint failed \\(HTTP 503"):
        await connector.find("program")
    secured.token_status = None
    assert len((await connector.find("program")).records) == len(
        CONFORMANCE_DATA["program"]
    )  # tried again on the next call

    down = connect(made, secured, token_url="http://127.0.0.1:9/oauth/token")
    with pytest.raises(SourceUnavailable) as exc:
        await down.find("program")
    assert exc.value.source == SOURCE
    assert "on the token endpoint" in str(exc.value) and "127.0.0.1" not in str(exc.value)


async def test_a_silent_token_endpoint_is_a_source_timeout(
    secured: SecuredUpstream, made: list[RestConnector]
) -> None:
    secured.token_gate = asyncio.Event()
    source = {**oauth_source(secured), "timeout_s": 0.3}
    connector = build_connector(SOURCE, source, env=ENV)
    assert isinstance(connector, RestConnector)
    made.append(connector)
    try:
        with pytest.raises(SourceTimeout) as exc:
            await connector.fetch("program", ["P1"])
    finally:
        secured.token_gate.set()
    assert exc.value.code == "SOURCE_TIMEOUT" and exc.value.source == SOURCE
    assert "no answer from the token endpoint within 0.3 s" in str(exc.value)


async def test_no_secret_or_token_in_any_log_line(
    secured: SecuredUpstream, made: list[RestConnector], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ecehub's, aiohttp's, asyncio's
    connector = connect(made, secured, auth_method="client_secret_post")
    await connector.find("program", [FieldFilter("city", "eq", "springfield")])
    secured.revoke_all()
    await connector.fetch("program", ["P1"])
    secured.api_refuses_all = True
    with pytest.raises(SourceUnavailable):
        await connector.fetch("program", ["P2"])
    assert len(secured.issued) == 3 and caplog.records
    assert "new access token" in caplog.text  # the refresh is logged, its token is not
    for secret in [CLIENT_SECRET, *secured.issued]:
        assert secret not in caplog.text


# -- the config ----------------------------------------------------------------------------


def _write(tmp_path: Path, auth: dict[str, Any]) -> Path:
    source = oauth_source(SecuredUpstream(url="https://qris.example"), **auth)
    path = tmp_path / "state.yaml"
    path.write_text(yaml.safe_dump({"sources": {"qris": source}}))
    return path


def _problems(tmp_path: Path, env: dict[str, str], **auth: Any) -> str:
    path = _write(tmp_path, auth)
    with pytest.raises(ConfigError) as exc:
        load_config(path, env=env)
    text = str(exc.value)
    assert text.startswith(f"{path}: invalid configuration")
    return text


def test_a_literal_secret_is_refused_with_the_fix(tmp_path: Path) -> None:
    text = _problems(tmp_path, ENV, client_secret="s3cr3t-in-the-file")
    assert "sources.qris.auth" in text and "`client_secret` is not a setting" in text
    assert "client_secret_env: QRIS_CLIENT_SECRET" in text
    assert "s3cr3t-in-the-file" not in text


def test_a_value_where_a_variable_name_belongs_is_refused_unshown(tmp_path: Path) -> None:
    text = _problems(tmp_path, ENV, client_secret_env="s3cr3t-pasted-by-mistake")
    assert "sources.qris.auth.oauth2_client_credentials.client_secret_env" in text
    assert "NAME of an environment variable" in text and "pasted" not in text


def test_a_variable_that_is_not_set_is_named(tmp_path: Path) -> None:
    text = _problems(tmp_path, {"QRIS_CLIENT_ID": "x"})
    assert "client_secret_env: Value error, environment variable QRIS_CLIENT_SECRET is not" in text


def test_the_token_url_must_be_https_off_loopback(tmp_path: Path) -> None:
    text = _problems(tmp_path, ENV, token_url="http://idp.example/token")
    assert "token_url" in text and "must be https://" in text


def test_a_valid_file_loads_and_holds_the_secret_hidden(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, {}), env=ENV)
    source = config.sources["qris"]
    assert CLIENT_SECRET not in repr(source) and CLIENT_SECRET not in str(source.model_dump())


# -- the conformance kit through OAuth2 -------------------------------------------------


class TestOAuth2RestConformance(ConnectorConformance):
    """The whole kit against the API that takes only the token endpoint's bearer tokens."""

    requirements = Requirements()

    @pytest.fixture
    async def connector(self, secured: SecuredUpstream) -> AsyncIterator[Connector]:
        secured.expires_in = 1  # refreshed halfway: many token requests during the kit
        connector = build_connector("conformance_oauth", oauth_source(secured), env=ENV)
        yield connector
        await connector.aclose()
        assert set(secured.bearers) <= set(secured.issued)  # every API call carried a token

    @pytest.fixture
    async def unavailable_connector(self, secured: SecuredUpstream) -> AsyncIterator[Connector]:
        env = {**ENV, "QRIS_CLIENT_SECRET": "not-the-secret"}
        connector = build_connector("conformance_oauth", oauth_source(secured), env=env)
        yield connector
        await connector.aclose()


# -- a GraphQL query through the hub -------------------------------------------------------

PROGRAMS_QUERY = "{ programs(first: 20) { nodes { name sites { name } } } }"


async def _graph_query(tmp_path: Path, secured: SecuredUpstream, env: dict[str, str]) -> Any:
    config_file = tmp_path / "state.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "support_types": [{"code": "QRIS", "name": "Quality rating"}],
                "sources": {"qris": oauth_source(secured)},
                "hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
            }
        )
    )
    config = load_config(config_file, env=env)
    hub = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await GraphClient(client).query(PROGRAMS_QUERY)
    finally:
        await hub.aclose()


async def test_a_graphql_query_reads_the_oauth2_source(
    tmp_path: Path, secured: SecuredUpstream
) -> None:
    body = await _graph_query(tmp_path, secured, ENV)
    assert "errors" not in body, body
    nodes = body["data"]["programs"]["nodes"]
    assert (
        len(nodes) == len(CONFORMANCE_DATA["program"]) and sum(len(n["sites"]) for n in nodes) >= 20
    )
    assert len(secured.token_requests) == 1 and set(secured.bearers) == set(secured.issued)


async def test_a_refused_client_is_a_coded_graphql_error_without_the_secret(
    tmp_path: Path, secured: SecuredUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await _graph_query(tmp_path, secured, {**ENV, "QRIS_CLIENT_SECRET": "cs-wrong-1"})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["extensions"]["source"] == "qris"
    # The client learns which source failed; the operator's log says why.
    assert "source 'qris': the token endpoint refused the client credentials" in caplog.text
    assert "invalid_client" in caplog.text
    for text in (json.dumps(body), caplog.text):
        assert "cs-wrong-1" not in text and CLIENT_SECRET not in text
