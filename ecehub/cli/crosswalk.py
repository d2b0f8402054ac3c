"""``ecehub crosswalk suggest | review | apply | export``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ecehub.cli.common import config_option, progress
from ecehub.config import load_config
from ecehub.errors import ConfigError, EcehubError

if TYPE_CHECKING:
    from ecehub.hub.enums import LinkKind
    from ecehub.resolvers.runtime import Runtime


__all__ = [
    "add_crosswalk_parser",
    "cmd_crosswalk",
]


@contextlib.asynccontextmanager
async def _runtime(config_path: str) -> AsyncIterator[Runtime]:
    from ecehub.resolvers.runtime import Runtime

    runtime = Runtime(load_config(config_path))
    try:
        yield runtime
    finally:
        await runtime.aclose()


def _kind(args: argparse.Namespace) -> LinkKind | None:
    """The link kind asked for (``None``: every kind); site links are program links."""
    from ecehub.hub.enums import LinkKind

    if args.kind is None:
        return None
    if args.kind == "site" and args.entity != "program":
        raise EcehubError(
            "--kind site: a site link is a program link (a facility as a site of a program); "
            "drop --entity or pass --entity program"
        )
    return LinkKind(args.kind.upper())


async def _crosswalk_suggest(args: argparse.Namespace) -> int:
    from ecehub.crosswalk.suggest import suggest_links, suggest_sites
    from ecehub.hub.enums import LinkKind

    kind = _kind(args)
    options: dict[str, Any] = {
        "left": args.left,
        "right": args.right or (),
        "actor": args.actor,
        "auto_link": args.auto_score,
        "suggest": args.min_score,
        "progress": progress,
        "done": print,
    }
    async with _runtime(args.config) as runtime:
        if kind == LinkKind.SITE:
            await suggest_sites(runtime, **options)
        else:
            await suggest_links(runtime, args.entity, **options)
    return 0


async def _crosswalk_review(args: argparse.Namespace) -> int:
    kind = _kind(args)
    async with _runtime(args.config) as runtime:
        page = await runtime.crosswalk_store.suggestions(
            args.entity, first=args.first, after=args.after, kind=kind
        )
        for link in page.links:
            flag = "auto" if link.auto else "    "
            arrow = "<- site" if link.kind == "SITE" else "<-"
            print(
                f"{link.score or 0:.3f} {flag} {link.hub_id} {arrow} "
                f"{link.source}:{link.source_key}"
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

    kind = _kind(args)
    async with _runtime(args.config) as runtime:
        store = runtime.crosswalk_store
        auto: list[CrosswalkLink] = []
        after: str | None = None
        while True:
            page = await store.suggestions(args.entity, first=500, after=after, kind=kind)
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
        what = args.entity if kind is None else f"{args.entity}, {args.kind}"
        print(f"confirmed {confirmed} of {len(auto)} auto suggestions ({what})")
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
    progress(f"exported {count} {args.entity} links")
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


def add_crosswalk_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crosswalk = sub.add_parser("crosswalk", help="propose, review and apply crosswalk links")
    cw_sub = crosswalk.add_subparsers(dest="crosswalk_command", required=True)
    actor = f"{getpass.getuser()}@ecehub-cli"
    commands = {
        "suggest": "match every source's programs (or staff) with the --left source's, or "
        "(--kind site) facilities with the --left source's sites; store suggestions",
        "review": "list suggestions waiting for a decision, highest score first",
        "apply": "confirm the suggestions the matcher marked auto",
        "export": "write the links as CSV",
    }
    for name, help_text in commands.items():
        command = cw_sub.add_parser(name, help=help_text)
        config_option(command)
        # suggest refuses site with a hint: a site link is a program link of kind site.
        command.add_argument("--entity", choices=["program", "site", "staff"], default="program")
        if name != "export":
            command.add_argument(
                "--kind",
                choices=["same", "site"],
                help="same: the record is the object; site: a facility is a site of the "
                "program" + (" (default: same)" if name == "suggest" else " (default: both kinds)"),
            )
        if name in ("suggest", "apply"):
            command.add_argument("--actor", default=actor, help=f"who decides (default: {actor})")
        command.set_defaults(func=cmd_crosswalk)
    suggest = cw_sub.choices["suggest"]
    suggest.add_argument(
        "--left",
        help="the source others are matched with (default: the first; --kind site: the "
        "program-level source whose site records facilities are matched with, required)",
    )
    suggest.add_argument(
        "--right",
        action="append",
        help="a source matched with --left; repeatable (default: every other source)",
    )
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
