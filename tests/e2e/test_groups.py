"""Grouped queries (`/points/query/groups`, the classic `/search/groups` and
`/recommend/groups`), through qdrant-client over REST and plain HTTP, checked against
qdrant-client's local mode on the same data: the same groups in the same order, the same hits
with the same scores, and the same lookups. The group key holds integers, strings, arrays of
them, values that join no group (floats, bools, null) or nothing; one is nested."""

from __future__ import annotations

import random

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

N = 120
VECTORS = {
    "a": models.VectorParams(size=8, distance=models.Distance.COSINE),
    "b": models.VectorParams(size=4, distance=models.Distance.EUCLID),
}
SPARSE = {"s": models.SparseVectorParams()}


def group_value(rng: random.Random) -> object:
    return rng.choice(
        [
            rng.randint(0, 6),
            f"k{rng.randint(0, 4)}",
            [rng.randint(0, 6), f"k{rng.randint(0, 4)}"],
            [rng.randint(0, 6), rng.randint(0, 6)],
            1.5,
            True,
            None,
            [],
        ]
    )


@pytest.fixture(scope="module")
def clients(base_url: str) -> tuple[QdrantClient, QdrantClient, str]:
    """pointlog and local mode, holding the same collection and a lookup collection whose
    point ids are some of the group ids."""
    remote, local, name = QdrantClient(url=base_url), QdrantClient(":memory:"), "grouped"
    rng = random.Random(21)
    points = []
    for i in range(N):
        payload: dict = {"n": i, "doc": {"tag": f"t{i % 5}"}}
        if rng.random() < 0.9:
            payload["g"] = group_value(rng)
        vector = {n: [rng.gauss(0, 1) for _ in range(p.size)] for n, p in VECTORS.items()}
        indices = rng.sample(range(30), 4)
        vector["s"] = models.SparseVector(indices=indices, values=[rng.random() for _ in indices])
        points.append(models.PointStruct(id=i, vector=vector, payload=payload))
    looked = [models.PointStruct(id=i, vector=[1.0, 0.0], payload={"about": i}) for i in range(4)]
    for client in (remote, local):
        for collection in (name, name + "_lookup"):
            if client.collection_exists(collection):
                client.delete_collection(collection)
        client.create_collection(name, vectors_config=VECTORS, sparse_vectors_config=SPARSE)
        client.upsert(name, points, wait=True)
        client.create_collection(
            name + "_lookup", models.VectorParams(size=2, distance=models.Distance.DOT)
        )
        client.upsert(name + "_lookup", looked, wait=True)
    return remote, local, name


def summary(result: models.GroupsResult) -> list[tuple]:
    return [
        (
            g.id,
            [(h.id, round(h.score, 4), h.payload) for h in g.hits],
            None if g.lookup is None else (g.lookup.id, g.lookup.payload),
        )
        for g in result.groups
    ]


def cases() -> dict[str, dict]:
    rng = random.Random(8)
    a = [rng.gauss(0, 1) for _ in range(8)]
    b = [rng.gauss(0, 1) for _ in range(4)]
    return {
        "nearest": {"query": a, "using": "a", "group_by": "g", "limit": 5, "group_size": 2},
        "defaults, payload": {"query": a, "using": "a", "group_by": "g", "with_payload": True},
        "nested key, filtered, euclid": {
            "query": b,
            "using": "b",
            "group_by": "doc.tag",
            "group_size": 4,
            "query_filter": models.Filter(
                must=[models.FieldCondition(key="n", range=models.Range(gte=30))]
            ),
        },
        "more groups than there are": {
            "query": a,
            "using": "a",
            "group_by": "g",
            "limit": 50,
            "group_size": 1,
        },
        # Qdrant multiplies a prefetch's limit by the number of groups and leaves points
        # without the key out of prefetches too; local mode takes every point in a prefetch:
        # limits of N and a key every point has give both the same ranks.
        "hybrid prefetch": {
            "prefetch": [
                models.Prefetch(query=a, using="a", limit=N),
                models.Prefetch(
                    query=models.SparseVector(indices=[1, 2, 3], values=[1.0, 1.0, 1.0]),
                    using="s",
                    limit=N,
                ),
            ],
            "query": models.FusionQuery(fusion=models.Fusion.RRF),
            "group_by": "doc.tag",
            "limit": 3,
            "group_size": 2,
        },
        "no query: id order": {"group_by": "g", "limit": 4, "group_size": 3},
        "with lookup": {
            "query": a,
            "using": "a",
            "group_by": "g",
            "limit": 8,
            "with_lookup": models.WithLookup(collection="grouped_lookup", with_payload=True),
        },
    }


@pytest.mark.parametrize("case", sorted(cases()))
def test_query_groups_agree_with_local_mode(clients, case):
    remote, local, name = clients
    kwargs = cases()[case]
    assert summary(remote.query_points_groups(name, **kwargs)) == summary(
        local.query_points_groups(name, **kwargs)
    )


def test_classic_search_and_recommend_groups(clients, base_url):
    _, local, name = clients
    http = httpx.Client(base_url=base_url)
    vector = [0.1 * i for i in range(8)]
    body = {"vector": {"name": "a", "vector": vector}, "group_by": "g", "group_size": 2}
    found = http.post(f"/collections/{name}/points/search/groups", json=body | {"limit": 4})
    expected = local.query_points_groups(
        name, query=vector, using="a", group_by="g", group_size=2, limit=4, with_payload=False
    )
    assert found.json()["result"] == {
        "groups": [
            {
                "id": g.id,
                "hits": [
                    {"id": h.id, "version": 0, "score": pytest.approx(h.score)} for h in g.hits
                ],
            }
            for g in expected.groups
        ]
    }
    missing = http.post(f"/collections/{name}/points/search/groups", json=body)
    assert missing.status_code == 400 and "limit" in missing.text
    reco = {"positive": [1, 2], "using": "a", "group_by": "g", "group_size": 1, "limit": 3}
    found = http.post(f"/collections/{name}/points/recommend/groups", json=reco).json()
    query = models.RecommendQuery(recommend=models.RecommendInput(positive=[1, 2]))
    expected = local.query_points_groups(
        name, query=query, using="a", group_by="g", group_size=1, limit=3
    )
    assert [(g["id"], [h["id"] for h in g["hits"]]) for g in found["result"]["groups"]] == [
        (g.id, [h.id for h in g.hits]) for g in expected.groups
    ]


def test_group_errors(clients, base_url):
    remote, _, name = clients
    http = httpx.Client(base_url=base_url)
    answer = http.post(f"/collections/{name}/points/query/groups", json={"query": [0.0] * 8})
    assert answer.status_code == 400 and "group_by" in answer.text
    answer = http.post(
        f"/collections/{name}/points/query/groups",
        json={"query": [0.0] * 8, "using": "a", "group_by": "g", "group_size": 0},
    )
    assert answer.status_code == 422 and "group_size" in answer.text
    with pytest.raises(UnexpectedResponse, match="Collection `nowhere` doesn"):
        remote.query_points_groups(
            name, query=[0.0] * 8, using="a", group_by="g", with_lookup="nowhere"
        )
