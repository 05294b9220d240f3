"""Snapshots through qdrant-client and curl-style HTTP, against the running processes: take,
list, download, recover by location and by upload, delete; and a replay from a snapshot that
`--verify` finds equal to the live projection."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture
from tests.support import Served

VECTORS = models.VectorParams(size=4, distance="Dot")


def fill(client: QdrantClient, name: str, first: int, n: int) -> None:
    vectors = np.random.default_rng(first).normal(size=(n, 4)).round(4).tolist()
    points = [
        models.PointStruct(id=first + i, vector=v, payload={"n": first + i, "tag": f"t{i % 4}"})
        for i, v in enumerate(vectors)
    ]
    client.upsert(name, points, wait=True)


def everything(client: QdrantClient, name: str) -> list[tuple]:
    points, _ = client.scroll(name, limit=1000, with_vectors=True)
    return sorted((p.id, p.payload["n"], tuple(p.vector)) for p in points)


@pytest.mark.parametrize("shards", [1, 3])
def test_a_snapshot_recovers_by_location_and_by_upload(
    client: QdrantClient,
    http: httpx.Client,
    base_url: str,
    name: str,
    served: Served,
    shards: int,
) -> None:
    """On a collection of several shards the snapshot holds each shard's, and a recovery
    makes a collection of as many."""
    client.create_collection(name, vectors_config=VECTORS, shard_number=shards)
    client.create_payload_index(name, "tag", "keyword", wait=True)
    fill(client, name, 0, 50)
    taken = client.create_snapshot(name)
    assert taken is not None and taken.name.endswith(".snapshot")
    assert [s.name for s in client.list_snapshots(name)] == [taken.name]
    fill(client, name, 100, 10)  # after the snapshot
    at_snapshot = [p for p in everything(client, name) if p[0] < 100]

    location = f"{base_url}/collections/{name}/snapshots/{taken.name}"
    assert client.recover_snapshot(f"{name}-s", location=location, wait=True)
    assert everything(client, f"{name}-s") == at_snapshot
    recovered = http.get(f"/collections/{name}-s/cluster").json()["result"]
    assert recovered["shard_count"] == shards
    assert client.get_collection(f"{name}-s").payload_schema["tag"].points == 50
    hits = client.query_points(f"{name}-s", query=[1, 0, 0, 0], limit=3).points
    assert hits and hits == client.query_points(name, query=[1, 0, 0, 0], limit=3).points

    download = http.get(f"/collections/{name}/snapshots/{taken.name}")
    assert download.status_code == 200 and len(download.content) == taken.size
    files = {"snapshot": (taken.name, download.content, "application/octet-stream")}
    uploaded = http.post(
        f"/collections/{name}-n/snapshots/upload", files=files, params={"checksum": taken.checksum}
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["result"] is True
    assert everything(client, f"{name}-n") == at_snapshot
    fill(client, f"{name}-n", 200, 1)  # the recovered collection takes writes as any other
    assert len(everything(client, f"{name}-n")) == 51
    verified = served.pointlog("replay", f"{name}-n", "--verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    equal = [line for line in verified.stdout.splitlines() if "equals the live one" in line]
    assert len(equal) == shards, verified.stdout  # a line a shard
    assert all("(from a snapshot at 2)" in line for line in equal), verified.stdout

    client.delete_snapshot(name, taken.name, wait=True)
    assert client.list_snapshots(name) == []


def test_bad_snapshots_are_refused_and_change_nothing(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    client.create_collection(name, vectors_config=VECTORS)
    fill(client, name, 0, 5)
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("config.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"{}"))
    files = {"snapshot": ("qdrant.snapshot", tar.getvalue(), "application/octet-stream")}
    refused = http.post(f"/collections/{name}/snapshots/upload", files=files)
    assert refused.status_code == 400
    assert "this is a Qdrant snapshot (a tar file)" in refused.json()["status"]["error"]
    taken = client.create_snapshot(name)
    assert taken is not None
    mismatch = http.put(
        f"/collections/{name}/snapshots/recover",
        json={"location": "file:///nonexistent/x.snapshot"},
    )
    assert mismatch.status_code == 400 and "Failed to download" in mismatch.text
    assert len(everything(client, name)) == 5
    missing = http.get(f"/collections/{name}/snapshots/nope.snapshot")
    assert missing.status_code == 404


def test_a_replay_from_a_snapshot_equals_the_live_projection(
    client: QdrantClient, name: str, served: Served
) -> None:
    client.create_collection(name, vectors_config=VECTORS)
    fill(client, name, 0, 40)
    taken = client.create_snapshot(name)
    assert taken is not None
    fill(client, name, 20, 40)  # replaces half, adds half
    client.delete(name, models.PointIdsList(points=[1, 2, 3]), wait=True)
    verified = served.pointlog("replay", name, "--verify", "--from-snapshot")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "(from a snapshot at 1) equals the live one" in verified.stdout
    switched = served.pointlog("replay", name, "--from-snapshot")
    assert switched.returncode == 0, switched.stderr
    assert len(everything(client, name)) == 57


def test_a_full_snapshot_brings_back_every_collection(
    client: QdrantClient,
    http: httpx.Client,
    name: str,
    served: Served,
    tmp_path: Path,
) -> None:
    for collection, shards in ((name, 1), (f"{name}-s", 2)):
        client.create_collection(collection, vectors_config=VECTORS, shard_number=shards)
        fill(client, collection, 0, 12)
    before = {c: everything(client, c) for c in (name, f"{name}-s")}
    full = client.create_full_snapshot()
    assert full is not None and full.name in [s.name for s in client.list_full_snapshots()]
    download = http.get(f"/snapshots/{full.name}")
    assert download.status_code == 200 and len(download.content) == full.size
    path = tmp_path / full.name
    path.write_bytes(download.content)
    for collection in before:
        client.delete_collection(collection)
    recovered = served.pointlog("recover", str(path))
    assert recovered.returncode == 0, recovered.stderr
    assert {c: everything(client, c) for c in before} == before
    assert client.delete_full_snapshot(full.name)
    assert full.name not in [s.name for s in client.list_full_snapshots()]
