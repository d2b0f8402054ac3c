"""What a query costs in source calls: the calls each field's resolver makes for one batch
(:data:`SOURCE_FIELDS`), counted on a config's sources (:func:`calls_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ecehub.config.model import Config

__all__ = [
    "PAGED_FIELDS",
    "SOURCE_FIELDS",
    "Calls",
    "calls_of",
]


@dataclass(frozen=True)
class Calls:
    """What a resolver asks of the sources for one batch of keys, one call per source:

    - ``children``: the sources mapping ``entity`` under ``parent``;
    - ``fetch``: by key, the sources mapping ``entity``;
    - ``resolve``: by hub ID, one fetch round (``@source:key`` IDs, crosswalk-linked records)
      and one shared-identifier lookup per source holding a ``match_on`` identifier;
    - ``list``: one listing round, a find per source then ``resolve`` to complete the page;
    - ``ancestors``: a fetch of each entity above ``entity`` (a scoped role's check);
    - ``health``: every source (the health check behind ``Query.sources``).
    """

    kind: Literal["children", "fetch", "resolve", "list", "ancestors", "health"]
    entity: str = ""
    parent: str | None = None


_LIST_PROGRAMS = Calls("list", "program")

SOURCE_FIELDS: dict[tuple[str, str], tuple[Calls, ...]] = {
    # (GraphQL type, field) -> the calls its resolver makes
    ("Query", "programs"): (_LIST_PROGRAMS,),
    ("Query", "program"): (Calls("resolve", "program"),),
    ("Query", "site"): (Calls("resolve", "site"), Calls("ancestors", "site")),
    ("Query", "staff"): (Calls("resolve", "staff"), Calls("ancestors", "staff")),
    ("Query", "sources"): (Calls("health"),),
    ("Query", "audit"): (Calls("resolve", "program"),),  # a scoped role's program check
    # Federation: one batch per entity type, however many representations.
    ("Query", "_entities"): (
        Calls("resolve", "program"),
        Calls("resolve", "site"),
        Calls("ancestors", "site"),
        Calls("resolve", "staff"),
        Calls("ancestors", "staff"),
    ),
    # Reports list their programs (or resolve them by ID: fewer calls), then read children.
    ("Query", "fundingReport"): (_LIST_PROGRAMS, Calls("children", "funding", "program")),
    ("Query", "supportSummary"): (
        _LIST_PROGRAMS,
        Calls("children", "funding", "program"),
        Calls("children", "activity", "program"),
        Calls("children", "checklist", "program"),
    ),
    ("Query", "enrollmentReport"): (_LIST_PROGRAMS, Calls("children", "enrollment", "program")),
    ("CrosswalkLink", "record"): (Calls("fetch", "program"),),
    ("CrosswalkLink", "program"): (Calls("resolve", "program"),),
    ("Program", "sites"): (Calls("children", "site", "program"),),
    ("Program", "staff"): (Calls("children", "staff", "program"),),
    ("Program", "checklists"): (Calls("children", "checklist", "program"),),
    ("Program", "assessments"): (Calls("children", "assessment", "program"),),
    ("Program", "enrollment"): (Calls("children", "enrollment", "program"),),
    ("Program", "funding"): (Calls("children", "funding", "program"),),
    ("Program", "periods"): (
        Calls("children", "enrollment", "program"),
        Calls("children", "funding", "program"),
    ),
    ("Program", "ratingHistory"): (Calls("children", "rating", "program"),),
    ("Program", "activity"): (Calls("children", "activity", "program"),),
    ("Program", "contacts"): (Calls("children", "contact", "program"),),
    ("Program", "accreditations"): (Calls("children", "accreditation", "program"),),
    ("Program", "capacityByAge"): (Calls("children", "capacity", "program"),),
    ("Program", "supportSummary"): (
        Calls("children", "funding", "program"),
        Calls("children", "activity", "program"),
        Calls("children", "checklist", "program"),
    ),
    ("Site", "rooms"): (Calls("children", "room", "site"),),
    ("Site", "contacts"): (Calls("children", "contact", "site"),),
    ("Site", "accreditations"): (Calls("children", "accreditation", "site"),),
    ("Site", "capacityByAge"): (Calls("children", "capacity", "site"),),
    ("Site", "staff"): (Calls("children", "staff", "site"),),
    ("Staff", "trainings"): (Calls("children", "training", "staff"),),
    ("Checklist", "responses"): (Calls("children", "checklist_response", "checklist"),),
    ("Checklist", "notMetCount"): (Calls("children", "checklist_response", "checklist"),),
    ("Assessment", "scores"): (Calls("children", "assessment_score", "assessment"),),
}
"""Fields whose resolvers call sector sources. A field not listed costs nothing."""

PAGED_FIELDS: frozenset[tuple[str, str]] = frozenset({("Query", "programs")})


def _sources_mapping(config: Config, entity: str, parent: str | None) -> int:
    return sum(
        1
        for source in config.sources.values()
        if entity in source.entities
        and (parent is None or source.entities[entity].parent_entity == parent)
    )


def _identifier_lookups(config: Config, entity: str) -> int:
    return sum(len(config.identifier_holders(entity, s)) for s in config.match_on(entity))


def _ancestors(config: Config, entity: str) -> set[str]:
    found: set[str] = set()
    todo = [entity]
    while todo:
        current = todo.pop()
        for source in config.sources.values():
            mapping = source.entities.get(current)
            parent = mapping.parent_entity if mapping else None
            if parent is not None and parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def calls_of(config: Config, calls: Calls) -> int:
    """The source calls ``calls`` stands for under ``config``."""
    if calls.kind == "children":
        return _sources_mapping(config, calls.entity, calls.parent)
    if calls.kind == "fetch":
        return _sources_mapping(config, calls.entity, None)
    if calls.kind == "resolve":
        return _sources_mapping(config, calls.entity, None) + _identifier_lookups(
            config, calls.entity
        )
    if calls.kind == "list":
        return _sources_mapping(config, calls.entity, None) + calls_of(
            config, Calls("resolve", calls.entity)
        )
    if calls.kind == "ancestors":
        return sum(_sources_mapping(config, e, None) for e in _ancestors(config, calls.entity))
    return len(config.sources)
