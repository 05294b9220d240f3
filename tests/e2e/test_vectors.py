"""Updating and deleting vectors keeps the point's other vectors and payload, as in Qdrant."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, V2, V3, fails, has, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections


def test_update_vectors_keeps_other_vectors_and_payload(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1, "text": [1, 0]}, {"keep": 1}), point(2, {"image": V1})]
    )
    result = client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V2}),
            models.PointVectors(id=2, vector={"text": [0, 3]}),
        ],
    )
    assert result.status == models.UpdateStatus.COMPLETED
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {
        1: ({"keep": 1}, {"image": V2, "text": [1.0, 0.0]}),
        2: ({}, {"image": V1, "text": [0.0, 1.0]}),
    }
    client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V3, "text": [3, 4]}),
            models.PointVectors(id=1, vector={"text": [4, 3]}),
        ],
    )
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert record.vector == {"image": V3, "text": [0.8, 0.6]}


def test_update_vectors_with_update_filter(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1}, {"ok": True}), point(2, {"image": V1}, {"ok": False})]
    )
    client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V2}),
            models.PointVectors(id=2, vector={"image": V2}),
        ],
        update_filter=models.Filter(must=[has("ok", True)]),
    )
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: {"image": V2}, 2: {"image": V1}}


def test_delete_vectors(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name,
        [point(i, {"image": V1, "text": [1, 1]}, {"i": i, "big": i > 1}) for i in range(4)],
    )
    result = client.delete_vectors(name, ["image"], [0])
    assert result.status == models.UpdateStatus.COMPLETED
    client.delete_vectors(name, ["image"], [0])
    client.delete_vectors(name, ["image", "text"], models.Filter(must=[has("big", True)]))
    got = {
        r.id: (r.payload, r.vector) for r in client.retrieve(name, [0, 1, 2, 3], with_vectors=True)
    }
    diagonal = [2**-0.5, 2**-0.5]
    assert {i: v for i, (_, v) in got.items()} == {
        0: {"text": pytest.approx(diagonal)},
        1: {"image": V1, "text": pytest.approx(diagonal)},
        2: {},
        3: {},
    }
    assert got[2][0] == {"i": 2, "big": True}
    with_image = models.Filter(must=[models.HasVectorCondition(has_vector="image")])
    assert client.count(name, with_image).count == 1
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.delete_vectors(name, ["nope"], [1])
