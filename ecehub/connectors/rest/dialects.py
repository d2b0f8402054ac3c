"""Query languages of REST APIs (Socrata SODA's ``$where``, OData's ``$filter``): the config
model of one (:class:`RestQueryLanguage`), the presets ``dialect: soda`` and
``dialect: odata`` fill in, and the writing of literals and expressions.

Text literals are quoted and escaped here (the quote doubled, or backslash-escaped), so any
value, with quotes, commas, backslashes or any Unicode, reaches the API as the same value and
never as syntax. Field names come from the config and are checked when it loads.

A case-insensitive filter on an API that compares text exactly (SODA 2.1+ and OData do) is
written as a *superset*: ``upper(field) like '%VALUE%'`` (OData
``contains(toupper(field), 'VALUE')``), and the connector then applies the filter itself
to what comes back, so the answer is exact: whitespace around a value, other cases and the
wildcards ``%`` and ``_`` in the value can only add rows that the hub then drops, never lose
one. A value whose case mapping is not one character to one (``ß``, dotless i (U+0131)) is not
sent: the hub filters it after reading.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DIALECT_PAGINATION",
    "DIALECT_QUERY",
    "DIALECT_RECORDS_PATH",
    "FIELD_NAME",
    "Dialect",
    "RestQueryLanguage",
    "check_field_name",
    "folds_simply",
    "literal",
    "number_literal",
]

Dialect = Literal["soda", "odata"]

FIELD_NAME: Final = re.compile(r"^[A-Za-z_:@][A-Za-z0-9_:@./-]*$")
"""A field name an expression may hold (SODA ``operation_number``, ``:id``; OData
``Address/City``): no space, quote or parenthesis, so config cannot write syntax by mistake."""


def check_field_name(name: str) -> str:
    if not FIELD_NAME.match(name):
        raise ValueError(
            f"{name!r} is not a field name an expression can hold (letters, digits, _ : @ . / -; "
            f"e.g. operation_number or Address/City)"
        )
    return name


def _placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from None


class RestQueryLanguage(BaseModel):
    """How the API takes an expression in one query parameter (SODA ``$where``, OData
    ``$filter``): templates for each comparison, the words joining them, and how a text
    literal is quoted. ``dialect: soda`` / ``dialect: odata`` fill every piece; a ``query``
    block then overrides single pieces."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    param: str = Field(description="the query param carrying the expression ($where, $filter)")
    quote: Literal["'", '"'] = Field(default="'", description="the quote of a text literal")
    escape: Literal["double", "backslash"] = Field(
        default="double",
        description="how a quote inside a text literal is written: `double` (it is doubled: "
        "'Bob''s', SQL, SoQL and OData) or `backslash` ('Bob\\'s', a backslash doubled too)",
    )
    and_: str = Field(
        default=" AND ", alias="and", description="what joins two conditions (' and ' in OData)"
    )
    or_: str = Field(
        default=" OR ", alias="or", description="what joins alternatives (' or ' in OData)"
    )
    eq: str = Field(
        default="{field} = {value}", description="equality; OData: '{field} eq {value}'"
    )
    in_: str | None = Field(
        default="{field} in ({values})",
        alias="in",
        description="membership, {values} the literals comma-separated; null: the `eq` "
        "template of each value joined by `or` (OData before 4.01)",
    )
    contains: str | None = Field(
        default="{field} like {pattern}",
        description="substring: {pattern} is the literal '%value%' (SQL LIKE), {value} the "
        "plain literal (OData: 'contains({field}, {value})'); null: evaluated by the hub",
    )
    upper: str | None = Field(
        default="upper({field})",
        description="the field upper-cased (OData: 'toupper({field})'), for case-insensitive "
        "filters on an API that compares exactly; null: those are evaluated by the hub",
    )
    case_sensitive: bool = Field(
        default=True,
        description="the API compares text exactly (SODA 2.1+, OData): a filter is then sent "
        "upper-cased as a superset and applied exactly by the hub; false: the API itself "
        "ignores case and trims as the hub does (a filter's own case_sensitive overrides)",
    )

    @model_validator(mode="after")
    def _templates(self) -> RestQueryLanguage:
        wanted: dict[str, tuple[set[str], set[str]]] = {
            "eq": ({"field", "value"}, {"field", "value"}),
            "in": ({"field", "values"}, {"field", "values"}),
            "contains": ({"field"}, {"field", "value", "pattern"}),
            "upper": ({"field"}, {"field"}),
        }
        for name, (required, allowed) in wanted.items():
            template = {"eq": self.eq, "in": self.in_, "contains": self.contains}.get(
                name, self.upper
            )
            if template is None:
                continue
            found = _placeholders(template)
            missing, stray = required - found, found - allowed
            if name == "contains" and not found & {"value", "pattern"}:
                missing = missing | {"value or pattern"}
            if missing or stray:
                raise ValueError(
                    f"query.{name} template {template!r}: "
                    + "; ".join(
                        ([f"needs {{{', '.join(sorted(missing))}}}"] if missing else [])
                        + ([f"unknown {sorted(stray)}"] if stray else [])
                    )
                    + f" (placeholders: {', '.join('{' + p + '}' for p in sorted(allowed))})"
                )
        return self

    # -- writing -----------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """``value`` as a quoted text literal."""
        q = self.quote
        if self.escape == "double":
            return q + value.replace(q, q + q) + q
        return q + value.replace("\\", "\\\\").replace(q, "\\" + q) + q

    def equals(self, field: str, value: str) -> str:
        return self.eq.format(field=field, value=value)

    def member(self, field: str, values: Sequence[str]) -> str:
        """``field`` equal to one of the literals ``values`` (not empty)."""
        if len(values) == 1:
            return self.equals(field, values[0])
        if self.in_ is not None:
            return self.in_.format(field=field, values=", ".join(values))
        return "(" + self.or_.join(self.equals(field, v) for v in values) + ")"

    def containing(self, field: str, needle: str) -> str:
        """``field`` containing the text ``needle``; a LIKE pattern is a superset: ``%``,
        ``_`` and ``\\`` in the needle become ``_`` (any one character), whatever the API's
        LIKE escape is."""
        assert self.contains is not None
        pattern = "%" + re.sub(r"[%_\\]", "_", needle) + "%"
        return self.contains.format(
            field=field, value=self.text(needle), pattern=self.text(pattern)
        )

    def upper_of(self, field: str) -> str:
        assert self.upper is not None
        return self.upper.format(field=field)

    def all_of(self, conditions: Iterable[str]) -> str:
        parts = list(conditions)
        if len(parts) == 1:
            return parts[0]
        return self.and_.join(f"({p})" for p in parts)

    def any_of(self, conditions: Iterable[str]) -> str:
        parts = list(conditions)
        if len(parts) == 1:
            return parts[0]
        return "(" + self.or_.join(f"({p})" for p in parts) + ")"


def number_literal(value: Any) -> str | None:
    """A number as the API reads one (bare), or ``None`` for anything else (bool, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    text = str(value)
    return text if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text) else None


def literal(language: RestQueryLanguage, value: Any) -> str | None:
    """``value`` as a literal: text quoted and escaped, a number bare; ``None`` for a value
    an expression cannot carry exactly (a date, a bool, a list)."""
    if isinstance(value, str):
        return language.text(value)
    return number_literal(value)


def folds_simply(text: str) -> bool:
    """Whether upper-casing ``text`` is a superset test of the hub's ``casefold`` match:
    every character maps to one upper-case character and folds back the same (not ``ß``,
    which upper-cases to two, nor dotless i (U+0131))."""
    for c in text:
        up = c.upper()
        if len(up) != 1 or c.casefold() != c.lower() or up.casefold() != c.casefold():
            return False
    return True


DIALECT_QUERY: Final[dict[Dialect, dict[str, Any]]] = {
    "soda": {
        "param": "$where",
        "quote": "'",
        "escape": "double",
        "and": " AND ",
        "or": " OR ",
        "eq": "{field} = {value}",
        "in": "{field} in ({values})",
        "contains": "{field} like {pattern}",
        "upper": "upper({field})",
        "case_sensitive": True,
    },
    "odata": {
        "param": "$filter",
        "quote": "'",
        "escape": "double",
        "and": " and ",
        "or": " or ",
        "eq": "{field} eq {value}",
        "in": "{field} in ({values})",
        "contains": "contains({field}, {value})",
        "upper": "toupper({field})",
        "case_sensitive": True,
    },
}
"""What ``dialect:`` puts in ``query`` (a ``query`` block overrides single keys)."""

DIALECT_PAGINATION: Final[dict[Dialect, dict[str, Any]]] = {
    "soda": {
        "style": "offset",
        "offset_param": "$offset",
        "limit_param": "$limit",
        "order_param": "$order",
        "page_size": 1000,
    },
    "odata": {
        "style": "offset",
        "offset_param": "$skip",
        "limit_param": "$top",
        "order_param": "$orderby",
        "more_path": "@odata.nextLink",
        "page_size": 1000,
    },
}
"""What ``dialect:`` puts in ``pagination`` when it sets no ``style`` or ``offset``."""

DIALECT_RECORDS_PATH: Final[dict[Dialect, str]] = {"soda": "", "odata": "value"}
"""Where the records are in an answer: SODA answers a JSON array, OData ``{"value": [...]}``."""
