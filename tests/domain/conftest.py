"""The domain tests run against every store pointlog supports: fakeredis (fast, in-process),
a real Redis-compatible server (the session's embedded valkey, or TEST_REDIS_URL) and a Redis
Cluster of three embedded primaries, as one suite, so a behaviour that holds on one and not
another shows as a failing parameter. On the server they use a database of their own: the
worker processes other tests start would otherwise sweep up their collections and apply them
behind the tests' backs (no worker serves the cluster, whose only database is 0)."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest
import redis

from projections import collections, store
from projections.archive import Archive
from projections.snapshot_store import SnapshotStore
from tests.support import unserved_database

DOMAIN_DB = 2


@pytest.fixture(scope="session")
def domain_url(redis_url: str) -> str:
    return unserved_database(redis_url, DOMAIN_DB)


@pytest.fixture(
    params=[
        "fakeredis",
        pytest.param("server", marks=pytest.mark.integration),
        # A cluster of its own: the run against another server (TEST_REDIS_URL) leaves it out.
        pytest.param("cluster", marks=[pytest.mark.integration, pytest.mark.own_server]),
    ]
)
def r(request: pytest.FixtureRequest) -> redis.Redis:
    if request.param == "fakeredis":
        return fakeredis.FakeRedis()
    if request.param == "cluster":
        return store.connect(request.getfixturevalue("cluster_url"))  # a cluster's client
    return redis.Redis.from_url(request.getfixturevalue("domain_url"))


@pytest.fixture
def col(r: redis.Redis, name: str) -> collections.Collection:
    """A collection with two named 2-d vectors, `a` and `b`."""
    config = collections.validate_create(
        {"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 2, "distance": "Dot"}}}
    )
    return collections.create(r, name, config)


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.integration)])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    """An archive in each kind of storage pointlog supports: a folder, and a real S3 server."""
    if request.param == "folder":
        return Archive(f"file://{tmp_path}/archive")
    return Archive(f"{request.getfixturevalue('bucket')}/archive")


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.integration)])
def kept(request: pytest.FixtureRequest, tmp_path: Path) -> SnapshotStore:
    """A snapshot store in a folder, and on a real S3 server."""
    if request.param == "folder":
        return SnapshotStore(f"file://{tmp_path}/snapshots")
    return SnapshotStore(f"{request.getfixturevalue('bucket')}/snapshots")
