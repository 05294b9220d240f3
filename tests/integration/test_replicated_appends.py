"""APPEND_REPLICAS: an append is acknowledged once a replica has it. While the replica is
down, a write answers 503 saying it is in the log (where it stays, to be applied) but not
replicated; without the setting, the same write is acknowledged as before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from falcon import testing

from api.app import create_app
from projections import collections
from projections.settings import Settings
from tests.support import free_port
from workers.embedded import EmbeddedServer

pytestmark = pytest.mark.own_server


def _replicating(primary: EmbeddedServer, replica: EmbeddedServer) -> None:
    """Make `replica` one of `primary`, and return once its link is up (replication has no
    event to wait on: poll its INFO, bounded)."""
    node = redis.Redis(port=replica.port)
    node.replicaof("127.0.0.1", primary.port)
    deadline = time.monotonic() + 30
    while node.info("replication").get("master_link_status") != "up":
        assert time.monotonic() < deadline, "the replica did not connect"
        time.sleep(0.05)


def _write(client: testing.TestClient, name: str, point: int) -> testing.Result:
    body = {"points": [{"id": point, "vector": [1.0, float(point)]}]}
    return client.simulate_put(f"/collections/{name}/points", json=body)


def test_appends_wait_for_a_replica(tmp_path: Path, name: str) -> None:
    primary = EmbeddedServer(tmp_path / "primary", free_port())
    replica = EmbeddedServer(tmp_path / "replica", free_port())
    primary.start()
    replica.start()
    try:
        _replicating(primary, replica)
        settings = Settings(redis_url=primary.url, append_replicas_timeout_ms=300)
        waiting = testing.TestClient(
            create_app(Settings(**{**vars(settings), "append_replicas": 1}))
        )
        plain = testing.TestClient(create_app(settings))
        config = {"vectors": {"size": 2, "distance": "Dot"}}
        assert waiting.simulate_put(f"/collections/{name}", json=config).status_code == 200
        log = collections.load(redis.Redis.from_url(primary.url), name).keys.log

        answer = _write(waiting, name, 1)
        assert answer.json["result"]["status"] == "acknowledged"
        assert redis.Redis(port=replica.port).xlen(log) == 1  # on the replica when acknowledged

        replica.stop()
        refused = _write(waiting, name, 2)
        assert refused.status_code == 503
        operation = answer.json["result"]["operation_id"] + 1
        assert f"operation {operation} is in the log, but 0 of the 1 replicas" in refused.text
        assert redis.Redis.from_url(primary.url).xlen(log) == 2  # appended all the same

        assert _write(plain, name, 3).json["result"]["status"] == "acknowledged"
    finally:
        replica.stop()
        primary.stop()
