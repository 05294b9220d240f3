"""Fixtures of the end-to-end tests: the Procfile's processes on the session's server (or, with
TEST_CLUSTER set, on an embedded Redis Cluster)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import Cluster, Served


@pytest.fixture(scope="session")
def snapshots_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the session's web processes keep snapshots."""
    return f"file://{tmp_path_factory.mktemp('snapshots')}"


@pytest.fixture(scope="session")
def served(request: pytest.FixtureRequest, snapshots_url: str) -> Served:
    """The test server; with TEST_CLUSTER set, an embedded Redis Cluster, the queue on a
    server of its own."""
    env = {"SNAPSHOTS_URL": snapshots_url}
    if not os.environ.get("TEST_CLUSTER"):
        return Served(request.getfixturevalue("redis_url"), env)
    cluster, env["QUEUE_URL"] = request.getfixturevalue("served_cluster")
    return Served(cluster.url, env)


@pytest.fixture(scope="session")
def base_url(served: Served) -> Iterator[str]:
    """The Procfile's web process and two of its workers, on what the session serves."""
    with Cluster(served.url, env=served.env) as processes:
        processes.start_workers(2)
        [url] = processes.start_webs()
        yield url
