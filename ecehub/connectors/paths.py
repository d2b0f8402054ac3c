"""Reading the value at a dotted JSON path (``location.city``, ``phones.0.number``) in a
record or a response body.

Shared by the connectors that read JSON (``rest``, ``graphql``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ABSENT", "dig", "lookup"]

ABSENT = object()


def lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path, or ``ABSENT``. ``""`` is the object itself."""
    if type(obj) is dict and "." not in path and path:
        return obj.get(path, ABSENT)  # a plain key of a JSON object: most paths, most rows
    if path in {"", "."}:
        return obj
    for part in path.split("."):
        if isinstance(obj, Mapping):
            if part not in obj:
                return ABSENT
            obj = obj[part]
        elif isinstance(obj, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(obj) <= index < len(obj):
                return ABSENT
            obj = obj[index]
        else:
            return ABSENT
    return obj


def dig(obj: Any, path: str) -> Any:
    value = lookup(obj, path)
    return None if value is ABSENT else value
