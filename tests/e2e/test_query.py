"""Nearest-point queries through qdrant-client over REST, checked against qdrant-client's local
mode on the same data: same points, same order, same scores."""

from __future__ import annotations

import random

import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse


@pytest.fixture(scope="module")
def remote(base_url: str) -> QdrantClient:
    return QdrantClient(url=base_url)


def load(clients: list[QdrantClient], name: str, config, points: list[models.PointStruct]) -> None:
    for client in clients:
        client.create_collection(name, vectors_config=config)
        client.upsert(name, points, wait=True)


def summary(points) -> list[tuple]:
    return [(p.id, round(p.score, 4), p.payload) for p in points]


@pytest.mark.parametrize("distance", list(models.Distance))
def test_nearest_points_agree_with_local_mode(remote, name, distance):
    rng = random.Random(7)
    local = QdrantClient(":memory:")
    points = [
        models.PointStruct(
            id=i, vector=[rng.uniform(-1, 1) for _ in range(8)], payload={"g": i % 4}
        )
        for i in range(60)
    ]
    load([remote, local], name, models.VectorParams(size=8, distance=distance), points)
    query = [rng.uniform(-1, 1) for _ in range(8)]
    only_g1 = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=1))])
    for kwargs in (
        {"query": query, "limit": 7},
        {"query": query, "limit": 3, "offset": 4, "query_filter": only_g1, "with_payload": True},
        {"query": 11, "limit": 5},  # by point id: that point is left out
        {"query": models.NearestQuery(nearest=query), "limit": 60},
    ):
        got = remote.query_points(name, **kwargs).points
        assert summary(got) == summary(local.query_points(name, **kwargs).points), kwargs


def test_score_threshold_vectors_and_payload(remote, name):
    remote.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    remote.upsert(
        name,
        [
            models.PointStruct(id=1, vector=[1, 0], payload={"a": 1}),
            models.PointStruct(id=2, vector=[1, 1]),
            models.PointStruct(id=3, vector=[0, 1]),
        ],
    )
    hits = remote.query_points(
        name, query=[1, 0], score_threshold=0.5, with_vectors=True, with_payload=False
    ).points
    assert [(h.id, round(h.score, 4), h.vector) for h in hits] == [
        (1, 1.0, [1.0, 0.0]),
        (2, 0.7071, [0.70710677, 0.70710677]),
    ]
    assert hits[0].payload is None


def test_multivector_max_sim(remote, name):
    local = QdrantClient(":memory:")
    config = models.VectorParams(
        size=2,
        distance=models.Distance.DOT,
        multivector_config=models.MultiVectorConfig(
            comparator=models.MultiVectorComparator.MAX_SIM
        ),
    )
    points = [
        models.PointStruct(id=1, vector=[[1, 0], [0, 2]]),
        models.PointStruct(id=2, vector=[[3, 3]]),
        models.PointStruct(id=3, vector=[[-1, 0], [0, -1], [1, 1]]),
    ]
    load([remote, local], name, config, points)
    query = [[1, 1], [0.5, -2]]
    assert summary(remote.query_points(name, query=query).points) == summary(
        local.query_points(name, query=query).points
    )


def test_query_batch_answers_each_query_in_order(remote, name):
    remote.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Euclid"))
    remote.upsert(name, [models.PointStruct(id=i, vector=[i, 0]) for i in range(5)])
    requests = [
        models.QueryRequest(query=[0, 0], limit=2),
        models.QueryRequest(query=[4, 0], limit=1, with_payload=False),
    ]
    answers = remote.query_batch_points(name, requests)
    assert [[(p.id, p.score) for p in a.points] for a in answers] == [
        [(0, 0.0), (1, 1.0)],
        [(4, 0.0)],
    ]


def test_query_errors(remote, name):
    remote.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
    remote.upsert(name, [models.PointStruct(id=1, vector=[1, 0])])
    with pytest.raises(UnexpectedResponse, match="expected dim: 2, got 3"):
        remote.query_points(name, query=[1, 2, 3])
    with pytest.raises(UnexpectedResponse, match="No point with id 9 found"):
        remote.query_points(name, query=9)
    with pytest.raises(UnexpectedResponse, match="Not existing vector name error: x"):
        remote.query_points(name, query=[1, 2], using="x")
    scroll_like = remote.query_points(name).points
    assert [(p.id, p.score) for p in scroll_like] == [(1, 1.0)]
