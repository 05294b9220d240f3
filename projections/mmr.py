"""Maximal marginal relevance (`{"nearest": ..., "mmr": {...}}`): the nearest candidates,
picked again one at a time for relevance to the query and difference from those picked.

As Qdrant picks them: the first is the most relevant; each next one the best by
`(1 - diversity) * relevance - diversity * (its highest similarity to a point picked)`.
Relevance and similarity are the vector's core similarity (higher is closer: the squared
distance negated for Euclid, the distance negated for Manhattan, max_sim for multivectors, a
plain dot product for sparse vectors). Ties go as Qdrant's do: the candidates still to pick
are kept in order with a swap-remove, and the last of equal best is taken. The points keep
the score of their nearest search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from projections.collections import VectorSpec
from projections.scorers import Scorer, SparseNearest, core, core_multi
from projections.sparse_table import decoded
from projections.vectors import Floats

CANDIDATES_MAX = 16384  # Qdrant's bound on `candidates_limit`


@dataclass(frozen=True)
class Mmr:
    diversity: float = 0.5
    candidates_limit: int | None = None  # None: the query's limit


def pick(relevance: Floats, similarity: Floats, diversity: float, limit: int) -> list[int]:
    """The positions of up to `limit` candidates, in the order MMR picks them.
    `relevance[i]`: candidate i's similarity to the query; `similarity[i, j]`: i's to j."""
    if not len(relevance) or limit <= 0:
        return []
    keep = np.float32(1.0 - diversity)
    pending = list(range(len(relevance)))
    chosen = [_take(pending, _last_best(relevance[pending]))]
    closest = similarity[:, chosen[0]].copy()  # each candidate's highest similarity to a pick
    while len(chosen) < limit and pending:
        at = np.asarray(pending)
        scores = keep * relevance[at] - (np.float32(1.0) - keep) * closest[at]
        picked = _take(pending, _last_best(scores))
        chosen.append(picked)
        np.maximum(closest, similarity[:, picked], out=closest)
    return chosen


def _last_best(scores: Floats) -> int:
    """The position of the last of the highest scores (Rust's `max_by_key`)."""
    return len(scores) - 1 - int(np.argmax(scores[::-1]))


def _take(pending: list[int], at: int) -> int:
    """Remove `pending[at]` as a swap-remove does (the last moves into its place)."""
    taken = pending[at]
    pending[at] = pending[-1]
    pending.pop()
    return taken


def similarities(spec: VectorSpec, scorer: Scorer, stored: list[bytes]) -> tuple[Floats, Floats]:
    """The candidates' relevance to the query and their similarity to one another, from
    their stored vectors."""
    if spec.sparse:
        return _sparse(scorer, stored)
    vectors = [np.frombuffer(data, np.float32) for data in stored]
    query = scorer.vector
    assert query is not None  # a dense nearest query's scorer holds its vector
    if spec.multi:
        rows = [vector.reshape(-1, spec.size) for vector in vectors]
        relevance = np.array([core_multi(spec.distance, one, query) for one in rows], np.float32)
        pairs = [[core_multi(spec.distance, a, b) for b in rows] for a in rows]
        return relevance, np.array(pairs, np.float32)
    matrix = np.stack(vectors)
    between = np.stack([core(spec.distance, matrix, row) for row in matrix])
    return core(spec.distance, matrix, query), between.astype(np.float32)


def _sparse(scorer: Scorer, stored: list[bytes]) -> tuple[Floats, Floats]:
    """Sparse candidates: dot products over shared indices (none shared: 0), as dense rows
    over just the indices the candidates use."""
    assert isinstance(scorer, SparseNearest)
    vectors = [decoded(data) for data in stored]
    used = np.unique(np.concatenate([indices for indices, _ in vectors]))
    dense = np.zeros((len(vectors), len(used)), np.float32)
    for row, (indices, values) in enumerate(vectors):
        dense[row, np.searchsorted(used, indices)] = values
    at = np.searchsorted(used, scorer.indices)
    shared = at < len(used)
    shared[shared] = used[at[shared]] == scorer.indices[shared]
    query = np.zeros(len(used), np.float32)
    query[at[shared]] = scorer.values[shared]
    return dense @ query, dense @ dense.T
