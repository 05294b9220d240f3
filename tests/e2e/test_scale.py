"""Web pods on one server: a write acknowledged by one pod is seen by a read or a query on
another that starts after it (read-your-writes across pods, with wait=false), and a pod killed
while it loads its vector read model serves exact results once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from tests.support import Cluster, Served, wait_for_port


@pytest.fixture(scope="module")
def second_pod(served: Served, base_url: str) -> Iterator[str]:
    with Cluster(served.url, served.env) as cluster:
        [url] = cluster.start_webs()
        yield url


def test_a_write_acknowledged_on_one_pod_is_read_on_the_other(
    base_url: str, second_pod: str, name: str
) -> None:
    writer, reader = httpx.Client(base_url=base_url), httpx.Client(base_url=second_pod)
    writer.put(f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}})
    for i in range(200):
        body = {"points": [{"id": i, "vector": [i, 1], "payload": {"i": i}}]}
        ack = writer.put(f"/collections/{name}/points", params={"wait": "false"}, json=body).json()
        assert ack["result"]["status"] == "acknowledged"
        got = reader.get(f"/collections/{name}/points/{i}")
        assert got.status_code == 200 and got.json()["result"]["payload"] == {"i": i}
    count = reader.post(f"/collections/{name}/points/count", json={}).json()["result"]
    assert count == {"count": 200}


def held_checkpoint(pod: httpx.Client, name: str) -> float | None:
    """The checkpoint of the pod's vector read model of the collection (None: not held)."""
    for line in pod.get("/metrics").text.splitlines():
        if line.startswith(f'pointlog_vectors_checkpoint{{collection="{name}"}}'):
            return float(line.split()[-1])
    return None


def test_a_query_on_one_pod_finds_a_point_just_acknowledged_on_the_other(
    base_url: str, second_pod: str, name: str
) -> None:
    writer, reader = httpx.Client(base_url=base_url), httpx.Client(base_url=second_pod)
    writer.put(f"/collections/{name}", json={"vectors": {"size": 3, "distance": "Euclid"}})
    for i in range(100):
        body = {"points": [{"id": i, "vector": [i, -i, 0.5]}]}
        ack = writer.put(f"/collections/{name}/points", params={"wait": "false"}, json=body).json()
        assert ack["result"]["status"] == "acknowledged"
        query = {"query": [i, -i, 0.5], "limit": 1}
        found = reader.post(f"/collections/{name}/points/query", json=query).json()["result"]
        assert [(p["id"], p["score"]) for p in found["points"]] == [(i, 0.0)]
    assert held_checkpoint(reader, name) == 100  # served by the pod's vector read model


def test_a_pod_restarted_while_loading_serves_exact_results_once_reloaded(
    served: Served, name: str
) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(20_000, 32)).astype(np.float32)
    queries = rng.normal(size=(5, 32)).astype(np.float32)
    expected = [np.argsort(-(vectors @ q), kind="stable")[:10].tolist() for q in queries]
    with Cluster(served.url, served.env) as cluster:
        cluster.start_workers(1)
        [url] = cluster.start_webs()
        pod = httpx.Client(base_url=url, timeout=30)
        pod.put(f"/collections/{name}", json={"vectors": {"size": 32, "distance": "Dot"}})
        for start in range(0, len(vectors), 1000):
            points = [{"id": i, "vector": vectors[i].tolist()} for i in range(start, start + 1000)]
            pod.put(f"/collections/{name}/points", params={"wait": "true"}, json={"points": points})
        pod.post(f"/collections/{name}/points/query", json={"query": queries[0].tolist()})
        cluster.restart_web(0)  # while the first query's load is under way
        wait_for_port(cluster.webs[0].port, cluster.webs[0].process)
        for query, ids in zip(queries, expected, strict=True):
            body = {"query": query.tolist(), "limit": 10}
            found = pod.post(f"/collections/{name}/points/query", json=body).json()["result"]
            assert [p["id"] for p in found["points"]] == ids
