"""A wait=false write is seen by the next read; bad `ordering` or `wait` values are 400."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, all_ids, dense, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_wait_false_then_an_immediate_read_sees_the_write(client: QdrantClient, name: str) -> None:
    named(client, name)
    for i in range(15):
        ack = client.upsert(name, [point(i, {"image": V1}, {"i": i})], wait=False)
        assert ack.status == models.UpdateStatus.ACKNOWLEDGED
        assert client.retrieve(name, [i])[0].payload == {"i": i}
        client.set_payload(name, {"seen": i}, [i], wait=False)
        assert client.retrieve(name, [i])[0].payload == {"i": i, "seen": i}
        client.update_vectors(
            name, [models.PointVectors(id=i, vector={"text": [0, 1]})], wait=False
        )
        assert client.retrieve(name, [i], with_vectors=["text"])[0].vector == {"text": [0.0, 1.0]}
        assert client.count(name).count == i + 1
    client.delete(
        name,
        models.Filter(must=[models.FieldCondition(key="i", range=models.Range(lt=5))]),
        wait=False,
    )
    assert client.count(name).count == 10
    results = client.batch_update_points(
        name,
        [
            models.DeleteOperation(delete=models.PointIdsList(points=[5])),
            models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[6])),
        ],
        wait=False,
    )
    assert [r.status for r in results] == [models.UpdateStatus.ACKNOWLEDGED] * 2
    assert all_ids(client, name)[:2] == [6, 7]
    assert client.retrieve(name, [6])[0].payload == {}


def test_write_parameters(client: QdrantClient, http: httpx.Client, name: str) -> None:
    """`ordering` weak/medium/strong and `timeout` are accepted; bad values are 400."""
    dense(client, name)
    for n, ordering in enumerate(models.WriteOrdering):
        result = client.upsert(name, [point(n)], ordering=ordering, timeout=5)
        assert result.status == models.UpdateStatus.COMPLETED
    assert client.count(name).count == 3
    body = {"points": [{"id": 9, "vector": V1}]}
    bad_ordering = http.put(f"/collections/{name}/points?wait=true&ordering=fast", json=body)
    assert bad_ordering.status_code == 400
    bad_wait = http.put(f"/collections/{name}/points?wait=yes", json=body)
    assert bad_wait.status_code == 400
    assert client.count(name).count == 3
