"""Which licensed facility is a site of which program: the second level of the crosswalk.

A federal Head Start report knows a grantee's program; licensing knows each licensed
facility; one Head Start program runs many licensed centers. So besides "same program" the
crosswalk proposes "this facility is a site of that program". The program's own source lists
its sites (centers, with addresses and phones, under the program's key): each facility is
matched with those site records by :func:`~ecehub.crosswalk.match` (identifiers, name,
address, phone, geography within a state), and a facility that matches a site of program P
is proposed as a site of P. The facility stays its own program: a site link never merges
records, it says where the program operates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ecehub.crosswalk.matcher import MatcherConfig, MatchRecord, MatchStatus, match

__all__ = ["SiteMatch", "match_sites"]


@dataclass(frozen=True, slots=True)
class SiteMatch:
    """``facility_key`` is a site of the program ``program_key`` (through its site
    ``site_key``)."""

    program_key: str
    facility_key: str
    site_key: str
    score: float
    status: MatchStatus
    reasons: tuple[str, ...]


def match_sites(
    sites: Sequence[MatchRecord],
    program_of: Mapping[str, str],
    facilities: Sequence[MatchRecord],
    config: MatcherConfig,
) -> list[SiteMatch]:
    """Propose facilities as sites of programs: ``sites`` are the program source's site
    records and ``program_of`` maps a site's key to its program's key (a site without one
    is left out); each facility is proposed for at most one program, at the score and
    status its match with the site has."""
    known = [s for s in sites if s.key in program_of]
    found: list[SiteMatch] = []
    for result in match(known, facilities, config):
        program = program_of[result.left_key]
        found.append(
            SiteMatch(
                program_key=program,
                facility_key=result.right_key,
                site_key=result.left_key,
                score=result.score,
                status=result.status,
                reasons=(f"matches site {result.left_key} of program {program}", *result.reasons),
            )
        )
    return found
