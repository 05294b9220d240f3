"""Redis over TLS as Heroku-style platforms hand it out: a `rediss://` URL to a server with a
self-signed certificate. The Procfile's web and worker processes and the CLI work over it with
REDIS_SSL_CERT_REQS=none, and refuse it clearly without."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models

from tests.support import Cluster, free_port, pointlog, stop, wait_for_port


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server that speaks only TLS, with a certificate made for this test."""
    server, openssl = shutil.which("redis-server"), shutil.which("openssl")
    if server is None or openssl is None:
        pytest.skip("needs redis-server (built with TLS) and openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert),
         "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
         "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        stop(process)


def test_the_procfile_processes_work_over_tls(tls_url: str, name: str, tmp_path: Path) -> None:
    with Cluster(tls_url, env={"REDIS_SSL_CERT_REQS": "none"}, logs=tmp_path) as cluster:
        cluster.start_workers(1)
        [url] = cluster.start_webs()
        client = QdrantClient(url=url, prefer_grpc=False, timeout=30)
        client.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
        client.upsert(name, [models.PointStruct(id=1, vector=[1, 0])], wait=True)
        assert [p.id for p in client.query_points(name, query=[1, 0]).points] == [1]
    status = pointlog(tls_url, "status", env={"REDIS_SSL_CERT_REQS": "none"})
    assert status.returncode == 0 and name in status.stdout


def test_a_self_signed_certificate_is_refused_unless_told(tls_url: str) -> None:
    refused = pointlog(tls_url, "status")
    assert refused.returncode == 1
    assert refused.stderr.startswith("pointlog: cannot reach the Redis at REDIS_URL: ")
    assert "certificate verify failed" in refused.stderr
