"""Identity crosswalk: which records in different sector systems are the same program.

For now the program and staff matchers (a pure library); the stored crosswalk, its review interfaces
and merging with provenance come later (issue 5).
"""

from ecehub.crosswalk.matcher import MatcherConfig, MatchRecord, MatchResult, MatchStatus, match
from ecehub.crosswalk.staff import StaffRecord, match_staff

__all__ = [
    "MatchRecord",
    "MatchResult",
    "MatchStatus",
    "MatcherConfig",
    "StaffRecord",
    "match",
    "match_staff",
]
