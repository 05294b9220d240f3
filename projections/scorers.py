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
- Over sparse vectors, the core similarity is the dot product, 0 when a point and an example
  share no index (SparseExamples).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from projections.errors import WrongInput
from projections.sparse_table import Indices, SparseTable, SparseVector
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


Example = Floats | SparseVector  # a dense vector or multivector, or a sparse vector
Similarity = Callable[[Example], Floats]  # an example's core similarity to each point scored


class ExampleScorer(Scorer):
    """A score over examples: each example's core similarity to the points, combined."""

    def higher_first(self, distance: str) -> bool:
        return True

    def score(self, distance: str, matrix: Floats) -> Floats:
        return self.combine(lambda e: core(distance, matrix, _dense(e)), len(matrix))

    def score_multi(self, distance: str, rows: Floats) -> np.float32:
        def similarity(example: Example) -> Floats:
            return np.array([core_multi(distance, rows, _dense(example))], np.float32)

        return np.float32(self.combine(similarity, 1)[0])

    @abstractmethod
    def combine(self, similarity: Similarity, n: int) -> Floats:
        """The scores of `n` points from their similarities to the examples."""


@dataclass(frozen=True, eq=False)
class Examples(ExampleScorer):
    """recommend's `best_score` (best=True) or `sum_scores` over positive and negative
    examples, each shaped as a stored vector."""

    positive: tuple[Example, ...]
    negative: tuple[Example, ...]
    best: bool

    def combine(self, similarity: Similarity, n: int) -> Floats:
        pos = _rows([similarity(e) for e in self.positive], n)
        neg = _rows([similarity(e) for e in self.negative], n)
        if not self.best:
            return cast("Floats", (pos.sum(axis=0) - neg.sum(axis=0)).astype(np.float32))
        best_pos = pos.max(axis=0) if len(pos) else np.full(n, -np.inf, np.float32)
        best_neg = neg.max(axis=0) if len(neg) else np.full(n, -np.inf, np.float32)
        with np.errstate(invalid="ignore"):
            merged = np.where(
                best_pos > best_neg, scaled_sigmoid(best_pos), -scaled_sigmoid(best_neg)
            )
        return merged.astype(np.float32)


def _rows(similarities: list[Floats], n: int) -> Floats:
    """The examples' similarities to `n` points, a row each (reshape cannot infer the rows
    of an empty matrix)."""
    return np.array(similarities, np.float32).reshape(len(similarities), n)


EPSILON = np.float32(1.1920929e-7)  # f32::EPSILON: a context pair's margin


Pair = tuple[Example, Example]  # a context pair: (positive, negative)


@dataclass(frozen=True, eq=False)
class Discovery(ExampleScorer):
    """discover's score: for each context pair, +1 closer to its positive, -1 closer to its
    negative (0 when equal), summed; plus the similarity to the target, scaled by a sigmoid
    to (0, 1) so that it only orders points within the same count. Without a target
    (`context` queries): the sum over pairs of sigmoid(min(pos - neg - EPSILON, 0)), which
    is 0 for a point closer to every positive and lower the further it lies on the wrong
    side."""

    target: Example | None
    pairs: tuple[Pair, ...]

    def combine(self, similarity: Similarity, n: int) -> Floats:
        total = np.zeros(n, np.float32)
        for positive, negative in self.pairs:
            pos, neg = similarity(positive), similarity(negative)
            if self.target is None:
                total += fast_sigmoid(np.minimum(pos - neg - EPSILON, 0.0))
            else:
                total += np.sign(pos - neg)
        if self.target is not None:
            total += scaled_sigmoid(similarity(self.target))
        return total.astype(np.float32)


@dataclass(frozen=True, eq=False)
class Feedback(ExampleScorer):
    """relevance_feedback's naive strategy: `a` times the similarity to the target, plus, for
    each two examples whose feedback scores differ (the better one as positive), the
    difference between the similarities to them, weighted by `c * (score difference) ** b`."""

    a: float
    target: Example
    pairs: tuple[tuple[Example, Example, float], ...]  # (positive, negative, weight)

    def combine(self, similarity: Similarity, n: int) -> Floats:
        total = np.float32(self.a) * similarity(self.target)
        for positive, negative, weight in self.pairs:
            total = total + np.float32(weight) * (similarity(positive) - similarity(negative))
        return cast("Floats", np.asarray(total, np.float32))


@dataclass(frozen=True, eq=False)
class SparseExamples(Scorer):
    """recommend (best_score, sum_scores), discover, context or relevance_feedback over
    sparse vectors: `examples` (holding sparse vectors) combines each example's dot product
    with the points, 0 for a point that shares no index with it (as Qdrant compares them);
    the examples' values weighted by each index's idf under the `idf` modifier."""

    examples: ExampleScorer
    idf: bool

    def higher_first(self, distance: str) -> bool:
        return True

    def score_sparse(self, table: SparseTable, rows: npt.NDArray[np.int64] | None) -> Floats:
        def similarity(example: Example) -> Floats:
            indices, values = cast("SparseVector", example)
            weights = values * table.idf(indices) if self.idf else values
            return table.similarity(indices, weights, rows)

        scores = self.examples.combine(similarity, table.high if rows is None else len(rows))
        scores[~table.held(rows)] = -np.inf
        return scores


def _dense(example: Example) -> Floats:
    assert not isinstance(example, tuple)  # a sparse vector never meets a dense one
    return example


def feedback_pairs(
    examples: list[tuple[Example, float]], b: float, c: float
) -> tuple[tuple[Example, Example, float], ...]:
    """The naive strategy's pairs: every ordered two examples where the first's feedback
    score is the higher, weighted by `c * difference ** b`."""
    return tuple(
        (first, second, (high - low) ** b * c)
        for i, (first, high) in enumerate(examples)
        for j, (second, low) in enumerate(examples)
        if i != j and high - low > 0
    )


def sparse_average(positive: list[SparseVector], negative: list[SparseVector]) -> SparseVector:
    """`average_vector` over sparse vectors: the same arithmetic over the union of their
    indices, an index a vector lacks counting as 0."""
    indices = np.unique(np.concatenate([found for found, _ in [*positive, *negative]]))

    def mean(vectors: list[SparseVector]) -> npt.NDArray[np.float64]:
        total = np.zeros(len(indices), np.float64)
        for found, values in vectors:
            total[np.searchsorted(indices, found)] += values
        return total / len(vectors)

    average = mean(positive)
    if negative:
        average = average + average - mean(negative)
    return indices.astype(np.uint32), average.astype(np.float32)


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
