"""Who is acting. Until authentication lands, the acting user is named by a request header
(the demo and tests set it); this one function is what the auth work replaces."""

from __future__ import annotations

from typing import Any

__all__ = ["ACTOR_HEADER", "acting_user", "may_download"]

ACTOR_HEADER = "X-Ecehub-User"


def acting_user(request: Any) -> str | None:
    """The acting user of a request, or ``None`` when it names none."""
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    value = str(headers.get(ACTOR_HEADER, "")).strip()
    return value[:200] or None


def may_download(request: Any) -> bool:
    """Whether a request may download hub files. Until authentication lands, any request that
    names an acting user may; the auth work replaces this with a check of the file's program."""
    return acting_user(request) is not None
