"""`lowest`: the positions of the k lowest values (and of every value tied with the last),
checked against a partition of the whole array, on arrays large enough for the sampled guess
and on arrays built to defeat it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.lowest import SAMPLED_FROM, lowest


def reference(ranked: np.ndarray, want: int) -> list[int]:
    if len(ranked) <= want:
        return list(range(len(ranked)))
    return np.flatnonzero(ranked <= np.sort(ranked)[want - 1]).tolist()


@settings(max_examples=60, deadline=None)
@given(
    n=st.sampled_from([5, 100, SAMPLED_FROM - 1, SAMPLED_FROM, 100_000]),
    want=st.sampled_from([1, 10, 20, 100, 1000]),
    distinct=st.sampled_from([3, 50, 10**6]),
    infinite=st.floats(0, 0.9),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_lowest_and_their_ties(n, want, distinct, infinite, seed):
    """Few distinct values make wide ties at the cut; +inf marks non-results, as a sparse
    query's rows that share no index with it."""
    rng = np.random.default_rng(seed)
    ranked = rng.integers(0, distinct, n).astype(np.float32)
    ranked[rng.random(n) < infinite] = np.inf
    assert lowest(ranked, want).tolist() == reference(ranked, want)


@pytest.mark.parametrize("layout", ["ascending", "descending", "lowest at the sampled spots"])
def test_a_sample_that_misleads_still_gives_the_exact_answer(layout):
    n, want = 100_000, 20
    ranked = np.arange(n, dtype=np.float32)
    if layout == "descending":
        ranked = ranked[::-1].copy()
    elif layout == "lowest at the sampled spots":  # every sampled value is among the lowest
        ranked += n
        ranked[:: n // 2048] = np.arange(len(ranked[:: n // 2048]))
    assert lowest(ranked, want).tolist() == reference(ranked, want)
