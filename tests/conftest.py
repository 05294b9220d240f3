"""Shared fixtures. Integration and end-to-end tests run against a real Redis-compatible server:
the embedded valkey-server (a fresh one in a temporary folder), or the server named by
TEST_REDIS_URL (whose database the tests write into: use a spare one, e.g. /15)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support import free_port, spawn, stop
from workers.embedded import EmbeddedServer


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    server = EmbeddedServer(tmp_path_factory.mktemp("valkey"), free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def workers(redis_url: str) -> Iterator[list]:
    """Two real worker processes, started from the Procfile's `worker` line."""
    from tests.support import procfile

    command = procfile()["worker"]
    processes = [spawn(command, {"REDIS_URL": redis_url}) for _ in range(2)]
    yield processes
    for process in processes:
        stop(process)


@pytest.fixture
def name() -> str:
    """A collection name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"
