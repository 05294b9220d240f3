"""Deleting points by ids (missing ones are ignored) and by filter, as in Qdrant."""

from __future__ import annotations

from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import U1, V1, all_ids, dense, has, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections


def test_delete_by_ids_ignores_missing_ones(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1), point(2), point(U1)])
    result = client.delete(name, models.PointIdsList(points=[1, 77, U1.upper()]))
    assert result.status == models.UpdateStatus.COMPLETED
    assert all_ids(client, name) == [2]


def test_delete_by_filter(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(
        name,
        [
            point(i, V1, {"city": city})
            for i, city in enumerate(["Berlin", "London", "Berlin", "Rome"])
        ],
    )
    client.delete(name, models.FilterSelector(filter=models.Filter(must=[has("city", "Berlin")])))
    assert all_ids(client, name) == [1, 3]
    client.delete(name, models.Filter(must=[has("city", "Paris")]))
    assert all_ids(client, name) == [1, 3]
    client.delete(name, models.Filter())
    assert all_ids(client, name) == []
