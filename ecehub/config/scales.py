"""Rating scales of level fields (a QRIS level), and the normalised level that compares them.

States rate on different scales: 0-4 where 0 means "not participating", 1-5, 1-3 stars. A
source entity declares the scale of a level field (``scales: {qris_level: {min: 0, max: 4,
not_participating: [0]}}``); the hub then reads every level as a position on one reference
scale, 1 to 5 (README "QRIS scales"):

- the rated levels are the integers from ``min`` to ``max`` that are not ``not_participating``;
  the lowest rated level ``L`` is 1, the highest ``H`` is 5, and a level ``l`` between is
  ``1 + 4 * (l - L) / (H - L)``, rounded half up to two decimals (0-4 with 0 not
  participating: 1, 2.33, 3.67, 5);
- a not-participating level has no normalised level (and reads as not participating);
- without a declared scale a level is read as on the reference scale already: its normalised
  level is the level itself (what the hub always did).

A filter on the normalised level (``FieldFilter(normalised_field("qris_level"), "gte", 4)``)
is exact on every source: :func:`ecehub.connectors.scaled.for_source` turns it into the
source's own levels that pass (``in [4]`` for the 0-4 scale), or the same comparison on the
level where no scale is declared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "LEVEL_FIELDS",
    "MAX_LEVELS",
    "NORMALISED_PREFIX",
    "REFERENCE_MAX",
    "REFERENCE_MIN",
    "LevelScale",
    "base_field",
    "is_normalised_field",
    "normalised_field",
    "normalised_level",
    "scale_problems",
]

REFERENCE_MIN = 1
REFERENCE_MAX = 5
MAX_LEVELS = 1000
"""The most levels a scale may have (a filter on it becomes a list of that many levels)."""

LEVEL_FIELDS: Mapping[str, frozenset[str]] = {
    "program": frozenset({"qris_level"}),
    "rating": frozenset({"level"}),
}
"""The canonical fields that hold a rating level, by entity: those a scale may be declared
for."""

NORMALISED_PREFIX = "normalised:"

_HUNDREDTH = Decimal("0.01")


class LevelScale(BaseModel):
    """The scale one source rates a level field on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(description="The lowest level the source gives, e.g. 0")
    max: int = Field(description="The highest level the source gives, e.g. 4")
    not_participating: list[int] = Field(
        default_factory=list,
        description="Levels that mean the program does not take part in the rating system "
        "(e.g. [0]): shown as the source's level, with no normalised level and "
        "participating false; never matched by qrisLevelMin",
    )

    @model_validator(mode="after")
    def _coherent(self) -> LevelScale:
        if self.min >= self.max:
            raise ValueError(
                f"min ({self.min}) must be below max ({self.max}); a scale of one level "
                "rates nothing"
            )
        if self.max - self.min + 1 > MAX_LEVELS:
            raise ValueError(
                f"a scale of {self.max - self.min + 1} levels is more than {MAX_LEVELS}; "
                "declare the levels the source gives"
            )
        outside = [v for v in self.not_participating if not self.min <= v <= self.max]
        if outside:
            raise ValueError(
                f"not_participating {outside} is outside min..max ({self.min}..{self.max}); "
                "widen the scale or drop the value"
            )
        twice = sorted({v for v in self.not_participating if self.not_participating.count(v) > 1})
        if twice:
            raise ValueError(f"not_participating lists {twice} twice; list each level once")
        if len(self.rated) < 2:
            raise ValueError(
                f"min..max ({self.min}..{self.max}) without the not-participating levels "
                "leaves fewer than two rated levels; a normalised level needs a lowest and a "
                "highest"
            )
        return self

    @property
    def rated(self) -> tuple[int, ...]:
        """The rated levels (``min`` to ``max`` without the not-participating ones)."""
        skip = set(self.not_participating)
        return tuple(v for v in range(self.min, self.max + 1) if v not in skip)

    def holds(self, level: int) -> bool:
        """Whether ``level`` is a level of this scale (rated or not participating)."""
        return self.min <= level <= self.max

    def participating(self, level: int) -> bool:
        return level not in self.not_participating

    def normalised(self, level: int) -> Decimal | None:
        """``level`` on the reference scale (module docstring); ``None`` for a
        not-participating level or one outside the scale."""
        if not self.holds(level) or not self.participating(level):
            return None
        rated = self.rated
        low, high = rated[0], rated[-1]
        exact = REFERENCE_MIN + Fraction(
            (REFERENCE_MAX - REFERENCE_MIN) * (level - low), high - low
        )
        hundredths = math.floor(exact * 100 + Fraction(1, 2))
        return Decimal(hundredths).scaleb(-2).quantize(_HUNDREDTH)

    def levels_where(self, test: Callable[[Decimal], bool]) -> list[int]:
        """The rated levels whose normalised level passes ``test``, lowest first."""
        out = []
        for level in self.rated:
            position = self.normalised(level)
            if position is not None and test(position):
                out.append(level)
        return out


def normalised_level(scale: LevelScale | None, level: Any) -> Decimal | None:
    """A level's normalised level: on ``scale``, or the level itself where none is declared
    (``None`` for no level)."""
    if level is None:
        return None
    if scale is None:
        return Decimal(int(level)).quantize(_HUNDREDTH)
    return scale.normalised(int(level))


def normalised_field(name: str) -> str:
    """The filter field name that compares the normalised level of level field ``name``."""
    return NORMALISED_PREFIX + name


def is_normalised_field(name: str) -> bool:
    return name.startswith(NORMALISED_PREFIX)


def base_field(name: str) -> str:
    """The field a filter field tests: ``qris_level`` for ``normalised:qris_level``."""
    return name.removeprefix(NORMALISED_PREFIX)


def scale_problems(
    path: str,
    entity: str,
    scales: Mapping[str, LevelScale],
    mapped: Mapping[str, str],
    values: Mapping[str, Mapping[str, Any]],
) -> list[tuple[str, str]]:
    """What is wrong with an entity's ``scales`` (``path`` is the entity's config path):
    a field that is no level field or is not mapped, and a value mapping onto a level the
    scale does not have."""
    problems: list[tuple[str, str]] = []
    levels = LEVEL_FIELDS.get(entity, frozenset())
    for fname, scale in scales.items():
        where = f"{path}.scales.{fname}"
        if fname not in levels:
            problems.append(
                (
                    where,
                    f"{fname!r} is not a level field of {entity!r}; scales are for: "
                    f"{', '.join(sorted(levels)) or '(none: this entity has no level field)'}",
                )
            )
            continue
        if fname not in mapped:
            problems.append(
                (where, f"field {fname!r} is not mapped in `fields`; map it or drop its scale")
            )
        for source_value, canonical in (values.get(fname) or {}).items():
            if canonical is None:
                continue
            try:
                level = int(str(canonical).strip())
            except ValueError:
                problems.append(
                    (
                        f"{path}.values.{fname}.{source_value}",
                        f"{canonical!r} is not a level; map it to a level of the scale "
                        f"({scale.min}..{scale.max}) or to null",
                    )
                )
                continue
            if not scale.holds(level):
                problems.append(
                    (
                        f"{path}.values.{fname}.{source_value}",
                        f"level {level} is outside the scale {scale.min}..{scale.max}; map "
                        "it to a level of the scale or to null, or widen the scale",
                    )
                )
    return problems
