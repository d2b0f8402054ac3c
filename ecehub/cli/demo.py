"""``ecehub demo``: three seeded demo sector systems and the hub over them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecehub.cli.common import settle_heap
from ecehub.config import parse_config, read_yaml
from ecehub.errors import ConfigError, EcehubError
from ecehub.logs import setup_logging

if TYPE_CHECKING:
    import uvicorn

    from ecehub.resolvers.runtime import Runtime


__all__ = [
    "SAMPLE_QUERY",
    "cmd_demo",
    "with_extra",
]


SAMPLE_QUERY = """{
  programs(first: 3, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4}) {
    nodes { name supportTypes { code } license { number status }
            qrisRating { level } sites { name rooms { name ageGroup } }
            qip { goals { title tasks { title status } } }
            notes { body } activity { source kind minutes } }
  }
}"""


CROSSWALK_QUERY = (
    "{ crosswalkSuggestions(first: 5) { links { id version score auto reasons source "
    "sourceKey record { name address { street city } } program { id name } } } }"
)

DEMO_MATCHER = "matcher@ecehub-demo"


async def _demo_crosswalk(runtime: Runtime) -> str:
    """Propose program links in the hub store (``ecehub crosswalk suggest``; nothing is
    confirmed) and say where to review them."""
    from ecehub.crosswalk.suggest import suggest_links

    try:
        found = await suggest_links(runtime, "program", actor=DEMO_MATCHER)
    except EcehubError as exc:
        return f"crosswalk: no suggestions ({exc.message})"
    waiting = sum(f.to_review for f in found)
    return (
        f"crosswalk: {waiting} suggestions to review (query crosswalkSuggestions as the state "
        f"administrator), e.g.\n{CROSSWALK_QUERY}"
    )


async def _demo(args: argparse.Namespace) -> int:
    import uvicorn

    from ecehub.app import create_app
    from ecehub.auth.devtokens import DevKey, dev_auth_config
    from ecehub.demo import DemoSystems
    from ecehub.demo.hub_seed import COACH, DEFAULT_HUB_PROGRAMS
    from ecehub.demo.tokens import DemoTokens
    from ecehub.resolvers.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="ecehub-demo-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        print(f"seeding {args.programs} programs into the demo sector systems ...", flush=True)
        async with DemoSystems(
            programs=args.programs,
            data_dir=data_dir,
            headstart_url=args.headstart_url,
            licensing_url=args.licensing_url,
            hub_programs=DEFAULT_HUB_PROGRAMS,
            qris_port=args.qris_port,
        ) as demo:
            data = read_yaml(demo.config_path)
            if args.config:
                data = with_extra(data, read_yaml(args.config), args.config)
            config = parse_config(data, file=str(demo.config_path), env={**os.environ, **demo.env})
            setup_logging(config.server.log_format, logging.WARNING)
            dev_key = DevKey.load_or_create((data_dir / "dev-keys").resolve())
            config = config.model_copy(update={"auth": dev_auth_config(dev_key)})
            roster = DemoTokens(dev_key, demo.world)
            ta_programs = next(u.programs for u in roster.users if u.role == "ta_staff")
            ta_token = roster.token("ta_staff")
            admin_token = roster.token("state_admin")
            runtime = Runtime(config)

            def ide_headers() -> dict[str, str]:
                """GraphiQL's Headers editor starts with an admin token, fresh each time the
                page is served (a token expires in an hour; the demo may run longer)."""
                token = dev_key.mint(sub="state.admin@clearwater.example", roles=["state_admin"])
                return {"Authorization": f"Bearer {token}"}

            # The app closes the runtime when the server stops.
            app = create_app(config, runtime, ide_headers=ide_headers, dev_tokens=roster)
            print(await _demo_crosswalk(runtime), flush=True)
            server = _demo_server(
                uvicorn.Config(
                    app, host=args.host, port=args.port, log_level="warning", log_config=None
                )
            )
            settle_heap()
            url = f"http://{args.host}:{args.port}/graphql"
            print(
                f"\nauth: jwt, signed by the local dev key in {dev_key.directory}; roles from "
                f"the config's access section. Without a token you see the public directory "
                f"only. Send a token as the header (GraphiQL: Headers)\n"
                f'{{"Authorization": "Bearer <token>"}}\n\n'
                f"state administrator (everything; the sample query below):\n{admin_token}\n\n"
                f"TA staff {COACH} (programs {', '.join(ta_programs)}):\n{ta_token}\n\n"
                f"(mint more: ecehub token --role ROLE [--program ID] [--support-type CODE] "
                f"--key-dir {dev_key.directory})",
                flush=True,
            )
            exports = " ".join(f"{name}={value}" for name, value in sorted(demo.env.items()))
            print(
                f"\nthe demo's systems, for `ecehub check --config {demo.config_path}` and "
                f"`ecehub crosswalk ...` in another shell:\nexport {exports}",
                flush=True,
            )
            front_end = f"http://{args.host}:{args.port}/app/"
            print(
                f"\nthe reference front end: {front_end} (sign in by picking a role)\n"
                f"\necehub demo is up: open {url} (GraphiQL)\n\ntry:\n{SAMPLE_QUERY}\n",
                flush=True,
            )
            await server.serve()
    return 0


def _demo_server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, stopping on SIGINT or SIGTERM as uvicorn does, but returning
    afterwards instead of raising the signal again (uvicorn's way), so the demo removes its
    temporary directory (its databases and private signing key) before the process ends."""
    import uvicorn

    class DemoServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return DemoServer(config)


def with_extra(base: Any, extra: Any, extra_file: str) -> dict[str, Any]:
    """The demo's config data with ``extra``'s: its sources after the demo's (a name the
    demo has is refused), its support types added, every other section merged key by key
    (``extra`` wins)."""
    if not isinstance(extra, dict):
        raise ConfigError(extra_file, [("", "expected a mapping at the top level")])
    merged: dict[str, Any] = dict(base)
    for key, value in extra.items():
        if key == "sources" and isinstance(value, dict):
            have = dict(base.get("sources") or {})
            clash = sorted(set(value) & set(have))
            if clash:
                raise ConfigError(
                    extra_file,
                    [(f"sources.{n}", "the demo has a source of this name") for n in clash],
                )
            merged[key] = {**have, **value}
        elif key == "support_types" and isinstance(value, list):
            have_types = list(base.get(key) or [])
            codes = {t.get("code") for t in have_types if isinstance(t, dict)}
            added = [t for t in value if not isinstance(t, dict) or t.get("code") not in codes]
            merged[key] = have_types + added
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def cmd_demo(args: argparse.Namespace) -> int:
    return asyncio.run(_demo(args))
