"""Shared fixtures. Integration and end-to-end tests run against a real Redis-compatible server:
the embedded valkey-server (a fresh one in a temporary folder), or the server named by
TEST_REDIS_URL (whose database the tests write into: use a spare one, e.g. /15; tests that need a
database no worker process serves also use databases 2 to 4 of that server). With TEST_CLUSTER
set, the processes the integration and end-to-end tests serve (`served`) run on an embedded
Redis Cluster instead, their queue on a server of its own."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings

from tests.support import Cluster, S3Server, Served, embedded_cluster, embedded_server
from workers.embedded import EmbeddedCluster

TESTS = Path(__file__).resolve().parent

# Property tests check results, not timings: on a busy machine a first example that imports or
# compiles something can pass Hypothesis's default 200 ms deadline and fail a correct test.
settings.register_profile("pointlog", deadline=None)
settings.load_profile("pointlog")

# A test's folder says what it needs, so `pytest -m integration` (or -m e2e) selects by folder.
FOLDER_MARKS = {
    "integration": "integration",  # a real server
    "e2e": "e2e",  # real web and worker processes
    "faults": "e2e",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder, mark in FOLDER_MARKS.items():
            if TESTS / folder in item.path.parents:
                item.add_marker(mark)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    server = embedded_server(tmp_path_factory.mktemp("valkey"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis Cluster of three embedded primaries, started when a test first asks for it."""
    cluster = embedded_cluster(tmp_path_factory.mktemp("cluster"), 3)
    yield cluster.url
    cluster.stop()


@pytest.fixture(scope="session")
def served_cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedCluster, str]]:
    """Another cluster of three embedded primaries with a replica each, for the Procfile's
    processes to serve, and the URL of a plain server for their queue (QUEUE_URL)."""
    folder = tmp_path_factory.mktemp("served-cluster")
    cluster = embedded_cluster(folder / "cluster", 3, replicas=1)
    queue = embedded_server(folder / "queue")
    yield cluster, queue.url
    queue.stop()
    cluster.stop()


@pytest.fixture(scope="session")
def snapshots_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the session's web processes keep snapshots."""
    return f"file://{tmp_path_factory.mktemp('snapshots')}"


@pytest.fixture(scope="session")
def served(request: pytest.FixtureRequest, snapshots_url: str) -> Served:
    """What the session's worker and web processes serve: the test server; with TEST_CLUSTER
    set, an embedded Redis Cluster, the queue on a server of its own."""
    env = {"SNAPSHOTS_URL": snapshots_url}
    if not os.environ.get("TEST_CLUSTER"):
        return Served(request.getfixturevalue("redis_url"), env)
    cluster, env["QUEUE_URL"] = request.getfixturevalue("served_cluster")
    return Served(cluster.url, env)


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (moto's), started when a test first asks for one."""
    server = S3Server(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture
def bucket(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket on the S3 server, which this process's S3 clients reach; its URL."""
    for variable, value in s3.env.items():
        monkeypatch.setenv(variable, value)
    return s3.make_bucket(f"pl-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def workers(served: Served) -> Iterator[list[subprocess.Popen]]:
    """Two real worker processes, started from the Procfile's `worker` line."""
    with Cluster(served.url, env=served.env) as cluster:
        cluster.start_workers(2)
        yield cluster.workers


@pytest.fixture
def name() -> str:
    """A collection name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"
