"""Small-cell suppression of counts (enrollment), with complementary suppression.

A count below the threshold (but above zero) is suppressed for a role not entitled to detail
(primary suppression). A suppressed cell must not be derivable from what is shown: if only
one cell of a set is suppressed, the total minus the others gives it away, and if the
suppressed cells together stay below the threshold, their sum (total minus the shown cells)
is itself a small count. So the smallest shown cells are suppressed as well until at least
two are and their sum reaches the threshold (complementary suppression); if that takes every
cell and the total is still below the threshold, the total is suppressed too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Suppression", "suppress"]


@dataclass(frozen=True)
class Suppression:
    cells: tuple[bool, ...]
    """Per cell: suppressed or not."""
    total: bool
    """Whether the total must be suppressed too."""

    @property
    def any(self) -> bool:
        return self.total or any(self.cells)


def suppress(counts: Sequence[int | None], threshold: int) -> Suppression:
    """Which of ``counts`` (one set adding up to a shown total; ``None`` = not reported)
    to suppress at ``threshold`` (see module docstring)."""
    hidden = [c is not None and 0 < c < threshold for c in counts]
    if not any(hidden):
        return Suppression(tuple(hidden), False)

    def exposed() -> bool:
        values = [c or 0 for c, h in zip(counts, hidden, strict=True) if h]
        return len(values) < 2 or sum(values) < threshold

    while exposed():
        shown = [i for i, c in enumerate(counts) if c is not None and not hidden[i]]
        if not shown:
            break
        # The smallest positive shown cell (hiding a zero hides nothing).
        hidden[min(shown, key=lambda i: (not counts[i], counts[i] or 0, i))] = True
    # Still exposed only when every cell is hidden: the total is then their small sum.
    return Suppression(tuple(hidden), exposed())
