"""What a connector can do, declared on its class, and the version of the contract it
implements: data the hub reads instead of assuming (SQLAlchemy dialects' ``supports_*``).

The hub honours capabilities at run time (:mod:`ecehub.sources.paging`): a connector without
paging, or a filter it cannot push down, is paged and filtered by the hub for it. The contract
version is checked where kinds are loaded (:mod:`ecehub.config.kinds`, so a config naming an
incompatible connector fails to load, naming the file and the path) and re-exported here.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ecehub.config.canonical import is_identifier_field
from ecehub.config.kinds import CONTRACT_VERSION, check_contract_version

if TYPE_CHECKING:  # base.py imports this module
    from ecehub.connectors.base import FieldFilter, FilterOp

__all__ = [
    "ALL_FILTER_OPS",
    "CONTRACT_VERSION",
    "Capabilities",
    "check_contract_version",
]

ALL_FILTER_OPS: Final[frozenset[FilterOp]] = frozenset(("eq", "in", "contains", "gte", "lte"))
"""Every operator of ``FilterOp`` (a test holds the two the same)."""


@dataclass(frozen=True)
class Capabilities:
    """What ``find`` and ``children`` honour. The defaults declare the whole contract; a
    connector narrows them (``capabilities = Capabilities(supports_paging=False)``), and the
    hub does the rest for it, at the cost of reading the source's whole answer once per
    request (docs/connectors.md, "Capabilities")."""

    supports_paging: bool = True
    """``find`` honours ``first`` and continues ``after`` a record's ``cursor``. False: the
    hub calls ``find`` without them, once per request and filter set, and slices the answer
    with cursors of its own."""
    filter_ops: AbstractSet[FilterOp] = ALL_FILTER_OPS
    """Operators ``find`` evaluates with exactly the meaning of ``matches``. A filter with
    another operator is evaluated by the hub on the whole answer (as without paging)."""
    identifier_filters: bool = True
    """``find`` filters on ``identifier:<SYSTEM>`` (lookups by a shared identifier)."""
    filterable_fields: AbstractSet[str] | None = None
    """Canonical fields ``find`` filters on (``None``: every mapped field)."""
    supports_children: bool = True
    """``children`` groups by parent key. False: the hub reads the entity with ``find`` and
    groups the records by ``parent_key`` itself."""
    casefold: bool = True
    """Text comparisons fold case as ``str.casefold`` (``ß`` = ``ss``), the meaning of
    ``matches``. False (a database's ``lower()``): a few characters compare differently; the
    kit skips those cases and ``ecehub connectors`` shows it."""
    max_page_size: int | None = None
    """The most records one ``find`` call may ask for; the hub asks for pages of at most
    this size and follows ``has_next``."""
    supports_periods: bool = False
    """For an entity with a ``period`` (one row per key and period), ``fetch`` and ``find``
    answer one record per key, the row of its latest period, and ``find`` applies its
    filters and paging to those rows only; ``children`` still answers every period. False:
    the hub reads the entity's whole answer once per request and keeps each key's latest row
    itself (:mod:`ecehub.sources.periods`)."""
    notes: tuple[str, ...] = field(default=())
    """Anything else a deployer should know (shown by ``ecehub connectors``)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.filter_ops) - ALL_FILTER_OPS)
        if unknown:
            raise ValueError(
                f"Capabilities.filter_ops: unknown operators {unknown}; "
                f"expected some of {sorted(ALL_FILTER_OPS)}"
            )
        if self.max_page_size is not None and self.max_page_size < 1:
            raise ValueError("Capabilities.max_page_size must be at least 1 (or None)")
        object.__setattr__(self, "filter_ops", frozenset(self.filter_ops))
        if self.filterable_fields is not None:
            object.__setattr__(self, "filterable_fields", frozenset(self.filterable_fields))

    def pushes_down(self, flt: FieldFilter) -> bool:
        """Whether ``find`` evaluates ``flt`` itself (else the hub applies it)."""
        if flt.op not in self.filter_ops:
            return False
        if is_identifier_field(flt.field):
            return self.identifier_filters
        return self.filterable_fields is None or flt.field in self.filterable_fields

    def summary(self) -> dict[str, object]:
        """Plain values, for ``ecehub connectors`` and logs."""
        return {
            "supports_paging": self.supports_paging,
            "filter_ops": sorted(self.filter_ops),
            "identifier_filters": self.identifier_filters,
            "filterable_fields": None
            if self.filterable_fields is None
            else sorted(self.filterable_fields),
            "supports_children": self.supports_children,
            "casefold": self.casefold,
            "max_page_size": self.max_page_size,
            "supports_periods": self.supports_periods,
            "notes": list(self.notes),
        }
