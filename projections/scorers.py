"""How a query scores stored vectors: the nearest points to one vector, or a score over
examples (recommend's `best_score` and `sum_scores`, discover, context), as Qdrant scores
them.

- Nearest: similarities for Cosine and Dot (higher first), distances for Euclid and Manhattan
  (lower first); a multivector scores max_sim. It is the only kind an HNSW graph serves.
- Examples: built on each distance's core similarity, where higher is always closer (Euclid:
  the squared distance negated, Manhattan: the distance negated), and higher scores first.
  `best_score` takes the best positive and the best negative similarity: a point closer to a
  positive scores sigmoid(best positive), else -sigmoid(best negative), with Qdrant's fast
  sigmoid scaled to (0, 1). `sum_scores` sums the positives' similarities and subtracts the
  negatives'. Discovery (discover and context queries) and Feedback (relevance_feedback)
  on the same core similarities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from projections.errors import WrongInput
from projections.sparse_table import Indices, SparseTable
from projections.vector_table import SIMILARITIES, max_sim, pairwise
from projections.vectors import Floats


def wrong_kind() -> WrongInput:
    """A query of one kind of vector (sparse, dense) against the other."""
    return WrongInput("Conversion between sparse and regular vectors failed")


class Scorer(ABC):
    """Scores of stored vectors against a query."""

    @property
    def vector(self) -> Floats | None:
        """The vector whose nearest points are wanted: what a graph can search for."""
        return None

    @abstractmethod
    def higher_first(self, distance: str) -> bool: ...

    # A scorer overrides the kinds of vectors it scores; the others are the wrong kind.

    def score(self, distance: str, matrix: Floats) -> Floats:
        """The scores of dense vectors, a row each."""
        raise wrong_kind()

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        """The score of one multivector (its rows)."""
        raise wrong_kind()

    def score_sparse(self, table: SparseTable, rows: npt.NDArray[np.int64] | None) -> Floats:
        """The scores of a sparse table's rows (None: all of them); -inf: not a result."""
        raise wrong_kind()


@dataclass(frozen=True, eq=False)
class Nearest(Scorer):
    query: Floats  # shaped as the stored vectors (normalised for Cosine); 2-D for multi

    @property
    def vector(self) -> Floats:
        return self.query

    def higher_first(self, distance: str) -> bool:
        return distance in SIMILARITIES

    def score(self, distance: str, matrix: Floats) -> Floats:
        return pairwise(distance, matrix, self.query)

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        return max_sim(distance, rows, self.query)


@dataclass(frozen=True, eq=False)
class SparseNearest(Scorer):
    """A sparse query: the dot product over shared indices, its values weighted by each
    index's inverse document frequency when the vector's modifier is `idf`."""

    indices: Indices  # sorted
    values: Floats
    idf: bool

    def higher_first(self, distance: str) -> bool:
        return True

    def score_sparse(self, table: SparseTable, rows: npt.NDArray[np.int64] | None) -> Floats:
        weights = self.values * table.idf(self.indices) if self.idf else self.values
        return table.dot(self.indices, weights, rows)


def core(distance: str, matrix: Floats, example: Floats) -> Floats:
    """Qdrant's internal similarity of each row to an example: higher is closer."""
    if distance in SIMILARITIES:
        return cast("Floats", matrix @ example)
    difference = matrix - example
    if distance == "Euclid":
        return cast("Floats", -(difference * difference).sum(axis=-1))
    return cast("Floats", -np.abs(difference).sum(axis=-1))


def core_multi(distance: str, rows: Floats, example: Floats) -> np.float32:
    """A multivector's core similarity to a multivector example: the sum over the example's
    rows of the best similarity to any of the point's rows."""
    return np.float32(sum(core(distance, rows, one).max() for one in example))


def fast_sigmoid(x: Floats) -> Floats:
    """Qdrant's fast sigmoid x / (1 + |x|), in (-1, 1)."""
    return cast("Floats", x / (1.0 + np.abs(x)))


def scaled_sigmoid(x: Floats) -> Floats:
    """The fast sigmoid scaled to (0, 1)."""
    return cast("Floats", 0.5 * (fast_sigmoid(x) + 1.0))


@dataclass(frozen=True, eq=False)
class Examples(Scorer):
    """recommend's `best_score` (best=True) or `sum_scores` over positive and negative
    examples, each shaped as a stored vector."""

    positive: tuple[Floats, ...]
    negative: tuple[Floats, ...]
    best: bool

    def higher_first(self, distance: str) -> bool:
        return True

    def score(self, distance: str, matrix: Floats) -> Floats:
        pos = [core(distance, matrix, e) for e in self.positive]
        neg = [core(distance, matrix, e) for e in self.negative]
        return self._merge(np.array(pos, np.float32), np.array(neg, np.float32), len(matrix))

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        pos = [[core_multi(distance, rows, e)] for e in self.positive]
        neg = [[core_multi(distance, rows, e)] for e in self.negative]
        return np.float32(self._merge(np.array(pos, np.float32), np.array(neg, np.float32), 1)[0])

    def _merge(self, pos: Floats, neg: Floats, n: int) -> Floats:
        """The scores from the similarities to each example (a row per example)."""
        if not self.best:
            total_pos = pos.sum(axis=0) if len(pos) else np.zeros(n, np.float32)
            total_neg = neg.sum(axis=0) if len(neg) else np.zeros(n, np.float32)
            return (total_pos - total_neg).astype(np.float32)
        best_pos = pos.max(axis=0) if len(pos) else np.full(n, -np.inf, np.float32)
        best_neg = neg.max(axis=0) if len(neg) else np.full(n, -np.inf, np.float32)
        with np.errstate(invalid="ignore"):
            merged = np.where(
                best_pos > best_neg, scaled_sigmoid(best_pos), -scaled_sigmoid(best_neg)
            )
        return merged.astype(np.float32)


EPSILON = np.float32(1.1920929e-7)  # f32::EPSILON: a context pair's margin


Pair = tuple[Floats, Floats]  # a context pair: (positive, negative)


@dataclass(frozen=True, eq=False)
class Discovery(Scorer):
    """discover's score: for each context pair, +1 closer to its positive, -1 closer to its
    negative (0 when equal), summed; plus the similarity to the target, scaled by a sigmoid
    to (0, 1) so that it only orders points within the same count. Without a target
    (`context` queries): the sum over pairs of sigmoid(min(pos - neg - EPSILON, 0)), which
    is 0 for a point closer to every positive and lower the further it lies on the wrong
    side."""

    target: Floats | None
    pairs: tuple[Pair, ...]

    def higher_first(self, distance: str) -> bool:
        return True

    def score(self, distance: str, matrix: Floats) -> Floats:
        return self._merge(
            [(core(distance, matrix, p), core(distance, matrix, n)) for p, n in self.pairs],
            None if self.target is None else core(distance, matrix, self.target),
            len(matrix),
        )

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        pairs = [
            (np.array([core_multi(distance, rows, p)]), np.array([core_multi(distance, rows, n)]))
            for p, n in self.pairs
        ]
        target = (
            None if self.target is None else np.array([core_multi(distance, rows, self.target)])
        )
        return np.float32(self._merge(pairs, target, 1)[0])

    def _merge(self, pairs: list[tuple[Floats, Floats]], target: Floats | None, n: int) -> Floats:
        """The scores from each pair's similarities (positive, negative) and the target's."""
        total = np.zeros(n, np.float32)
        for pos, neg in pairs:
            if target is None:
                total += fast_sigmoid(np.minimum(pos - neg - EPSILON, 0.0))
            else:
                total += np.sign(pos - neg)
        if target is not None:
            total += scaled_sigmoid(target)
        return total.astype(np.float32)


@dataclass(frozen=True, eq=False)
class Feedback(Scorer):
    """relevance_feedback's naive strategy: `a` times the similarity to the target, plus, for
    each two examples whose feedback scores differ (the better one as positive), the
    difference between the similarities to them, weighted by `c * (score difference) ** b`."""

    a: float
    target: Floats
    pairs: tuple[tuple[Floats, Floats, float], ...]  # (positive, negative, weight)

    def higher_first(self, distance: str) -> bool:
        return True

    def score(self, distance: str, matrix: Floats) -> Floats:
        total = np.float32(self.a) * core(distance, matrix, self.target)
        for positive, negative, weight in self.pairs:
            delta = core(distance, matrix, positive) - core(distance, matrix, negative)
            total = total + np.float32(weight) * delta
        return cast("Floats", total.astype(np.float32))

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        total = self.a * core_multi(distance, rows, self.target)
        for positive, negative, weight in self.pairs:
            total += weight * (
                core_multi(distance, rows, positive) - core_multi(distance, rows, negative)
            )
        return np.float32(total)


def feedback_pairs(
    examples: list[tuple[Floats, float]], b: float, c: float
) -> tuple[tuple[Floats, Floats, float], ...]:
    """The naive strategy's pairs: every ordered two examples where the first's feedback
    score is the higher, weighted by `c * difference ** b`."""
    return tuple(
        (first, second, (high - low) ** b * c)
        for i, (first, high) in enumerate(examples)
        for j, (second, low) in enumerate(examples)
        if i != j and high - low > 0
    )


def average_vector(positive: list[Floats], negative: list[Floats]) -> Floats:
    """recommend's `average_vector` query: the positives' mean, moved away from the
    negatives' mean by as much again (2 * mean(pos) - mean(neg)); just the positives' mean
    without negatives. Multivectors: the positives' rows and the negatives' rows negated."""
    if positive[0].ndim == 2:
        return cast(
            "Floats", np.concatenate([*positive, *(-n for n in negative)]).astype(np.float32)
        )
    mean = np.mean(positive, axis=0)
    if negative:
        mean = mean + mean - np.mean(negative, axis=0)
    return cast("Floats", mean.astype(np.float32))
