"""Identity crosswalk: which records in different sector systems are the same program.

For now the program matcher (a pure library); the stored crosswalk, its review interfaces
and merging with provenance come later (issue 5).
"""

from ecehub.crosswalk.matcher import MatcherConfig, MatchRecord, MatchResult, MatchStatus, match

__all__ = ["MatchRecord", "MatchResult", "MatchStatus", "MatcherConfig", "match"]
