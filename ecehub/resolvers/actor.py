"""Who is acting. Until authentication lands, the acting user is named by a request header
(the demo and tests set it); this one function is what the auth work replaces."""

from __future__ import annotations

from typing import Any

__all__ = ["ACTOR_HEADER", "acting_user"]

ACTOR_HEADER = "X-Ecehub-User"


def acting_user(request: Any) -> str | None:
    """The acting user of a request, or ``None`` when it names none."""
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    value = str(headers.get(ACTOR_HEADER, "")).strip()
    return value[:200] or None
