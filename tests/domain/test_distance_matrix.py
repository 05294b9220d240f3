"""The distance matrix: a random sample of the points a filter passes that have the vector, and
each sampled point's nearest others in it. Which points are drawn is random, so the checks are
on the structure and on the scores, recomputed from the vectors of the ids returned."""

from __future__ import annotations

import random

import numpy as np
import pytest
import redis

from projections import collections, events
from projections.collections import Collection
from projections.distance_matrix import Neighbours, neighbours
from projections.errors import WrongInput
from projections.reads import Reader
from tests.domain.writes import settle, write

N = 30
DIM = 4


def made(r: redis.Redis, name: str, distance: str, multi: bool = False) -> Collection:
    params: dict = {"size": DIM, "distance": distance}
    if multi:
        params["multivector_config"] = {"comparator": "max_sim"}
    config = {"vectors": {"v": params}, "sparse_vectors": {"s": {}}}
    return collections.create(r, name, collections.validate_create(config))


def vectors(multi: bool) -> dict[int, list]:
    """Every third point has no vector `v`."""
    rng = random.Random(7)
    rows = 2 if multi else 1
    drawn = {i: [[rng.gauss(0, 1) for _ in range(DIM)] for _ in range(rows)] for i in range(N)}
    return {i: rows if multi else rows[0] for i, rows in drawn.items() if i % 3}


def load(r: redis.Redis, col: Collection, multi: bool = False) -> tuple[Reader, dict[int, list]]:
    given = vectors(multi)
    points = [
        {"id": i, "vector": {"v": given[i]} if i in given else {}, "payload": {"even": i % 2 == 0}}
        for i in range(N)
    ]
    write(r, col, events.add_upsert, {"points": points})
    settle(r, col)
    return Reader(r, col, progress=None, wait_seconds=0), given


def score(distance: str, a: list, b: list) -> float:
    """Qdrant's score of `b` for the query `a`, recomputed here from the vectors as sent."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if distance == "Cosine":
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))
    if distance == "Dot":
        return float(x @ y)
    if distance == "Euclid":
        return float(np.linalg.norm(x - y))
    return float(np.abs(x - y).sum())


def max_sim(distance: str, query: list, rows: list) -> float:
    pick = max if distance in ("Cosine", "Dot") else min
    return sum(pick(score(distance, q, row) for row in rows) for q in query)


def check(
    found: Neighbours, given: dict[int, list], distance: str, sample: int, limit: int, multi: bool
) -> None:
    """The answer has the shape Qdrant's has, and each row holds the best others, best first,
    with the scores their vectors give."""
    assert len(found.ids) == min(sample, len(given))
    assert found.ids == sorted(set(found.ids)) and set(found.ids) <= set(given)
    higher = distance in ("Cosine", "Dot")
    scored = max_sim if multi else score
    per_row = min(limit, len(found.ids) - 1)
    assert found.rows == [row for row in range(len(found.ids)) for _ in range(per_row)]
    at = 0
    for row, a in enumerate(found.ids):
        cols, got = found.cols[at : at + per_row], found.scores[at : at + per_row].tolist()
        at += per_row
        assert row not in cols and len(set(cols)) == per_row
        wanted = [scored(distance, given[a], given[found.ids[col]]) for col in cols]
        assert got == pytest.approx(wanted, rel=1e-4, abs=1e-5)
        others = sorted(
            (scored(distance, given[a], given[b]) for b in found.ids if b != a), reverse=higher
        )
        assert got == pytest.approx(others[:per_row], rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("distance", ["Cosine", "Dot", "Euclid", "Manhattan"])
@pytest.mark.parametrize(("sample", "limit"), [(10, 3), (5, 10), (100, 2)])
def test_each_sampled_point_has_its_nearest_others_best_first(r, name, distance, sample, limit):
    reader, given = load(r, made(r, name, distance))
    found = neighbours([(reader, None)], "v", sample, limit, None)
    check(found, given, distance, sample, limit, multi=False)


@pytest.mark.parametrize("distance", ["Cosine", "Euclid"])
def test_multivectors_score_by_max_sim(r, name, distance):
    reader, given = load(r, made(r, name, distance, multi=True), multi=True)
    check(neighbours([(reader, None)], "v", 8, 3, None), given, distance, 8, 3, multi=True)


def test_the_sample_is_drawn_among_the_points_the_filter_passes(r, name):
    reader, given = load(r, made(r, name, "Dot"))
    even = {i: v for i, v in given.items() if i % 2 == 0}
    raw = {"must": {"key": "even", "match": {"value": True}}}
    for _ in range(5):
        found = neighbours([(reader, None)], "v", 4, 2, raw)
        assert set(found.ids) <= set(even)
        check(found, even, "Dot", 4, 2, multi=False)
    assert len(neighbours([(reader, None)], "v", 100, 2, raw).ids) == len(even)


def test_draws_differ(r, name):
    reader, _ = load(r, made(r, name, "Dot"))
    assert len({tuple(neighbours([(reader, None)], "v", 3, 1, None).ids) for _ in range(20)}) > 1


def test_fewer_than_two_points_make_an_empty_matrix(r, name):
    reader, _ = load(r, made(r, name, "Dot"))
    only = {"must": {"has_id": [1]}}
    found = neighbours([(reader, None)], "v", 10, 3, only)
    assert (found.ids, found.rows, found.cols, found.scores.tolist()) == ([], [], [], [])
    assert (
        neighbours([(reader, None)], "v", 10, 3, {"must": {"has_id": [0, 3]}}).ids == []
    )  # no vectors


def test_an_unknown_vector_is_refused(r, name):
    reader, _ = load(r, made(r, name, "Dot"))
    with pytest.raises(WrongInput, match="Not existing vector name error: w"):
        neighbours([(reader, None)], "w", 10, 3, None)


def sparse_load(r: redis.Redis, col: Collection) -> tuple[Reader, dict[int, dict[int, float]]]:
    """Sparse vectors `s` over a vocabulary of 6; every fourth point has none."""
    rng = random.Random(11)
    given = {
        i: {j: rng.uniform(0.1, 1) for j in rng.sample(range(6), rng.randint(1, 3))}
        for i in range(N)
        if i % 4
    }
    points = [
        {
            "id": i,
            "vector": {"s": {"indices": list(v), "values": list(v.values())}} if v else {},
        }
        for i in range(N)
        for v in [given.get(i, {})]
    ]
    write(r, col, events.add_upsert, {"points": points})
    settle(r, col)
    return Reader(r, col, progress=None, wait_seconds=0), given


def dot(a: dict[int, float], b: dict[int, float]) -> float | None:
    """The sparse score of `b` for `a`, None when they share no index."""
    shared = a.keys() & b.keys()
    return sum(a[j] * b[j] for j in shared) if shared else None


def test_sparse_vectors_score_by_the_dot_product_of_shared_indices(r, name):
    reader, given = sparse_load(r, made(r, name, "Dot"))
    found = neighbours([(reader, None)], "s", 12, 3, None)
    assert len(found.ids) == 12 and set(found.ids) <= set(given)
    scores = found.scores.tolist()
    for row, a in enumerate(found.ids):
        at = [k for k, of in enumerate(found.rows) if of == row]
        theirs = [dot(given[a], given[found.ids[found.cols[k]]]) for k in at]
        assert None not in theirs, "a point sharing no index with another is not its neighbour"
        assert [scores[k] for k in at] == pytest.approx(theirs, rel=1e-4)
        others = (dot(given[a], given[b]) for b in found.ids if b != a)
        best = sorted((s for s in others if s is not None), reverse=True)[:3]
        assert [scores[k] for k in at] == pytest.approx(best, rel=1e-4)
