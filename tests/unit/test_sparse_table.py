"""The sparse read model: after any mix of writes, removals and commits (the delta, rebuilt
postings, and dense columns for common dimensions), a query scores what a dot product over
the current vectors gives, points sharing no index are not results (but compare as 0 with an
example), and the `idf` counts the current vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from projections import sparse_table
from projections.collections import VectorSpec
from projections.sparse_table import SparseTable

DIMS = 12
VECTOR = st.dictionaries(
    st.integers(0, DIMS - 1), st.floats(-4, 4, allow_nan=False, width=32), min_size=1, max_size=5
)
STEP = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 15), VECTOR),
    st.tuples(st.just("remove"), st.integers(0, 15), st.just({})),
    st.tuples(st.just("commit"), st.just(0), st.just({})),
)


def stored(vector: dict[int, float]) -> bytes:
    indices = sorted(vector)
    values = np.array([vector[i] for i in indices], np.float32)
    return np.array(indices, np.uint32).tobytes() + values.tobytes()


REWRITTEN_AFTER_A_REBUILD = [
    *[("put", point, {0: 1.0, 1: 2.0}) for point in range(4)],
    ("commit", 0, {}),
    ("put", 1, {1: 3.0}),
    ("remove", 2, {}),
    ("commit", 0, {}),
]


@pytest.mark.parametrize(
    ("rebuild_min", "hot_min"),
    [(1024, 4096), (2, 4096), (2, 2)],
    ids=["delta", "rebuilt", "dense-columns"],
)
@given(steps=st.lists(STEP, max_size=40), query=VECTOR)
@example(steps=REWRITTEN_AFTER_A_REBUILD, query={0: 1.0, 1: 1.0})
@example(steps=REWRITTEN_AFTER_A_REBUILD[:5], query={0: 1.0})  # dense columns alone
def test_scores_and_idf_follow_the_current_vectors(rebuild_min, hot_min, steps, query) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sparse_table, "REBUILD_MIN", rebuild_min)
        patch.setattr(sparse_table, "HOT_MIN", hot_min)
        check(steps, query)


def check(steps: list, query: dict[int, float]) -> None:
    table = SparseTable(VectorSpec("s", sparse=True, idf=True))
    held: dict[str, dict[int, float]] = {}
    for kind, point, vector in steps:
        key = f"p{point}"
        if kind == "put":
            table.put(key, stored(vector))
            held[key] = vector
        elif kind == "remove":
            table.remove(key)
            held.pop(key, None)
        else:
            table.commit()
    table.commit()

    indices = np.array(sorted(query), np.uint32)
    weights = np.array([query[i] for i in sorted(query)], np.float32)
    scores = table.dot(indices, weights)
    found = {table.keys[row]: float(s) for row, s in enumerate(scores) if s > -np.inf}
    expected = {
        key: sum(float(np.float32(v[i])) * float(np.float32(query[i])) for i in v if i in query)
        for key, v in held.items()
        if set(v) & set(query)
    }
    assert found.keys() == expected.keys()
    for key, score in expected.items():
        assert math.isclose(found[key], score, rel_tol=1e-5, abs_tol=1e-5)

    # as an example compares: every point holding a vector, 0 when it shares no index
    similarity, holding = table.similarity(indices, weights), table.held()
    compared = {table.keys[row]: float(s) for row, s in enumerate(similarity) if holding[row]}
    assert compared.keys() == held.keys()
    for key, score in compared.items():
        assert math.isclose(score, expected.get(key, 0.0), rel_tol=1e-5, abs_tol=1e-5)

    frequency = [sum(1 for v in held.values() if i in v) for i in indices.tolist()]
    idf = [math.log(1 + (len(held) - n + 0.5) / (n + 0.5)) for n in frequency]
    assert np.allclose(table.idf(indices), idf, rtol=1e-5)
