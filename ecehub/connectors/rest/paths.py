"""Reading the value at a dotted JSON path (``location.city``, ``phones.0.number``) in a
record or a response body.

Package-internal: ``_lookup``, ``_dig`` and the ``_ABSENT`` marker serve the other modules of
:mod:`ecehub.connectors.rest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__: list[str] = []

_ABSENT = object()


def _lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path, or ``_ABSENT``. ``""`` is the object itself."""
    if path in {"", "."}:
        return obj
    for part in path.split("."):
        if isinstance(obj, Mapping):
            if part not in obj:
                return _ABSENT
            obj = obj[part]
        elif isinstance(obj, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(obj) <= index < len(obj):
                return _ABSENT
            obj = obj[index]
        else:
            return _ABSENT
    return obj


def _dig(obj: Any, path: str) -> Any:
    value = _lookup(obj, path)
    return None if value is _ABSENT else value
