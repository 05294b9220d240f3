"""Two web pods on one server: a write acknowledged by one pod is seen by a read on the other
that starts after it (read-your-writes across pods, with wait=false)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import Cluster


@pytest.fixture(scope="module")
def second_pod(redis_url: str, base_url: str) -> Iterator[str]:
    with Cluster(redis_url) as cluster:
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
