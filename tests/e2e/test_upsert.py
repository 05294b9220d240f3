"""Upserts as in Qdrant: both body forms, whole-point replacement, every vector kind, point ids."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import (
    U1,
    V1,
    V2,
    V3,
    all_ids,
    dense,
    fails,
    named,
    payloads,
    point,
)
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_upsert_points_form_completes_with_consecutive_operation_ids(
    client: QdrantClient, name: str
) -> None:
    """wait=true answers `completed`; operation ids grow by one per accepted update."""
    dense(client, name)
    first = client.upsert(name, [point(1, V1, {"city": "Berlin"})], wait=True)
    second = client.upsert(name, [point(2, V2, {"city": "London"})], wait=True)
    assert first.status == models.UpdateStatus.COMPLETED
    assert second.status == models.UpdateStatus.COMPLETED
    assert second.operation_id == first.operation_id + 1
    records = client.retrieve(name, [1, 2], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (1, {"city": "Berlin"}, V1),
        (2, {"city": "London"}, V2),
    ]


def test_upsert_batch_form_with_payloads_and_nulls(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """The batch form; a null payload is no payload (`{}`); ints stay ints, floats floats."""
    dense(client, name)
    result = client.upsert(
        name,
        models.Batch(
            ids=[1, 2, U1],
            vectors=[V1, V2, V3],
            payloads=[{"i": 1, "f": 1.0, "nested": {"a": [1, None, "x"]}}, {}, {"n": None}],
        ),
        wait=True,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    records = client.retrieve(name, [1, 2, U1], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (1, {"i": 1, "f": 1.0, "nested": {"a": [1, None, "x"]}}, V1),
        (2, {}, V2),
        (U1, {"n": None}, V3),
    ]
    assert type(records[0].payload["i"]) is int
    assert type(records[0].payload["f"]) is float
    raw = http.put(
        f"/collections/{name}/points?wait=true",
        json={"batch": {"ids": [3, 4], "vectors": [V1, V2], "payloads": [None, {"b": 2}]}},
    )
    assert raw.json()["result"]["status"] == "completed"
    no_payloads = http.put(
        f"/collections/{name}/points?wait=true", json={"batch": {"ids": [5], "vectors": [V3]}}
    )
    assert no_payloads.json()["result"]["status"] == "completed"
    assert payloads(client, name, [3, 4, 5]) == {3: {}, 4: {"b": 2}, 5: {}}
    mismatch = http.put(
        f"/collections/{name}/points?wait=true", json={"batch": {"ids": [6, 7], "vectors": [V3]}}
    )
    assert mismatch.status_code == 422


def test_upsert_named_batch_form(client: QdrantClient, name: str) -> None:
    client.create_collection(
        name,
        vectors_config={"image": models.VectorParams(size=4, distance=models.Distance.DOT)},
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    client.upsert(
        name,
        models.Batch(
            ids=[1, 2],
            vectors={
                "image": [V1, V2],
                "words": [
                    models.SparseVector(indices=[7, 2], values=[0.5, 0.25]),
                    models.SparseVector(indices=[1], values=[1.0]),
                ],
            },
            payloads=[{"a": 1}, {"a": 2}],
        ),
    )
    records = client.retrieve(name, [1, 2], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (
            1,
            {"a": 1},
            {"image": V1, "words": models.SparseVector(indices=[2, 7], values=[0.25, 0.5])},
        ),
        (2, {"a": 2}, {"image": V2, "words": models.SparseVector(indices=[1], values=[1.0])}),
    ]


def test_upsert_replaces_the_whole_point(client: QdrantClient, name: str) -> None:
    """An upsert replaces the whole point: vectors not given are gone, no payload clears it."""
    named(client, name)
    client.upsert(name, [point(1, {"image": V1, "text": [1.0, 0.0]}, {"a": 1, "b": 2})])
    client.upsert(name, [point(1, {"text": [0.0, 2.0]})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert record.payload == {}
    assert record.vector == {"text": [0.0, 1.0]}
    client.upsert(name, [point(1, {"image": V2}, {"c": 3})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert (record.payload, record.vector) == ({"c": 3}, {"image": V2})


def test_duplicate_ids_in_one_upsert_last_wins(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "first"}), point(1, V2, {"v": "last"})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert (record.payload, record.vector) == ({"v": "last"}, V2)


def test_named_sparse_and_multi_vectors(client: QdrantClient, name: str) -> None:
    """Any subset of the configured names; output holds what the point has; sparse
    vectors come back sorted by index; a point without vectors shows `{}`."""
    client.create_collection(
        name,
        vectors_config={
            "image": models.VectorParams(size=4, distance=models.Distance.DOT),
            "colbert": models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(
                    comparator=models.MultiVectorComparator.MAX_SIM
                ),
            ),
        },
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    sparse_in = models.SparseVector(indices=[9, 3, 5], values=[0.5, 1.5, 2.0])
    sparse_out = models.SparseVector(indices=[3, 5, 9], values=[1.5, 2.0, 0.5])
    client.upsert(
        name,
        [
            point(1, {"image": V1, "colbert": [[1.0, 2.0], [3.0, 4.5]], "words": sparse_in}),
            point(2, {"image": V2}),
            point(3, {}),
            point(4, {"colbert": [[0.5, 0.25]]}),
        ],
    )
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2, 3, 4], with_vectors=True)}
    assert got == {
        1: {"image": V1, "colbert": [[1.0, 2.0], [3.0, 4.5]], "words": sparse_out},
        2: {"image": V2},
        3: {},
        4: {"colbert": [[0.5, 0.25]]},
    }
    only = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=["colbert"])}
    assert only == {1: {"colbert": [[1.0, 2.0], [3.0, 4.5]]}, 2: {}}
    words = client.retrieve(name, [1], with_vectors=["words", "image"])[0].vector
    assert words == {"image": V1, "words": sparse_out}
    with fails(400, contains="Vector dimension error: expected dim: 2, got 3"):
        client.upsert(name, [point(5, {"colbert": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]})])
    with fails(422, contains="all vectors must have the same dimension"):
        client.upsert(name, [point(5, {"colbert": [[1.0, 2.0], [1.0, 2.0, 3.0]]})])
    assert client.count(name).count == 4


def test_unnamed_multivector_and_unnamed_with_sparse(client: QdrantClient, name: str) -> None:
    """One unnamed vector comes back bare; next to another vector it is keyed `""`."""
    client.create_collection(
        name,
        vectors_config=models.VectorParams(
            size=2,
            distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(
                comparator=models.MultiVectorComparator.MAX_SIM
            ),
        ),
    )
    client.upsert(name, [point(1, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == [
        [1.0, 2.0],
        [3.0, 4.0],
        [5.0, 6.0],
    ]
    other = f"{name}-s"
    client.create_collection(
        other,
        vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    words = models.SparseVector(indices=[1, 2], values=[0.5, 1.0])
    client.upsert(other, [point(1, {"": V1, "words": words}), point(2, V2)])
    got = {r.id: r.vector for r in client.retrieve(other, [1, 2], with_vectors=True)}
    assert got == {1: {"": V1, "words": words}, 2: V2}
    client.delete_collection(other)


def test_cosine_vectors_are_stored_normalised(client: QdrantClient, name: str) -> None:
    """Cosine vectors are L2-normalised on write and returned normalised, as the shortest
    float32 repr."""
    dense(client, name, size=2, distance="Cosine")
    client.upsert(name, [point(1, [3, 4]), point(2, [0.0, 0.0])])
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: [0.6, 0.8], 2: [0.0, 0.0]}


def test_uuid_spellings_are_one_point_returned_lowercase(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """Hyphenated, simple, braced and urn spellings, any case, name one point; output is
    always lowercase hyphenated."""
    dense(client, name)
    upper = U1.upper()
    spellings = [upper, U1.replace("-", ""), "{" + U1 + "}", "urn:uuid:" + upper]
    for n, spelling in enumerate(spellings):
        client.upsert(name, [point(spelling, V1, {"n": n})])
    assert all_ids(client, name) == [U1]
    for spelling in spellings:
        (record,) = client.retrieve(name, [spelling])
        assert (record.id, record.payload) == (U1, {"n": 3})
    for spelling in (upper, U1.replace("-", "")):
        got = http.get(f"/collections/{name}/points/{spelling}")
        assert got.status_code == 200
        assert got.json()["result"]["id"] == U1
    client.delete(name, [upper.replace("-", "")])
    assert all_ids(client, name) == []


@pytest.mark.parametrize("bad", ["123", -1, 1.5, "not-a-uuid"])
def test_ids_that_are_not_u64_or_uuid_are_rejected(
    http: httpx.Client, client: QdrantClient, name: str, bad: object
) -> None:
    """Numeric strings, negatives, floats and other strings are 400."""
    dense(client, name)
    got = http.put(
        f"/collections/{name}/points?wait=true",
        json={"points": [{"id": bad, "vector": V1}]},
    )
    assert got.status_code == 400, got.text
    assert http.post(f"/collections/{name}/points/count", json={}).json()["result"] == {"count": 0}
