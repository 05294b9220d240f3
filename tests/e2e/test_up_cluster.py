"""`pointlog up --cluster 3`: an embedded Redis Cluster of three primaries and a server for the
queue, the web process and a worker, all from one command; stopped and started again, it finds
its cluster formed and its points kept."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models

from tests.support import ROOT, free_port, wait_for_port
from workers.embedded import CLUSTER_BUS_OFFSET

pytestmark = pytest.mark.own_server
PRIMARIES = 3


def _free_run(size: int) -> int:
    """A port whose next `size` ports, and their cluster bus ports, are free too."""
    while True:
        first = free_port()
        if first + size + CLUSTER_BUS_OFFSET > 65535:
            continue  # a bus port past the last
        wanted = [first + i for i in range(size + 1)]
        wanted += [port + CLUSTER_BUS_OFFSET for port in wanted[1:]]
        if all(_free(port) for port in wanted):
            return first


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _up(data: Path, port: int, redis_port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "workers.cli", "up", "--cluster", str(PRIMARIES)]
    command += ["--port", str(port), "--redis-port", str(redis_port), "--workers", "1"]
    command += ["--data-dir", str(data)]
    env = {"PATH": "/usr/bin:/bin", "WEB_THREADS": "4"}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    wait_for_port(port, process, seconds=60)
    return process


def test_up_runs_on_an_embedded_cluster_and_comes_back(tmp_path: Path, name: str) -> None:
    port, redis_port = free_port(), _free_run(PRIMARIES)
    process = _up(tmp_path, port, redis_port)
    try:
        client = QdrantClient(url=f"http://127.0.0.1:{port}", timeout=60)
        client.create_collection(name, models.VectorParams(size=2, distance=models.Distance.DOT))
        points = [models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(20)]
        client.upsert(name, points, wait=True)
    finally:
        _stop(process)
    process = _up(tmp_path, port, redis_port)
    try:
        assert client.count(name, exact=True).count == 20
        client.upsert(name, [models.PointStruct(id=20, vector=[1.0, 20.0])], wait=True)
        assert client.query_points(name, query=[0.0, 1.0], limit=1).points[0].id == 20
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C would: `up` stops its processes, then its servers."""
    process.terminate()
    assert process.wait(timeout=120) == 0
