"""Cluster information as qdrant-client reads it from a single-node Qdrant: distributed mode
off, and each collection one local shard holding every point."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient

from tests.e2e.endpoints_support import V1, dense, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_a_collection_is_one_local_shard_with_every_point(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    dense(client, name)
    client.upsert(name, [point(i, V1) for i in range(5)])
    info = client.collection_cluster_info(name)
    assert (info.shard_count, info.remote_shards, info.shard_transfers) == (1, [], [])
    [shard] = info.local_shards
    assert (shard.shard_id, shard.points_count, shard.state.value) == (0, 5, "Active")
    assert client.cluster_status().status == "disabled"
    assert http.get("/cluster").json()["result"] == {"status": "disabled"}
