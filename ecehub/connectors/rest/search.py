"""POST search bodies: an entity listed (and, with ``{keys}``, fetched) by POSTing a JSON
body such as ``{"filters": {"city": "{city}"}, "page": "{page}", "size": "{size}"}``.

A placeholder is a whole JSON string value of an object member, never a piece of text: the
value that replaces it goes into the body as a JSON value (a string, a number, a list), so
quotes, backslashes or braces in a filter value are escaped by the JSON encoder and can never
become syntax. A member whose placeholder has no value in a request (a filter not asked, the
cursor of the first page, the keys when listing) is left out of the body.

Placeholders: ``{page}`` and ``{size}`` (page paging), ``{offset}`` and ``{limit}`` (offset
paging), ``{cursor}`` and ``{limit}`` (cursor paging, the next cursor read at
``next_cursor_path``), none of them (one call answers all), ``{keys}`` (the keys ``fetch``
asks for) and ``{<field>}`` for each canonical field (or ``identifier:<SYSTEM>``) declared in
``filters``. The paging style is the one the placeholders spell; everything else is refused
when the config loads.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr, model_validator

from ecehub.connectors.base import FilterOp
from ecehub.connectors.rest.paths import ApiPath

__all__ = ["PLACEHOLDER", "RestSearch", "RestSearchFilter", "fill", "json_value"]

PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_:.]*)\}")
"""A placeholder: ``{page}``, ``{keys}``, ``{city}``, ``{identifier:LICENSE_NUMBER}``."""

Style = Literal["page", "offset", "cursor", "none"]

_PAGING: Final[dict[Style, frozenset[str]]] = {
    "page": frozenset({"page", "size"}),
    "offset": frozenset({"offset", "limit"}),
    "cursor": frozenset({"cursor", "limit"}),
    "none": frozenset(),
}
_PAGING_WORDS: Final = frozenset().union(*_PAGING.values())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RestSearchFilter(_Strict):
    """What the search API does with a canonical filter's value at its placeholder."""

    op: FilterOp = Field(
        default="eq",
        description="what the API does with the value: eq (a value), in (a list of values; "
        "an eq filter is sent as a list of one), contains, gte, lte; a filter with another "
        "op is applied by the hub",
    )
    max: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="in: most values one body may carry; more are split into calls (unpaged) "
        "or filtered by the hub (paged)",
    )
    case_sensitive: bool = Field(
        default=False,
        description="true: the API compares text exactly while a hub filter ignores case and "
        "surrounding spaces, so text is not sent (the hub filters what it reads)",
    )


class RestSearch(_Strict):
    """A listing POSTed as a JSON body with placeholders (see the module docstring)."""

    path: ApiPath | None = Field(
        default=None, description="the search endpoint (default: the entity's path)"
    )
    body: dict[str, JsonValue] = Field(
        description='the JSON body, placeholders as whole string values: {"filters": {"city": '
        '"{city}"}, "page": "{page}", "size": "{size}"}'
    )
    filters: dict[str, RestSearchFilter] = Field(
        default_factory=dict,
        description="{canonical field or identifier:<SYSTEM>: {op, max, case_sensitive}}: "
        "the filters the body carries, each at its {placeholder}",
    )
    page_size: int = Field(
        default=100, ge=1, le=50_000, description="the most records one answer holds"
    )
    first_page: int = Field(
        default=1, ge=0, le=1, description="{page} paging: the first page's number (0 or 1)"
    )
    next_cursor_path: str = Field(
        default="next_cursor", description="{cursor} paging: where the answer gives the next one"
    )
    more_path: str | None = Field(
        default=None,
        description="{page} and {offset} paging: a key of the answer that, when present and "
        "not empty, says more records follow even after a short page",
    )
    max_keys: int = Field(
        default=200, ge=1, le=10_000, description="{keys}: most keys one body carries"
    )
    key_fields: list[str] | None = Field(
        default=None,
        description="{keys} of a key of several paths: the names of its parts in each key's "
        "object, in the order of `key` (default: the key's paths)",
    )

    _style: Style = PrivateAttr(default="none")
    _takes_keys: bool = PrivateAttr(default=False)

    _STYLES_OF: ClassVar[dict[str, tuple[str, ...]]] = {
        "first_page": ("page",),
        "next_cursor_path": ("cursor",),
        "more_path": ("page", "offset"),
        "page_size": ("page", "offset", "cursor"),
    }

    @model_validator(mode="after")
    def _placeholders_known_once_and_whole(self) -> Self:
        found: list[str] = []
        for where, name in _walk(self.body, "body"):
            if name is None:
                raise ValueError(
                    f"search.{where}: a placeholder is a whole JSON string value of an object "
                    f'member ("{{city}}"), never pasted into text, a list or a key: the value '
                    f"goes in as JSON, escaped"
                )
            known = name in _PAGING_WORDS or name == "keys" or name in self.filters
            if not known:
                raise ValueError(
                    f"search.{where}: unknown placeholder {{{name}}}; the body takes "
                    f"{{page}} {{size}}, {{offset}} {{limit}} or {{cursor}} {{limit}} for "
                    f"paging, {{keys}}, and a {{field}} declared in search.filters"
                )
            if name in found:
                raise ValueError(f"search.{where}: {{{name}}} is in the body twice")
            found.append(name)
        missing = sorted(set(self.filters) - set(found))
        if missing:
            raise ValueError(
                f"search.filters: {', '.join(missing)} declared but not in the body: put "
                f'"{{{missing[0]}}}" where the API takes it'
            )
        paging = frozenset(found) & _PAGING_WORDS
        styles = [s for s, words in _PAGING.items() if words == paging]
        if not styles:
            raise ValueError(
                f"search.body pages with {', '.join('{' + p + '}' for p in sorted(paging))}, "
                f"which is no paging style: a body pages by {{page}} and {{size}}, {{offset}} "
                f"and {{limit}}, or {{cursor}} and {{limit}} (or none of them: one call)"
            )
        style = styles[0]
        for name in ("max_keys", "key_fields"):
            if name in self.model_fields_set and "keys" not in found:
                raise ValueError(f'search.{name} needs "{{keys}}" in the body')
        for name in sorted(self.model_fields_set & set(self._STYLES_OF)):
            if style not in self._STYLES_OF[name]:
                raise ValueError(
                    f"search.{name} is not used: the body pages by {style} "
                    f"({' '.join('{' + p + '}' for p in sorted(paging)) or 'one call'})"
                )
        self._style = style
        self._takes_keys = "keys" in found
        return self

    @property
    def style(self) -> Style:
        """The paging the body's placeholders spell (checked at load)."""
        return self._style

    def key_names(self, key_columns: tuple[str, ...]) -> tuple[str, ...]:
        """The names of a key's parts in the objects ``{keys}`` lists."""
        return tuple(self.key_fields) if self.key_fields is not None else key_columns

    @property
    def takes_keys(self) -> bool:
        """Whether the body carries ``{keys}``: ``fetch`` then POSTs it."""
        return self._takes_keys


def _walk(value: Any, where: str, *, member: bool = False) -> Iterator[tuple[str, str | None]]:
    """``(where, name)`` of each placeholder in ``value``; ``name`` is ``None`` for one that
    is not a whole string value of an object member."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole is not None and member:
            yield where, whole.group(1)
        elif PLACEHOLDER.search(value):
            yield where, None
    elif isinstance(value, dict):
        for key, item in value.items():
            if PLACEHOLDER.search(key):
                yield f"{where}.{key}", None
            yield from _walk(item, f"{where}.{key}", member=True)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}.{i}")


def fill(body: Any, values: Mapping[str, Any]) -> Any:
    """``body`` with each placeholder replaced by its value in ``values`` (as a JSON value,
    never pasted into text); a member whose placeholder has no value is left out."""
    if isinstance(body, dict):
        out: dict[str, Any] = {}
        for key, item in body.items():
            whole = PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
            if whole is None:
                out[key] = fill(item, values)
            elif whole.group(1) in values:
                out[key] = values[whole.group(1)]
        return out
    if isinstance(body, list):
        return [fill(item, values) for item in body]
    return body


def json_value(value: Any) -> Any:
    """A filter value as the JSON value sent (a date in ISO form); ``ValueError`` for one
    JSON cannot carry exactly (a ``Decimal``, NaN, an object), which the hub filters."""
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, dt.date):  # datetime too
        return value.isoformat()
    raise ValueError(f"{type(value).__name__} is not sent in a JSON body")
