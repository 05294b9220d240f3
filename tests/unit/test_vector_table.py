"""The in-memory vector table: rows reused, growth, and scores equal to scoring each stored
vector on its own."""

from __future__ import annotations

import numpy as np
import pytest

from projections.collections import VectorSpec
from projections.scorers import Nearest
from projections.vector_table import INITIAL_ROWS, VectorTable, max_sim, pairwise

DISTANCES = ("Cosine", "Dot", "Euclid", "Manhattan")


def stored(vector: list[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def scores_by_key(table: VectorTable, query: np.ndarray) -> dict[str, float]:
    scores, keys = table.scores(Nearest(query))
    return {
        key: float(score) for key, score in zip(keys[: len(scores)], scores, strict=True) if key
    }


def test_a_removed_points_row_is_reused_and_never_scored() -> None:
    table = VectorTable(VectorSpec("", "Dot", 2))
    table.put_many(["a", "b", "c"], [stored([1, 0]), stored([0, 1]), stored([1, 1])])
    table.remove("b")
    assert scores_by_key(table, np.array([1, 1], np.float32)) == {"a": 1.0, "c": 2.0}
    table.put("d", stored([2, 2]))
    assert table.high == 3  # b's row, not a new one
    assert scores_by_key(table, np.array([1, 0], np.float32)) == {"a": 1.0, "c": 1.0, "d": 2.0}
    assert len(table) == 3


def test_it_grows_and_keeps_every_vector() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3 * INITIAL_ROWS, 4)).astype(np.float32)
    table = VectorTable(VectorSpec("", "Euclid", 4))
    for i, vector in enumerate(vectors):
        table.put(str(i), vector.tobytes())
    query = rng.normal(size=4).astype(np.float32)
    found = scores_by_key(table, query)
    expected = np.sqrt(((vectors - query) ** 2).sum(axis=1))
    assert np.allclose([found[str(i)] for i in range(len(vectors))], expected, rtol=1e-5)


@pytest.mark.parametrize("distance", DISTANCES)
def test_scores_match_scoring_each_vector_alone(distance: str) -> None:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    table = VectorTable(VectorSpec("", distance, 8))
    table.put_many([str(i) for i in range(50)], [v.tobytes() for v in vectors])
    query = rng.normal(size=8).astype(np.float32)
    found = scores_by_key(table, query)
    for i, vector in enumerate(vectors):
        alone = pairwise(distance, vector[None, :], query)[0]
        assert found[str(i)] == pytest.approx(float(alone), rel=1e-5)


def test_multivectors_score_max_sim_and_track_their_memory() -> None:
    table = VectorTable(VectorSpec("", "Dot", 2, multi=True))
    table.put("a", stored([1, 0, 0, 1]))  # two rows
    table.put("b", stored([2, 2]))
    query = np.array([[1, 0], [0, 1]], np.float32)
    assert scores_by_key(table, query) == {"a": 2.0, "b": 4.0}
    assert table.nbytes == 6 * 4
    table.put("a", stored([3, 3]))
    table.remove("b")
    assert scores_by_key(table, query) == {"a": 6.0}
    assert table.nbytes == 2 * 4
    assert max_sim("Dot", np.array([[3, 3]], np.float32), query) == 6.0


def test_a_reserved_table_holds_what_it_loads_without_growth_room() -> None:
    table = VectorTable(VectorSpec("", "Dot", 4))
    table.reserve(5000)
    table.put_many([str(i) for i in range(5000)], [stored([i, 0, 0, 1]) for i in range(5000)])
    assert table.nbytes == 5000 * (4 * 4 + 1)  # the vectors and the liveness mask, no more
    assert scores_by_key(table, np.array([1, 0, 0, 0], np.float32))["4999"] == 4999.0
