"""The Procfile's processes on a Redis Cluster of three embedded primaries, the job queue on a
plain server of its own (QUEUE_URL), driven by qdrant-client: collections land on different
nodes, and the point API, aliases and read-your-writes work as on one server."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest
import redis
from qdrant_client import QdrantClient, models

from tests.support import Cluster, pointlog
from workers.embedded import EmbeddedCluster

COLLECTIONS = 6
POINTS = 50
SHARDED_POINTS = 3000
pytestmark = pytest.mark.own_server


@pytest.fixture(scope="module")
def web_url(
    served_cluster: tuple[EmbeddedCluster, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    cluster, queue_url = served_cluster
    logs = tmp_path_factory.mktemp("logs")
    with Cluster(cluster.url, {"QUEUE_URL": queue_url}, logs=logs) as processes:
        processes.start_workers(2)
        (url,) = processes.start_webs(1)
        yield url


@pytest.fixture(scope="module")
def client(web_url: str) -> QdrantClient:
    return QdrantClient(url=web_url, timeout=60, prefer_grpc=False)


def _points(first: int) -> list[models.PointStruct]:
    return [
        models.PointStruct(id=first + i, vector=[1.0, float(first + i)], payload={"n": first + i})
        for i in range(POINTS)
    ]


def test_collections_spread_over_the_nodes(
    client: QdrantClient, served_cluster: tuple[EmbeddedCluster, str], name: str
) -> None:
    cluster, queue_url = served_cluster
    names = [f"{name}-{i}" for i in range(COLLECTIONS)]
    for each in names:
        client.create_collection(each, models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert(each, _points(0), wait=True)
    holding = [
        node.port for node in cluster.primaries if redis.Redis(port=node.port).keys("pl:{*}:seq")
    ]
    assert len(holding) >= 2, "every collection landed on one node"
    status = pointlog(cluster.url, "status", env={"QUEUE_URL": queue_url})
    assert status.returncode == 0, status.stderr
    shown = {line.split()[0]: line.split()[-1] for line in status.stdout.splitlines()[1:]}
    for each in names:
        assert shown[each].startswith("127.0.0.1:"), status.stdout
    assert len({shown[each] for each in names}) == len(holding)


def test_points_round_trip_and_reads_see_writes(client: QdrantClient, name: str) -> None:
    client.create_collection(name, models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, _points(0), wait=True)
    client.upsert(name, _points(POINTS))  # acknowledged only: reads must still see it
    assert client.count(name, exact=True).count == 2 * POINTS
    hits = client.query_points(name, query=[0.0, 1.0], limit=3).points
    assert [hit.id for hit in hits] == [2 * POINTS - 1, 2 * POINTS - 2, 2 * POINTS - 3]
    client.set_payload(name, {"tag": "x"}, points=[1, 2], wait=True)
    found = client.scroll(
        name,
        scroll_filter=models.Filter(
            must=[models.FieldCondition(key="tag", match=models.MatchValue(value="x"))]
        ),
    )[0]
    assert sorted(point.id for point in found) == [1, 2]
    client.delete(name, models.PointIdsList(points=[1]), wait=True)
    assert [point.id for point in client.retrieve(name, [1, 2])] == [2]


def test_aliases_on_the_cluster(client: QdrantClient, name: str) -> None:
    client.create_collection(name, models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, _points(0), wait=True)
    client.update_collection_aliases(
        [
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=name, alias_name=f"{name}-a")
            )
        ]
    )
    assert client.count(f"{name}-a", exact=True).count == POINTS
    assert [a.alias_name for a in client.get_collection_aliases(name).aliases] == [f"{name}-a"]


def test_a_collection_of_three_shards_spreads_over_the_primaries(
    client: QdrantClient, web_url: str, served_cluster: tuple[EmbeddedCluster, str], name: str
) -> None:
    """`shard_number: 3` on 3 primaries: a shard on each, the points within 10% of a third on
    each node, the answers those of one shard (exact search is deterministic), and each
    shard a row of `pointlog status`."""
    cluster, queue_url = served_cluster
    one, three = f"{name}-1", f"{name}-3"
    points = [
        models.PointStruct(id=i, vector=[math.cos(i), math.sin(i)], payload={"g": i % 7})
        for i in range(SHARDED_POINTS)
    ]
    for each, shards in ((one, 1), (three, 3)):
        client.create_collection(
            each, models.VectorParams(size=2, distance=models.Distance.COSINE), shard_number=shards
        )
        for start in range(0, len(points), 500):
            client.upsert(each, points[start : start + 500])  # acknowledged only
    described = httpx.get(f"{web_url}/collections/{three}/cluster").json()["result"]
    assert described["shard_count"] == 3
    nodes = {shard["node"] for shard in described["local_shards"]}
    assert nodes == {f"127.0.0.1:{node.port}" for node in cluster.primaries}
    counts = [shard["points_count"] for shard in described["local_shards"]]
    assert sum(counts) == SHARDED_POINTS
    assert all(abs(n - SHARDED_POINTS / 3) <= SHARDED_POINTS / 30 for n in counts), counts
    assert client.count(three, exact=True).count == SHARDED_POINTS
    flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=3))])
    for query in ([1.0, 0.0], [0.3, -0.7]):
        answers = [
            [(p.id, round(p.score, 5)) for p in client.query_points(c, query, limit=25).points]
            for c in (one, three)
        ]
        assert answers[0] == answers[1]
        filtered = [
            [p.id for p in client.query_points(c, query, query_filter=flt, limit=9).points]
            for c in (one, three)
        ]
        assert filtered[0] == filtered[1]
    pages = [client.scroll(c, limit=77, offset=400)[0] for c in (one, three)]
    assert [p.id for p in pages[0]] == [p.id for p in pages[1]] == list(range(400, 477))
    status = pointlog(cluster.url, "status", env={"QUEUE_URL": queue_url})
    rows = [line.split() for line in status.stdout.splitlines() if line.startswith(three)]
    assert [row[0] for row in rows] == [f"{three}[{n}]" for n in range(3)], status.stdout
    assert {row[-1] for row in rows} == nodes


def test_a_cluster_without_a_queue_server_is_refused(
    served_cluster: tuple[EmbeddedCluster, str],
) -> None:
    cluster, _ = served_cluster
    status = pointlog(cluster.url, "status")
    assert status.returncode != 0
    assert "QUEUE_URL" in status.stdout + status.stderr
