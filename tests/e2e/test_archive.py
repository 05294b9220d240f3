"""Retention with an archive, as deployed: the Procfile's workers move old log entries to a
folder or to a real S3 server while clients write, and replay, the change feed, point history
and the `log` command still read the whole log."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import redis
from qdrant_client import QdrantClient, models

from projections import collections, retention
from tests.support import Cluster, pointlog

HOT_OPERATIONS = 40
WRITES = 300


def archived_once_settled(store, name: str, seconds: float = 60.0) -> retention.HotLog:
    """The hot log once the workers have applied everything and moved out what is over the
    limit (a condition checked until it holds, or the test fails)."""
    keys = collections.load(store, name).keys
    limits = retention.Limits(HOT_OPERATIONS, 1024)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        hot = retention.hot_log(store, keys)
        if hot.applied == WRITES and not hot.over(limits, retention.SEGMENT_SHARE):
            return hot
        time.sleep(0.1)  # between two looks at the store
    raise AssertionError(f"not archived after {seconds}s: {hot}")


@pytest.fixture(params=["folder", "s3"])
def archive_env(request, tmp_path) -> dict[str, str]:
    if request.param == "folder":
        return {"ARCHIVE_URL": f"file://{tmp_path}/archive"}
    s3 = request.getfixturevalue("s3")
    return {"ARCHIVE_URL": f"{request.getfixturevalue('bucket')}/archive", **s3.env}


def test_the_workers_archive_and_every_reader_still_sees_the_whole_log(
    redis_url, name, archive_env, tmp_path
):
    store = redis.Redis.from_url(redis_url)
    env = {**archive_env, "HOT_LOG_OPERATIONS": str(HOT_OPERATIONS), "SWEEP_SECONDS": "0.2"}
    with Cluster(redis_url, env, logs=tmp_path) as cluster:
        cluster.start_workers(2)
        [url] = cluster.start_webs()
        client = QdrantClient(url=url, prefer_grpc=False, timeout=30)
        client.create_collection(name, models.VectorParams(size=4, distance=models.Distance.DOT))
        for i in range(WRITES):
            point = models.PointStruct(id=i % 50, vector=[i, 1, 0, 0], payload={"n": i})
            client.upsert(name, [point], wait=i == WRITES - 1)
        hot = archived_once_settled(store, name)
        assert hot.archived >= WRITES - HOT_OPERATIONS * (1 + retention.SEGMENT_SHARE)

        feed, since = [], -1
        while True:
            response = httpx.get(f"{url}/collections/{name}/changes", params={"since": since})
            page = response.json()["result"]
            if not page["operations"]:
                break
            feed += page["operations"]
            since = page["last_operation_id"]
        assert [op["operation_id"] for op in feed] == list(range(WRITES))
        assert [op["points"] for op in feed[:3]] == [[0], [1], [2]]

        history = httpx.get(f"{url}/collections/{name}/points/7/history").json()["result"]
        touched = [op["operation_id"] for op in history["operations"]]
        assert touched == list(range(7, WRITES, 50))  # archived ones first, then the hot ones

        verified = pointlog(redis_url, "replay", name, "--verify", env=archive_env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"replaying {WRITES} operations equals the live one" in verified.stdout

        status = pointlog(redis_url, "archive", "status", env=archive_env)
        [line] = [line for line in status.stdout.splitlines() if line.startswith(name)]
        [(last, segments)] = re.findall(r"0\.\.(\d+) \((\d+) seg\)", line)
        assert int(last) + 1 >= hot.archived and int(segments) >= 2, status.stdout

        logged = pointlog(redis_url, "log", name, env=archive_env)
        assert len(logged.stdout.splitlines()) == WRITES
        assert client.count(name).count == 50
