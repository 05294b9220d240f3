"""Fixtures of the integration tests: the app in this process, on what the session serves."""

from __future__ import annotations

import pytest
import redis
from falcon import testing

from api.app import create_app
from projections.store import connect
from tests.support import Served


@pytest.fixture(scope="session")
def store(served: Served) -> redis.Redis:
    return connect(served.url)


@pytest.fixture(scope="session")
def client(served: Served, workers: list) -> testing.TestClient:
    """The Falcon app in this process, on the real server, with two real worker processes."""
    return testing.TestClient(create_app(served.settings()))


@pytest.fixture
def collection(client: testing.TestClient, name: str) -> str:
    body = {"vectors": {"size": 4, "distance": "Dot"}}
    assert client.simulate_put(f"/collections/{name}", json=body).json["result"] is True
    return name
