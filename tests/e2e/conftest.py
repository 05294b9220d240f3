from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import free_port, procfile, spawn, stop, wait_for_port


@pytest.fixture(scope="session")
def base_url(redis_url: str) -> Iterator[str]:
    """The Procfile's web process and two of its workers, on the test server."""
    port = free_port()
    commands = procfile()
    env = {"REDIS_URL": redis_url, "PORT": str(port)}
    web = spawn(commands["web"], env)
    workers = [spawn(commands["worker"], env) for _ in range(2)]
    try:
        wait_for_port(port, web)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in [web, *workers]:
            stop(process)
