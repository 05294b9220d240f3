"""The few lowest of many values: a query over a whole table ranks one array of scores (100,000
of them for as many points) and keeps only the top ten or so.

`np.partition` of the whole array costs about 150 microseconds at 100,000 values. A guess
at the cut, read from an evenly spaced sample of a few thousand values, lets one comparison
pass find a few candidates that surely hold the lowest, and only those are partitioned. The
answer is exact whatever the guess: a guess too low (fewer candidates than wanted) falls back
to the whole array.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from projections.vectors import Floats

SAMPLE = 2048  # values read for the guess
SAMPLED_FROM = 16 * SAMPLE  # below this many values, partitioning them all is as quick
MARGIN = 4  # the guess aims at this many times the wanted values
# ... and at no fewer than this many sampled values below it: a cut read off one or two
# sampled values missed (fell back to the whole array) for 1 query in 11 of the benchmark's
# sparse queries (a few high scores stand far out), off eight for none.
SAMPLED_BELOW = 8


def lowest(ranked: Floats, want: int) -> npt.NDArray[np.intp]:
    """The positions of the `want` lowest values of `ranked`, and of every value tied with
    the last of them, in position order. All of them when there are no more than `want`."""
    n = len(ranked)
    if n <= want:
        return np.arange(n)
    if n >= SAMPLED_FROM and want * MARGIN < n // 4:
        sample = ranked[:: n // SAMPLE]
        # about want * MARGIN values lie at or below the guess
        at = max(want * MARGIN * len(sample) // n, SAMPLED_BELOW)
        guess = np.partition(sample, at)[at]
        candidates = np.flatnonzero(ranked <= guess)
        if len(candidates) >= want:  # the want-th lowest is <= guess: it is among them
            values = ranked[candidates]
            kept: npt.NDArray[np.intp] = candidates[
                values <= np.partition(values, want - 1)[want - 1]
            ]
            return kept
    return np.flatnonzero(ranked <= np.partition(ranked, want - 1)[want - 1])
