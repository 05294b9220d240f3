"""API keys, /metrics, oversized bodies and health endpoints, through the real app and server;
a store pointlog cannot run on, refused at start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from falcon import testing

from api.app import create_app
from projections.settings import Settings
from tests.support import Served, embedded_cluster, pointlog, procfile, spawn


@pytest.fixture(scope="module")
def guarded(served: Served, workers: list) -> testing.TestClient:
    settings = served.settings(api_key="full-secret", read_only_api_key="reader")
    return testing.TestClient(create_app(settings))


def test_requests_without_a_valid_key_are_refused(guarded, name):
    assert guarded.simulate_get("/collections").status_code == 401
    wrong = guarded.simulate_get("/collections", headers={"api-key": "nope"})
    assert wrong.status_code == 401
    assert wrong.json["status"]["error"].startswith("Unauthorized")


def test_full_key_in_either_header_may_write(guarded, name):
    body = {"vectors": {"size": 2, "distance": "Dot"}}
    assert guarded.simulate_put(
        f"/collections/{name}", json=body, headers={"api-key": "full-secret"}
    ).json["result"]
    bearer = {"Authorization": "Bearer full-secret"}
    points = {"points": [{"id": 1, "vector": [1, 2]}]}
    response = guarded.simulate_put(
        f"/collections/{name}/points", params={"wait": "true"}, json=points, headers=bearer
    )
    assert response.json["result"]["status"] == "completed"


def test_read_only_key_reads_but_cannot_write(guarded, name):
    full, reader = {"api-key": "full-secret"}, {"api-key": "reader"}
    guarded.simulate_put(
        f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}}, headers=full
    )
    assert (
        guarded.simulate_post(
            f"/collections/{name}/points/scroll", json={}, headers=reader
        ).status_code
        == 200
    )
    assert (
        guarded.simulate_post(
            f"/collections/{name}/points/count", json={}, headers=reader
        ).status_code
        == 200
    )
    write = guarded.simulate_put(
        f"/collections/{name}/points",
        json={"points": [{"id": 1, "vector": [1, 2]}]},
        headers=reader,
    )
    assert write.status_code == 403
    delete = guarded.simulate_post(
        f"/collections/{name}/points/delete", json={"points": [1]}, headers=reader
    )
    assert delete.status_code == 403
    assert guarded.simulate_delete(f"/collections/{name}", headers=reader).status_code == 403


def test_health_endpoints_stay_open(guarded):
    assert guarded.simulate_get("/healthz").text == "healthz check passed"
    assert guarded.simulate_get("/livez").status_code == 200
    assert guarded.simulate_get("/readyz").text == "all shards are ready"


def test_readyz_is_503_when_redis_does_not_answer():
    dead = testing.TestClient(create_app(Settings(redis_url="redis://127.0.0.1:1/0")))
    response = dead.simulate_get("/readyz")
    assert response.status_code == 503
    assert dead.simulate_get("/collections").status_code == 503


def test_metrics_show_log_progress_and_requests(client, collection):
    client.simulate_put(
        f"/collections/{collection}/points",
        params={"wait": "true"},
        json={"points": [{"id": 1, "vector": [1, 2, 3, 4]}]},
    )
    text = client.simulate_get("/metrics").text
    assert f'pointlog_operations_appended{{collection="{collection}"}} 1' in text
    assert f'pointlog_operations_applied{{collection="{collection}"}} 1' in text
    assert f'pointlog_apply_lag{{collection="{collection}"}} 0' in text
    assert f'pointlog_operations_archived{{collection="{collection}"}} 0' in text
    [size] = re.findall(rf'pointlog_hot_log_bytes{{collection="{collection}"}} (\d+)', text)
    assert int(size) > 16  # the event's operations and its vector's bytes
    put = 'endpoint="/collections/{name}/points",method="PUT"'  # labels come sorted
    assert f'rest_responses_total{{{put},status="200"}}' in text
    assert f"rest_responses_duration_seconds_count{{{put}}}" in text
    assert 'app_info{name="pointlog",version="1.19.0"} 1.0' in text
    assert re.search(r"^collections_total [1-9]", text, re.MULTILINE)
    assert "pointlog_wait_seconds_count" in text
    assert "collection_points" not in text
    per = client.simulate_get("/metrics", params={"per_collection": "true"}).text
    assert f'collection_points{{id="{collection}"}} 1.0' in per
    assert f'collection_vectors{{id="{collection}",vector=""}} 1.0' in per


def test_a_body_over_the_limit_is_413_and_appends_nothing(served, workers, name, store):
    small = testing.TestClient(create_app(served.settings(max_body_bytes=1000)))
    small.simulate_put(f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}})
    points = [{"id": i, "vector": [1, 2]} for i in range(100)]
    response = small.simulate_put(f"/collections/{name}/points", json={"points": points})
    assert response.status_code == 413
    assert small.simulate_post(f"/collections/{name}/points/count", json={}).json["result"] == {
        "count": 0
    }


@pytest.mark.own_server
def test_a_cluster_without_a_queue_server_of_its_own_is_refused_at_start(
    tmp_path: Path, redis_url: str
) -> None:
    """RQ's queue cannot live on a cluster: a REDIS_URL naming a cluster node without a
    QUEUE_URL, or a QUEUE_URL naming one, stops the web process, the worker and the command
    line at start with the problem, instead of failing later on keys other nodes hold."""
    cluster = embedded_cluster(tmp_path / "cluster", 1)
    try:
        problem = "REDIS_URL, without QUEUE_URL, names a node of a Redis Cluster"
        with pytest.raises(SystemExit, match=problem):
            create_app(Settings(redis_url=cluster.url))
        output = tmp_path / "worker.log"
        worker = spawn(procfile()["worker"], {"REDIS_URL": cluster.url}, output)
        assert worker.wait(timeout=60) != 0
        assert problem in output.read_text()
        status = pointlog(cluster.url, "status")
        assert status.returncode != 0 and problem in status.stdout + status.stderr
        with pytest.raises(SystemExit, match="QUEUE_URL names a node of a Redis Cluster"):
            create_app(Settings(redis_url=redis_url, queue_url=cluster.url))
    finally:
        cluster.stop()
