"""Filters on a normalised level, in each source's own terms.

``FieldFilter(normalised_field("qris_level"), "gte", 4)`` compares the level on the reference
1-5 scale (:mod:`ecehub.config.scales`). No connector sees such a filter: the hub turns it,
per source, into a filter on the level itself before it asks the source or tests one of its
records, so it is pushed down (or applied by the hub) with the contract's exact meaning:

- a source that declares a scale for the field: ``in`` the rated levels whose normalised
  level passes (a not-participating level never does; none pass: ``in []``, nothing matches);
- a source that declares none (its levels are on the reference scale already): the same
  comparison on the level, the bound made whole the way that keeps it exact (``gte 3.5`` is
  ``gte 4`` on whole levels).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from ecehub.config.model import EntityConfig
from ecehub.config.scales import base_field, is_normalised_field
from ecehub.connectors.base import FieldFilter

__all__ = ["for_source", "for_source_all"]


def _bound(value: object) -> Decimal | None:
    try:
        found = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def _pool(flt: FieldFilter) -> list[Decimal]:
    raw = flt.value if flt.op == "in" and not isinstance(flt.value, str) else [flt.value]
    return [b for b in (_bound(v) for v in raw) if b is not None]


def _test(flt: FieldFilter) -> Callable[[Decimal], bool]:
    if flt.op in ("eq", "in"):
        pool = set(_pool(flt))
        return lambda position: position in pool
    bound = _bound(flt.value)
    if bound is None:
        return lambda position: False
    if flt.op == "gte":
        return lambda position: position >= bound
    if flt.op == "lte":
        return lambda position: position <= bound
    raise ValueError(f"a normalised level is compared with eq, in, gte or lte, not {flt.op}")


def _unscaled(name: str, flt: FieldFilter) -> FieldFilter:
    """``flt`` on whole levels that are their own normalised level."""
    if flt.op in ("eq", "in"):
        whole = [int(b) for b in _pool(flt) if b == b.to_integral_value()]
        return FieldFilter(name, "in", sorted(set(whole)))
    bound = _bound(flt.value)
    if bound is None:
        return FieldFilter(name, "in", [])
    if flt.op == "gte":
        return FieldFilter(name, "gte", math.ceil(bound))
    if flt.op == "lte":
        return FieldFilter(name, "lte", math.floor(bound))
    raise ValueError(f"a normalised level is compared with eq, in, gte or lte, not {flt.op}")


def for_source(source: str, ent: EntityConfig | None, flt: FieldFilter) -> FieldFilter:
    """``flt`` as source ``source`` (its entity mapping ``ent``) evaluates it: itself unless
    it is on a normalised level (module docstring). Kept on the filter per source, so a
    filter tested on many records is translated once."""
    if not is_normalised_field(flt.field):
        return flt
    memo: dict[str, FieldFilter] | None = flt.__dict__.get("_per_source")
    if memo is None:
        memo = {}
        object.__setattr__(flt, "_per_source", memo)
    found = memo.get(source)
    if found is None:
        name = base_field(flt.field)
        scale = ent.scales.get(name) if ent is not None else None
        if scale is None:
            found = _unscaled(name, flt)
        else:
            found = FieldFilter(name, "in", scale.levels_where(_test(flt)))
        memo[source] = found
    return found


def for_source_all(
    source: str, ent: EntityConfig | None, filters: Sequence[FieldFilter]
) -> list[FieldFilter]:
    return [for_source(source, ent, f) for f in filters]
