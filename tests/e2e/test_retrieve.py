"""Retrieve by ids as in Qdrant: order, missing and repeated ids, payload and vector selectors."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import U1, V1, V2, dense, fails, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_retrieve_order_missing_and_duplicates(client: QdrantClient, name: str) -> None:
    """Records in the order of `ids`, missing ids skipped, duplicates collapse to the first."""
    dense(client, name)
    client.upsert(name, [point(1), point(2), point(U1)])
    got = client.retrieve(name, [U1, 9, 2, 1, 2, U1.upper()], with_payload=False)
    assert [r.id for r in got] == [U1, 2, 1]
    assert client.retrieve(name, []) == []
    assert client.retrieve(name, [42]) == []


PAYLOAD = {
    "city": "Berlin",
    "price": 1.5,
    "country": {
        "name": "Germany",
        "cities": [{"name": "Berlin", "pop": 3.6}, {"name": "Munich", "pop": 1.5}],
    },
    "tags": [{"b": 1}, {"b": 2, "c": 3}],
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (True, PAYLOAD),
        (False, None),
        (["city", "country.name"], {"city": "Berlin", "country": {"name": "Germany"}}),
        (
            models.PayloadSelectorInclude(include=["country.cities[].name"]),
            {"country": {"cities": [{"name": "Berlin"}, {"name": "Munich"}]}},
        ),
        (models.PayloadSelectorInclude(include=["tags.b"]), {"tags": []}),
        (models.PayloadSelectorInclude(include=["missing"]), {}),
        ([], {}),
        (
            models.PayloadSelectorExclude(exclude=["country.cities"]),
            {
                "city": "Berlin",
                "price": 1.5,
                "country": {"name": "Germany"},
                "tags": PAYLOAD["tags"],
            },
        ),
        (
            models.PayloadSelectorExclude(exclude=["country.cities[].pop", "tags", "price"]),
            {
                "city": "Berlin",
                "country": {"name": "Germany", "cities": [{"name": "Berlin"}, {"name": "Munich"}]},
            },
        ),
    ],
)
def test_retrieve_with_payload_selectors(
    client: QdrantClient, name: str, selector: object, expected: dict | None
) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, PAYLOAD), point(2, V2)])
    got = client.retrieve(name, [1, 2], with_payload=selector)
    empty = None if expected is None else {}
    assert [(r.id, r.payload, r.vector) for r in got] == [(1, expected, None), (2, empty, None)]
    page = client.scroll(name, with_payload=selector)[0]
    assert [r.payload for r in page] == [expected, empty]


def test_retrieve_with_vectors(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1, "text": [0, 2]}, {"a": 1}), point(2, {"image": V2})]
    )
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=False)] == [None, None]
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)] == [
        {"image": V1, "text": [0.0, 1.0]},
        {"image": V2},
    ]
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=["text"])] == [
        {"text": [0.0, 1.0]},
        {},
    ]
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.retrieve(name, [1], with_vectors=["nope"])


def test_retrieve_without_with_payload_defaults_to_no_payload(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """Rust's default for an omitted `with_payload` is false (client always sends it)."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"a": 1})])
    got = http.post(f"/collections/{name}/points", json={"ids": [1]})
    assert got.json()["result"] == [{"id": 1}]
    got = http.post(f"/collections/{name}/points", json={"ids": [1], "with_vectors": True})
    assert got.json()["result"] == [{"id": 1, "vector": V1}]
    for consistency in ("majority", "quorum", "all", "1"):
        got = http.post(
            f"/collections/{name}/points",
            params={"consistency": consistency, "timeout": 3},
            json={"ids": [1], "with_payload": True},
        )
        assert got.json()["result"] == [{"id": 1, "payload": {"a": 1}}]
    bad = http.post(
        f"/collections/{name}/points", params={"consistency": "most"}, json={"ids": [1]}
    )
    assert bad.status_code == 400
