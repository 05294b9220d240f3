from __future__ import annotations

import pytest
import redis
from falcon import testing

from api.app import create_app
from projections.settings import Settings


@pytest.fixture(scope="session")
def store(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture(scope="session")
def client(
    redis_url: str, workers: list, tmp_path_factory: pytest.TempPathFactory
) -> testing.TestClient:
    """The Falcon app in this process, on the real server, with two real worker processes."""
    snapshots = f"file://{tmp_path_factory.mktemp('snapshots')}"
    return testing.TestClient(create_app(Settings(redis_url=redis_url, snapshots_url=snapshots)))


@pytest.fixture
def collection(client: testing.TestClient, name: str) -> str:
    body = {"vectors": {"size": 4, "distance": "Dot"}}
    assert client.simulate_put(f"/collections/{name}", json=body).json["result"] is True
    return name
