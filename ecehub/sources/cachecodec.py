"""The source cache's entries as JSON text: records round-trip exactly, and nothing read back
can build more than a :class:`~ecehub.connectors.base.Record` of plain values.

Redis is shared with other programs and replicas, so what is read from it is data, never code:
no pickle. Values JSON has no type for carry a tag (every JSON object in a value is one):
``{"$dec": "1.20"}`` (Decimal, exponent kept), ``{"$dt": "2026-06-30T12:00:00+00:00"}``
(datetime, aware or naive as it was), ``{"$date": ...}``, ``{"$time": ...}``, ``{"$tuple":
[...]}``, ``{"$map": {...}}`` (a dict), ``{"$float": "nan"}`` (NaN and the infinities, which
JSON lacks). A value of any other type is not cached (:class:`Uncacheable`). Text that does not
decode to the expected shape raises :class:`BadEntry` (the caller treats it as a miss).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from ecehub.connectors.base import Page, Record

__all__ = [
    "BadEntry",
    "Uncacheable",
    "decode_entry",
    "decode_record",
    "decode_value",
    "encode_entry",
    "encode_record",
    "encode_value",
]


class Uncacheable(TypeError):
    """A value of a type the codec does not carry (the answer is served, not cached)."""


class BadEntry(ValueError):
    """Text that is not an entry this codec wrote (corrupt, or another program's key)."""


def encode_value(value: Any) -> Any:
    """A field value as JSON-ready data (tags for the types JSON lacks)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$map": {k: encode_value(v) for k, v in value.items()}}
    raise Uncacheable(f"a {type(value).__name__} value is not cached")


_SCALAR_TAGS: dict[str, Any] = {
    "$dec": Decimal,
    "$dt": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$float": float,
}


def decode_value(data: Any) -> Any:
    """The inverse of :func:`encode_value`."""
    if data is None or isinstance(data, (str, bool, int, float)):
        return data
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise BadEntry("a value is neither JSON nor one tag")
    tag, inner = next(iter(data.items()))
    if tag in _SCALAR_TAGS:
        if not isinstance(inner, str):
            raise BadEntry(f"{tag} holds no text")
        try:
            return _SCALAR_TAGS[tag](inner)
        except (ValueError, InvalidOperation) as exc:
            raise BadEntry(f"{tag} {inner!r} does not parse") from exc
    if tag == "$tuple" and isinstance(inner, list):
        return tuple(decode_value(v) for v in inner)
    if tag == "$map" and isinstance(inner, dict):
        return {str(k): decode_value(v) for k, v in inner.items()}
    raise BadEntry(f"unknown tag {tag!r}")


def encode_record(record: Record) -> dict[str, Any]:
    return {
        "s": record.source,
        "e": record.entity,
        "k": record.key,
        "f": {name: encode_value(v) for name, v in record.fields.items()},
        "i": dict(record.identifiers),
        "p": record.parent_key,
        "t": record.fetched_at.isoformat(),
        "c": record.cursor,
        **({"u": dict(record.unparsable)} if record.unparsable else {}),
    }


def _text(data: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    value = data.get(name)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise BadEntry(f"record field {name!r} is not text")


def decode_record(data: Any) -> Record:
    if not isinstance(data, dict):
        raise BadEntry("a record is not an object")
    fields, identifiers = data.get("f"), data.get("i")
    if not isinstance(fields, dict) or not isinstance(identifiers, dict):
        raise BadEntry("a record's fields or identifiers are not objects")
    if not all(isinstance(v, str) for v in identifiers.values()):
        raise BadEntry("an identifier is not text")
    unparsable = data.get("u", {})
    if not isinstance(unparsable, dict) or not all(isinstance(v, str) for v in unparsable.values()):
        raise BadEntry("a record's unparsable values are not an object of text")
    try:
        fetched_at = dt.datetime.fromisoformat(_text(data, "t"))
    except ValueError as exc:
        raise BadEntry("a record's fetched_at does not parse") from exc
    return Record(
        source=_text(data, "s"),
        entity=_text(data, "e"),
        key=_text(data, "k"),
        fields={str(name): decode_value(v) for name, v in fields.items()},
        identifiers={str(k): v for k, v in identifiers.items()},
        parent_key=_text(data, "p", optional=True),
        fetched_at=fetched_at,
        cursor=_text(data, "c", optional=True),
        unparsable={str(k): v for k, v in unparsable.items()},
    )


def _encode_answer(kind: str, answer: Any) -> Any:
    if kind == "fetch":
        return None if answer is None else encode_record(answer)
    if kind == "children":
        return [encode_record(r) for r in answer]
    if kind == "find":
        return {"r": [encode_record(r) for r in answer.records], "n": bool(answer.has_next)}
    raise ValueError(f"unknown kind {kind!r}")


def _decode_answer(kind: str, data: Any) -> Any:
    if kind == "fetch":
        return None if data is None else decode_record(data)
    if kind == "children" and isinstance(data, list):
        return [decode_record(r) for r in data]
    if kind == "find" and isinstance(data, dict) and isinstance(data.get("r"), list):
        return Page([decode_record(r) for r in data["r"]], bool(data.get("n")))
    raise BadEntry(f"not a {kind} answer")


def encode_entry(kind: str, answer: Any, read_at: float) -> str:
    """One cached answer (``fetch``: a record or ``None`` for a key the source does not have;
    ``children``: a list of records; ``find``: a page) with when it was read (epoch seconds)."""
    return json.dumps({"at": read_at, "v": _encode_answer(kind, answer)}, separators=(",", ":"))


def decode_entry(kind: str, text: str | bytes) -> tuple[Any, float]:
    """``(answer, read_at)`` of an entry :func:`encode_entry` wrote."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEntry("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("at"), (int, float)):
        raise BadEntry("not an entry")
    if "v" not in data:
        raise BadEntry("an entry without its answer")
    return _decode_answer(kind, data["v"]), float(data["at"])
