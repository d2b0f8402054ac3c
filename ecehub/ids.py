"""Every ID and cursor ecehub hands out: how it is written, read back and checked.

Hub IDs name one real-world object: ``<SYSTEM>:<value>`` for an object known by a shared
identifier (``LICENSE_NUMBER:CCL-1``), ``@<source>:<key>`` for a record known to one source
only, or a crosswalk hub ID (an opaque string the hub store makes).

Global IDs, what GraphQL clients see, are ``<Type>:<hub id>`` in unpadded URL-safe base64.
Cursors are opaque to clients too: list cursors (a query's fingerprint and a position, JSON),
audit-log cursors (time and entry number) and review-queue cursors (score and link ID).

Anything that does not read back raises :class:`InvalidId` (:class:`InvalidCursor` for a
cursor), a ``ValueError`` whose message says what was wrong and what to pass instead.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

__all__ = [
    "InvalidCursor",
    "InvalidId",
    "decode_audit_cursor",
    "decode_global_id",
    "decode_list_cursor",
    "decode_score_cursor",
    "decode_source_cursor",
    "encode_audit_cursor",
    "encode_global_id",
    "encode_list_cursor",
    "encode_score_cursor",
    "encode_source_cursor",
    "other_query_cursor",
    "record_hub_id",
    "record_of_hub_id",
    "shared_hub_id",
]


class InvalidId(ValueError):
    """An ID or cursor that ecehub did not make, or made for something else."""


class InvalidCursor(InvalidId):
    """An ``after`` cursor that is malformed or belongs to another list or query."""


def _encode(text: str, *, padded: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def _decode(encoded: str) -> str:
    """The text of a padded or unpadded URL-safe base64 string; ``ValueError`` otherwise."""
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeError) as exc:
        raise ValueError("not base64") from exc


# -- hub IDs -----------------------------------------------------------------------------------


def shared_hub_id(system: str, value: str) -> str:
    """The hub ID of an object known by a shared identifier (``value`` already normalised)."""
    return f"{system}:{value}"


def record_hub_id(source: str, key: str) -> str:
    """The hub ID of one source's record standing alone: ``@<source>:<key>``."""
    return f"@{source}:{key}"


def record_of_hub_id(hub_id: str) -> tuple[str, str] | None:
    """``(source, key)`` of an ``@<source>:<key>`` hub ID; ``None`` for any other hub ID."""
    if not hub_id.startswith("@"):
        return None
    source, _, key = hub_id[1:].partition(":")
    return source, key


# -- global IDs --------------------------------------------------------------------------------


def encode_global_id(type_name: str, hub_id: str) -> str:
    return _encode(f"{type_name}:{hub_id}")


def decode_global_id(global_id: str, expected_type: str) -> str:
    """The hub ID inside a global ID of ``expected_type``."""
    try:
        text = _decode(global_id)
    except ValueError:
        raise InvalidId(f"{global_id!r} is not an ecehub ID") from None
    type_name, sep, hub_id = text.partition(":")
    if not sep or not hub_id:
        raise InvalidId(f"{global_id!r} is not an ecehub ID")
    if type_name != expected_type:
        raise InvalidId(f"{global_id!r} is the ID of a {type_name}, not a {expected_type}")
    return hub_id


# -- list cursors (programs, sites, staff listings) --------------------------------------------

_MALFORMED = "the `after` cursor is malformed; pass an endCursor you were given"
_OTHER_QUERY = "the `after` cursor belongs to a query with other filters; start again without it"


def encode_list_cursor(fingerprint: str, **position: str | None) -> str:
    """An opaque cursor: the query's fingerprint and where in its listing it points."""
    return _encode(json.dumps({"q": fingerprint, **position}, separators=(",", ":")))


def decode_list_cursor(fingerprint: str, after: str, *names: str) -> list[str | None]:
    """The position fields ``names`` of an ``after`` cursor of the query with this
    fingerprint; :class:`InvalidCursor` for a malformed one or one of another query."""
    try:
        data: Any = json.loads(_decode(after))
        owner, position = data["q"], [data[n] for n in names]
    except (ValueError, KeyError, TypeError):
        raise InvalidCursor(_MALFORMED) from None
    if owner != fingerprint:
        raise InvalidCursor(_OTHER_QUERY)
    return position


def other_query_cursor() -> InvalidCursor:
    """The error for a cursor whose position does not fit the query it was passed to."""
    return InvalidCursor(_OTHER_QUERY)


# -- hub store cursors (audit log, crosswalk review queue) -------------------------------------

_NOT_OURS = "not a cursor of this list"


def encode_audit_cursor(at: dt.datetime, entry_id: int) -> str:
    return _encode(f"{at.isoformat()}|{entry_id}", padded=True)


def decode_audit_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """``(time, entry ID)`` of an audit-log cursor; :class:`InvalidCursor` otherwise."""
    try:
        at_text, _, id_text = _decode(cursor).partition("|")
        at = dt.datetime.fromisoformat(at_text)
        entry_id = int(id_text)
    except ValueError:
        raise InvalidCursor(_NOT_OURS) from None
    if at.tzinfo is None:
        raise InvalidCursor(_NOT_OURS)
    return at, entry_id


def encode_score_cursor(score: float, link_id: str) -> str:
    return _encode(f"{score!r}|{link_id}", padded=True)


def decode_score_cursor(cursor: str) -> tuple[float, str]:
    """``(score, link ID)`` of a review-queue cursor; :class:`InvalidCursor` otherwise."""
    try:
        score_text, sep, link_id = _decode(cursor).partition("|")
        score = float(score_text)
    except ValueError:
        raise InvalidCursor(_NOT_OURS) from None
    if not sep or not link_id:
        raise InvalidCursor(_NOT_OURS)
    return score, link_id


# -- connector cursors (Record.cursor: where a source's find continues) ----------------------


def encode_source_cursor(kind: str, *position: str | int | None) -> str:
    """An opaque ``Record.cursor`` of a connector of ``kind``: the position is JSON, so any
    key (or a source's own page cursor) survives, and a cursor another kind made is refused."""
    return _encode(json.dumps([kind, *position], separators=(",", ":")))


def decode_source_cursor(kind: str, cursor: str, size: int) -> list[Any]:
    """The ``size`` position values of a cursor :func:`encode_source_cursor` made for
    ``kind``; :class:`InvalidCursor` (a ``ValueError``, as the connector contract asks) for
    anything else."""
    try:
        data: Any = json.loads(_decode(cursor))
    except ValueError:
        data = None
    if not isinstance(data, list) or len(data) != size + 1 or data[0] != kind:
        raise InvalidCursor(f"invalid `after` cursor {cursor[:80]!r} for a {kind} source")
    return data[1:]
