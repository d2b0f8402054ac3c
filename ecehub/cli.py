"""The ``ecehub`` command: serve | demo | check | schema print | db upgrade | token |
crosswalk suggest | review | apply | export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecehub.config import load_config, parse_config, read_yaml
from ecehub.errors import ConfigError, EcehubError
from ecehub.logs import setup_logging

if TYPE_CHECKING:
    import uvicorn

    from ecehub.resolvers.runtime import Runtime

__all__ = ["main"]

SAMPLE_QUERY = """{
  programs(first: 3, filter: {supportTypes: ["HEAD_START"], qrisLevelMin: 4}) {
    nodes { name supportTypes { code } license { number status }
            qrisRating { level } sites { name rooms { name ageGroup } }
            qip { goals { title tasks { title status } } }
            notes { body } activity { source kind minutes } }
  }
}"""


CONFIG_ENV = "ECEHUB_CONFIG"
CONFIG_MISSING = f"no config: pass --config FILE or set {CONFIG_ENV}"


def _config_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help_text: str = "YAML config file",
    *,
    required: bool = True,
) -> None:
    """``--config FILE``, defaulting to ``$ECEHUB_CONFIG``: the same on every command."""
    default = os.environ.get(CONFIG_ENV) or None
    parser.add_argument(
        "--config",
        default=default,
        required=required and default is None,
        help=f"{help_text} (default: ${CONFIG_ENV})",
    )


def _settle_heap() -> None:
    """Move everything loaded at start (libraries, config, demo data) out of the garbage
    collector's view: measured in benchmarks/, full collections over those objects were about
    half of a 1000-program query."""
    gc.collect()
    gc.freeze()


def _serve(app: object, host: str, port: int) -> None:
    import uvicorn

    _settle_heap()
    # log_config=None: uvicorn's lines go to the root handler of setup_logging, in its format
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=None)  # type: ignore[arg-type]


async def _store_ready(url: str, migrate_it: bool) -> str | None:
    """Why the hub store at ``url`` cannot be served (``None``: it is at the newest
    revision, after upgrading it when ``migrate_it``)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from ecehub.hub import migrate

    try:
        revision = await (migrate.upgrade(url) if migrate_it else migrate.current(url))
    except (CommandError, SQLAlchemyError, OSError) as exc:
        # The message names the failure, never the URL (it may hold a password).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"the hub store could not be read: {type(exc).__name__}: {reason}"
    if revision != migrate.head():
        return (
            f"the hub store is at revision {revision or '<empty>'}, this ecehub needs "
            f"{migrate.head()}: run `ecehub db upgrade --config CONFIG` first, or serve with "
            "--migrate"
        )
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from ecehub.app import create_app
    from ecehub.hub import hub_url

    config = load_config(args.config)
    setup_logging(config.server.log_format)
    refused = asyncio.run(_store_ready(hub_url(config), args.migrate))
    if refused is not None:
        print(f"ecehub serve: {refused}", file=sys.stderr)
        return 1
    _serve(create_app(config), args.host, args.port)
    return 0


async def _check(config_path: str) -> int:
    from ecehub.resolvers.runtime import Runtime
    from ecehub.schema import build_schema

    config = load_config(config_path)
    build_schema(config)  # the access rules' field patterns are checked against the schema
    runtime = Runtime(config)
    failed = 0
    try:
        for health in await runtime.health():
            conn = runtime.connectors[health.source]
            problems = await conn.verify() if health.ok else []
            ok = health.ok and not problems
            failed += not ok
            detail = "; ".join(problems) or health.detail
            print(
                f"{'ok  ' if ok else 'FAIL'}  {health.source:<20} {conn.kind:<6} "
                f"{health.latency_ms:8.1f} ms  {detail}".rstrip()
            )
    finally:
        await runtime.aclose()
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    config = args.config_file or args.config
    if not config:
        print(f"ecehub check: {CONFIG_MISSING}", file=sys.stderr)
        return 2
    return asyncio.run(_check(config))


def cmd_config_schema(args: argparse.Namespace) -> int:
    import json

    from ecehub.config.schema import config_json_schema

    text = json.dumps(config_json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_schema_print(args: argparse.Namespace) -> int:
    from ecehub.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)
    return 0


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
    from ecehub.demo.hub_seed import COACH, DEFAULT_HUB_PROGRAMS, choose_programs
    from ecehub.ids import encode_global_id
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
                data = _with_extra(data, read_yaml(args.config), args.config)
            config = parse_config(data, file=str(demo.config_path), env={**os.environ, **demo.env})
            setup_logging(config.server.log_format, logging.WARNING)
            dev_key = DevKey.load_or_create((data_dir / "dev-keys").resolve())
            config = config.model_copy(update={"auth": dev_auth_config(dev_key)})
            ta_programs = [
                encode_global_id("Program", p.hub_id)
                for p in choose_programs(demo.world, DEFAULT_HUB_PROGRAMS)[:4]
            ]
            ta_token = dev_key.mint(sub=COACH, roles=["ta_staff"], programs=ta_programs)
            admin_token = dev_key.mint(sub="state.admin@clearwater.example", roles=["state_admin"])
            runtime = Runtime(config)

            def ide_headers() -> dict[str, str]:
                """GraphiQL's Headers editor starts with an admin token, fresh each time the
                page is served (a token expires in an hour; the demo may run longer)."""
                token = dev_key.mint(sub="state.admin@clearwater.example", roles=["state_admin"])
                return {"Authorization": f"Bearer {token}"}

            # The app closes the runtime when the server stops.
            app = create_app(config, runtime, ide_headers=ide_headers)
            print(await _demo_crosswalk(runtime), flush=True)
            server = _demo_server(
                uvicorn.Config(
                    app, host=args.host, port=args.port, log_level="warning", log_config=None
                )
            )
            _settle_heap()
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
            print(
                f"\necehub demo is up: open {url} (GraphiQL)\n\ntry:\n{SAMPLE_QUERY}\n", flush=True
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


def _with_extra(base: Any, extra: Any, extra_file: str) -> dict[str, Any]:
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


DEFAULT_DEV_KEY_DIR = ".ecehub/dev-keys"


def _access_roles(path: str) -> set[str]:
    """The role names of a config's ``access.roles``, read without resolving the config's
    variables (a token can be minted where the sources' secrets are not set)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    access = data.get("access") if isinstance(data, dict) else None
    roles = access.get("roles") if isinstance(access, dict) else None
    return {str(name) for name in roles} if isinstance(roles, dict) else set()


def cmd_token(args: argparse.Namespace) -> int:
    import datetime as dt

    from ecehub.auth.devtokens import DevKey

    if args.config:
        known = _access_roles(args.config)
        unknown = [r for r in args.role if r not in known]
        if unknown:
            print(
                f"ecehub token: no role {', '.join(map(repr, unknown))} in {args.config}'s "
                f"access.roles; its roles: {', '.join(sorted(known)) or '(none)'}",
                file=sys.stderr,
            )
            return 2
    key = DevKey.load_or_create(Path(args.key_dir))
    token = key.mint(
        sub=args.sub,
        roles=args.role,
        programs=args.program or [],
        support_types=args.support_type or [],
        ttl_s=args.ttl,
        issuer=args.issuer,
        audience=args.audience,
    )
    print(token)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.ttl)
    print(
        f"dev token for {args.sub} (roles {', '.join(args.role)}), valid {args.ttl} s, until "
        f"{expires:%Y-%m-%d %H:%M:%S} UTC. "
        f"Trust it with auth: {{mode: jwt, issuer: {args.issuer}, audience: {args.audience}, "
        f"algorithms: [ES256], keys: [{key.public_path}]}}",
        file=sys.stderr,
    )
    return 0


def _add_token_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ecehub.auth.devtokens import DEV_AUDIENCE, DEV_ISSUER

    token = sub.add_parser(
        "token", help="mint a signed development token (local ES256 key; never for production)"
    )
    token.add_argument("--role", action="append", required=True, help="a role; repeatable")
    _config_option(token, "check the roles against this config's access.roles", required=False)
    token.add_argument("--program", action="append", help="a program ID in scope; repeatable")
    token.add_argument(
        "--support-type",
        action="append",
        help="a support type whose sector data the user sees (sector_staff); repeatable",
    )
    token.add_argument("--sub", default="dev-user", help="the user (sub claim)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument(
        "--key-dir",
        default=os.environ.get("ECEHUB_DEV_KEY_DIR", DEFAULT_DEV_KEY_DIR),
        help=f"where the dev signing key lives (made on first use; default {DEFAULT_DEV_KEY_DIR})",
    )
    token.add_argument("--issuer", default=DEV_ISSUER)
    token.add_argument("--audience", default=DEV_AUDIENCE)
    token.set_defaults(func=cmd_token)


def _hub_store_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    if not args.config:
        raise SystemExit(f"ecehub db: {CONFIG_MISSING}, or --url")
    from ecehub.hub import hub_url

    return hub_url(load_config(args.config))


async def _db(args: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from ecehub.hub import migrate

    url = _hub_store_url(args)
    try:
        if args.db_command == "upgrade":
            revision = await migrate.upgrade(url, args.revision)
        elif args.db_command == "downgrade":
            revision = await migrate.downgrade(url, args.revision)
        else:
            revision = await migrate.current(url)
    except (CommandError, SQLAlchemyError, OSError) as exc:
        # The message names the failure, never the URL (it may hold a password).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"hub store {args.db_command} failed: {type(exc).__name__}: {reason}", file=sys.stderr
        )
        return 1
    print(f"hub store at revision {revision or '<empty>'} (newest: {migrate.head()})")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    return asyncio.run(_db(args))


async def _prune_audit(args: argparse.Namespace) -> int:
    import datetime as dt

    from ecehub.hub import HubStore

    days = args.days
    if days is None and args.config:
        days = load_config(args.config).hub.audit_retention_days
    if days is None or days < 1:
        print(
            "prune-audit: no retention: pass --days N (1 or more), or set "
            "hub.audit_retention_days in the config",
            file=sys.stderr,
        )
        return 2
    older_than = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    async with HubStore(_hub_store_url(args)) as store:
        deleted = await store.prune_audit(args.actor, older_than)
        expired = await store.prune_idempotency_keys()
    print(f"deleted {deleted} audit entries from before {older_than:%Y-%m-%d %H:%M} UTC")
    print(f"deleted {expired} expired idempotency keys")
    return 0


def cmd_prune_audit(args: argparse.Namespace) -> int:
    return asyncio.run(_prune_audit(args))


def _add_db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="hub store migrations (Alembic, shipped in the package)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    commands = {
        "upgrade": ("upgrade the hub store (default: to the newest revision)", "head"),
        "downgrade": ("downgrade the hub store to a revision (base: drop all)", None),
        "current": ("print the hub store's revision", None),
    }
    for name, (help_text, default) in commands.items():
        command = db_sub.add_parser(name, help=help_text)
        where = command.add_mutually_exclusive_group()
        _config_option(where, "YAML config file: its hub.url", required=False)
        where.add_argument("--url", help="SQLAlchemy URL of the hub store")
        if name == "upgrade":
            command.add_argument("--revision", default=default, help="target (default: head)")
        elif name == "downgrade":
            command.add_argument("--revision", required=True, help="target, e.g. base or -1")
        command.set_defaults(func=cmd_db)
    prune = db_sub.add_parser(
        "prune-audit",
        help="delete audit entries older than the retention (itself audited) and expired "
        "idempotency keys",
    )
    where = prune.add_mutually_exclusive_group()
    _config_option(where, "YAML config file: its hub.url and audit_retention_days", required=False)
    where.add_argument("--url", help="SQLAlchemy URL of the hub store")
    prune.add_argument("--days", type=int, help="keep this many days (default: the config's)")
    prune.add_argument("--actor", default="ecehub-retention", help="who the audit names")
    prune.set_defaults(func=cmd_prune_audit)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def _runtime(config_path: str) -> AsyncIterator[Runtime]:
    from ecehub.resolvers.runtime import Runtime

    runtime = Runtime(load_config(config_path))
    try:
        yield runtime
    finally:
        await runtime.aclose()


async def _crosswalk_suggest(args: argparse.Namespace) -> int:
    from ecehub.crosswalk.suggest import suggest_links

    async with _runtime(args.config) as runtime:
        await suggest_links(
            runtime,
            args.entity,
            left=args.left,
            actor=args.actor,
            auto_link=args.auto_score,
            suggest=args.min_score,
            progress=_progress,
            done=print,
        )
    return 0


async def _crosswalk_review(args: argparse.Namespace) -> int:
    async with _runtime(args.config) as runtime:
        page = await runtime.crosswalk_store.suggestions(
            args.entity, first=args.first, after=args.after
        )
        for link in page.links:
            flag = "auto" if link.auto else "    "
            print(
                f"{link.score or 0:.3f} {flag} {link.hub_id} <- {link.source}:{link.source_key}"
                f"  [{'; '.join(link.reasons)}]  link {link.id} version {link.version}"
            )
        if not page.links:
            print(f"no {args.entity} suggestions to review")
        elif page.has_next_page:
            print(f"more: ecehub crosswalk review --after {page.end_cursor}")
    return 0


async def _crosswalk_apply(args: argparse.Namespace) -> int:
    from ecehub.crosswalk.records import CrosswalkLink
    from ecehub.errors import HubStoreError

    async with _runtime(args.config) as runtime:
        store = runtime.crosswalk_store
        auto: list[CrosswalkLink] = []
        after: str | None = None
        while True:
            page = await store.suggestions(args.entity, first=500, after=after)
            auto.extend(link for link in page.links if link.auto)
            if not page.has_next_page:
                break
            after = page.end_cursor
        confirmed = 0
        for link in auto:
            try:
                await store.confirm_link(args.actor, link.id, link.version)
            except HubStoreError as exc:
                print(f"skipped {link.source}:{link.source_key}: {exc.message}", file=sys.stderr)
            else:
                confirmed += 1
        print(f"confirmed {confirmed} of {len(auto)} auto suggestions ({args.entity})")
    return 0


async def _crosswalk_export(args: argparse.Namespace) -> int:
    from ecehub.crosswalk.proposals import write_links_csv
    from ecehub.hub import LinkStatus

    statuses = None if not args.status else [LinkStatus(s.upper()) for s in args.status]
    async with _runtime(args.config) as runtime:
        links = [
            link
            async for link in runtime.crosswalk_store.iter_links(args.entity, statuses=statuses)
        ]
    if args.output in (None, "-"):
        count = write_links_csv(links, sys.stdout)
    else:

        def write() -> int:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                return write_links_csv(links, out)

        count = await asyncio.to_thread(write)
    _progress(f"exported {count} {args.entity} links")
    return 0


_CROSSWALK_COMMANDS = {
    "suggest": _crosswalk_suggest,
    "review": _crosswalk_review,
    "apply": _crosswalk_apply,
    "export": _crosswalk_export,
}


def cmd_crosswalk(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_CROSSWALK_COMMANDS[args.crosswalk_command](args))
    except ConfigError:
        raise
    except EcehubError as exc:
        print(f"crosswalk {args.crosswalk_command} failed: {exc.message}", file=sys.stderr)
        return 1


def _add_crosswalk_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crosswalk = sub.add_parser("crosswalk", help="propose, review and apply crosswalk links")
    cw_sub = crosswalk.add_subparsers(dest="crosswalk_command", required=True)
    actor = f"{getpass.getuser()}@ecehub-cli"
    commands = {
        "suggest": "match every source's programs (or staff) with the --left source's; "
        "store suggestions",
        "review": "list suggestions waiting for a decision, highest score first",
        "apply": "confirm the suggestions the matcher marked auto",
        "export": "write the links as CSV",
    }
    for name, help_text in commands.items():
        command = cw_sub.add_parser(name, help=help_text)
        _config_option(command)
        # The entities a matcher exists for (ecehub.crosswalk.suggest.SUGGEST_ENTITIES).
        entities = ["program", "staff"] if name == "suggest" else ["program", "site", "staff"]
        command.add_argument("--entity", choices=entities, default="program")
        if name in ("suggest", "apply"):
            command.add_argument("--actor", default=actor, help=f"who decides (default: {actor})")
        command.set_defaults(func=cmd_crosswalk)
    suggest = cw_sub.choices["suggest"]
    suggest.add_argument("--left", help="the source others are matched with (default: first)")
    suggest.add_argument(
        "--auto-score",
        type=float,
        help="score from which a match is auto (default: merge.<entity>.auto_link, 0.95)",
    )
    suggest.add_argument(
        "--min-score",
        type=float,
        help="lowest score suggested (default: merge.<entity>.suggest, 0.5)",
    )
    review = cw_sub.choices["review"]
    review.add_argument("--first", type=int, default=50, help="how many to list (at most 500)")
    review.add_argument("--after", help="the cursor a previous review printed")
    export = cw_sub.choices["export"]
    export.add_argument("--output", "-o", help="CSV file (default: standard output)")
    export.add_argument(
        "--status",
        action="append",
        choices=["confirmed", "suggested", "rejected"],
        help="only links with this status; repeatable (default: all)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL hub for a config file")
    _config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--migrate",
        action="store_true",
        help="upgrade the hub store to the newest revision first (else an older one is refused)",
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run the hub over three seeded demo sector systems")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--programs", type=int, default=200, help="how many programs to seed")
    demo.add_argument("--data-dir", default=None, help="where the SQLite files go (default: temp)")
    demo.add_argument(
        "--qris-port", type=int, default=0, help="the demo QRIS API's port (default: a free one)"
    )
    demo.add_argument(
        "--config",
        help="a YAML file whose sources join the demo's (after them) and whose other "
        "sections are merged into the demo config's",
    )
    demo.add_argument(
        "--headstart-url",
        default=os.environ.get("ECEHUB_DEMO_HEADSTART_URL"),
        help="SQLAlchemy URL for the Head Start database (default: SQLite)",
    )
    demo.add_argument(
        "--licensing-url",
        default=os.environ.get("ECEHUB_DEMO_LICENSING_URL"),
        help="SQLAlchemy URL for the licensing database (default: SQLite)",
    )
    demo.set_defaults(func=cmd_demo)

    check = sub.add_parser("check", help="validate a config and ping every source")
    _config_option(check, required=False)
    check.add_argument(
        "config_file", nargs="?", help="the config file, as --config (kept for older scripts)"
    )
    check.set_defaults(func=cmd_check)

    config_cmd = sub.add_parser("config", help="config tools")
    config_sub = config_cmd.add_subparsers(dest="config_command", required=True)
    config_schema = config_sub.add_parser(
        "schema", help="write a JSON Schema of the config file (for editors)"
    )
    config_schema.add_argument("--output", "-o", default=None)
    config_schema.set_defaults(func=cmd_config_schema)

    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    printer = schema_sub.add_parser("print", help="write the GraphQL SDL")
    printer.add_argument("--output", "-o", default=None)
    printer.set_defaults(func=cmd_schema_print)

    _add_db_parser(sub)
    _add_token_parser(sub)
    _add_crosswalk_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
