"""Bodies of `/facet` and `/points/search/matrix/*` that Qdrant refuses: refused the same way
(status and text), before the collection is even looked up. The app runs in-process on
fakeredis (no server needed)."""

from __future__ import annotations

import fakeredis
import pytest
from falcon import testing

from api.app import create_app
from projections.settings import Settings

FACET = "/collections/c/facet"
PAIRS = "/collections/c/points/search/matrix/pairs"
OFFSETS = "/collections/c/points/search/matrix/offsets"
BAD_FILTER = {"must": [{"key": "k", "match": {"nope": 1}}]}


@pytest.fixture(scope="module")
def client() -> testing.TestClient:
    return testing.TestClient(create_app(Settings(), r=fakeredis.FakeRedis()))


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "Format error in JSON body: missing field `key`"),
        ({"key": 5}, 400, "Format error in JSON body: invalid type: number `5`, expected a string"),
        ({"key": "a..b"}, 400, "Format error in JSON body: "),
        (
            {"key": "k", "limit": 0},
            422,
            "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]",
        ),
        ({"key": "k", "limit": -1}, 400, "Format error in JSON body: limit: invalid value -1"),
        ({"key": "k", "exact": "yes"}, 400, "Format error in JSON body: exact: invalid type"),
        ({"key": "k", "filter": BAD_FILTER}, 400, "Format error in JSON body: "),
        ({"key": "k", "exact": None, "limit": None}, 404, "Not found: Collection `c` doesn't"),
    ],
)
def test_facet_bodies(client, body, status, error) -> None:
    response = client.simulate_post(FACET, json=body)
    assert response.status_code == status
    assert response.json["status"]["error"].startswith(error)


@pytest.mark.parametrize("path", [PAIRS, OFFSETS])
@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"sample": 1},
            422,
            "Validation error in JSON body: [sample: value 1 invalid, must be 2 or larger]",
        ),
        (
            {"limit": 0},
            422,
            "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]",
        ),
        ({"sample": "ten"}, 400, "Format error in JSON body: sample: invalid value ten"),
        ({"using": 5}, 400, "Format error in JSON body: using: invalid type: number `5`"),
        ({"filter": BAD_FILTER}, 400, "Format error in JSON body: "),
        ({}, 404, "Not found: Collection `c` doesn't exist!"),
    ],
)
def test_matrix_bodies(client, path, body, status, error) -> None:
    response = client.simulate_post(path, json=body)
    assert response.status_code == status
    assert response.json["status"]["error"].startswith(error)


@pytest.mark.parametrize("path", [FACET, PAIRS, OFFSETS])
def test_only_post_is_routed(client, path) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert client.simulate_request(method, path, json={}).status_code == 405
