"""Field transforms in the source config: small typed steps a source value goes through
before it is coerced to its canonical type (``sources.X.entities.Y.transforms``).

Written in YAML as a list per field, each step a bare name or a one-key mapping::

    transforms:
      name: [trim, strip_quotes, {unescape: backslash}, {case: title}]
      license_number: [{regex_extract: '([0-9]{6})'}, upper]
      licensed_capacity: [number]                 # '1,234' -> 1234, '$5.00' -> 5.00
      ages_served: [{split: ';'}, trim, {join: ', '}]
      program_type: [{map: {CTR: ChildCare, 'N/A': null}}]
      zip: [{regex_replace: {pattern: '-\\d{4}$', with: ''}}]
      license_expires: [{date: ['%m/%d/%y', '%m/%d/%Y']}]

Each step is a pydantic model (discriminated by ``op``), validated when the config loads:
an unknown op, a bad regular expression, a step whose input type the previous step does not
give, or a last step whose output cannot become the field's canonical type (see
:data:`ecehub.config.canonical.ENTITIES`) is a :class:`~ecehub.errors.ConfigError` naming the
file, ``sources.X.entities.Y.transforms.FIELD.i`` and the fix. The steps are compiled once per
entity and applied by the connectors when they build records
(:mod:`ecehub.connectors.transforms`); a value a step cannot handle is null and accounted as
unparsable, never dropped quietly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ecehub.config.canonical import FieldType

__all__ = [
    "OP_NAMES",
    "Case",
    "DateParse",
    "Join",
    "MapValues",
    "NumberParse",
    "RegexExtract",
    "RegexReplace",
    "Split",
    "StripQuotes",
    "Transform",
    "TransformList",
    "Trim",
    "Unescape",
    "ValueType",
    "check_pipeline",
    "transform_field_kind",
]

ValueType = Literal["any", "text", "number", "date", "list"]
"""What a step gives: ``any`` is the source's own value (text, a number, a date...)."""


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def input_types(self) -> frozenset[str]:
        """The value types this step takes (a ``list`` is taken element by element by the
        text steps)."""
        return frozenset({"any", "text", "number", "date", "list"})

    def output_type(self, given: str) -> str:
        return "list" if given == "list" else "text"


class Trim(_Op):
    """Leading and trailing white space removed."""

    op: Literal["trim"] = "trim"


class StripQuotes(_Op):
    """Quote characters (``"``, ``'``, typographic quotes) around the value removed, and a
    doubled ``""`` inside read as one ``"``: ``'"Sunny" Days'`` stays, ``'"Sunny Days"'`` is
    ``Sunny Days``."""

    op: Literal["strip_quotes"] = "strip_quotes"


class Unescape(_Op):
    """``backslash``: ``\\x`` is ``x`` (``\\"`` a quote, ``\\\\`` one backslash; ``\\n``,
    ``\\t`` a new line, a tab); ``html``: HTML entities (``&amp;``) decoded."""

    op: Literal["unescape"] = "unescape"
    style: Literal["backslash", "html"] = Field(
        default="backslash", description="backslash: \\x is x; html: &amp; is &"
    )


class Case(_Op):
    """``upper``, ``lower`` or ``title`` (each word's first letter upper case, the rest
    lower: ``O'BRIEN-SMITH CENTER`` is ``O'brien-Smith Center``)."""

    op: Literal["case"] = "case"
    to: Literal["upper", "lower", "title"] = Field(description="upper, lower or title")


def _compiled(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"not a regular expression: {pattern!r} ({exc}); write it in Python's re syntax, "
            "quoted in single quotes in YAML"
        ) from None
    return pattern


class RegexExtract(_Op):
    """The first match of ``pattern`` (its ``group``: by default the first group if the
    pattern has one, else the whole match). No match: null, counted as unparsable."""

    op: Literal["regex_extract"] = "regex_extract"
    pattern: str = Field(description="A Python regular expression, searched in the value")
    group: int | None = Field(
        default=None,
        ge=0,
        description="The group to keep (0: the whole match); unset: the first group if any",
    )

    _pattern = field_validator("pattern")(_compiled)

    @model_validator(mode="after")
    def _group_exists(self) -> RegexExtract:
        groups = re.compile(self.pattern).groups
        if self.group is not None and self.group > groups:
            raise ValueError(f"group {self.group}: the pattern has {groups} group(s)")
        return self


class RegexReplace(_Op):
    """Every match of ``pattern`` replaced by ``with`` (``\\1`` names a group)."""

    op: Literal["regex_replace"] = "regex_replace"
    pattern: str = Field(description="A Python regular expression; every match is replaced")
    replacement: str = Field(alias="with", description="The replacement; \\1 names a group")

    _pattern = field_validator("pattern")(_compiled)

    @model_validator(mode="after")
    def _groups_exist(self) -> RegexReplace:
        try:
            re.compile(self.pattern).sub(self.replacement, "")
        except (re.error, IndexError) as exc:
            raise ValueError(
                f"`with` {self.replacement!r} does not fit the pattern: {exc}"
            ) from None
        return self


class NumberParse(_Op):
    """A number written for people: currency signs (``$ € £ ¥``) and spaces dropped, the
    ``thousands`` separator removed, ``decimal`` read as the decimal point, ``(5.00)`` read
    as ``-5.00``. Exact (a decimal); an int field takes only a whole number. Not a number:
    null, counted as unparsable."""

    op: Literal["number"] = "number"
    thousands: str = Field(
        default=",",
        max_length=1,
        description="The thousands separator, only between groups of three digits ('': none)",
    )
    decimal: str = Field(default=".", min_length=1, max_length=1, description="The decimal point")

    @model_validator(mode="after")
    def _distinct(self) -> NumberParse:
        if self.thousands == self.decimal:
            raise ValueError("`thousands` and `decimal` must differ (e.g. '.' and ',')")
        return self

    def input_types(self) -> frozenset[str]:
        return frozenset({"any", "text", "number"})

    def output_type(self, given: str) -> str:
        return "number"


class Split(_Op):
    """Text split at every ``separator`` into a list (text steps after it apply to each
    element; ``join`` makes text again)."""

    op: Literal["split"] = "split"
    separator: str = Field(min_length=1, description="Split at every occurrence of this")

    def input_types(self) -> frozenset[str]:
        return frozenset({"any", "text"})

    def output_type(self, given: str) -> str:
        return "list"


class Join(_Op):
    """A list joined into text with ``separator`` (empty elements left out)."""

    op: Literal["join"] = "join"
    separator: str = Field(default=", ", description="Put between the elements")

    def input_types(self) -> frozenset[str]:
        return frozenset({"list"})

    def output_type(self, given: str) -> str:
        return "text"


class MapValues(_Op):
    """Source values translated: compared trimmed and case-insensitively; a value mapped to
    ``null`` reads as no value (not unparsable); values not listed pass through. An
    ``eq``/``in`` filter on a field whose only step is a ``map`` is translated to the source
    values and pushed down; other filters on transformed fields are evaluated by the hub."""

    op: Literal["map"] = "map"
    values: dict[str, str | None] = Field(
        min_length=1,
        description="{source value: canonical value or null}, compared trimmed and "
        "case-insensitively; values not listed pass through",
    )

    @field_validator("values")
    @classmethod
    def _distinct_keys(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        folded: dict[str, str] = {}
        for key in value:
            other = folded.setdefault(key.strip().casefold(), key)
            if other != key:
                raise ValueError(
                    f"{other!r} and {key!r} are the same source value (compared trimmed and "
                    "case-insensitively); keep one"
                )
        return value

    def input_types(self) -> frozenset[str]:
        return frozenset({"any", "text", "number", "list"})


class DateParse(_Op):
    """A date (or a datetime, for a datetime field) read with the first of ``formats``
    (strptime) that fits; ISO 8601 is always read too. None fits: null, counted as
    unparsable."""

    op: Literal["date"] = "date"
    formats: list[str] = Field(
        min_length=1, description="strptime formats tried in order, e.g. ['%m/%d/%y']"
    )

    @field_validator("formats")
    @classmethod
    def _strptime(cls, value: list[str]) -> list[str]:
        bad = [f for f in value if "%" not in f]
        if bad:
            raise ValueError(f"not strptime formats: {', '.join(map(repr, bad))}; e.g. '%m/%d/%Y'")
        return value

    def input_types(self) -> frozenset[str]:
        return frozenset({"any", "text"})

    def output_type(self, given: str) -> str:
        return "date"


_STEPS: dict[str, type[_Op]] = {
    "trim": Trim,
    "strip_quotes": StripQuotes,
    "unescape": Unescape,
    "case": Case,
    "regex_extract": RegexExtract,
    "regex_replace": RegexReplace,
    "number": NumberParse,
    "split": Split,
    "join": Join,
    "map": MapValues,
    "date": DateParse,
}
_BARE: dict[str, dict[str, Any]] = {
    "trim": {"op": "trim"},
    "strip_quotes": {"op": "strip_quotes"},
    "unescape": {"op": "unescape"},
    "upper": {"op": "case", "to": "upper"},
    "lower": {"op": "case", "to": "lower"},
    "title": {"op": "case", "to": "title"},
    "number": {"op": "number"},
}
# The one setting a step's short form ({op: value}) gives, when value is not a mapping.
_SHORT: dict[str, str] = {
    "unescape": "style",
    "case": "to",
    "regex_extract": "pattern",
    "split": "separator",
    "join": "separator",
    "date": "formats",
}
OP_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*_STEPS, *_BARE]))
"""Every name a step may be written with."""


def _step(data: Any) -> Any:
    """One step as written in YAML (``trim``, ``{case: title}``, ``{map: {...}}``) in the
    ``{op: ..., settings}`` form of its model."""
    if isinstance(data, BaseModel):
        return data
    if isinstance(data, str):
        found = _BARE.get(data)
        if found is None:
            hint = f"; write {{{data}: ...}}" if data in _STEPS else ""
            raise ValueError(
                f"unknown transform {data!r}{hint}; expected one of: {', '.join(OP_NAMES)}"
            )
        return dict(found)
    if isinstance(data, Mapping):
        if "op" in data:
            return data
        if len(data) != 1:
            raise ValueError(
                "write one step per list item: a name (trim) or a one-key mapping ({case: title})"
            )
        ((name, value),) = data.items()
        if name not in _STEPS:
            raise ValueError(f"unknown transform {name!r}; expected one of: {', '.join(OP_NAMES)}")
        if name == "map":
            if isinstance(value, Mapping) and set(value) == {"values"}:
                return {"op": "map", **value}
            return {"op": "map", "values": value}
        if isinstance(value, Mapping):
            return {"op": name, **value}
        if value is None:
            return {"op": name}
        setting = _SHORT.get(name)
        if setting is None:
            raise ValueError(f"{name} takes settings as a mapping, e.g. {_example(name)}")
        if name == "date" and isinstance(value, str):
            value = [value]
        return {"op": name, setting: value}
    raise ValueError("a step is a name (trim) or a one-key mapping ({case: title})")


def _example(name: str) -> str:
    return {
        "regex_replace": "{regex_replace: {pattern: '-\\d{4}$', with: ''}}",
        "number": "{number: {thousands: '.', decimal: ','}}",
        "map": "{map: {CTR: ChildCare, 'N/A': null}}",
    }.get(name, f"{{{name}: ...}}")


Transform = Annotated[
    Trim
    | StripQuotes
    | Unescape
    | Case
    | RegexExtract
    | RegexReplace
    | NumberParse
    | Split
    | Join
    | MapValues
    | DateParse,
    Field(discriminator="op"),
]
"""One step of a field's transforms."""


def _steps(data: Any) -> Any:
    if isinstance(data, str | Mapping):
        return [data]  # one step written without a list
    return data


_STEP_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "enum": list(_BARE)},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"enum": list(_STEPS)},
        },
    ],
    "description": "a step: a name (trim, strip_quotes, unescape, upper, lower, title, number) "
    "or a one-key mapping ({case: title}, {regex_extract: '([0-9]{6})'}, {regex_replace: "
    "{pattern: P, with: R}}, {number: {thousands: ',', decimal: '.'}}, {split: ';'}, "
    "{join: ', '}, {map: {SOURCE: CANONICAL or null}}, {date: [formats]}); README, "
    '"Field transforms"',
}

TransformList = Annotated[
    list[Annotated[Transform, BeforeValidator(_step), WithJsonSchema(_STEP_SCHEMA)]],
    BeforeValidator(_steps),
]
"""A field's steps, in order (one step may be written without the list)."""

# What each canonical type takes as the last step's output.
_FEEDS: dict[str, frozenset[str]] = {
    "str": frozenset({"any", "text", "number"}),
    "int": frozenset({"any", "text", "number"}),
    "float": frozenset({"any", "text", "number"}),
    "decimal": frozenset({"any", "text", "number"}),
    "date": frozenset({"any", "text", "date"}),
    "datetime": frozenset({"any", "text", "date"}),
    "list": frozenset({"any", "text", "list"}),
}


def transform_field_kind(entity_fields: Mapping[str, FieldType], name: str) -> FieldType | None:
    """The canonical type a transformed ``name`` feeds: a field's, ``str`` for an
    ``identifier:<SYSTEM>``; ``None`` for an unknown field."""
    if name.startswith("identifier:"):
        return "str"
    return entity_fields.get(name)


def check_pipeline(steps: list[Transform], kind: FieldType) -> list[tuple[int | None, str]]:
    """Type problems of ``steps`` feeding a field of canonical ``kind``: ``(step index or
    None for the whole list, message with the fix)``."""
    problems: list[tuple[int | None, str]] = []
    given = "any"
    for i, step in enumerate(steps):
        if given not in step.input_types():
            problems.append(
                (
                    i,
                    f"{step.op} takes {_names(step.input_types())}, but the step before gives "
                    f"{_describe(given)}; "
                    + (
                        "join the list first ({join: ', '})"
                        if given == "list"
                        else "reorder the steps or drop this one"
                    ),
                )
            )
            return problems
        given = step.output_type(given)
    if given not in _FEEDS[kind]:
        last = len(steps) - 1
        fix = {
            "list": "end with {join: ', '} to make text",
            "date": "a date step feeds only date and datetime fields",
            "number": "a number feeds only int, float, decimal and str fields",
        }.get(given, "change the last step")
        problems.append(
            (last, f"gives {_describe(given)}, which a field of type {kind} cannot hold; {fix}")
        )
    return problems


def _describe(kind: str) -> str:
    return {
        "any": "the source value",
        "text": "text",
        "number": "a number",
        "date": "a date",
        "list": "a list",
    }[kind]


def _names(kinds: frozenset[str]) -> str:
    return " or ".join(_describe(k) for k in sorted(kinds) if k != "any")
