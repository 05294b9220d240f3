"""The write path on a real server with real workers: log, apply, wait, read-your-writes."""

from __future__ import annotations

import threading
import uuid

import pytest
from falcon import testing

from api.app import create_app
from projections import collections
from projections.settings import Settings
from tests.support import Cluster, unserved_database


def upsert(client, name, points, **params):
    return client.simulate_put(
        f"/collections/{name}/points", params=params, json={"points": points}
    )


def test_wait_true_returns_completed_and_the_point_is_there(client, collection):
    response = upsert(
        client, collection, [{"id": 1, "vector": [1, 2, 3, 4], "payload": {"a": 1}}], wait="true"
    )
    assert response.status_code == 200
    assert response.json["result"] == {"operation_id": 0, "status": "completed"}
    point = client.simulate_get(f"/collections/{collection}/points/1").json["result"]
    assert point == {"id": 1, "payload": {"a": 1}, "vector": [1.0, 2.0, 3.0, 4.0]}


def test_operation_ids_are_gapless_per_collection(client, collection, name):
    ids = [
        upsert(client, collection, [{"id": i, "vector": [0, 0, 0, i]}], wait="false").json["result"]
        for i in range(5)
    ]
    assert [r["operation_id"] for r in ids] == [0, 1, 2, 3, 4]
    assert {r["status"] for r in ids} == {"acknowledged"}


def test_a_read_sees_every_write_acknowledged_before_it(client, collection):
    for i in range(20):
        upsert(client, collection, [{"id": i, "vector": [i, 0, 0, 0]}], wait="false")
    count = client.simulate_post(f"/collections/{collection}/points/count", json={})
    assert count.json["result"] == {"count": 20}
    got = client.simulate_post(
        f"/collections/{collection}/points", json={"ids": [19], "with_vector": True}
    )
    assert got.json["result"] == [{"id": 19, "vector": [19.0, 0.0, 0.0, 0.0]}]


def test_delete_by_ids(client, collection):
    upsert(client, collection, [{"id": i, "vector": [1, 1, 1, 1]} for i in range(3)], wait="true")
    response = client.simulate_post(
        f"/collections/{collection}/points/delete",
        params={"wait": "true"},
        json={"points": [0, 2, 99]},
    )
    assert response.json["result"]["status"] == "completed"
    scroll = client.simulate_post(f"/collections/{collection}/points/scroll", json={})
    assert [p["id"] for p in scroll.json["result"]["points"]] == [1]


BAD_UPSERTS = [
    ({"points": [{"id": 1, "vector": [1, 2, 3]}]}, 400),  # wrong size
    ({"points": [{"id": 1, "vector": {"image": [1, 2, 3, 4]}}]}, 400),  # unknown name
    ({"points": [{"id": -1, "vector": [1, 2, 3, 4]}]}, 400),  # negative id
    ({"points": [{"id": "123", "vector": [1, 2, 3, 4]}]}, 400),  # numeric string id
    ({"points": [{"id": 1.5, "vector": [1, 2, 3, 4]}]}, 400),
    ({"points": [{"id": 1, "vector": []}]}, 422),  # empty vector
    ({"points": [{"id": 1, "vector": ["a", 2, 3, 4]}]}, 400),
    ({"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": [1]}]}, 400),
    ({"points": [{"vector": [1, 2, 3, 4]}]}, 400),  # no id
    ({"points": []}, 400),
    ({"batch": {"ids": [1, 2], "vectors": [[1, 2, 3, 4]]}}, 422),
    ({"nothing": 1}, 400),
    ([1, 2], 400),
]


@pytest.mark.parametrize(("body", "status"), BAD_UPSERTS)
def test_bad_input_is_refused_and_never_reaches_the_log(client, store, collection, body, status):
    response = client.simulate_put(f"/collections/{collection}/points", json=body)
    assert response.status_code == status
    assert set(response.json) == {"status", "time"} and response.json["status"]["error"]
    keys = collections.load(store, collection).keys
    assert store.xlen(keys.log) == 0 and int(store.get(keys.seq)) == 0


def test_malformed_json_and_bad_params_are_refused(client, store, collection):
    keys = collections.load(store, collection).keys
    path = f"/collections/{collection}/points"
    assert client.simulate_put(path, body=b'{"points": [').status_code == 400
    body = {"points": [{"id": 1, "vector": [1, 2, 3, 4]}]}
    assert client.simulate_put(path, params={"wait": "yes"}, json=body).status_code == 400
    assert client.simulate_put(path, params={"ordering": "fast"}, json=body).status_code == 400
    assert store.xlen(keys.log) == 0


def test_missing_collection_is_404(client, name):
    response = upsert(client, name, [{"id": 1, "vector": [1, 2, 3, 4]}])
    assert response.status_code == 404
    assert response.json["status"]["error"] == f"Not found: Collection `{name}` doesn't exist!"


def test_recreated_collection_starts_a_fresh_log(client, collection):
    upsert(client, collection, [{"id": 1, "vector": [1, 2, 3, 4]}], wait="true")
    assert client.simulate_delete(f"/collections/{collection}").json["result"] is True
    assert client.simulate_delete(f"/collections/{collection}").json["result"] is False
    client.simulate_put(
        f"/collections/{collection}", json={"vectors": {"size": 2, "distance": "Dot"}}
    )
    first = upsert(client, collection, [{"id": 5, "vector": [1, 2]}], wait="true").json["result"]
    assert first["operation_id"] == 0
    scroll = client.simulate_post(f"/collections/{collection}/points/scroll", json={})
    assert [p["id"] for p in scroll.json["result"]["points"]] == [5]


def test_concurrent_writers_are_applied_once_and_in_log_order(client, store, collection):
    """Eight writers on one collection, two worker processes, and four more appliers racing
    in this process: every operation is applied exactly once, in operation_id order."""
    from projections.apply import apply_batch

    col = collections.load(store, collection)
    done = threading.Event()
    acks: list[tuple[int, int]] = []  # (operation_id, value written to the shared point)
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(40):
            value = w * 1000 + i
            body = [
                {"id": 0, "vector": [1, 1, 1, 1], "payload": {"v": value}},
                {"id": value + 1, "vector": [0, 0, 0, 1]},
            ]
            op = upsert(client, collection, body, wait="false").json["result"]["operation_id"]
            with lock:
                acks.append((op, value))

    def applier() -> None:
        while not done.is_set():
            apply_batch(store, col, max_events=3)

    appliers = [threading.Thread(target=applier) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in appliers + writers:
        t.start()
    for t in writers:
        t.join()
    count = client.simulate_post(f"/collections/{collection}/points/count", json={}).json["result"]
    done.set()
    for t in appliers:
        t.join()
    assert count == {"count": 8 * 40 + 1}
    assert sorted(op for op, _ in acks) == list(range(8 * 40))
    assert int(store.hget(col.keys.stats, "ops")) == 8 * 40  # no operation applied twice
    last_value = max(acks)[1]  # the shared point holds the write with the highest operation_id
    shared = client.simulate_get(f"/collections/{collection}/points/0").json["result"]
    assert shared["payload"] == {"v": last_value}


def test_wait_timeout_when_no_worker_runs_then_a_worker_completes_it(redis_url, name):
    """On a database no worker serves, wait=true with a timeout answers wait_timeout; the event
    stays in the log, and a worker started later applies it."""
    lonely_url = unserved_database(redis_url, 3)
    client = testing.TestClient(create_app(Settings(redis_url=lonely_url, read_your_writes=False)))
    client.simulate_put(f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}})
    path = f"/collections/{name}/points"
    body = {"points": [{"id": uuid.uuid4().hex, "vector": [1, 2]}]}
    response = client.simulate_put(path, params={"wait": "true", "timeout": "1"}, json=body)
    assert response.json["result"] == {"operation_id": 0, "status": "wait_timeout"}
    assert client.simulate_post(f"{path}/count", json={}).json["result"] == {"count": 0}
    with Cluster(lonely_url) as late:
        late.start_workers(1)
        waiting = testing.TestClient(create_app(Settings(redis_url=lonely_url)))
        assert waiting.simulate_post(f"{path}/count", json={}).json["result"] == {"count": 1}


def test_a_pod_that_cached_a_collection_follows_its_re_creation_elsewhere(served, workers, name):
    """Pod A has looked the collection up; pod B deletes and re-creates it (a new keyspace).
    Pod A's next write and read go to the new collection, and nothing reaches the old one."""
    pod_a = testing.TestClient(create_app(served.settings()))
    pod_b = testing.TestClient(create_app(served.settings()))
    config = {"vectors": {"size": 2, "distance": "Dot"}}
    pod_b.simulate_put(f"/collections/{name}", json=config)
    upsert(pod_a, name, [{"id": 1, "vector": [1, 1]}], wait="true")
    pod_b.simulate_delete(f"/collections/{name}")
    pod_b.simulate_put(f"/collections/{name}", json=config)
    written = upsert(pod_a, name, [{"id": 2, "vector": [2, 2]}], wait="true").json["result"]
    assert written == {"operation_id": 0, "status": "completed"}
    page = pod_a.simulate_post(f"/collections/{name}/points/scroll", json={}).json["result"]
    assert [p["id"] for p in page["points"]] == [2]
    pod_b.simulate_delete(f"/collections/{name}")
    pod_b.simulate_put(f"/collections/{name}", json={"vectors": {"size": 3, "distance": "Dot"}})
    resized = upsert(pod_a, name, [{"id": 3, "vector": [1, 2, 3]}], wait="true")
    assert resized.json["result"]["status"] == "completed"
