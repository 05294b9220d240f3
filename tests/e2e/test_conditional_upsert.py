"""Upserts with `update_mode` (insert_only, update_only) and `update_filter`, as in Qdrant."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, V2, V3, dense, payloads, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_upsert_insert_only(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "old"})])
    result = client.upsert(
        name,
        [point(1, V2, {"v": "new"}), point(2, V2, {"v": "new"})],
        update_mode=models.UpdateMode.INSERT_ONLY,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: ({"v": "old"}, V1), 2: ({"v": "new"}, V2)}


def test_upsert_update_only(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "old"})])
    client.upsert(
        name,
        [point(1, V2, {"v": "new"}), point(2, V2, {"v": "new"})],
        update_mode=models.UpdateMode.UPDATE_ONLY,
    )
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: ({"v": "new"}, V2)}


def test_upsert_with_update_filter(client: QdrantClient, http: httpx.Client, name: str) -> None:
    """Existing points are only overwritten when they match; new points are always inserted."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"version": 1}), point(2, V1, {"version": 5})])
    only_old = models.Filter(must=[models.FieldCondition(key="version", range=models.Range(lt=3))])
    client.upsert(
        name,
        [point(i, V2, {"version": 3}) for i in (1, 2, 3)],
        update_filter=only_old,
    )
    assert payloads(client, name, [1, 2, 3]) == {
        1: {"version": 3},
        2: {"version": 5},
        3: {"version": 3},
    }
    raw = http.put(
        f"/collections/{name}/points?wait=true",
        json={
            "points": [{"id": 2, "vector": V3, "payload": {"version": 6}}],
            "update_filter": {"must": [{"key": "version", "match": {"value": 5}}]},
            "update_mode": "update_only",
        },
    )
    assert raw.json()["result"]["status"] == "completed"
    assert payloads(client, name, [2]) == {2: {"version": 6}}
