"""The Procfile's own command lines as real processes (web + 2 workers), driven by qdrant-client
over REST and by raw HTTP requests shaped like the curl examples of Qdrant's Points API
documentation."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models


def test_qdrant_client_creates_upserts_retrieves_and_deletes(base_url: str, name: str) -> None:
    client = QdrantClient(url=base_url, prefer_grpc=False, check_compatibility=True)
    client.create_collection(
        name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
    )
    assert client.collection_exists(name)
    result = client.upsert(
        name,
        points=[
            models.PointStruct(id=1, vector=[0.19, 0.81, 0.75, 0.11], payload={"city": "Berlin"}),
            models.PointStruct(
                id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
                vector=[0.36, 0.55, 0.47, 0.94],
                payload={"city": "London"},
            ),
        ],
        wait=True,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    records = client.retrieve(
        name, ids=[1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"], with_vectors=True
    )
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (1, {"city": "Berlin"}, [0.19, 0.81, 0.75, 0.11]),
        ("5c56c793-69f3-4fbf-87e6-c4bf54c28c26", {"city": "London"}, [0.36, 0.55, 0.47, 0.94]),
    ]
    info = client.get_collection(name)
    assert info.points_count == 2
    assert info.config.params.vectors == models.VectorParams(size=4, distance=models.Distance.DOT)
    client.delete(name, points_selector=models.PointIdsList(points=[1]), wait=True)
    assert [r.id for r in client.scroll(name)[0]] == ["5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]
    assert client.delete_collection(name) is True
    assert not client.collection_exists(name)


def test_documented_curl_examples(base_url: str, name: str) -> None:
    """Qdrant's documented Points API requests, sent as its curl examples send them."""
    http = httpx.Client(base_url=base_url, headers={"Content-Type": "application/json"})
    http.put(
        f"/collections/{name}", json={"vectors": {"size": 4, "distance": "Dot"}}
    ).raise_for_status()
    upsert = http.put(
        f"/collections/{name}/points?wait=true",
        content="""{
    "points": [
      {
        "id": 1,
        "vector": [0.19, 0.81, 0.75, 0.11],
        "payload": {"city": "Berlin", "price": 1.99}
      },
      {
        "id": 2,
        "vector": [0.36, 0.55, 0.47, 0.94],
        "payload": {"city": "London", "price": 2.99}
      }
    ]
  }""",
    )
    assert upsert.json()["result"]["status"] == "completed"
    point = http.get(f"/collections/{name}/points/1").json()["result"]
    assert point == {
        "id": 1,
        "payload": {"city": "Berlin", "price": 1.99},
        "vector": [0.19, 0.81, 0.75, 0.11],
    }
    many = http.post(f"/collections/{name}/points", content='{"ids": [1, 2, 3]}').json()["result"]
    assert [p["id"] for p in many] == [1, 2]
    page = http.post(
        f"/collections/{name}/points/scroll",
        content='{"limit": 10, "with_payload": true, "with_vector": false}',
    ).json()["result"]
    assert page == {
        "points": [
            {"id": 1, "payload": {"city": "Berlin", "price": 1.99}},
            {"id": 2, "payload": {"city": "London", "price": 2.99}},
        ],
        "next_page_offset": None,
    }
    deleted = http.post(
        f"/collections/{name}/points/delete?wait=true", content='{"points": [1, 2, 3]}'
    )
    assert deleted.json()["result"]["status"] == "completed"
    assert http.post(f"/collections/{name}/points/count", json={}).json()["result"] == {"count": 0}
