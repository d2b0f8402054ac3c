"""Dotted JSON paths, for the modules of :mod:`ecehub.connectors.rest` (the implementation
is :mod:`ecehub.connectors.paths`, shared with the ``graphql`` connector)."""

from ecehub.connectors.paths import ABSENT, dig, lookup

__all__ = ["ABSENT", "dig", "lookup"]
