"""Changing a live collection through qdrant-client: PATCH /collections/{c} and vector names
added and removed, against the running processes and, where it keeps the same, local mode."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, V2, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture

QUERY = models.SparseVector(indices=[0, 1], values=[1.0, 1.0])


def sparse_scores(client: QdrantClient, name: str) -> dict:
    """Sparse scores before and after the vector's modifier is changed to IDF."""
    client.create_collection(
        name, vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()}
    )
    vectors = [models.SparseVector(indices=[0, i], values=[1.0, 2.0]) for i in range(1, 4)]
    client.upsert(
        name, [models.PointStruct(id=i, vector={"s": v}) for i, v in enumerate(vectors, 1)]
    )

    def scores() -> list:
        found = client.query_points(name, query=QUERY, using="s").points
        return sorted((p.id, round(p.score, 4)) for p in found)  # ties come in either order

    before = scores()
    client.update_collection(
        name, sparse_vectors_config={"s": models.SparseVectorParams(modifier=models.Modifier.IDF)}
    )
    return {"before": before, "after": scores()}


def test_a_new_sparse_modifier_changes_scoring_as_in_local_mode(
    client: QdrantClient, name: str
) -> None:
    seen = sparse_scores(client, name)
    assert seen == sparse_scores(QdrantClient(":memory:"), name)
    assert seen["before"] != seen["after"]


def vector_names(client: QdrantClient, name: str, shards: int = 1) -> dict:
    """A vector name added to a live collection, written and queried; another removed."""
    named(client, name, shards)
    client.upsert(name, [point(1, {"image": V1, "text": [1, 0]}), point(2, {"image": V2})])
    dense = models.DenseVectorConfig(size=3, distance=models.Distance.EUCLID)
    client.create_vector_name(name, "extra", models.DenseVectorNameConfig(dense=dense))
    client.upsert(name, [point(3, {"image": V1, "extra": [1, 2, 3]})])
    nearest = client.query_points(name, query=[1, 2, 2], using="extra", with_vectors=["extra"])
    client.delete_vector_name(name, "text")
    config = client.get_collection(name).config.params.vectors
    kept = client.retrieve(name, [1, 2, 3], with_vectors=True)
    return {
        "nearest": [(p.id, p.vector) for p in nearest.points],
        "names": sorted(config),
        "extra size": config["extra"].size,
        "vectors": {p.id: sorted(p.vector) for p in kept},
    }


@pytest.mark.parametrize("shards", [1, 3])
def test_vector_names_added_and_removed_as_in_local_mode(
    client: QdrantClient, name: str, shards: int
) -> None:
    """On 3 shards too: the change is an event in every shard's log."""
    seen = vector_names(client, name, shards)
    assert seen == vector_names(QdrantClient(":memory:"), name)
    assert seen["names"] == ["extra", "image"] and seen["vectors"][1] == ["image"]


def test_a_vector_name_change_answers_an_operation_id(
    http: httpx.Client, client: QdrantClient, name: str
) -> None:
    named(client, name)
    body = {"sparse": {"modifier": "idf"}}
    added = http.put(f"/collections/{name}/vectors/words?wait=true", json=body).json()["result"]
    assert added["status"] == "completed" and added["operation_id"] >= 0
    clash = http.put(
        f"/collections/{name}/vectors/image", json={"dense": {"size": 9, "distance": "Dot"}}
    )
    assert clash.status_code == 400
    assert clash.json()["status"]["error"] == (
        "Wrong input: Vector `image` already exists with a different configuration"
    )
    gone = http.delete(f"/collections/{name}/vectors/words?wait=true").json()["result"]
    assert gone["operation_id"] == added["operation_id"] + 1


def test_a_patch_is_kept_echoed_and_bad_ones_change_nothing(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    named(client, name)
    assert client.update_collection(
        name,
        hnsw_config=models.HnswConfigDiff(m=32),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=5000),
        collection_params=models.CollectionParamsDiff(replication_factor=2),
        vectors_config={"text": models.VectorParamsDiff(hnsw_config=models.HnswConfigDiff(m=8))},
        strict_mode_config=models.StrictModeConfig(enabled=True, max_query_limit=100),
        metadata={"owner": "search"},
    )
    config = client.get_collection(name).config
    assert config.hnsw_config.m == 32 and config.optimizer_config.indexing_threshold == 5000
    assert config.params.replication_factor == 2
    assert config.params.vectors["text"].hnsw_config == models.HnswConfigDiff(m=8)
    assert config.strict_mode_config.max_query_limit == 100
    assert config.metadata == {"owner": "search"}
    bad = http.patch(f"/collections/{name}", json={"vectors": {"nope": {"on_disk": True}}})
    assert bad.status_code == 400
    assert bad.json()["status"]["error"] == "Wrong input: Not existing vector name error: nope"
    assert client.get_collection(name).config == config
    missing = http.patch(f"/collections/{name}-n", json={"metadata": {}})
    assert missing.status_code == 404


@pytest.mark.parametrize("body", [{"metadata": {"a": 1}}, {}])
def test_a_patch_through_an_alias_changes_the_collection(
    client: QdrantClient, name: str, body: dict
) -> None:
    named(client, name)
    alias = models.CreateAlias(collection_name=name, alias_name=f"{name}-s")
    client.update_collection_aliases([models.CreateAliasOperation(create_alias=alias)])
    assert client.update_collection(f"{name}-s", metadata=body.get("metadata"))
    assert client.get_collection(name).config.metadata == body.get("metadata")
