"""Which source's value a merged object shows for each field, and whether sources disagree.

:class:`MergePolicy` applies the ``merge.<entity>.fields`` rules of the config (see
:class:`~ecehub.config.model.MergeFieldRule`) to the records of one merged object; a field
without a rule shows the first non-null value by source precedence. Any
:class:`~ecehub.crosswalk.identity.Identity` hands its policy to the ``Merged`` objects it
builds.

Conflicts: two non-null values conflict unless they compare equal as follows. Text is
trimmed, case-folded and its runs of whitespace collapsed ("ABC  Learning" = "abc learning");
a ``phone`` compares by its digits (a leading US country code 1 dropped), since punctuation is
each agency's house style; lists compare as sets of such texts; numbers, dates and datetimes
compare by value (``3`` = ``3.0``). A level field (``qris_level``) compares by its normalised
level (:mod:`ecehub.config.scales`): 3 on a 0-4 scale with 0 not participating (3.67) and 4 on
1-5 (4) conflict, 4 on 1-4 and 5 on 1-5 (both 5) do not, and two not-participating levels
agree whatever their numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ecehub.config.model import Config, MergeFieldRule
from ecehub.config.scales import LEVEL_FIELDS, LevelScale, normalised_level
from ecehub.connectors.base import Record

__all__ = [
    "DEFAULT_FIELD_RULE",
    "SAME_READ",
    "FieldValue",
    "MergePolicy",
    "comparable",
    "conflicting",
    "describe_rule",
]

DEFAULT_FIELD_RULE = MergeFieldRule()

SAME_READ = dt.timedelta(seconds=2)
"""``most_recent`` by ``fetched_at``: reads this close together count as equally recent (one
query reads every source within moments; which answered last must not decide)."""


@dataclass(frozen=True)
class FieldValue:
    value: Any
    source: str
    fetched_at: dt.datetime


def _field_value(record: Record, name: str) -> FieldValue:
    return FieldValue(record.fields[name], record.source, record.fetched_at)


def _in_rule_order(rule: MergeFieldRule, records: Sequence[Record]) -> list[Record]:
    """Preferred sources first, in their order; then the rest as given (source precedence)."""
    if not rule.prefer:
        return list(records)
    rank = {source: i for i, source in enumerate(rule.prefer)}
    last = len(rank)
    return sorted(records, key=lambda r: rank.get(r.source, last))


def _instant(value: Any) -> dt.datetime | None:
    """A ``by`` value as an aware datetime (a date is its midnight, naive times are UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return None


def _newest_first(rule: MergeFieldRule, records: list[Record]) -> list[Record]:
    """Dated records newest first (ties keep ``records``' order), then the undated ones."""
    dated: list[tuple[dt.datetime, int, Record]] = []
    undated: list[Record] = []
    for i, r in enumerate(records):
        when = _instant(r.fetched_at if rule.by == "fetched_at" else r.fields.get(rule.by))
        if when is None:
            undated.append(r)
        else:
            dated.append((when, i, r))
    dated.sort(key=lambda d: (-d[0].timestamp(), d[1]))
    if rule.by == "fetched_at":
        # Reads within SAME_READ of the newest read of their group tie, in records' order.
        keyed: list[tuple[int, int, Record]] = []
        head: dt.datetime | None = None
        for when, i, r in dated:
            if head is None or head - when > SAME_READ:
                head = when
            keyed.append((-int(head.timestamp() * 1e6), i, r))
        return [r for *_, r in sorted(keyed, key=lambda k: k[:2])] + undated
    return [r for *_, r in dated] + undated


class MergePolicy:
    """Per entity and field, the rule that picks the value shown (config ``merge.<entity>.
    fields``). ``MergePolicy()`` has no rules: first non-null by source precedence."""

    def __init__(
        self,
        rules: Mapping[str, Mapping[str, MergeFieldRule]] | None = None,
        scales: Mapping[tuple[str, str, str], LevelScale] | None = None,
    ) -> None:
        self.rules = {entity: dict(fields) for entity, fields in (rules or {}).items()}
        self.scales = dict(scales or {})
        """``(source, entity, level field)``: the scale that source declares for it."""

    @classmethod
    def from_config(cls, config: Config) -> MergePolicy:
        scales = {
            (source, entity, name): scale
            for source, src in config.sources.items()
            for entity, ent in src.entities.items()
            for name, scale in ent.scales.items()
        }
        return cls({entity: rule.fields for entity, rule in config.merge.items()}, scales)

    def conflicting(self, entity: str, name: str, values: Iterable[FieldValue]) -> bool:
        """Whether a field's non-null values differ across sources (module docstring: a
        level field by its normalised level, on each value's source's scale)."""
        if name not in LEVEL_FIELDS.get(entity, ()):
            return conflicting(name, values)
        positions = {
            normalised_level(self.scales.get((fv.source, entity, name)), fv.value) for fv in values
        }
        return len(positions) > 1

    def rule(self, entity: str, name: str) -> MergeFieldRule:
        return self.rules.get(entity, {}).get(name, DEFAULT_FIELD_RULE)

    def rank(self, entity: str, name: str, records: Sequence[Record]) -> list[FieldValue]:
        """Every non-null value of a field, the shown one first, then in the order the rule
        would fall back to. ``records`` are in source-precedence order."""
        rule = self.rule(entity, name)
        present = [r for r in records if r.fields.get(name) is not None]
        ordered = _in_rule_order(rule, present)
        if rule.strategy == "most_recent":
            ordered = _newest_first(rule, ordered)
        return [_field_value(r, name) for r in ordered]

    def pick_value(self, entity: str, name: str, records: Sequence[Record]) -> Any:
        """The value :meth:`pick` shows, without its provenance: what a plain field of a
        page asks for thousands of times (no ``FieldValue`` built for the common case, a
        field with no rule: the first non-null value by precedence)."""
        if name not in self.rules.get(entity, {}):
            for record in records:
                value = record.fields.get(name)
                if value is not None:
                    return value
            return None
        ranked = self.rank(entity, name, records)
        return ranked[0].value if ranked else None

    def pick(self, entity: str, name: str, records: Sequence[Record]) -> FieldValue | None:
        """The value shown for a field and where it came from; ``None`` when no source has it."""
        if name not in self.rules.get(entity, {}):
            for record in records:
                if record.fields.get(name) is not None:
                    return _field_value(record, name)
            return None
        ranked = self.rank(entity, name, records)
        return ranked[0] if ranked else None


_SPACES = re.compile(r"\s+")


def _text_key(value: Any) -> str:
    return _SPACES.sub(" ", str(value).strip()).casefold()


def comparable(name: str, value: Any) -> Any:
    """The form of a field's value that conflict detection compares (module docstring)."""
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(_text_key(v) for v in value)
    if isinstance(value, str):
        if name == "phone":
            digits = "".join(c for c in value if c.isdigit())
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            return digits or _text_key(value)
        return _text_key(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, bool | int | float | Decimal | dt.date):
        return value
    return _text_key(value)


def conflicting(name: str, values: Iterable[FieldValue]) -> bool:
    """Whether a field's non-null values differ across sources (module docstring)."""
    return len({comparable(name, fv.value) for fv in values}) > 1


def describe_rule(rule: MergeFieldRule) -> str:
    """The rule in words, e.g. ``most recent by qris_rated_on, then qris, then precedence``."""
    order = ", ".join([*rule.prefer, "source precedence"])
    if rule.strategy == "most_recent":
        return f"most recent by {rule.by}; ties: {order}"
    return f"first non-null: {order}"
