"""Dotted JSON paths, for the modules of :mod:`ecehub.connectors.rest` (the implementation
is :mod:`ecehub.connectors.paths`, shared with the ``graphql`` connector), and the API paths
of endpoints (``/v1/providers``) the config names."""

from typing import Annotated

from pydantic import AfterValidator

from ecehub.connectors.paths import ABSENT, dig, lookup

__all__ = ["ABSENT", "ApiPath", "dig", "lookup"]


def _check_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("a path starts with '/', e.g. /v1/providers")
    return value


ApiPath = Annotated[str, AfterValidator(_check_path)]
"""An endpoint's path below the source's ``base_url``."""
