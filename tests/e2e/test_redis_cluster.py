"""The Procfile's processes on a Redis Cluster of three embedded primaries, the job queue on a
plain server of its own (QUEUE_URL), driven by qdrant-client: collections land on different
nodes, and the point API, aliases and read-your-writes work as on one server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from qdrant_client import QdrantClient, models

from tests.support import Cluster, pointlog
from workers.embedded import EmbeddedCluster

COLLECTIONS = 6
POINTS = 50
pytestmark = pytest.mark.own_server


@pytest.fixture(scope="module")
def client(
    served_cluster: tuple[EmbeddedCluster, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QdrantClient]:
    cluster, queue_url = served_cluster
    logs = tmp_path_factory.mktemp("logs")
    with Cluster(cluster.url, {"QUEUE_URL": queue_url}, logs=logs) as processes:
        processes.start_workers(2)
        (url,) = processes.start_webs(1)
        yield QdrantClient(url=url, timeout=60, prefer_grpc=False)


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


def test_a_cluster_without_a_queue_server_is_refused(
    served_cluster: tuple[EmbeddedCluster, str],
) -> None:
    cluster, _ = served_cluster
    status = pointlog(cluster.url, "status")
    assert status.returncode != 0
    assert "QUEUE_URL" in status.stdout + status.stderr
