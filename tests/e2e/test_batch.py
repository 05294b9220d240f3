"""Batch updates as in Qdrant: one result per operation, in order; the first failure stops it."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from projections import ids
from projections.shard_placement import shard_of
from tests.e2e.endpoints_support import V1, V2, all_ids, dense, fails, has, named, payloads, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_batch_update_mixed_operations(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(i, {"image": V1, "text": [1, 0]}, {"i": i}) for i in range(1, 4)])
    ops = [
        models.UpsertOperation(
            upsert=models.PointsList(points=[point(10, {"image": V2}, {"new": True})])
        ),
        models.UpsertOperation(
            upsert=models.PointsBatch(batch=models.Batch(ids=[11], vectors={"text": [[0, 2]]}))
        ),
        models.DeleteOperation(delete=models.PointIdsList(points=[1])),
        models.SetPayloadOperation(
            set_payload=models.SetPayload(payload={"s": 1}, points=[2, 10], key="x")
        ),
        models.OverwritePayloadOperation(
            overwrite_payload=models.SetPayload(payload={"o": 1}, points=[3])
        ),
        models.DeletePayloadOperation(
            delete_payload=models.DeletePayload(
                keys=["i"], filter=models.Filter(must=[has("i", 2)])
            )
        ),
        models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[11])),
        models.UpdateVectorsOperation(
            update_vectors=models.UpdateVectors(
                points=[models.PointVectors(id=10, vector={"text": [5, 0]})]
            )
        ),
        models.DeleteVectorsOperation(
            delete_vectors=models.DeleteVectors(points=[2], vector=["image"])
        ),
    ]
    results = client.batch_update_points(name, ops)
    assert len(results) == len(ops)
    assert all(r.status == models.UpdateStatus.COMPLETED for r in results)
    op_ids = [r.operation_id for r in results]
    assert op_ids == list(range(op_ids[0], op_ids[0] + len(ops)))
    got = {
        r.id: (r.payload, r.vector) for r in client.scroll(name, limit=100, with_vectors=True)[0]
    }
    assert got == {
        2: ({"x": {"s": 1}}, {"text": [1.0, 0.0]}),
        3: ({"o": 1}, {"image": V1, "text": [1.0, 0.0]}),
        10: ({"new": True, "x": {"s": 1}}, {"image": V2, "text": [1.0, 0.0]}),
        11: ({}, {"text": [0.0, 1.0]}),
    }


def test_batch_stops_at_the_first_failure_earlier_ops_stay(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1)])
    ops = [
        models.UpsertOperation(upsert=models.PointsList(points=[point(10, V1, {"a": 1})])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"b": 1}, points=[1])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"c": 1}, points=[99])),
        models.UpsertOperation(upsert=models.PointsList(points=[point(11)])),
        models.DeleteOperation(delete=models.PointIdsList(points=[1])),
    ]
    with fails(404, "Not found: No point with id 99 found"):
        client.batch_update_points(name, ops)
    assert all_ids(client, name) == [1, 10]
    assert payloads(client, name, [1, 10]) == {1: {"b": 1}, 10: {"a": 1}}


def test_empty_batch_answers_an_empty_list(http: httpx.Client, name: str) -> None:
    """`{"operations": []}` is `200 []`, without even looking up the collection."""
    got = http.post(f"/collections/{name}/points/batch?wait=true", json={"operations": []})
    assert got.status_code == 200
    assert got.json()["result"] == []


def test_on_shards_the_error_answered_is_the_first_operations(
    client: QdrantClient, name: str
) -> None:
    """Two failing operations whose points live on different shards: the answer names the
    request's first failure, whichever shard comes first."""
    keys = {i: shard_of(ids.to_key(i), 3) for i in range(100, 130)}
    late = min(i for i in keys if keys[i] == 0)  # on the first shard
    early = min(i for i in keys if keys[i] == 2)  # on the last, failing first in the request
    client.create_collection(
        name, models.VectorParams(size=4, distance=models.Distance.DOT), shard_number=3
    )
    ops = [
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"c": 1}, points=[p]))
        for p in (early, late)
    ]
    with fails(404, f"Not found: No point with id {early} found"):
        client.batch_update_points(name, ops)
