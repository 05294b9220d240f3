"""Each route answers only the methods it has: a wrong one gets 405 with an `Allow` header
naming the right ones. The app runs in-process on fakeredis (no server needed)."""

from __future__ import annotations

import fakeredis
import pytest
from falcon import testing

from api.app import create_app
from projections.settings import Settings

POINTS = "/collections/c/points"


@pytest.fixture(scope="module")
def client() -> testing.TestClient:
    return testing.TestClient(create_app(Settings(), r=fakeredis.FakeRedis()))


def allowed(response: testing.Result) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")} - {"OPTIONS"}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (POINTS, {"POST", "PUT"}),
        (POINTS + "/batch", {"POST"}),
        (POINTS + "/delete", {"POST"}),
        (POINTS + "/payload", {"POST", "PUT"}),
        (POINTS + "/payload/delete", {"POST"}),
        (POINTS + "/payload/clear", {"POST"}),
        (POINTS + "/vectors", {"PUT"}),
        (POINTS + "/vectors/delete", {"POST"}),
        ("/collections/c/index", {"PUT"}),
        ("/collections/c/index/city", {"DELETE"}),
        ("/collections/c/vectors/extra", {"PUT", "DELETE"}),
    ],
)
def test_a_wrong_method_is_405_naming_the_allowed_ones(client, path, methods) -> None:
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - methods:
        response = client.simulate_request(method, path, json={})
        assert response.status_code == 405, (method, path)
        assert allowed(response) == methods, (method, path)


def test_the_app_serves_a_client_it_was_given(client) -> None:
    config = {"vectors": {"size": 2, "distance": "Dot"}}
    created = client.simulate_put("/collections/c", json=config)
    assert created.json["result"] is True
    assert client.simulate_get("/collections").json["result"] == {"collections": [{"name": "c"}]}
    refused = client.simulate_put(POINTS, json={"points": [{"id": 1, "vector": [1.0]}]})
    assert refused.status_code == 400


def test_the_root_names_the_version_and_the_commit_when_the_platform_gives_it(
    client, monkeypatch
) -> None:
    for variable in ("SOURCE_VERSION", "HEROKU_SLUG_COMMIT", "GIT_COMMIT"):
        monkeypatch.delenv(variable, raising=False)
    assert client.simulate_get("/").json == {"title": "pointlog", "version": "1.19.0"}
    monkeypatch.setenv("HEROKU_SLUG_COMMIT", "2c3d" * 10)
    assert client.simulate_get("/").json["commit"] == "2c3d" * 10
