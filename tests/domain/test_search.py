"""Nearest points from a web process's vector read model: a filter served by a payload index
scores only the points it matches (exactly when they are few, in the graph when they are
many), never returns a point the filter rejects, and follows payload changes at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import redis

from projections import collections, events, vector_model
from projections.apply import apply_batch
from projections.collections import Collection
from projections.filters import compile_filter
from projections.ids import to_key
from projections.progress import Progress
from projections.query_plan import (
    Answering,
    FusionQuery,
    NearestQuery,
    RecommendQuery,
    Stage,
    answer,
)
from projections.reads import Projection, Reader
from projections.scorers import Nearest
from projections.search import Query, SearchParams, nearest
from projections.vector_model import CollectionVectors
from tests.domain.writes import write

WAIT = 30.0
N, DIM = 1200, 8
IDS = Projection(payload=None, vectors=())


def applied(r: redis.Redis, col: Collection) -> int:
    checkpoint = None
    while checkpoint is None or checkpoint < int(r.get(col.keys.seq)):
        checkpoint = apply_batch(r, col, max_events=64)
        assert checkpoint is not None
    return checkpoint


@pytest.fixture
def vectors() -> np.ndarray:
    found = np.random.default_rng(5).normal(size=(N, DIM)).astype(np.float32)
    return found / np.linalg.norm(found, axis=1, keepdims=True)


@pytest.fixture
def grouped(r: redis.Redis, name: str, vectors: np.ndarray) -> Iterator[CollectionVectors]:
    """Points in four groups `g` (a keyword index on it), a graph past 1 KB of vectors; the
    collection's read model, loaded and indexed."""
    config = collections.validate_create(
        {"vectors": {"size": DIM, "distance": "Cosine"}, "hnsw_config": {"full_scan_threshold": 1}}
    )
    col = collections.create(r, name, config)
    write(r, col, events.add_create_index, {"field_name": "g", "field_schema": "keyword"})
    points = [
        {"id": i, "vector": v.tolist(), "payload": {"g": "abcd"[i % 4]}}
        for i, v in enumerate(vectors)
    ]
    write(r, col, events.add_upsert, {"points": points})
    model = CollectionVectors(r, col)
    model.start()
    assert model.wait_for(applied(r, col), WAIT) and model.wait_indexed(60)
    assert model.using_graph("") is True
    yield model
    model.stop()


def ask(r, model, query: np.ndarray, flt: dict | None, limit: int = 10, exact: bool = False):
    reader = Reader(r, model.collection, None, WAIT)
    compiled = None if flt is None else compile_filter(flt)
    found = nearest(
        reader,
        Query("", Nearest(query), limit, params=SearchParams(exact=exact)),
        compiled,
        IDS,
        model,
    )
    return [p["id"] for p in found]


def exact_ids(vectors: np.ndarray, query: np.ndarray, allowed: list[int], k: int = 10) -> list[int]:
    scores = vectors[allowed] @ query
    order = sorted(range(len(allowed)), key=lambda i: (-scores[i], allowed[i]))
    return [allowed[i] for i in order[:k]]


def in_group(group: str) -> dict:
    return {"must": [{"key": "g", "match": {"value": group}}]}


def test_a_filtered_query_finds_only_matching_points_in_the_graph_and_exactly(
    r, grouped, vectors
) -> None:
    queries = np.random.default_rng(6).normal(size=(20, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    group_b = [i for i in range(N) if i % 4 == 1]
    group_ab = [i for i in range(N) if i % 4 < 2]
    either = {"should": [{"key": "g", "match": {"any": ["a", "b"]}}]}
    hits = 0
    for query in queries:
        for flt, allowed in ((in_group("b"), group_b), (either, group_ab)):
            truth = exact_ids(vectors, query, allowed)
            assert ask(r, grouped, query, flt, exact=True) == truth
            found = ask(r, grouped, query, flt)
            assert set(found) <= set(allowed) and len(found) == 10
            hits += len(set(found) & set(truth))
    assert hits / (10 * 2 * len(queries)) >= 0.9


def test_a_filtered_query_follows_payload_changes(r, grouped, vectors) -> None:
    query = vectors[7]  # point 7 is in group d
    before = ask(r, grouped, query, in_group("b"), limit=3)
    assert 7 not in before
    col = grouped.collection
    write(r, col, events.add_set_payload, {"payload": {"g": "b"}, "points": [7]})
    write(r, col, events.add_delete, {"points": [before[0]]})
    assert grouped.wait_for(applied(r, col), WAIT)
    after = ask(r, grouped, query, in_group("b"), limit=3)
    assert after[0] == 7 and before[0] not in after
    assert after[1:] == before[1:]


@contextmanager
def sparse_graph(
    r: redis.Redis, name: str, m: int, ef_construct: int
) -> Iterator[tuple[CollectionVectors, np.ndarray]]:
    """i.i.d. Dot vectors under a thin graph (`m`, `ef_construct`): the model, indexed, and
    the vectors by id."""
    hnsw = {"full_scan_threshold": 1, "m": m, "ef_construct": ef_construct}
    config = collections.validate_create(
        {"vectors": {"size": DIM, "distance": "Dot"}, "hnsw_config": hnsw}
    )
    col = collections.create(r, name, config)
    vectors = np.random.default_rng(8).normal(size=(N, DIM)).astype(np.float32)
    points = [{"id": i, "vector": v.tolist()} for i, v in enumerate(vectors)]
    write(r, col, events.add_upsert, {"points": points})
    model = CollectionVectors(r, col)
    model.start()
    try:
        assert model.wait_for(applied(r, col), WAIT) and model.wait_indexed(60)
        yield model, vectors
    finally:
        model.stop()


def test_when_the_graph_finds_too_few_the_exact_answer_comes_in_order(r, name) -> None:
    """A point the graph returns is gone from the projection (a delete the model has not
    followed yet): the query falls back to exact scoring, and the answer is the best existing
    points, best first, whatever the graph had found on the way."""
    with sparse_graph(r, name, m=4, ef_construct=8) as (model, vectors):
        assert model.using_graph("") is True
        query = np.random.default_rng(9).normal(size=DIM).astype(np.float32)
        best = exact_ids(vectors, query, list(range(N)), k=30)
        gone = [to_key(i) for i in best[:5]]
        r.hdel(model.collection.keys.payload, *gone)  # behind the model's back
        reader = Reader(r, model.collection, None, WAIT)
        search = Query("", Nearest(query), 10, params=SearchParams(hnsw_ef=10))
        found = nearest(reader, search, None, IDS, model)
        assert [p["id"] for p in found] == best[5:15]
        scores = [p["score"] for p in found]
        assert scores == sorted(scores, reverse=True)


def test_a_graph_too_sparse_to_answer_is_not_used_and_indexing_ends(r, name) -> None:
    """With m = 2 some searches find fewer than 10 points (hnswlib raises): the build still
    ends, the graph is not used, and queries are exact."""
    with sparse_graph(r, name, m=2, ef_construct=4) as (model, vectors):
        assert model.using_graph("") is None  # measured, and below the recall target
        query = np.random.default_rng(9).normal(size=DIM).astype(np.float32)
        assert ask(r, model, query, None) == exact_ids(vectors, query, list(range(N)))


def test_a_prefetched_point_gone_from_the_projection_leaves_its_place_to_the_next(
    r, grouped: CollectionVectors, vectors: np.ndarray
) -> None:
    """Prefetches take their points from the read model alone; a point deleted behind the
    model's back is dropped by the fusion above them, and the next fused point takes its
    place: the page stays full and holds only existing points."""
    rng = np.random.default_rng(11)
    queries = [rng.normal(size=DIM).astype(np.float32) for _ in range(2)]
    prefetch = tuple(Stage(NearestQuery(q.tolist()), limit=20) for q in queries)

    def fused(limit: int) -> list[int]:
        stage = Stage(FusionQuery("rrf"), prefetch=prefetch, limit=limit)
        reader = Reader(r, grouped.collection, None, WAIT)
        return [p["id"] for p in answer(Answering(reader, grouped), stage, IDS)]

    before = fused(11)
    r.hdel(grouped.collection.keys.payload, to_key(before[0]))  # behind the model's back
    assert fused(10) == before[1:]


def test_a_query_sees_the_writes_its_read_model_has_not_followed(
    r, grouped: CollectionVectors, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-your-writes through the read model's answers, checked once a request: the model
    stops short of the last writes (the projection applies them), and a fused query finds the
    new point, a recommend by a moved point uses its new vector and a query leaves out the
    deleted point: all answer as the projection holds the points, not as the model last saw
    them. (Each query defers its check first, as if the model had not been found behind.)"""
    monkeypatch.setattr(vector_model, "LAGGING_SECONDS", 0.0)
    col = grouped.collection
    grouped.stop(wait=WAIT)
    assert grouped.checkpoint == int(r.get(col.keys.applied))
    rng = np.random.default_rng(12)
    new, moved = (unit / np.linalg.norm(unit) for unit in rng.normal(size=(2, DIM)))
    write(r, col, events.add_upsert, {"points": [{"id": N, "vector": new.tolist()}]})
    write(r, col, events.add_upsert, {"points": [{"id": 0, "vector": moved.tolist()}]})
    write(r, col, events.add_delete, {"points": [1]})
    applied(r, col)
    reader = Reader(r, col, Progress(r), wait_seconds=0.2)  # reads must see every write
    ans = Answering(reader, grouped)
    near = [(new + rng.normal(scale=0.01, size=DIM)).tolist() for _ in range(2)]
    prefetch = tuple(Stage(NearestQuery(q), limit=20) for q in near)
    fused = answer(ans, Stage(FusionQuery("rrf"), prefetch=prefetch, limit=3), IDS)
    assert fused[0]["id"] == N
    nearest_first = answer(ans, Stage(NearestQuery(vectors[1].tolist()), limit=1), IDS)
    assert nearest_first[0]["id"] != 1
    held = np.vstack([moved, vectors[1:], new])  # ids 0..N, as the projection holds them
    expected = exact_ids(held, moved, list(range(2, N + 1)))[:10]
    recommend = RecommendQuery(positive=(0,), negative=(), strategy="average_vector")
    found = answer(ans, Stage(recommend, limit=10, params=SearchParams(exact=True)), IDS)
    assert [p["id"] for p in found] == expected
