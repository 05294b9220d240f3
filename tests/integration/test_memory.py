"""Redis memory as the log needs it: an evicting store is refused at start, appends stop at the
write limit with an error of their own while everything acknowledged is still applied, and a
read whose wait for the workers runs out says so instead of answering stale data.

Each memory test runs its own embedded server, since it changes the server's settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from falcon import testing

from api.app import create_app
from projections.memory import MB
from projections.settings import Settings
from tests.support import Cluster, embedded_server, procfile, spawn, unserved_database
from workers.embedded import EmbeddedServer

DIM = 64


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    found = embedded_server(tmp_path / "valkey")
    yield found
    found.stop()


@pytest.mark.own_server
def test_an_evicting_store_is_refused_at_start_unless_allowed(server, tmp_path) -> None:
    redis.Redis.from_url(server.url).config_set("maxmemory-policy", "allkeys-lru")
    with pytest.raises(SystemExit, match=r"maxmemory-policy is allkeys-lru.*noeviction"):
        create_app(Settings(redis_url=server.url))
    output = tmp_path / "worker.log"
    worker = spawn(procfile()["worker"], {"REDIS_URL": server.url}, output)
    assert worker.wait(timeout=60) != 0
    assert "Set it to noeviction" in output.read_text()
    allowed = testing.TestClient(create_app(Settings(redis_url=server.url, allow_eviction=True)))
    assert allowed.simulate_get("/readyz").text == "all shards are ready"


def _points(rng: np.random.Generator, first: int, count: int) -> list[dict]:
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return [
        {"id": first + i, "vector": vector.tolist(), "payload": {"text": "x" * 200}}
        for i, vector in enumerate(vectors)
    ]


@pytest.mark.own_server
def test_appends_stop_at_the_write_limit_and_everything_acknowledged_is_applied(
    server, name
) -> None:
    """Writes without waiting stop (507) while the workers can still apply all they
    acknowledged, and they do; writes that wait then fill the store to the limit itself, the
    pod says so, and raising Redis's maxmemory lets writes through again."""
    r = redis.Redis.from_url(server.url)
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + 8 * MB)
    rng = np.random.default_rng(3)
    with Cluster(server.url) as cluster:
        cluster.start_workers(1)
        client = testing.TestClient(create_app(Settings(redis_url=server.url)))
        config = {"vectors": {"size": DIM, "distance": "Dot"}}
        client.simulate_put(f"/collections/{name}", json=config)
        path = f"/collections/{name}/points"
        acknowledged = 0

        def fill(wait: str) -> testing.Result:
            nonlocal acknowledged
            for _ in range(1000):  # far more than the room holds
                body = {"points": _points(rng, acknowledged, 100)}
                response = client.simulate_put(path, params={"wait": wait}, json=body)
                if response.status_code != 200:
                    return response
                acknowledged += 100
            raise AssertionError("the store never filled")

        refused = fill(wait="false")
        assert refused.status_code == 507
        assert refused.json["status"]["error"].startswith("Insufficient storage: the store is full")
        count = client.simulate_post(f"{path}/count", json={"exact": True})  # read-your-writes
        assert count.json["result"] == {"count": acknowledged}

        assert fill(wait="true").status_code == 507
        assert "writes are refused: the store is full" in client.simulate_get("/readyz").text
        assert "pointlog_writes_refused_total 2" in client.simulate_get("/metrics").text

        r.config_set("maxmemory", 0)  # the operator raises the limit
        one = {"points": _points(rng, acknowledged, 1)}
        deadline = time.monotonic() + 5  # the web process reads the figures every 0.5 s
        while (
            resumed := client.simulate_put(path, params={"wait": "true"}, json=one)
        ).status_code == 507:
            assert time.monotonic() < deadline
        assert resumed.json["result"]["status"] == "completed"
        count = client.simulate_post(f"{path}/count", json={"exact": True})
        assert count.json["result"] == {"count": acknowledged + 1}


def test_a_read_whose_wait_runs_out_is_refused_or_answered_with_a_warning(redis_url, name) -> None:
    """No worker serves this database: the write stays acknowledged and unapplied."""
    lonely = unserved_database(redis_url, 4)
    refusing = testing.TestClient(create_app(Settings(redis_url=lonely, read_wait_seconds=0.2)))
    refusing.simulate_put(f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}})
    path = f"/collections/{name}/points"
    written = refusing.simulate_put(path, json={"points": [{"id": 1, "vector": [1, 0]}]})
    assert written.json["result"]["status"] == "acknowledged"
    for response in (
        refusing.simulate_post(f"{path}/count", json={}),
        refusing.simulate_post(f"{path}/query", json={"query": [1, 0]}),
    ):
        assert response.status_code == 503
        assert (
            "only 0 of the 1 acknowledged operations are applied"
            in (response.json["status"]["error"])
        )
    warning = Settings(redis_url=lonely, read_wait_seconds=0.2, stale_reads="warn")
    warned = testing.TestClient(create_app(warning)).simulate_post(f"{path}/count", json={})
    assert warned.json["result"] == {"count": 0}
    assert warned.headers["Warning"].startswith('110 pointlog "stale read: only 0 of the 1')
