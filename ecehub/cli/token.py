"""``ecehub token``: a signed development token (local ES256 key; never for production)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ecehub.cli.common import config_option

if TYPE_CHECKING:
    pass


__all__ = [
    "DEFAULT_DEV_KEY_DIR",
    "add_token_parser",
    "cmd_token",
]


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


def add_token_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ecehub.auth.devtokens import DEV_AUDIENCE, DEV_ISSUER

    token = sub.add_parser(
        "token", help="mint a signed development token (local ES256 key; never for production)"
    )
    token.add_argument("--role", action="append", required=True, help="a role; repeatable")
    config_option(token, "check the roles against this config's access.roles", required=False)
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
