"""Fixtures of the end-to-end tests: the Procfile's processes on the session's server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Cluster


@pytest.fixture(scope="session")
def snapshots_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the session's web processes keep snapshots."""
    return f"file://{tmp_path_factory.mktemp('snapshots')}"


@pytest.fixture(scope="session")
def base_url(redis_url: str, snapshots_url: str) -> Iterator[str]:
    """The Procfile's web process and two of its workers, on the test server."""
    with Cluster(redis_url, env={"SNAPSHOTS_URL": snapshots_url}) as cluster:
        cluster.start_workers(2)
        [url] = cluster.start_webs()
        yield url
