"""ecehub against Hive Gateway + Mesh Compose on the same REST sources, in one run.

The peer harness (../shared/peerbench, copied to --peerbench first) serves two REST "sector"
APIs (1000 providers paged, 1000 facilities by license number, --latency-ms each) and runs
Hive Gateway over them with a batched join. This script starts the REST server, composes and
starts the gateway, starts ``ecehub serve`` with a config for the same two APIs, checks that
both answer the harness's query right (every provider's facility, item by item), then loads
each with wrk (--connections, --duration), alternating the two servers round by round, and
prints requests per second, p50/p99 latency, CPU milliseconds per request (of the server's
whole process tree, from /proc) and REST calls per GraphQL request, with the ratios
ecehub / gateway. Other work on the machine skews absolute figures: read the ratios.

Needs node and npm (the gateway, from the npm registry), wrk (``apt-get install wrk``) and
this checkout's .venv. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "peerbench"
REST = "http://127.0.0.1:18801"
STATUSES = ["open", "closed", "suspended", "pending"]

ECEHUB_QUERY = (
    "{ programs(first: 100) { nodes { id name facility: license { capacity status } } } }"
)

ECEHUB_CONFIG = """\
# The peer harness's two REST APIs as ecehub sources (benchmarks/bench_peer.py).
sources:
  providers:
    kind: rest
    base_url: {rest}
    records_path: ""
    pagination: {{style: page, page_param: page, size_param: per_page, page_size: 1000}}
    entities:
      program:
        path: /providers
        key: id
        fields: {{name: name}}
        identifiers: {{LICENSE_NUMBER: license_number}}
        list_only: true
  facilities:
    kind: rest
    base_url: {rest}
    records_path: ""
    pagination: {{style: none}}
    entities:
      program:
        path: /facilities
        key: license_number
        fields: {{licensed_capacity: capacity, license_status: status}}
        identifiers: {{LICENSE_NUMBER: license_number}}
        batch: {{param: license_numbers, max: 1000}}
        filters:
          identifier:LICENSE_NUMBER: {{param: license_numbers, op: in, max: 1000}}
        identifiers_unique: true
        lookup_only: true
merge:
  program: {{match_on: [LICENSE_NUMBER]}}
hub: {{url: "sqlite+aiosqlite:///{hub}"}}
server: {{max_page_size: 1000, log_format: text}}
cache: {{backend: none}}
"""


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    rest_calls: float
    bad: int


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _wait(url: str, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{what} did not answer {url} within {seconds:g} s")


def _ticks(pid: int) -> int:
    """utime + stime of ``pid`` and every descendant, in clock ticks."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(p, 0) for p in tree)


def _setup(peer: Path, *, gateway: bool = True) -> None:
    if not (peer / "rest_server.py").is_file():
        if not SHARED.is_dir():
            raise SystemExit(f"no peer harness: neither {peer} nor {SHARED} exists")
        shutil.copytree(SHARED, peer)
    if not (peer / "venv" / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(peer / "venv")], check=True)
        subprocess.run([str(peer / "venv/bin/pip"), "install", "-q", "aiohttp"], check=True)
    if not gateway:
        return
    if not (peer / "gw" / "node_modules" / ".bin" / "hive-gateway").exists():
        subprocess.run(["npm", "install", "--silent"], cwd=peer / "gw", check=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")


def _check(answer: dict[str, Any], providers: list[dict[str, Any]]) -> int:
    """Wrong facilities in one answer (each provider's, computed as the harness does)."""
    if answer.get("errors"):
        raise SystemExit(f"errors in an answer: {answer['errors'][:2]}")
    wrong = 0
    for item in providers:
        number = int(str(item["name"]).rsplit(" ", 1)[1])
        expected = {"capacity": 10 + (number * 13) % 190, "status": STATUSES[number % 4]}
        wrong += item["facility"] != expected
    return wrong


def _rest_calls() -> int:
    stats = _get(f"{REST}/_stats")
    return int(stats.get("providers", 0)) + int(stats.get("facilities", 0))


def _reset() -> None:
    urllib.request.urlopen(urllib.request.Request(f"{REST}/_reset", method="POST")).read()


def _load(peer: Path, url: str, pid: int, query_file: Path, args: argparse.Namespace) -> Figures:
    env = {**os.environ, "QUERY_FILE": str(query_file)}
    wrk = ["wrk", "-t2", f"-c{args.connections}", "-s", str(peer / "post.lua")]
    subprocess.run([*wrk, "-d3s", url], env=env, capture_output=True, check=True)  # warm-up
    _reset()
    before = _ticks(pid)
    out = subprocess.run(
        [*wrk, f"-d{args.duration}s", "--latency", url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    used = _ticks(pid) - before
    calls = _rest_calls()
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    result = dict(part.split("=") for part in line.split()[1:])
    requests = max(int(result["requests"]), 1)
    return Figures(
        rps=float(result["rps"]),
        p50_ms=float(result["p50_ms"]),
        p99_ms=float(result["p99_ms"]),
        cpu_ms=used * 1000 / os.sysconf("SC_CLK_TCK") / requests,
        rest_calls=calls / requests,
        bad=int(result["bad"]) + int(result["sock_err"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peerbench", type=Path, default=Path("/tmp/peerbench"))
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="load runs per server")
    parser.add_argument("--workers", type=int, default=1, help="ecehub --workers / gw --fork")
    parser.add_argument("--port", type=int, default=4100, help="ecehub's port")
    parser.add_argument("--rest-port", type=int, default=18801, help="the REST sources' port")
    parser.add_argument(
        "--check-only",
        type=int,
        default=0,
        metavar="N",
        help="no gateway, no load: ask ecehub the query N times and print the REST requests "
        "each made (needs neither npm nor wrk)",
    )
    args = parser.parse_args()

    global REST
    REST = f"http://127.0.0.1:{args.rest_port}"
    peer = args.peerbench.resolve()
    _setup(peer, gateway=not args.check_only)
    work = Path(tempfile.mkdtemp(prefix="ecehub-peer-"))
    procs: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str], cwd: Path, env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        with open(work / log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        env = {**os.environ, "LATENCY_MS": str(args.latency_ms), "PORT": str(args.rest_port)}
        start([str(peer / "venv/bin/python"), "rest_server.py"], peer, env, "rest.log")
        _wait(f"{REST}/_stats", "the REST server")
        if args.check_only:
            _check_only(start, work, args)
            return
        subprocess.run(
            ["node", "node_modules/.bin/mesh-compose", "-o", "supergraph.graphql"],
            cwd=peer / "gw",
            check=True,
            capture_output=True,
        )
        gw_cmd = ["node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql"]
        gw_cmd += ["--port", "4000"] + (["--fork", str(args.workers)] if args.workers > 1 else [])
        gateway = start(gw_cmd, peer / "gw", {**os.environ, "NODE_ENV": "production"}, "gw.log")
        _wait("http://127.0.0.1:4000/healthcheck", "Hive Gateway")

        ecehub = _serve(start, work, args)

        gw_query = peer / "query.json"
        eh_query = work / "query.json"
        eh_query.write_text(json.dumps({"query": ECEHUB_QUERY}))
        servers = {
            "gateway": ("http://127.0.0.1:4000/graphql", gateway.pid, gw_query),
            "ecehub": (f"http://127.0.0.1:{args.port}/graphql", ecehub.pid, eh_query),
        }
        print(
            f"peer benchmark: {os.cpu_count()} CPUs, sources {args.latency_ms} ms, "
            f"wrk {args.connections} connections x {args.duration} s, {args.rounds} rounds, "
            f"{args.workers} process(es) each"
        )
        for name, (url, _, query) in servers.items():
            _reset()
            answer = _post(url, query.read_bytes())
            data = answer["data"]
            items = data["providers"] if name == "gateway" else data["programs"]["nodes"]
            wrong = _check(answer, items)
            print(
                f"  check {name}: {len(items)} providers, wrong facilities {wrong}, "
                f"REST calls for one query {_rest_calls()}"
            )
        figures: dict[str, list[Figures]] = {name: [] for name in servers}
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for name in order:
                url, pid, query = servers[name]
                f = _load(peer, url, pid, query, args)
                figures[name].append(f)
                print(
                    f"  round {round_ + 1} {name:8} rps {f.rps:7.1f}  p50 {f.p50_ms:7.1f} ms  "
                    f"p99 {f.p99_ms:7.1f} ms  CPU/req {f.cpu_ms:6.1f} ms  "
                    f"REST calls/req {f.rest_calls:.2f}  bad {f.bad}"
                )
        _report(figures)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


Start = Callable[[list[str], Path, dict[str, str], str], "subprocess.Popen[bytes]"]


def _serve(start: Start, work: Path, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    config = work / "ecehub.yaml"
    config.write_text(ECEHUB_CONFIG.format(rest=REST, hub=work / "hub.db"))
    serve = [str(ROOT / ".venv/bin/python"), "-m", "ecehub", "serve", "--config", str(config)]
    serve += ["--port", str(args.port), "--migrate", "--workers", str(args.workers)]
    ecehub = start(serve, ROOT, dict(os.environ), "ecehub.log")
    _wait(f"http://127.0.0.1:{args.port}/healthz", "ecehub serve")
    return ecehub


def _check_only(start: Start, work: Path, args: argparse.Namespace) -> None:
    """The query ``args.check_only`` times, each answer checked, with the REST requests
    (per API) each made, counted by the REST server."""
    _serve(start, work, args)
    url = f"http://127.0.0.1:{args.port}/graphql"
    body = json.dumps({"query": ECEHUB_QUERY}).encode()
    print(f"ecehub on the peer's REST sources ({REST}), the query {args.check_only} times:")
    for i in range(args.check_only):
        _reset()
        answer = _post(url, body)
        items = answer["data"]["programs"]["nodes"]
        wrong = _check(answer, items)
        stats = _get(f"{REST}/_stats")
        print(
            f"  query {i + 1}: {len(items)} programs, wrong facilities {wrong}, REST requests "
            f"{_rest_calls()} (providers {stats.get('providers', 0)}, "
            f"facilities {stats.get('facilities', 0)})"
        )


def _report(figures: dict[str, list[Figures]]) -> None:
    def median(name: str, field: str) -> float:
        return float(statistics.median(getattr(f, field) for f in figures[name]))

    rows = [
        ("rps", "rps", "{:.1f}"),
        ("p50 ms", "p50_ms", "{:.1f}"),
        ("p99 ms", "p99_ms", "{:.1f}"),
        ("CPU ms per request", "cpu_ms", "{:.2f}"),
        ("REST calls per query", "rest_calls", "{:.2f}"),
    ]
    print()
    print(f"{'median of rounds':22} {'gateway':>9} {'ecehub':>9} {'ecehub/gateway':>15}")
    for label, field, fmt in rows:
        gw, eh = median("gateway", field), median("ecehub", field)
        ratio = f"{eh / gw:.2f}x" if gw else "-"
        print(f"{label:22} {fmt.format(gw):>9} {fmt.format(eh):>9} {ratio:>15}")
    bad = {name: sum(f.bad for f in runs) for name, runs in figures.items()}
    print(f"bad answers (non-200, errors, socket errors): {bad}")


if __name__ == "__main__":
    main()
