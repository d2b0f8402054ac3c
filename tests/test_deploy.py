"""What a deployment relies on: `serve` refuses a hub store that is not at this ecehub's
revision and `serve --migrate` upgrades it first (the container's command), /readyz fails
while the store cannot serve, and the example state config loads."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

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
        "ECEHUB_REDIS_URL": "redis://redis.example:6379/0",
        "ECEHUB_CACHE_URL": "redis://redis.example:6379/1",
    }
    config = load_config(ROOT / "config" / "state.example.yaml", env=env)
    assert list(config.sources) == ["licensing", "qris"]
    assert config.server.mode == "production" and config.server.rate_limited
    assert config.server.rate_limit.redis_url is not None  # replicas share the budgets
    assert config.server.tracing.enabled is False
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
    services = compose["services"]
    # Besides the config's variables, uvicorn's own: the client address behind the balancer.
    assert set(services["hub"]["environment"]) <= read | {"FORWARDED_ALLOW_IPS"}
    assert set(services["migrate"]["environment"]) <= read
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
    assert manifests[1]["spec"]["replicas"] == 2
    assert hub["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert hub["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "--migrate" not in hub["command"]
    scrape = manifests[1]["spec"]["template"]["metadata"]["annotations"]
    assert scrape == {
        "prometheus.io/scrape": "true",
        "prometheus.io/path": "/metrics",
        "prometheus.io/port": str(hub["ports"][0]["containerPort"]),
    }


def test_compose_runs_two_replicas_behind_the_balancer() -> None:
    """compose.yaml: the store migrated once before the replicas start, two replicas on one
    PostgreSQL and one Redis, reached only through nginx, whose config points at them."""
    import yaml

    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    hub, migrate_job, balancer = services["hub"], services["migrate"], services["lb"]
    assert hub["deploy"]["replicas"] == 2
    assert "ports" not in hub  # several replicas cannot share a host port
    assert "--migrate" not in hub["command"]
    assert migrate_job["command"][:3] == ["ecehub", "db", "upgrade"]
    assert hub["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert hub["environment"]["ECEHUB_HUB_URL"] == migrate_job["environment"]["ECEHUB_HUB_URL"]
    assert hub["environment"]["ECEHUB_REDIS_URL"].startswith("redis://redis:")
    assert {"db", "redis"} <= set(services)
    [mount] = balancer["volumes"]
    local, _, _ = mount.partition(":")
    nginx = (ROOT / local).read_text()
    port = hub["expose"][0]
    assert f"server hub:{port} resolve;" in nginx and "proxy_pass http://ecehub;" in nginx


def _workers(pid: int) -> list[int]:
    """The live worker processes (multiprocessing spawns) under ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_text()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and "spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts worker processes in /proc")
async def test_serve_workers_runs_that_many_processes_on_one_port(tmp_path: Path) -> None:
    config, _ = _config(tmp_path)
    async with serving(config, "--migrate", "--workers", "2") as (proc, client):
        answers = [
            await client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(6)
        ]
        assert all(a.json() == {"data": {"__typename": "Query"}} for a in answers)
        assert (await client.get("/readyz")).status_code == 200
        # uvicorn supervises two workers, each serving the app it built from the config
        assert len(_workers(proc.pid)) == 2


async def test_serve_refuses_no_workers(tmp_path: Path) -> None:
    config, _ = _config(tmp_path)
    code, _, err = await run("serve", "--config", str(config), "--workers", "0")
    assert code == 2 and "--workers must be at least 1" in err
