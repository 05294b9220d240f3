"""GET of one point answers as Qdrant does; reads take `consistency` and `timeout` as it does."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient

from tests.e2e.endpoints_support import U1, V1, dense, error_text, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_get_point(client: QdrantClient, http: httpx.Client, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1}, {"city": "Berlin"}), point(U1, {"text": [0, 5]})])
    for params in ({}, {"consistency": "majority"}, {"consistency": "all"}, {"consistency": 2}):
        got = http.get(f"/collections/{name}/points/1", params=params)
        assert got.status_code == 200, got.text
        assert got.json()["result"] == {
            "id": 1,
            "payload": {"city": "Berlin"},
            "vector": {"image": V1},
        }
    got = http.get(f"/collections/{name}/points/{U1}", params={"timeout": 5})
    assert got.json()["result"] == {"id": U1, "payload": {}, "vector": {"text": [0.0, 1.0]}}
    missing = http.get(f"/collections/{name}/points/7")
    assert missing.status_code == 404
    assert error_text(missing) == "Not found: Point with id 7 does not exists!"
    bad = http.get(f"/collections/{name}/points/abc")
    assert bad.status_code == 400
    assert error_text(bad) == 'Wrong input: Can not recognize "abc" as point id'


@pytest.mark.parametrize(
    "params",
    [{"consistency": 0}, {"consistency": "most"}, {"timeout": 0}, {"timeout": -1}],
    ids=["consistency=0", "consistency=most", "timeout=0", "timeout=-1"],
)
def test_bad_read_parameters_are_400(
    client: QdrantClient, http: httpx.Client, name: str, params: dict
) -> None:
    """`consistency` 0 or an unknown word, and `timeout` 0 (NonZero deserialization) are 400 on
    every read endpoint (unlike the collection endpoints' `timeout`: 422)."""
    dense(client, name)
    client.upsert(name, [point(1)])
    base = f"/collections/{name}/points"
    responses = [
        http.get(f"{base}/1", params=params),
        http.post(base, params=params, json={"ids": [1]}),
        http.post(f"{base}/scroll", params=params, json={}),
        http.post(f"{base}/count", params=params, json={}),
    ]
    assert [r.status_code for r in responses] == [400] * 4, [r.text for r in responses]
