"""The log over time, measured: a bulk load, then full re-upserts of every point (a nightly
re-sync, a re-embedding), once with the whole log kept in Redis and once with an archive. Per
run: the write time, Redis's memory per point at the end against the raw point, the hot log's
share of it, the archive's bytes against the raw bytes of the events it holds, and whether a
replay (archive, then stream) equals the live projection.

    python -m tests.bench.retention [--points 20000] [--dim 128] [--rounds 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from projections import collections, retention
from projections.archive import Archive
from projections.settings import Settings
from tests.bench import redis_state
from tests.bench.data import Data, make_data
from tests.bench.http_client import Http
from tests.support import Cluster, embedded_server, pointlog

COLLECTION = "resync"
SETTLE_SECONDS = 300.0


@dataclass
class Figures:
    write_seconds: float
    memory_per_point: float
    raw_per_point: float
    hot_log_per_point: float
    archive_bytes: int
    archived_event_bytes: int
    replay_equal: bool
    keys: dict[str, float]  # the collection's keys (suffix after its hash tag): bytes per point


def write_all(http: Http, data: Data, rounds: int) -> float:
    """The load and `rounds` re-upserts of every point; seconds until all of it is applied."""
    started = time.perf_counter()
    path = f"/collections/{COLLECTION}/points"
    for _ in range(1 + rounds):
        for ids, vectors, payloads in data.batches():
            points = [
                {"id": i, "vector": v, "payload": p}
                for i, v, p in zip(ids, vectors, payloads, strict=True)
            ]
            http.request("PUT", path, {"points": points})
    http.request("POST", f"/collections/{COLLECTION}/points/count", {})  # read-your-writes
    return time.perf_counter() - started


def settled(r, limits: retention.Limits) -> None:
    """Wait until the workers have moved out what is over the hot log's limits (a hot log
    less than a segment's share past them stays as it is)."""
    keys = collections.load(r, COLLECTION).keys
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        hot = retention.hot_log(r, keys)
        if hot is not None and not hot.over(limits, retention.SEGMENT_SHARE):
            return
        time.sleep(0.2)  # between two looks at the store
    raise RuntimeError("the archive did not catch up")


def run_once(folder: Path, data: Data, rounds: int, env: dict[str, str]) -> Figures:
    server = embedded_server(folder / "valkey")
    cluster = Cluster(server.url, {"WEB_THREADS": "16", "SWEEP_SECONDS": "0.5", **env}, folder)
    try:
        cluster.start_workers(2)
        [url] = cluster.start_webs()
        http = Http(int(url.rsplit(":", 1)[1]))
        r = redis_state.connect(server.url)
        dim = data.vectors.shape[1]
        http.request(
            "PUT", f"/collections/{COLLECTION}", {"vectors": {"size": dim, "distance": "Cosine"}}
        )
        used_before = redis_state.used_memory(server.url)
        seconds = write_all(http, data, rounds)
        archive = Archive(env["ARCHIVE_URL"]) if "ARCHIVE_URL" in env else None
        if archive is not None:
            limits = retention.Limits(int(env["HOT_LOG_OPERATIONS"]), float(env["HOT_LOG_MB"]))
            settled(r, limits)
        keys = collections.load(r, COLLECTION).keys
        used = redis_state.used_memory(server.url) - used_before
        hot_log = int(r.memory_usage(keys.log, samples=0) or 0)
        held = archive.holdings(keys.cid) if archive else None
        events = (
            sum(archive.read(keys.cid, span).raw_bytes for span in archive.spans(keys.cid))
            if archive
            else 0
        )
        verify = pointlog(server.url, "replay", COLLECTION, "--verify", env=env)
        n = len(data)
        prefix = f"pl:{{{keys.cid}}}:"
        sizes = {
            key.decode()[len(prefix) :]: int(r.memory_usage(key, samples=0) or 0) / n
            for key in r.scan_iter(match=f"{prefix}*", count=1000)
        }
        return Figures(
            seconds,
            used / n,
            data.raw_bytes_per_point(),
            hot_log / n,
            held.bytes if held else 0,
            events,
            verify.returncode == 0,
            sizes,
        )
    finally:
        cluster.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best time")
    parser.add_argument("--hot-log-mb", type=float, default=None, help="default: HOT_LOG_MB's")
    args = parser.parse_args()
    data = make_data(args.points, args.dim)
    folder = Path(tempfile.mkdtemp(prefix="pointlog-retention-"))
    archived = {"ARCHIVE_URL": f"file://{folder}/archive/store"}
    defaults = Settings()
    archived["HOT_LOG_OPERATIONS"] = str(defaults.hot_log_operations)
    archived["HOT_LOG_MB"] = str(args.hot_log_mb or defaults.hot_log_mb)
    # the tightest memory: a 1 MB hot log, and a change feed of 100 commits for read models
    tight = {**archived, "HOT_LOG_MB": "1", "CHANGE_FEED_COMMITS": "100"}
    settings = {
        "whole log in Redis": {},
        f"archive, hot log {archived['HOT_LOG_MB']} MB": archived,
        "archive, hot log 1 MB, change feed 100 commits": tight,
    }
    runs: dict[str, Figures] = {}
    best: dict[str, float] = {}
    for attempt in range(args.repeat):  # alternating, so both see the same machine
        for number, (name, env) in enumerate(settings.items()):
            runs[name] = run_once(folder / f"{attempt}-{number}", data, args.rounds, env)
            best[name] = min(best.get(name, float("inf")), runs[name].write_seconds)
    for name, figures in runs.items():
        figures.write_seconds = best[name]
    print(
        f"{args.points} points of {args.dim} dims, load + {args.rounds} full re-upserts; "
        f"write time: the best of {args.repeat}"
    )
    print(
        "| run | write (s) | Redis B/point | x raw | hot log B/point | archive / events | replay |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, f in runs.items():
        ratio = f"{f.archive_bytes / f.archived_event_bytes:.3f}" if f.archived_event_bytes else "-"
        print(
            f"| {name} | {f.write_seconds:.1f} | {f.memory_per_point:,.0f} | "
            f"{f.memory_per_point / f.raw_per_point:.2f} | {f.hot_log_per_point:,.0f} | {ratio} | "
            f"{'equal' if f.replay_equal else 'DIFFERS'} |"
        )
    for name, f in runs.items():
        largest = sorted(f.keys.items(), key=lambda item: -item[1])[:6]
        print(f"{name}: " + ", ".join(f"{key} {size:,.0f}" for key, size in largest) + " B/point")


if __name__ == "__main__":
    main()
