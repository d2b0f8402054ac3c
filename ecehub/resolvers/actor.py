"""Who is acting: the one place resolvers and routes ask. The answer is what the
authentication middleware (:mod:`ecehub.auth.middleware`) put on the request: the bearer
token's user claim in ``jwt`` mode, the ``X-Ecehub-User`` header in ``header`` mode
(development only). A request the middleware did not see has no acting user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecehub.auth.middleware import ACTOR_HEADER, authentication_of

__all__ = ["ACTOR_HEADER", "acting_claims", "acting_user", "may_download"]


def acting_user(request: Any) -> str | None:
    """The acting user of a request, or ``None`` when it is anonymous."""
    auth = authentication_of(request)
    return auth.user if auth else None


def acting_claims(request: Any) -> Mapping[str, Any]:
    """The verified token claims of a request (empty in header mode or when anonymous)."""
    auth = authentication_of(request)
    return auth.principal.claims if auth and auth.principal else {}


def may_download(request: Any) -> bool:
    """Whether a request may download hub files at all: any authenticated one. Which files
    (the file's program, the role's rules) the download route checks next."""
    return acting_user(request) is not None
