"""Fixtures of the end-to-end tests: the Procfile's processes on the session's server (or, with
TEST_CLUSTER set, on an embedded Redis Cluster)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import Cluster


@pytest.fixture(scope="session")
def snapshots_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the session's web processes keep snapshots."""
    return f"file://{tmp_path_factory.mktemp('snapshots')}"


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest, snapshots_url: str) -> Iterator[str]:
    """The Procfile's web process and two of its workers, on the test server; with
    TEST_CLUSTER set, on an embedded Redis Cluster, the queue on a server of its own."""
    env = {"SNAPSHOTS_URL": snapshots_url}
    if os.environ.get("TEST_CLUSTER"):
        cluster, env["QUEUE_URL"] = request.getfixturevalue("served_cluster")
        store_url = cluster.url
    else:
        store_url = request.getfixturevalue("redis_url")
    with Cluster(store_url, env=env) as processes:
        processes.start_workers(2)
        [url] = processes.start_webs()
        yield url
