"""The statuses and error texts a Qdrant user sees: missing collection, bad vectors, missing ids."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import (
    U1,
    V1,
    V2,
    all_ids,
    dense,
    error_text,
    fails,
    named,
    payloads,
    point,
)
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_missing_collection_is_404(client: QdrantClient, http: httpx.Client, name: str) -> None:
    error = f"Not found: Collection `{name}` doesn't exist!"
    calls = [
        lambda: client.upsert(name, [point(1)]),
        lambda: client.retrieve(name, [1]),
        lambda: client.scroll(name),
        lambda: client.count(name),
        lambda: client.delete(name, [1]),
        lambda: client.set_payload(name, {"a": 1}, [1]),
        lambda: client.overwrite_payload(name, {"a": 1}, [1]),
        lambda: client.delete_payload(name, ["a"], [1]),
        lambda: client.clear_payload(name, [1]),
        lambda: client.update_vectors(name, [models.PointVectors(id=1, vector=V1)]),
        lambda: client.delete_vectors(name, [""], [1]),
        lambda: client.batch_update_points(
            name, [models.DeleteOperation(delete=models.PointIdsList(points=[1]))]
        ),
        lambda: client.create_payload_index(name, "a", models.PayloadSchemaType.KEYWORD),
        lambda: client.get_collection(name),
    ]
    for call in calls:
        with fails(404, error):
            call()
    got = http.get(f"/collections/{name}/points/1")
    assert (got.status_code, error_text(got)) == (404, error)


@pytest.mark.parametrize("wait", [True, False])
def test_wrong_vector_size_is_400_and_writes_nothing(
    client: QdrantClient, name: str, wait: bool
) -> None:
    """Upsert dimensions are checked before acknowledging, whatever `wait` is."""
    dense(client, name)
    with fails(400, "Wrong input: Vector dimension error: expected dim: 4, got 3"):
        client.upsert(name, [point(1, [1.0, 2.0, 3.0])], wait=wait)
    other = f"{name}-n"
    named(client, other)
    with fails(
        400, "Wrong input: Vector dimension error: expected dim: 4, got 3 for vector 'image'"
    ):
        client.upsert(other, [point(1, {"image": [1.0, 2.0, 3.0]})], wait=wait)
    with fails(
        400, "Wrong input: Vector dimension error: expected dim: 4, got 3 for vector 'image'"
    ):
        client.upsert(
            other, models.Batch(ids=[1, 2], vectors={"image": [V1, [1.0, 2.0, 3.0]]}), wait=wait
        )
    assert client.count(name).count == 0
    assert client.count(other).count == 0
    client.delete_collection(other)


def test_unknown_vector_name_is_400(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1})])
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.upsert(name, [point(2, {"nope": V1})])
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.update_vectors(name, [models.PointVectors(id=1, vector={"nope": V1})])
    with fails(400, "Wrong input: Not existing vector name error: "):
        client.upsert(name, [point(3, V1)])
    assert all_ids(client, name) == [1]
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}


def test_update_vectors_wrong_size_is_400(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1})])
    with fails(400, contains="Wrong input: Vector dimension error: expected dim: 4, got 2"):
        client.update_vectors(name, [models.PointVectors(id=1, vector={"image": [1.0, 2.0]})])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}


def test_point_updates_on_a_missing_id_are_404_with_wait(client: QdrantClient, name: str) -> None:
    """Vector and payload updates of a missing id: `Not found: No point with id X found`; with
    wait=false the write is acknowledged (the error only shows when applied)."""
    named(client, name)
    client.upsert(name, [point(1, {"image": V1}, {"a": 1})])
    error = "Not found: No point with id 99 found"
    calls = [
        lambda wait: client.update_vectors(
            name, [models.PointVectors(id=99, vector={"image": V2})], wait=wait
        ),
        lambda wait: client.set_payload(name, {"b": 1}, [99], wait=wait),
        lambda wait: client.overwrite_payload(name, {"b": 1}, [99], wait=wait),
        lambda wait: client.delete_payload(name, ["a"], [99], wait=wait),
        lambda wait: client.clear_payload(name, [99], wait=wait),
    ]
    for call in calls:
        with fails(404, error):
            call(True)
        assert call(False).status == models.UpdateStatus.ACKNOWLEDGED
    assert all_ids(client, name) == [1]
    with fails(404, f"Not found: No point with id {U1} found"):
        client.set_payload(name, {"b": 1}, [U1.upper()])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}
    assert payloads(client, name, [1]) == {1: {"a": 1}}


def test_set_payload_missing_id_still_updates_the_others(client: QdrantClient, name: str) -> None:
    """A request is not atomic across points: the ids found are modified before the 404."""
    dense(client, name)
    client.upsert(name, [point(1), point(2)])
    with fails(404, "Not found: No point with id 99 found"):
        client.set_payload(name, {"b": 1}, [1, 99, 2])
    assert payloads(client, name, [1, 2]) == {1: {"b": 1}, 2: {"b": 1}}
