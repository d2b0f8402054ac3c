"""The identity crosswalk: which records in different sector systems are the same program,
site or staff member, and the merged view of them.

- :mod:`~ecehub.crosswalk.identity`: the :class:`Identity` interface the resolvers use, the
  merged object, and merging on shared identifiers; :mod:`~ecehub.crosswalk.merge_policy`: which
  source's value a merged field shows, with provenance and conflicts;
  :mod:`~ecehub.crosswalk.link_identity`: merging on the crosswalk's confirmed links.
- :mod:`~ecehub.crosswalk.matcher`, :mod:`~ecehub.crosswalk.staff`,
  :mod:`~ecehub.crosswalk.normalize`: the matchers (a pure library);
  :mod:`~ecehub.crosswalk.sites`: which facility is a site of which program.
- :mod:`~ecehub.crosswalk.store`, :mod:`~ecehub.crosswalk.records`: the stored links (tables
  in the hub database), versioned and audited.
- :mod:`~ecehub.crosswalk.proposals`, :mod:`~ecehub.crosswalk.suggest`: from source records to
  the matchers and from their results to stored suggestions; the links as CSV.
"""

from ecehub.crosswalk.matcher import MatcherConfig, MatchRecord, MatchResult, MatchStatus, match
from ecehub.crosswalk.sites import SiteMatch, match_sites
from ecehub.crosswalk.staff import StaffRecord, match_staff

__all__ = [
    "MatchRecord",
    "MatchResult",
    "MatchStatus",
    "MatcherConfig",
    "SiteMatch",
    "StaffRecord",
    "match",
    "match_sites",
    "match_staff",
]
