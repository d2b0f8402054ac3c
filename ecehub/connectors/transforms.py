"""Field transforms compiled for the connectors (the steps are declared and checked in
:mod:`ecehub.config.transforms`), and source keys of several columns.

:func:`compile_pipeline` turns a field's steps into one function, once per entity (the
record builder of :class:`~ecehub.connectors.base.Connector` keeps it); per value it costs a
few string operations. A step that cannot read a value raises :class:`TransformFailed`:
:meth:`~ecehub.connectors.base.Connector.make_record` reads the field as null and accounts
the value as unparsable (counter, sampled log line, ``ecehub check --profile``).

:func:`join_key` / :func:`split_key`: a key of several columns is one source key, its parts
joined with ``|`` after escaping ``\\`` and ``|`` in each part with a backslash, so
``('a|b', 'c')`` and ``('a', 'b|c')`` are different keys (``a\\|b|c`` and ``a|b\\|c``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ecehub.config.canonical import FieldType
from ecehub.config.transforms import (
    Case,
    DateParse,
    Join,
    MapValues,
    NumberParse,
    RegexExtract,
    RegexReplace,
    Split,
    StripQuotes,
    Transform,
    Trim,
    Unescape,
)

__all__ = [
    "KEY_SEPARATOR",
    "Pipeline",
    "TransformFailed",
    "compile_pipeline",
    "join_key",
    "key_columns",
    "map_only",
    "parent_columns",
    "split_key",
    "unmap",
]

KEY_SEPARATOR = "|"
_ESCAPE = "\\"


def key_columns(data: Any) -> Any:
    """An entity's raw settings with ``key_columns`` set from ``key`` (a column, or a list of
    them for a composite key, then written back as ``a + b``): what the sql and csv entity
    models validate ``key`` with, before their fields are."""
    if not isinstance(data, dict):
        return data
    key = data.get("key")
    if "key_columns" in data:  # a dump of a validated model: keep it if it is one
        columns = data["key_columns"]
        if not isinstance(columns, list | tuple) or key != " + ".join(columns):
            raise ValueError("give the key columns as `key: [column, ...]`")
        return data
    if isinstance(key, list | tuple):
        if not key or not all(isinstance(c, str) and c for c in key):
            raise ValueError("`key` is a column name or a non-empty list of them")
        if len(set(key)) != len(key):
            raise ValueError("`key` names a column twice")
        return {**data, "key": " + ".join(key), "key_columns": tuple(key)}
    if isinstance(key, str):
        return {**data, "key_columns": (key,)}
    return data


def parent_columns(data: Any) -> Any:
    """An entity's raw settings with ``parent_columns`` set from ``parent`` (a column, or a
    list of them for a parent keyed by several columns, then written back as ``a + b``, as
    :func:`key_columns` writes ``key``)."""
    if not isinstance(data, dict):
        return data
    parent = data.get("parent")
    if "parent_columns" in data:  # a dump of a validated model
        return data
    if not isinstance(parent, dict) or len(parent) != 1:
        return data  # none, or a shape the entity model refuses with its own message
    [(entity, columns)] = parent.items()
    if isinstance(columns, list | tuple):
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise ValueError("`parent` names a column or a non-empty list of them")
        if len(set(columns)) != len(columns):
            raise ValueError("`parent` names a column twice")
        return {**data, "parent": {entity: " + ".join(columns)}, "parent_columns": tuple(columns)}
    if isinstance(columns, str):
        return {**data, "parent_columns": (columns,)}
    return data


Pipeline = Callable[[Any], Any]


class TransformFailed(ValueError):
    """A step could not read a value; ``step`` names it (``regex_extract``, ``number``)."""

    def __init__(self, step: str, index: int) -> None:
        super().__init__(f"transform {index} ({step}) cannot read the value")
        self.step = step
        self.index = index


# -- keys of several columns -----------------------------------------------------------------
def join_key(parts: Sequence[Any]) -> str:
    """One source key of ``parts`` (``str`` of each), escaped so that it splits back."""
    if len(parts) == 1:
        return str(parts[0])
    return KEY_SEPARATOR.join(
        str(p).replace(_ESCAPE, _ESCAPE * 2).replace(KEY_SEPARATOR, _ESCAPE + KEY_SEPARATOR)
        for p in parts
    )


def split_key(key: str, count: int) -> list[str]:
    """The ``count`` parts of a key made by :func:`join_key`; ``ValueError`` when ``key`` is
    not one (another number of parts, a dangling escape)."""
    if count == 1:
        return [key]
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in key:
        if escaped:
            current.append(char)
            escaped = False
        elif char == _ESCAPE:
            escaped = True
        elif char == KEY_SEPARATOR:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise ValueError(f"not a key of {count} parts: {key!r} ends in an escape")
    parts.append("".join(current))
    if len(parts) != count:
        raise ValueError(f"not a key of {count} parts: {key!r} has {len(parts)}")
    return parts


# -- steps -------------------------------------------------------------------------------------
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_BACKSLASH_NAMED = {"n": "\n", "t": "\t", "r": "\r"}
_SUFFIX = re.compile(r"(?<=['\u2019])[^\W\d_]{1,2}(?![^\W\d_])")
_CURRENCY = re.compile(r"[\s$\u20ac\u00a3\u00a5]")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _strip_quotes(value: str) -> str:
    text = value.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if text[:1] in _QUOTES and text.count(text[0]) == 1:
        text = text[1:].strip()  # a stray quote at one end only
    if text[-1:] in _QUOTES and text.count(text[-1]) == 1 and text[-1] not in "'\u2019":
        text = text[:-1].strip()  # (an apostrophe at the end may be a possessive: keep it)
    return text.replace('""', '"')


def _unbackslash(value: str) -> str:
    return _BACKSLASH.sub(lambda m: _BACKSLASH_NAMED.get(m.group(1), m.group(1)), value)


def _title(value: str) -> str:
    # str.title(): each run of letters first upper, rest lower ("O'BRIEN-SMITH" is
    # "O'Brien-Smith"); then one or two letters after an apostrophe go back to lower case
    # ("KID'S" is "Kid's", "WE'LL" "We'll"), where str.title() gives "Kid'S".
    titled = value.title()
    if "'" in titled or "\u2019" in titled:
        titled = _SUFFIX.sub(lambda m: m.group(0).lower(), titled)
    return titled


def _text_step(step: Transform) -> Callable[[str], str]:
    if isinstance(step, Trim):
        return str.strip
    if isinstance(step, StripQuotes):
        return _strip_quotes
    if isinstance(step, Unescape):
        return html.unescape if step.style == "html" else _unbackslash
    if isinstance(step, Case):
        return {"upper": str.upper, "lower": str.lower, "title": _title}[step.to]
    if isinstance(step, RegexReplace):
        pattern, replacement = re.compile(step.pattern), step.replacement
        return lambda value: pattern.sub(replacement, value)
    raise AssertionError(step)  # pragma: no cover


def _number(step: NumberParse, index: int) -> Callable[[Any], Decimal]:
    thousands, decimal = step.thousands, step.decimal
    # Digits with the thousands separator only between groups of three, then the decimals.
    grouped = rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|" if thousands else ""
    shape = re.compile(rf"[+-]?(?:{grouped}\d*)(?:{re.escape(decimal)}\d+)?")

    def parse(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise TransformFailed("number", index)
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        text = _CURRENCY.sub("", _text(value))
        negative = len(text) >= 2 and text[0] == "(" and text[-1] == ")"
        if negative:
            text = text[1:-1]
        if not shape.fullmatch(text) or not any(c.isdigit() for c in text):
            raise TransformFailed("number", index)  # "1.234,5" is not 1.2345
        if thousands:
            text = text.replace(thousands, "")
        if decimal != ".":
            text = text.replace(decimal, ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise TransformFailed("number", index) from None
        if not number.is_finite() or (negative and number < 0):
            raise TransformFailed("number", index)
        return -number if negative else number

    return parse


def _date(step: DateParse, index: int, kind: FieldType) -> Callable[[Any], Any]:
    formats = tuple(step.formats)
    as_datetime = kind == "datetime"

    def parse(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value if as_datetime else value.date()
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time()) if as_datetime else value
        text = _text(value).strip()
        for form in formats:
            try:
                parsed = dt.datetime.strptime(text, form)
            except ValueError:
                continue
            return parsed if as_datetime else parsed.date()
        try:
            return (
                dt.datetime.fromisoformat(text) if as_datetime else dt.date.fromisoformat(text[:10])
            )
        except ValueError:
            raise TransformFailed("date", index) from None

    return parse


def _map(step: MapValues) -> Callable[[Any], Any]:
    table = {k.strip().casefold(): v for k, v in step.values.items()}

    def translate(value: Any) -> Any:
        return table.get(_text(value).strip().casefold(), value)

    return translate


def _each(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` applied to a value, or to each element of a list (elements it turns to
    null are left out)."""

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            out = [convert(v) for v in value]
            return [v for v in out if v is not None]
        return convert(value)

    return apply


def _step(step: Transform, index: int, kind: FieldType) -> Callable[[Any], Any]:
    if isinstance(step, RegexExtract):
        pattern = re.compile(step.pattern)
        group = step.group if step.group is not None else (1 if pattern.groups else 0)

        def extract(value: Any) -> Any:
            found = pattern.search(_text(value))
            if found is None or found.group(group) is None:
                raise TransformFailed("regex_extract", index)
            return found.group(group)

        return _each(extract)
    if isinstance(step, NumberParse):
        return _number(step, index)
    if isinstance(step, Split):
        separator = step.separator
        return lambda value: _text(value).split(separator)
    if isinstance(step, Join):
        separator = step.separator
        return lambda value: separator.join(
            t for t in (_text(v) for v in value if v is not None) if t != ""
        )
    if isinstance(step, MapValues):
        return _each(_map(step))
    if isinstance(step, DateParse):
        return _date(step, index, kind)
    text_step = _text_step(step)
    return _each(lambda value: text_step(_text(value)))


def _whole(index: int) -> Callable[[Any], Any]:
    """Checks a number fits an int field exactly (``12.5`` is not ``12``)."""

    def whole(value: Any) -> Any:
        if isinstance(value, Decimal) and value != value.to_integral_value():
            raise TransformFailed("number", index)
        return value

    return whole


def compile_pipeline(steps: Sequence[Transform], kind: FieldType) -> Pipeline:
    """The steps as one function of a (non-null) source value, for a field of canonical
    ``kind``; it raises :class:`TransformFailed` for a value a step cannot read, and returns
    ``None`` when a step maps the value to null."""
    functions = [_step(step, i, kind) for i, step in enumerate(steps)]
    if steps and isinstance(steps[-1], NumberParse) and kind == "int":
        functions.append(_whole(len(steps) - 1))

    def run(value: Any) -> Any:
        for function in functions:
            value = function(value)
            if value is None:
                return None
        return value

    return run


# -- filters on transformed fields -------------------------------------------------------------
def map_only(steps: Sequence[Transform]) -> MapValues | None:
    """The step of a pipeline that is a single ``map`` (the one kind whose ``eq``/``in``
    filters translate exactly into source values), else ``None``."""
    if len(steps) == 1 and isinstance(steps[0], MapValues):
        return steps[0]
    return None


def unmap(step: MapValues, wanted: Sequence[Any]) -> list[str]:
    """The source values a ``map`` step turns into one of ``wanted`` (canonical values,
    compared trimmed and case-insensitively, as an ``eq``/``in`` filter compares text):
    the listed source values mapped to one of them, and each wanted value that is not a
    listed source value (those pass through unchanged)."""
    folded = {str(w).strip().casefold() for w in wanted if w is not None}
    listed = {k.strip().casefold() for k in step.values}
    mapped = [k for k, v in step.values.items() if v is not None and v.strip().casefold() in folded]
    passthrough = [
        str(w) for w in wanted if w is not None and str(w).strip().casefold() not in listed
    ]
    return mapped + passthrough
