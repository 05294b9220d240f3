"""Fusing the ranked lists of several prefetches into one, as Qdrant does.

- RRF (reciprocal rank fusion): a point scores the sum over the lists it is in of
  1 / ((position + 1) / weight + k - 1), position from 0, k = 2 unless given, weight 1 unless
  given (a list of weight 0 or less adds nothing).
- DBSF (distribution-based score fusion): each list's scores are mapped from
  [mean - 3 sigma, mean + 3 sigma] (sample standard deviation) onto [0, 1], a single score or a
  list of equal scores to 0.5; a point scores the sum of its normalised scores.
Higher fused scores first; equal scores in the order the points were first met.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_RRF_K = 2

Scored = list[tuple[str, float]]  # (point key, score), best first


def rrf(
    lists: Sequence[Scored], k: int | None = None, weights: Sequence[float] | None = None
) -> Scored:
    constant = DEFAULT_RRF_K if k is None else k
    fused: dict[str, float] = {}
    for at, ranked in enumerate(lists):
        weight = 1.0 if weights is None else weights[at]
        for position, (key, _) in enumerate(ranked):
            gain = 0.0 if weight <= 0 else 1.0 / ((position + 1.0) / weight + constant - 1.0)
            fused[key] = fused.get(key, 0.0) + gain
    return _best_first(fused)


def dbsf(lists: Sequence[Scored]) -> Scored:
    fused: dict[str, float] = {}
    for ranked in lists:
        for key, score in _normalised(ranked):
            fused[key] = fused.get(key, 0.0) + score
    return _best_first(fused)


def _normalised(ranked: Scored) -> Scored:
    if len(ranked) < 2:
        return [(key, 0.5) for key, _ in ranked]
    scores = [score for _, score in ranked]
    mean = sum(scores) / len(scores)
    variance = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)
    if variance == 0:
        return [(key, 0.5) for key, _ in ranked]
    low, spread = mean - 3 * math.sqrt(variance), 6 * math.sqrt(variance)
    return [(key, (score - low) / spread) for key, score in ranked]


def _best_first(fused: dict[str, float]) -> Scored:
    return sorted(fused.items(), key=lambda item: -item[1])
