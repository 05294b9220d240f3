"""MMR's picking: without diversity it keeps the nearest order; with it, a near-duplicate of a
pick waits behind a less relevant but different point; sparse candidates compare over the
indices they share."""

from __future__ import annotations

import numpy as np

from projections.collections import VectorSpec
from projections.mmr import pick, similarities
from projections.scorers import Nearest, SparseNearest


def dense(*rows: list[float]) -> list[bytes]:
    return [np.array(row, np.float32).tobytes() for row in rows]


def test_no_diversity_keeps_the_nearest_order() -> None:
    relevance = np.array([0.2, 0.9, 0.5, 0.7], np.float32)
    similarity = np.ones((4, 4), np.float32)
    assert pick(relevance, similarity, 0.0, 4) == [1, 3, 2, 0]


def test_a_near_duplicate_waits_behind_a_different_point() -> None:
    spec = VectorSpec("", "Dot", 2)
    query = Nearest(np.array([1.0, 0.0], np.float32))
    # the best, its near-duplicate, and a less relevant point pointing elsewhere
    stored = dense([1.0, 0.0], [0.99, 0.01], [0.6, 0.8])
    relevance, similarity = similarities(spec, query, stored)
    assert pick(relevance, similarity, 0.0, 3) == [0, 1, 2]
    assert pick(relevance, similarity, 0.7, 3) == [0, 2, 1]
    assert pick(relevance, similarity, 0.7, 2) == [0, 2]


def test_sparse_candidates_compare_over_shared_indices() -> None:
    spec = VectorSpec("s", sparse=True)
    query = SparseNearest(
        np.array([3, 1000000], np.uint32), np.array([1.0, 2.0], np.float32), False
    )

    def sparse(indices: list[int], values: list[float]) -> bytes:
        return np.array(indices, np.uint32).tobytes() + np.array(values, np.float32).tobytes()

    stored = [sparse([3, 7], [1.0, 1.0]), sparse([1000000], [0.5]), sparse([7], [2.0])]
    relevance, similarity = similarities(spec, query, stored)
    assert relevance.tolist() == [1.0, 1.0, 0.0]
    assert similarity.tolist() == [[2.0, 0.0, 2.0], [0.0, 0.25, 0.0], [2.0, 0.0, 4.0]]
