"""What the crosswalk store returns: frozen dataclasses, as the rest of the hub store does
(see :mod:`ecehub.hub.records`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from ecehub.hub.enums import LinkKind, LinkStatus
from ecehub.hub.records import Versioned

__all__ = [
    "CrosswalkLink",
    "CrosswalkSnapshot",
    "HubId",
    "HubIdChange",
    "LinkProposal",
    "ProposalSummary",
    "SuggestionPage",
]


@dataclass(frozen=True)
class CrosswalkLink(Versioned):
    """A link from a hub ID to one source record. ``deleted_at`` is set once it is unlinked.
    ``kind`` ``SITE``: the record is a site of the program ``hub_id`` (not the program)."""

    id: str
    entity: str
    kind: LinkKind
    hub_id: str
    source: str
    source_key: str
    status: LinkStatus
    score: float | None
    reasons: tuple[str, ...]
    auto: bool
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None

    @property
    def program_id(self) -> str:
        """Audit entries of a link are filed under its hub ID (for a site or staff link, the
        site's or staff member's hub ID)."""
        return self.hub_id


@dataclass(frozen=True)
class HubId:
    """A hub ID the crosswalk has written about; ``merged_into`` when it was merged away."""

    id: str
    entity: str
    hub_id: str
    merged_into: str | None
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str

    @property
    def program_id(self) -> str:
        return self.hub_id


@dataclass(frozen=True)
class HubIdChange:
    """What a merge or split wrote: the hub IDs as they are now, and the links it moved."""

    hub_ids: tuple[HubId, ...]
    links: tuple[CrosswalkLink, ...]


@dataclass(frozen=True)
class LinkProposal:
    """A link the matcher proposes: ``source``'s record ``key`` is the object ``hub_id``
    (``kind`` ``SITE``: is a site of the program ``hub_id``). ``auto`` when the matcher would
    confirm it without review."""

    hub_id: str
    source: str
    key: str
    score: float
    reasons: tuple[str, ...] = ()
    auto: bool = False
    kind: LinkKind = LinkKind.SAME


@dataclass(frozen=True)
class ProposalSummary:
    """What adding proposals did: ``added`` new suggestions, ``updated`` suggestions whose
    score or reasons changed, ``unchanged`` ones, ``decided`` pairs a person already confirmed,
    rejected or unlinked (left alone), ``linked_elsewhere`` records already confirmed to
    another hub ID (left alone)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    decided: int = 0
    linked_elsewhere: int = 0

    def __add__(self, other: ProposalSummary) -> ProposalSummary:
        return ProposalSummary(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )


@dataclass(frozen=True)
class SuggestionPage:
    """Suggested links, highest score first."""

    links: tuple[CrosswalkLink, ...]
    end_cursor: str | None
    has_next_page: bool


@dataclass(frozen=True)
class CrosswalkSnapshot:
    """What identity resolution needs from the crosswalk, as of ``generation``: every
    confirmed link ``(entity, source, key) -> hub ID``, every merged-away hub ID
    ``(entity, hub ID) -> the hub ID it was merged into``, and every confirmed ``SITE`` link
    (a facility shown among a program's sites), by source and key."""

    generation: int
    confirmed: dict[tuple[str, str, str], str]
    merged_into: dict[tuple[str, str], str]
    site_links: tuple[CrosswalkLink, ...] = ()
