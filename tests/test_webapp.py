"""The front end's server side (``ecehub/webapp``): its operations are valid and are the
persisted queries an allow-listed server runs while the app is enabled (and only then); the
development-token roster is served only when given and only in development mode; the page is
served with a strict content security policy and no inline script."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.config.model import Config
from ecehub.errors import ConfigError
from ecehub.metrics import route_of
from ecehub.schema import build_schema
from ecehub.webapp import STATIC_DIR, allow_list, operations
from tests.serving import free_port
from tests.test_graphiql_browser import start_demo

OTHER_QUERY = "{ supportTypes { code } }"


def config_of(tmp_path: Path, **server: Any) -> Config:
    return Config.model_validate(
        {"hub": {"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"}, "server": server}
    )


def client_of(config: Config, **kwargs: Any) -> httpx.AsyncClient:
    app = create_app(config, **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


def roster() -> Sequence[Mapping[str, Any]]:
    return [{"role": "state_admin", "label": "Admin", "sub": "a@x", "programs": [], "token": "t"}]


def allow_file(tmp_path: Path) -> Path:
    path = tmp_path / "allowed.json"
    path.write_text(json.dumps({hashlib.sha256(OTHER_QUERY.encode()).hexdigest(): OTHER_QUERY}))
    return path


def by_hash(name: str) -> dict[str, Any]:
    text = operations()[name]
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {
        "operationName": name,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
    }


def test_operations_are_named_and_valid_against_the_schema() -> None:
    schema = build_schema()._schema
    found = operations()
    assert {"ProgramList", "ProgramProfile", "CreateQipTask", "ConfirmLink"} <= set(found)
    for name, text in found.items():
        assert validate(schema, parse(text)) == [], name
        assert text.lstrip().startswith(("query " + name, "mutation " + name)), name
    assert sorted(allow_list().values()) == sorted(found.values())


async def test_allow_list_mode_runs_the_apps_operations_while_it_is_enabled(
    tmp_path: Path,
) -> None:
    pq = {"mode": "allow_list", "file": str(allow_file(tmp_path))}
    async with client_of(config_of(tmp_path, persisted_queries=pq)) as client:
        app_op = await client.post("/graphql", json=by_hash("AppStart"))
        listed = await client.post("/graphql", json={"query": OTHER_QUERY})
        other = await client.post("/graphql", json={"query": "{ sources { name } }"})
        settings = (await client.get("/app/config.json")).json()
    assert app_op.status_code == 200, app_op.text
    assert app_op.json() == {
        "data": {"supportTypes": app_op.json()["data"]["supportTypes"], "sources": []}
    }
    assert app_op.json()["data"]["supportTypes"], "the default support types"
    assert "errors" not in listed.json()
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert settings["persistedOnly"] is True

    off = config_of(tmp_path, persisted_queries=pq, app={"enabled": False})
    async with client_of(off) as client:
        refused = await client.post("/graphql", json=by_hash("AppStart"))
        page = await client.get("/app/")
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert page.status_code == 404


async def test_the_app_sends_text_and_hash_when_the_server_is_not_allow_listed(
    tmp_path: Path,
) -> None:
    async with client_of(config_of(tmp_path)) as client:
        settings = (await client.get("/app/config.json")).json()
        listed = (await client.get("/app/operations.json")).json()
        answer = await client.post(
            "/graphql", json={**by_hash("AppStart"), "query": listed["AppStart"]["query"]}
        )
    assert settings == {"devTokens": False, "persistedOnly": False, "oidc": None}
    assert (
        listed["AppStart"]["sha256"]
        == hashlib.sha256(listed["AppStart"]["query"].encode()).hexdigest()
    )
    assert "errors" not in answer.json() and answer.json()["data"]["sources"] == []


async def test_dev_tokens_only_when_given_and_in_development(tmp_path: Path) -> None:
    async with client_of(config_of(tmp_path), dev_tokens=roster) as client:
        offered = await client.get("/app/dev-tokens")
        settings = (await client.get("/app/config.json")).json()
    assert offered.status_code == 200 and offered.json() == {"tokens": list(roster())}
    assert offered.headers["cache-control"] == "no-store"
    assert settings["devTokens"] is True

    async with client_of(config_of(tmp_path)) as client:  # a state's server: no roster
        absent = await client.get("/app/dev-tokens")
        settings = (await client.get("/app/config.json")).json()
    assert absent.status_code == 404 and settings["devTokens"] is False

    production = config_of(tmp_path, mode="production")
    async with client_of(production, dev_tokens=roster) as client:
        refused = await client.get("/app/dev-tokens")
        settings = (await client.get("/app/config.json")).json()
    assert refused.status_code == 404 and settings["devTokens"] is False


async def test_the_page_has_a_strict_policy_and_no_inline_script(tmp_path: Path) -> None:
    oidc = {"issuer": "https://login.state.example/realms/ece", "client_id": "ecehub-app"}
    async with client_of(config_of(tmp_path, app={"oidc": oidc})) as client:
        bare = await client.get("/app")
        page = await client.get("/app/")
        script = await client.get("/app/static/app.js")
        outside = await client.get("/app/static/../__init__.py")
        unknown = await client.get("/app/static/nothing.js")
        settings = (await client.get("/app/config.json")).json()
    assert bare.status_code == 308 and bare.headers["location"].endswith("/app/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    assert "connect-src 'self' https://login.state.example" in policy
    assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", page.text))
    assert "style=" not in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert outside.status_code == 404 and unknown.status_code == 404
    assert settings["oidc"] == {
        "issuer": oidc["issuer"],
        "clientId": "ecehub-app",
        "scope": "openid",
    }
    # Every module the page imports is one the server serves (no CDN, no build).
    for module in STATIC_DIR.rglob("*.js"):
        for imported in re.findall(r'from "([^"]+)"', module.read_text(encoding="utf-8")):
            assert imported.startswith("."), f"{module.name} imports {imported}"
            assert (module.parent / imported).resolve().is_file(), f"{module.name}: {imported}"


async def test_ecehub_demo_offers_a_working_token_per_role(tmp_path: Path) -> None:
    """The real ``ecehub demo`` command: /app is served, the sign-in offers a token per role,
    each one accepted by /graphql, and the provider's lists its one program only."""
    port = free_port()
    demo = await start_demo(port, tmp_path / "demo")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await client.get("/app/")
            offered = (await client.get("/app/dev-tokens")).json()["tokens"]
            listed: dict[str, Any] = {}
            for entry in offered:
                answer = await client.post(
                    "/graphql",
                    json={"query": operations()["ProgramList"], "variables": {"first": 50}},
                    headers={"Authorization": f"Bearer {entry['token']}"},
                )
                assert answer.status_code == 200, answer.text
                listed[entry["role"]] = answer.json()
    finally:
        demo.terminate()
        await asyncio.wait_for(demo.wait(), timeout=20)
    assert page.status_code == 200 and "static/app.js" in page.text
    roles = [entry["role"] for entry in offered]
    assert roles == ["state_admin", "ta_staff", "provider", "sector_staff", "analyst"]
    assert len(listed["provider"]["data"]["programs"]["nodes"]) == 1
    assert len(listed["ta_staff"]["data"]["programs"]["nodes"]) == 4
    assert len(listed["state_admin"]["data"]["programs"]["nodes"]) > 4
    # The analyst reads aggregates only: the listing is refused field by field.
    assert {e["extensions"]["code"] for e in listed["analyst"]["errors"]} == {"FORBIDDEN"}


def test_every_file_the_app_serves_is_package_data() -> None:
    """A file under ecehub/webapp/ that pyproject's package-data globs miss would be absent
    from an installed package (and the page broken there, not here)."""
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["ecehub"]
    package = root / "ecehub"
    shipped = [STATIC_DIR.parent / "operations.graphql", *STATIC_DIR.rglob("*.*")]
    for path in shipped:
        relative = path.relative_to(package).as_posix()
        assert any(
            fnmatch.fnmatchcase(relative, g) and g.count("/") == relative.count("/") for g in globs
        ), f"{relative} is not in [tool.setuptools.package-data]"


def test_the_apps_requests_are_counted_under_app() -> None:
    assert {route_of(p) for p in ("/app", "/app/", "/app/static/views/qip.js")} == {"/app"}
    assert route_of("/apple") == "other"


def test_a_bad_issuer_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    config = tmp_path / "state.yaml"
    config.write_text("server:\n  app:\n    oidc: {issuer: login.state.example, client_id: app}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config, env={})
    text = str(raised.value)
    assert str(config) in text and "server.app.oidc.issuer" in text and "https://" in text
