"""Count gives Qdrant's numbers for every kind of filter, exact or not."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import U1, V1, dense, has, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_count_with_filters(client: QdrantClient, http: httpx.Client, name: str) -> None:
    dense(client, name)
    client.upsert(
        name,
        [
            point(1, V1, {"city": "Berlin", "price": 10, "tags": ["a", "b"]}),
            point(2, V1, {"city": "London", "price": 2.5, "tags": []}),
            point(3, V1, {"city": "Berlin", "price": None}),
            point(U1, V1, {"city": "Rome", "price": 7, "tags": ["b"]}),
            point(5, V1),
        ],
    )
    cases = [
        (None, 5),
        (models.Filter(), 5),
        (models.Filter(must=[has("city", "Berlin")]), 2),
        (models.Filter(should=[has("city", "Rome"), has("city", "London")]), 2),
        (models.Filter(must_not=[has("city", "Berlin")]), 3),
        (
            models.Filter(
                must=[models.FieldCondition(key="price", range=models.Range(gte=2.5, lt=10))]
            ),
            2,
        ),
        (
            models.Filter(
                must=[models.FieldCondition(key="tags", match=models.MatchAny(any=["b"]))]
            ),
            2,
        ),
        (
            models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))]),
            3,
        ),
        (models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="price"))]), 1),
        (models.Filter(must=[models.HasIdCondition(has_id=[U1.upper(), 1, 42])]), 2),
        (
            models.Filter(
                min_should=models.MinShould(
                    conditions=[has("city", "Berlin"), has("tags", "b"), has("price", 10)],
                    min_count=2,
                )
            ),
            1,
        ),
    ]
    for flt, expected in cases:
        assert client.count(name, flt, exact=True).count == expected, flt
        assert client.count(name, flt, exact=False).count == expected, flt
    got = http.post(
        f"/collections/{name}/points/count", json={"filter": {"must": [{"has_id": [1]}]}}
    )
    assert got.json()["result"] == {"count": 1}
