"""What a deployment relies on: `serve` refuses a hub store that is not at this ecehub's
revision and `serve --migrate` upgrades it first (the container's command), /readyz fails
while the store cannot serve, and the example state config loads."""

from __future__ import annotations

from pathlib import Path

import httpx

from ecehub.app import create_app
from ecehub.config import load_config, parse_config
from ecehub.hub import migrate
from tests.serving import free_port, serving
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    path = tmp_path / "state.yaml"
    path.write_text(f"hub: {{url: '{url}'}}\n")
    return path, url


async def test_serve_refuses_an_unmigrated_store(tmp_path: Path) -> None:
    config, url = _config(tmp_path)
    code, _, err = await run("serve", "--config", str(config), "--port", str(free_port()))
    assert code == 1
    assert "hub store is at revision <empty>" in err and "--migrate" in err
    assert await migrate.current(url) is None  # nothing was created


async def test_serve_migrate_upgrades_then_serves(tmp_path: Path) -> None:
    config, url = _config(tmp_path)
    async with serving(config, "--migrate") as (_, client):
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["hub_store"] == {"ok": True, "detail": ""}
    assert await migrate.current(url) == migrate.head()


async def test_readyz_fails_while_the_store_cannot_serve(tmp_path: Path) -> None:
    _, url = _config(tmp_path)
    app = create_app(parse_config({"hub": {"url": url}}, env={}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client,
    ):
        before = await client.get("/readyz")
        await migrate.upgrade(url)
        after = await client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["hub_store"]["ok"] is False
    assert "ecehub db upgrade" in before.json()["hub_store"]["detail"]
    assert url not in before.text
    assert after.status_code == 200 and after.json()["hub_store"]["ok"] is True


def test_the_example_state_config_loads() -> None:
    env = {
        "LICENSING_DB_URL": "postgresql+asyncpg://reader:pw@licensing.example/licensing",
        "QRIS_API_URL": "https://qris.example",
        "QRIS_API_KEY": "key",
        "ECEHUB_HUB_URL": "postgresql+asyncpg://ecehub:pw@db/ecehub",
        "ECEHUB_OIDC_ISSUER": "https://login.example",
        "ECEHUB_OIDC_JWKS_URL": "https://login.example/jwks",
        "ECEHUB_PORTAL_ORIGIN": "https://portal.example",
    }
    config = load_config(ROOT / "config" / "state.example.yaml", env=env)
    assert list(config.sources) == ["licensing", "qris"]
    assert config.server.mode == "production" and config.server.rate_limited
    env_example = (ROOT / ".env.example").read_text()
    assert all(f"{name}=" in env_example for name in env if name != "ECEHUB_HUB_URL")


def test_the_container_files_name_what_the_config_reads() -> None:
    """compose.yaml, the Dockerfile and the Kubernetes manifest set the variables the example
    config reads (a mismatch left the hub on a store nobody configured)."""
    import re

    import yaml

    config_text = (ROOT / "config" / "state.example.yaml").read_text()
    read = set(re.findall(r"\$\{(\w+)", config_text))
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert set(compose["services"]["hub"]["environment"]) <= read
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert set(re.findall(r"(ECEHUB_\w+)=", dockerfile)) <= read
    assert '"--migrate"]' in dockerfile
    manifests = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    assert [m["kind"] for m in manifests] == [
        "Job",
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
    ]
    [hub] = manifests[1]["spec"]["template"]["spec"]["containers"]
    assert hub["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "--migrate" not in hub["command"]
    scrape = manifests[1]["spec"]["template"]["metadata"]["annotations"]
    assert scrape == {
        "prometheus.io/scrape": "true",
        "prometheus.io/path": "/metrics",
        "prometheus.io/port": str(hub["ports"][0]["containerPort"]),
    }
