"""Helpers for tests that run real processes: an embedded server, the Procfile's web and worker
processes, free ports, starting and stopping them. Callers wait on events (a port accepting
connections, a process exiting), never on a fixed sleep."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import fsspec
import redis

from projections.settings import Settings
from workers.embedded import EmbeddedCluster, EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20.0) -> None:
    """Block until something accepts connections on the port (or the process died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # between two connection attempts
    raise RuntimeError(f"nothing listens on port {port} after {seconds}s")


def spawn(command: str, env: dict[str, str], output: Path | None = None) -> subprocess.Popen:
    """Start a Procfile-style command line with the virtualenv's scripts first on PATH; with
    `output`, the process's stdout and stderr are appended to that file."""
    full_env = {**os.environ, **env}
    full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
    args = ["/bin/sh", "-c", f"exec {command}"]
    if output is None:
        return subprocess.Popen(args, cwd=ROOT, env=full_env)
    with output.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)


def pointlog(
    redis_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the `pointlog` command on the server at `redis_url` (with `env` on top); its output,
    as text."""
    command, full_env = _pointlog(redis_url, args, env)
    return subprocess.run(
        command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def pointlog_following(
    redis_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start the `pointlog` command on the server at `redis_url` (with `env` on top), its
    output piped (text)."""
    command, full_env = _pointlog(redis_url, args, env)
    return subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, text=True)


def _pointlog(
    redis_url: str, args: tuple[str, ...], env: dict[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    full_env = {"REDIS_URL": redis_url, "PATH": "/usr/bin:/bin", **(env or {})}
    return [sys.executable, "-m", "workers.cli", *args], full_env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, as a crash would, and wait until the process is gone."""
    process.kill()
    process.wait()


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def embedded_server(folder: Path, fsync: str = "everysec") -> EmbeddedServer:
    """A fresh embedded valkey-server on a free port, keeping its data in `folder`; it answers
    when this returns."""
    server = EmbeddedServer(folder, free_port(), fsync=fsync)
    server.start()
    return server


def embedded_cluster(
    folder: Path, primaries: int, replicas: int = 0, fsync: str = "everysec"
) -> EmbeddedCluster:
    """A fresh embedded Redis Cluster on free ports (`replicas` replicas of each primary),
    keeping its nodes' data under `folder`; every node sees it ok when this returns."""
    ports = [(free_port(), free_port()) for _ in range(primaries)]
    replica_ports = [(free_port(), free_port()) for _ in range(primaries * replicas)]
    cluster = EmbeddedCluster(folder, ports, replica_ports, fsync)
    cluster.start()
    return cluster


@dataclass(frozen=True)
class Served:
    """What a session's processes run on: REDIS_URL, and the rest of their environment."""

    url: str
    env: dict[str, str]

    def pointlog(self, *args: str) -> subprocess.CompletedProcess:
        """The `pointlog` command, run as the session's processes are configured."""
        return pointlog(self.url, *args, env=self.env)

    def pointlog_following(self, *args: str) -> subprocess.Popen:
        return pointlog_following(self.url, *args, env=self.env)

    def settings(self, **overrides: Any) -> Settings:
        """Settings of an app in the test's own process that serves what the session serves."""
        return Settings(
            redis_url=self.url,
            queue_url=self.env.get("QUEUE_URL"),
            snapshots_url=self.env.get("SNAPSHOTS_URL"),
            **overrides,
        )


@dataclass
class Web:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Cluster:
    """The Procfile's `web` and `worker` processes on one Redis-compatible server, started from
    the Procfile's own command lines and stopped together (as a context manager, on exit).

    `env` goes to every process, on top of REDIS_URL; with `logs`, each process's output goes to
    `logs/<name>.log` (names: web1, web2, ..., worker1, worker2, ...)."""

    def __init__(
        self, redis_url: str, env: dict[str, str] | None = None, logs: Path | None = None
    ) -> None:
        self.env = {"REDIS_URL": redis_url, **(env or {})}
        self.logs = logs
        self.commands = procfile()
        self.webs: list[Web] = []
        self.workers: list[subprocess.Popen] = []

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start_workers(self, count: int) -> None:
        for _ in range(count):
            self.workers.append(self._worker(len(self.workers)))

    def start_webs(self, count: int = 1) -> list[str]:
        """Start `count` web processes on free ports; returns their URLs once all of them
        accept connections."""
        first = len(self.webs)
        for index in range(first, first + count):
            port = free_port()
            self.webs.append(Web(port, self._web(index, port)))
        started = self.webs[first:]
        for web in started:
            wait_for_port(web.port, web.process)
        return [web.url for web in started]

    def restart_worker(self, index: int) -> None:
        """SIGKILL a worker and start another in its place."""
        kill(self.workers[index])
        self.workers[index] = self._worker(index)

    def restart_web(self, index: int) -> None:
        """SIGKILL a web process and start another on its port; this does not wait for it to
        listen (clients see the pod down meanwhile, as they would on a platform)."""
        web = self.webs[index]
        kill(web.process)
        web.process = self._web(index, web.port)

    def processes(self) -> dict[str, subprocess.Popen]:
        named = {f"web{k + 1}": web.process for k, web in enumerate(self.webs)}
        named.update({f"worker{k + 1}": process for k, process in enumerate(self.workers)})
        return named

    def dead(self) -> list[str]:
        """What exited, and with which code: for error messages."""
        return [
            f"{name} exited with {process.returncode}"
            for name, process in self.processes().items()
            if process.poll() is not None
        ]

    def stop(self) -> None:
        for process in self.processes().values():
            stop(process)

    def _web(self, index: int, port: int) -> subprocess.Popen:
        env = {**self.env, "PORT": str(port)}
        return spawn(self.commands["web"], env, self._log(f"web{index + 1}"))

    def _worker(self, index: int) -> subprocess.Popen:
        return spawn(self.commands["worker"], self.env, self._log(f"worker{index + 1}"))

    def _log(self, name: str) -> Path | None:
        return None if self.logs is None else self.logs / f"{name}.log"


class S3Server:
    """moto's S3-compatible server in a process of its own, on a free port. It keeps every
    request in `folder/requests.jsonl` (moto's recorder), so `restart` brings it back with the
    objects it held, as a real object store comes back from a restart."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self._recording = folder / "requests.jsonl"
        self.process = self._start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach it (any key is accepted)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "pointlog",
            "AWS_SECRET_ACCESS_KEY": "pointlog",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def make_bucket(self, name: str) -> str:
        """A new bucket; its URL."""
        fs = fsspec.filesystem(
            "s3",
            key="pointlog",
            secret="pointlog",
            client_kwargs={"endpoint_url": self.endpoint},
            skip_instance_cache=True,
        )
        fs.mkdir(name)
        return f"s3://{name}"

    def _start(self) -> subprocess.Popen:
        env = {
            **os.environ,
            "MOTO_ENABLE_RECORDING": "1",
            "MOTO_RECORDER_FILEPATH": str(self._recording),
        }
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, process)
        return process

    def restart(self) -> None:
        """SIGKILL the server, start it again on its port and replay what it was asked to keep."""
        kill(self.process)
        self.process = self._start()
        replay = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/replay-recording", method="POST"
        )
        urllib.request.urlopen(replay, timeout=60).close()

    def stop(self) -> None:
        stop(self.process)


def unserved_database(redis_url: str, db: int) -> str:
    """The URL of database `db` of the test server, emptied: no worker process started by a
    test serves it, so nothing but the test itself applies what it appends there."""
    url = f"{redis_url.rsplit('/', 1)[0]}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url
