"""Fixtures of the end-to-end tests: the Procfile's processes on what the session serves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Cluster, Served


@pytest.fixture(scope="session")
def base_url(served: Served) -> Iterator[str]:
    """The Procfile's web process and two of its workers, on what the session serves."""
    with Cluster(served.url, env=served.env) as processes:
        processes.start_workers(2)
        [url] = processes.start_webs()
        yield url
