"""pointlog as the benchmark runs it: an embedded valkey-server in the work folder (unless a
Redis URL is given), the Procfile's `web` line with WEB_THREADS=16 and its `worker` line, each
process's output in `<workdir>/<name>.log`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.bench import redis_state
from tests.support import Cluster, embedded_server
from workers.embedded import EmbeddedServer

WEB_THREADS = 16


@dataclass
class Deployment:
    cluster: Cluster
    redis_url: str
    server: EmbeddedServer | None  # None: the Redis at redis_url was given

    @property
    def port(self) -> int:
        return self.cluster.webs[0].port

    def describe(self) -> str:
        """The server, for the report's header."""
        where = " embedded (appendonly everysec)" if self.server else f" at {self.redis_url}"
        return redis_state.server_version(self.redis_url) + where

    def stop(self) -> None:
        """The processes first, the server last (so nothing they write is lost)."""
        try:
            self.cluster.stop()
        finally:
            if self.server is not None:
                self.server.stop()


def start(workdir: Path, redis_url: str | None, workers: int) -> Deployment:
    """Returns once the web process accepts connections; stops what it started if it fails."""
    server = None
    if redis_url is None:
        server = embedded_server(workdir / "valkey")
        redis_url = server.url
    cluster = Cluster(redis_url, {"WEB_THREADS": str(WEB_THREADS)}, logs=workdir)
    deployment = Deployment(cluster, redis_url, server)
    try:
        cluster.start_workers(workers)
        cluster.start_webs()
    except BaseException:
        deployment.stop()
        raise
    return deployment
