"""The job queue on a server of its own (QUEUE_URL), with the Procfile's processes: RQ keeps
its state there and none in the store, writes complete through it, and while it is down the
writes acknowledged meanwhile are applied all the same (the workers' sweep catches the
collection up from the log)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis

from tests.support import Cluster, embedded_server

POINTS = 10
pytestmark = pytest.mark.own_server


def _points(first: int) -> dict:
    return {"points": [{"id": first + i, "vector": [1.0, float(i)]} for i in range(POINTS)]}


def test_the_queue_on_a_server_of_its_own(tmp_path: Path, name: str) -> None:
    store = embedded_server(tmp_path / "store")
    queue = embedded_server(tmp_path / "queue")
    try:
        # No sweep before the hour is out: the first write completes through its job alone.
        env = {"QUEUE_URL": queue.url, "SWEEP_SECONDS": "3600"}
        with Cluster(store.url, env, logs=tmp_path) as cluster:
            cluster.start_workers(1)
            (url,) = cluster.start_webs(1)
            http = httpx.Client(base_url=f"{url}/collections/{name}", timeout=60)
            config = {"vectors": {"size": 2, "distance": "Dot"}}
            assert http.put("", json=config).json()["result"] is True
            done = http.put("/points", params={"wait": "true"}, json=_points(0)).json()
            assert done["result"]["status"] == "completed"
            assert redis.Redis.from_url(queue.url).exists("rq:workers")
            assert not redis.Redis.from_url(store.url).keys("rq:*")

            cluster.env["SWEEP_SECONDS"] = "1"
            cluster.restart_worker(0)
            queue.stop()
            written = http.put("/points", json=_points(POINTS)).json()
            assert written["result"]["status"] == "acknowledged"
            counted = http.post("/points/count", json={"exact": True}).json()
            assert counted["result"]["count"] == 2 * POINTS, cluster.dead()
    finally:
        store.stop()
        queue.stop()
