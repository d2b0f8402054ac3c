"""``ecehub connectors`` (what this hub can load) and ``ecehub connector new NAME`` (a
partner's package to start from)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_connector_parsers", "cmd_connector_new", "cmd_connectors"]


def cmd_connectors(args: argparse.Namespace) -> int:
    from ecehub.connectors import CONTRACT_VERSION, installed_connectors

    found = installed_connectors()
    if args.json:
        rows = [
            {
                "kind": c.kind,
                "class": c.target,
                "distribution": c.distribution,
                "contract_version": c.contract_version,
                "capabilities": None if c.capabilities is None else c.capabilities.summary(),
                "error": c.error,
            }
            for c in found
        ]
        print(json.dumps({"contract_version": CONTRACT_VERSION, "connectors": rows}, indent=2))
        return 1 if any(c.error for c in found) else 0
    print(f"ecehub connector contract {CONTRACT_VERSION}")
    for c in found:
        print(f"\n{c.kind}: {c.target}")
        print(f"  distribution: {c.distribution or '(not installed: built in or registered)'}")
        if c.error or c.capabilities is None:
            print(f"  error: {c.error}")
            continue
        print(f"  contract: {c.contract_version}")
        unset = {"filterable_fields": "every mapped field", "max_page_size": "no limit"}
        for name, value in c.capabilities.summary().items():
            shown = unset.get(name, "-") if value is None else value
            if isinstance(value, list):
                shown = ", ".join(map(str, value)) or "-"
            print(f"  {name}: {shown}")
    return 1 if any(c.error for c in found) else 0


def cmd_connector_new(args: argparse.Namespace) -> int:
    from ecehub.cli.scaffold import ScaffoldError, write_package

    try:
        names, root = write_package(args.name, Path(args.dir))
    except ScaffoldError as exc:
        print(f"ecehub connector new: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {root} (kind {names.kind!r}, class {names.package}.{names.connector_class})")
    print(f'next: cd {root} && pip install -e ".[test]" && pytest')
    return 0


def add_connector_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser(
        "connectors",
        help="list the connectors this hub can load: kind, class, package, contract, capabilities",
    )
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(func=cmd_connectors)

    connector = sub.add_parser("connector", help="connector tools")
    connector_sub = connector.add_subparsers(dest="connector_command", required=True)
    new = connector_sub.add_parser(
        "new",
        help="write a connector package (entry point, typed settings, a working skeleton, "
        "the conformance test, a README)",
    )
    new.add_argument("name", help="the connector's name, e.g. acme-qris (kind acme_qris)")
    new.add_argument("--dir", default=".", help="where the package's directory goes")
    new.set_defaults(func=cmd_connector_new)
