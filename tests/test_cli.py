"""The ``ecehub`` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request
from pathlib import Path

from ecehub.demo import DemoSystems
from tests.serving import free_port


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ecehub",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_check_prints_one_line_per_source(tmp_path: Path) -> None:
    async with DemoSystems(programs=10, data_dir=tmp_path) as demo:
        code, out, _ = await run("check", str(demo.config_path), env=demo.env)
        assert code == 0, out
        lines = out.strip().splitlines()
        assert [line.split()[:2] for line in lines] == [
            ["ok", "licensing"],
            ["ok", "head_start"],
            ["ok", "qris"],
        ]
        await demo.stop_qris()
        code, out, _ = await run("check", str(demo.config_path), env=demo.env)
    assert code == 1
    assert out.strip().splitlines()[2].split()[:2] == ["FAIL", "qris"]
    assert demo.env["QRIS_API_KEY"] not in out


async def test_a_bad_config_exits_2_naming_file_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "state.yaml"
    bad.write_text("sources:\n  qris:\n    kind: rest\n    entities: {program: {path: /p}}\n")
    code, _, err = await run("check", str(bad))
    assert code == 2
    assert f"{bad}: invalid configuration" in err
    assert "sources.qris.base_url: required setting is missing" in err
    assert "sources.qris.entities.program.key: required setting is missing" in err


async def test_every_command_takes_the_config_the_same_way(tmp_path: Path) -> None:
    """--config FILE, or $ECEHUB_CONFIG, on every command (check still takes it bare)."""
    bad = tmp_path / "state.yaml"
    bad.write_text("sources:\n  qris:\n    kind: rest\n    entities: {program: {path: /p}}\n")
    for args, env in [
        (("check", "--config", str(bad)), None),
        (("check",), {"ECEHUB_CONFIG": str(bad)}),
        (("db", "current"), {"ECEHUB_CONFIG": str(bad)}),
    ]:
        code, _, err = await run(*args, env=env)
        assert code != 0, args
        assert f"{bad}: invalid configuration" in err, (args, err)
    code, _, err = await run("check", env={"ECEHUB_CONFIG": ""})
    assert code == 2 and "no config: pass --config FILE or set ECEHUB_CONFIG" in err
    good = tmp_path / "hub.yaml"
    good.write_text(f"hub: {{url: 'sqlite+aiosqlite:///{tmp_path / 'hub.db'}'}}\n")
    code, out, err = await run("db", "upgrade", env={"ECEHUB_CONFIG": str(good)})
    assert code == 0 and "hub store at revision" in out, err


async def test_token_roles_are_checked_against_the_config(tmp_path: Path) -> None:
    config = tmp_path / "state.yaml"
    config.write_text("access:\n  roles:\n    ta_staff: {programs: claim}\n")
    key_dir = str(tmp_path / "keys")
    common = ("token", "--config", str(config), "--key-dir", key_dir)
    code, _, err = await run(*common, "--role", "state_admn")
    assert code == 2 and "no role 'state_admn'" in err and "its roles: ta_staff" in err
    code, out, err = await run(*common, "--role", "ta_staff", "--ttl", "60")
    assert code == 0 and out.count(".") == 2  # a compact JWS
    assert "valid 60 s, until " in err and " UTC" in err


async def test_schema_print_writes_the_sdl(tmp_path: Path) -> None:
    code, out, _ = await run("schema", "print")
    assert code == 0
    assert "type Query {" in out and "programs(" in out and "type Program" in out


async def test_demo_serves_graphiql_and_answers_the_sample_query(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ecehub",
        "demo",
        "--port",
        str(port),
        "--programs",
        "30",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        seen = ""
        # The demo prints the GraphiQL URL, then a sample query ending in a lone "}".
        while "try:" not in seen or not seen.rstrip().endswith("\n}"):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert line, f"demo exited early: {seen}"
            seen += line.decode()
        sample = seen.split("try:\n", 1)[1].strip() if "try:" in seen else None

        lines = seen.splitlines()
        admin_token = lines[lines.index(next(x for x in lines if x.startswith("state admin"))) + 1]

        def post(query: str, token: str | None = None) -> dict[str, object]:
            headers = {"content-type": "application/json"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=json.dumps({"query": query}).encode(),
                headers=headers,
            )
            for _ in range(50):
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        return dict(json.loads(response.read()))
                except OSError:
                    import time

                    time.sleep(0.1)
            raise AssertionError("the demo never answered")

        body = await asyncio.to_thread(post, sample or "{ supportTypes { code } }", admin_token)
        queue = await asyncio.to_thread(
            post, "{ crosswalkSuggestions(first: 500) { links { source } } }", admin_token
        )
        anonymous = await asyncio.to_thread(post, sample or "{ supportTypes { code } }")
        graphiql = await asyncio.to_thread(
            lambda: urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", headers={"accept": "text/html"}
                ),
                timeout=10,
            ).read()
        )
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)
    assert f"open http://127.0.0.1:{port}/graphql" in seen
    assert sample is not None
    assert "errors" not in body, body
    nodes = body["data"]["programs"]["nodes"]  # type: ignore[index]
    assert nodes and all(n["sites"] for n in nodes)
    # Without a token the demo is the public directory: the sample's QRIS filter is refused.
    codes = {e["extensions"]["code"] for e in anonymous["errors"]}  # type: ignore[attr-defined]
    assert codes == {"FORBIDDEN"}
    assert b"graphiql" in graphiql.lower()
    # The demo proposed program links (none confirmed) for the state administrator to review.
    [waiting] = [x for x in lines if x.startswith("crosswalk: ")]
    links = queue["data"]["crosswalkSuggestions"]["links"]  # type: ignore[index]
    assert links and waiting.startswith(f"crosswalk: {len(links)} suggestions to review ")


async def test_crosswalk_suggest_review_apply_export(tmp_path: Path) -> None:
    """The matcher's proposals are stored (resumably), listed for review, the auto ones
    confirmed, and the links exported; against the demo world's truth."""
    from ecehub.crosswalk.store import CrosswalkStore
    from ecehub.hub import LinkStatus

    async with DemoSystems(programs=60, data_dir=tmp_path) as demo:
        config = str(demo.config_path)
        code, out, err = await run("crosswalk", "suggest", "--config", config, env=demo.env)
        assert code == 0, err
        assert "reading licensing: " in err and "storing qris proposals: " in err
        lines = out.strip().splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "head_start -> licensing",
            "qris -> licensing",
        ]
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            stored = [link async for link in store.iter_links("program")]
        assert stored and all(link.status is LinkStatus.SUGGESTED for link in stored)
        assert all(link.hub_id.startswith("LICENSE_NUMBER:") for link in stored)
        # The QRIS providers the license number cannot join (missing or mistyped) are what the
        # matcher is for: most of them come back as suggestions for their true facility.
        proposed = {(link.source_key, link.hub_id) for link in stored}
        unjoined = {
            (t.qris_provider_id, f"LICENSE_NUMBER:{t.license_no}")
            for t in demo.world.truth
            if t.qris_provider_id and t.license_no and t.qris_license_number != t.license_no
        }
        assert unjoined and len(unjoined & proposed) * 2 >= len(unjoined)

        code, again, err = await run("crosswalk", "suggest", "--config", config, env=demo.env)
        assert code == 0, err
        assert " 0 added, 0 updated, " in again
        async with CrosswalkStore(demo.env["ECEHUB_HUB_URL"]) as store:
            assert len([link async for link in store.iter_links("program")]) == len(stored)

        code, review, _ = await run(
            "crosswalk", "review", "--config", config, "--first", "500", env=demo.env
        )
        assert code == 0
        listed = review.strip().splitlines()
        assert len(listed) == len(stored)
        scores = [float(line.split()[0]) for line in listed]
        assert scores == sorted(scores, reverse=True)

        auto = sum(link.auto for link in stored)
        code, applied, _ = await run(
            "crosswalk", "apply", "--config", config, "--actor", "rater@qris", env=demo.env
        )
        assert code == 0
        assert applied.strip() == f"confirmed {auto} of {auto} auto suggestions (program)"

        csv_path = tmp_path / "links.csv"
        code, _, err = await run(
            "crosswalk", "export", "--config", config, "-o", str(csv_path), env=demo.env
        )
        assert code == 0 and err.strip() == f"exported {len(stored)} program links"
        rows = csv_path.read_text(encoding="utf-8").splitlines()
        assert rows[0].startswith("entity,hub_id,source,source_key,status,score,auto,reasons")
        assert len(rows) == len(stored) + 1
        confirmed = [r for r in rows[1:] if ",CONFIRMED," in r]
        assert len(confirmed) == auto and all("rater@qris" in r for r in confirmed)


async def test_crosswalk_suggest_staff(tmp_path: Path) -> None:
    """Staff: the QRIS registry's people proposed to Head Start staff of the same program
    whose registry ID is missing (the hardest noise level leaves some out), then reviewed."""
    async with DemoSystems(programs=100, data_dir=tmp_path, noise="hardest") as demo:
        config = str(demo.config_path)
        code, out, err = await run(
            "crosswalk", "suggest", "--config", config, "--entity", "staff", env=demo.env
        )
        assert code == 0, err
        assert "reading qris: " in err and " staff records in a program" in err
        [line] = out.strip().splitlines()
        assert line.startswith("qris -> head_start: ")
        code, review, _ = await run(
            "crosswalk",
            "review",
            "--config",
            config,
            "--entity",
            "staff",
            "--first",
            "500",
            env=demo.env,
        )
    assert code == 0
    listed = review.strip().splitlines()
    truth = {
        (f"@head_start:{link.head_start_staff_id}", link.registry_id)
        for link in demo.world.staff_links
    }
    # "<score> auto <hub ID> <- qris:<registry ID>  [reasons]  link ... version ..."
    pairs = {
        (parts[-3], parts[-1].removeprefix("qris:"))
        for parts in (x.split("  [")[0].split() for x in listed)
    }
    assert listed and len(pairs & truth) >= len(pairs) - 1
    assert f" {len(listed)} added, " in line


async def test_crosswalk_suggest_sites_review_apply_export(tmp_path: Path) -> None:
    """`suggest --kind site --left head_start`: licensed facilities proposed as sites of
    the grantee whose center they match (tests/crosswalk/site_world.py), listed, the auto
    ones confirmed, a second run leaves the decisions alone, the export says the kind."""
    from tests.crosswalk.site_world import make_site_world

    world = await make_site_world(tmp_path)
    config = ("--config", str(world.config_path))
    code, _, err = await run("crosswalk", "suggest", *config, "--kind", "site")
    assert code == 1
    assert "--left must name the program-level source" in err and ": head_start" in err
    code, _, err = await run("crosswalk", "suggest", *config, "--entity", "site")
    assert code == 1 and "(a licensed facility as a site of a program" in err

    site = ("--kind", "site")
    code, out, err = await run("crosswalk", "suggest", *config, *site, "--left", "head_start")
    assert code == 0, err
    assert "head_start: 4 of 5 site records under a program" in err
    assert out.strip() == (
        "licensing -> sites of head_start: 4 matches, 3 to decide: 3 added, 0 updated, "
        "0 unchanged, 0 already decided, 0 linked elsewhere"
    )
    code, review, _ = await run("crosswalk", "review", *config, *site)
    assert code == 0
    listed = [line.split("  [")[0].split()[1:] for line in review.strip().splitlines()]
    assert listed == [
        ["auto", "@head_start:G-1", "<-", "site", "licensing:L-100"],
        ["auto", "@head_start:G-1", "<-", "site", "licensing:L-200"],
        ["@head_start:G-2", "<-", "site", "licensing:L-300"],
    ]
    code, review, _ = await run("crosswalk", "review", *config, "--kind", "same")
    assert code == 0 and review.strip() == "no program suggestions to review"

    code, applied, _ = await run("crosswalk", "apply", *config, *site, "--actor", "rater@il")
    assert code == 0 and applied.strip() == "confirmed 2 of 2 auto suggestions (program, site)"
    code, again, _ = await run("crosswalk", "suggest", *config, *site, "--left", "head_start")
    assert code == 0 and ": 0 added, 0 updated, 1 unchanged, 2 already decided, " in again

    code, exported, _ = await run("crosswalk", "export", *config, "--status", "confirmed")
    assert code == 0
    rows = exported.strip().splitlines()
    assert rows[0].endswith(",link_id,kind")
    assert sorted(r.split(",")[3] for r in rows[1:]) == ["L-100", "L-200"]
    assert all(r.endswith(",SITE") and ",rater@il," in r for r in rows[1:])


async def test_crosswalk_suggest_refuses_an_unknown_left_source(tmp_path: Path) -> None:
    async with DemoSystems(programs=10, data_dir=tmp_path) as demo:
        code, _, err = await run(
            "crosswalk",
            "suggest",
            "--config",
            str(demo.config_path),
            "--left",
            "nope",
            env=demo.env,
        )
    assert code == 1
    assert (
        "--left must name one of the sources of program records: licensing, head_start, qris" in err
    )


def _extra_source(tmp_path: Path) -> Path:
    """A config adding a Pre-K system (a SQLite table) to the demo's sources."""
    import sqlite3

    db = tmp_path / "prek.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE prek_site (site_id TEXT PRIMARY KEY, site_name TEXT)")
        connection.execute("INSERT INTO prek_site VALUES ('PK-1', 'Riverside Pre-K')")
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "support_types: [{code: PRE_K, name: Pre-K}]\n"
        "sources:\n"
        "  prek:\n"
        "    kind: sql\n"
        f"    url: sqlite+aiosqlite:///{db}\n"
        "    support_types: [PRE_K]\n"
        "    entities:\n"
        "      program: {table: prek_site, key: site_id, fields: {name: site_name}}\n"
    )
    return extra


async def test_demo_takes_an_extra_source_and_a_fixed_qris_port_and_cleans_up_on_sigterm(
    tmp_path: Path,
) -> None:
    """`demo --config EXTRA --qris-port N`: the extra source joins the demo's, QRIS is served
    on N and the variables other commands need are printed; SIGTERM stops it cleanly and
    removes its temporary directory (with the private key)."""
    port, qris_port = free_port(), free_port()
    extra = await asyncio.to_thread(_extra_source, tmp_path)
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ecehub", "demo", "--programs", "10", "--config", str(extra)),
        *("--port", str(port), "--qris-port", str(qris_port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seen = ""
    try:
        assert proc.stdout is not None
        while "ecehub demo is up" not in seen:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert line, f"demo exited early: {seen}"
            seen += line.decode()
        exports = dict(
            item.split("=", 1)
            for line in seen.splitlines()
            if line.startswith("export ")
            for item in line.removeprefix("export ").split()
        )
        assert exports["QRIS_API_URL"] == f"http://127.0.0.1:{qris_port}"
        request = urllib.request.Request(
            f"{exports['QRIS_API_URL']}/v1/providers?page=1&per_page=1",
            headers={"X-API-Key": exports["QRIS_API_KEY"]},
        )
        with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as answer:
            assert json.loads(answer.read())["data"]
        lines = seen.splitlines()
        admin = lines[lines.index(next(x for x in lines if x.startswith("state admin"))) + 1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps(
                {"query": "{ sources { name status } supportTypes { code } }"}
            ).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {admin}"},
        )
        with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as answer:
            data = json.loads(answer.read())["data"]
        assert {"name": "prek", "status": "UP"} in data["sources"]
        assert "PRE_K" in {t["code"] for t in data["supportTypes"]}
        key_dir = Path(seen.split("signed by the local dev key in ", 1)[1].split(";", 1)[0])
        assert await asyncio.to_thread(key_dir.exists)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    assert code == 0
    assert not await asyncio.to_thread(key_dir.parent.exists)  # the temporary dir is gone


def test_an_extra_config_may_not_reuse_a_demo_source_name() -> None:
    import pytest

    from ecehub.cli.demo import with_extra
    from ecehub.errors import ConfigError

    base = {"sources": {"qris": {"kind": "rest"}}, "server": {"max_depth": 12, "mode": "x"}}
    merged = with_extra(base, {"server": {"max_depth": 20}}, "extra.yaml")
    assert merged["server"] == {"max_depth": 20, "mode": "x"}
    with pytest.raises(ConfigError) as info:
        with_extra(base, {"sources": {"qris": {"kind": "sql"}}}, "extra.yaml")
    assert info.value.problems == [("sources.qris", "the demo has a source of this name")]
