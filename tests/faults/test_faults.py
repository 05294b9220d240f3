"""The fault run (tests/faults/chaos.py), short enough for the suite: workers SIGKILLed and
restarted, a web pod killed, the server killed and restarted on its append-only file, and a
cluster's primary killed and replaced by its replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import chaos

pytestmark = pytest.mark.own_server


def test_killed_workers_and_web_pod_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    figures = chaos.run(seconds=12, restart_server=False, data_dir=tmp_path)
    assert figures["worker kills"] >= 3 and figures["web kills"] == 1
    assert figures["operations acknowledged"] > 100


def test_a_server_crash_mid_load_loses_no_acknowledged_operation(tmp_path: Path) -> None:
    figures = chaos.run(seconds=12, restart_server=True, data_dir=tmp_path)
    assert figures["server kills"] == 1
    assert figures["operations acknowledged"] > 100


def test_archiving_through_killed_workers_and_an_s3_restart_loses_nothing(tmp_path: Path) -> None:
    figures = chaos.run(
        seconds=12, restart_server=False, data_dir=tmp_path, archive="s3", restart_s3=True
    )
    assert figures["S3 server restarts"] == 1 and figures["worker kills"] >= 3
    # the log moved out while workers were being killed (chaos.check_archive: all of it reads)
    assert figures["operations archived"] > 0 and figures["segments"] > 1


def test_a_cluster_failover_with_replicated_appends_loses_nothing(tmp_path: Path) -> None:
    """A collection of 3 shards on 3 primaries, the primary holding its first shard SIGKILLed
    mid-load, its replica promoted: with APPEND_REPLICAS=1, every acknowledged operation is
    applied once in its shard, and each shard's replay equals it (chaos.check)."""
    figures = chaos.run(
        seconds=15,
        restart_server=True,
        data_dir=tmp_path,
        cluster=True,
        append_replicas=1,
        shards=3,
    )
    assert figures["server kills"] == 1 and figures["acknowledged, then lost"] == 0
    assert figures["shards"] == 3
    assert figures["operations acknowledged"] > 100
