"""Snapshots, measured on an embedded server: a collection of `--points` points with payloads
and a keyword index, loaded through the log. Per run: the time to take a snapshot, the
longest a client waited on Redis meanwhile (a PING every millisecond from another thread:
the copy script holds the server as long as it runs), the file's size against the
projection's memory in Redis, the time to recover it into a new collection, and a replay
from the snapshot against a replay from operation 0 (both with `--verify`-equal results).

    python -m tests.bench.snapshots [--points 50000] [--dim 128]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import redis

from projections import collections, events, log, snapshots
from projections.apply import apply_batch
from projections.settings import Settings
from projections.snapshot_store import SnapshotStore
from tests.bench.data import make_data
from tests.support import embedded_server
from workers.replay import replay

COLLECTION = "snapped"


def load(r: redis.Redis, points: int, dim: int) -> collections.Collection:
    config = collections.validate_create({"vectors": {"size": dim, "distance": "Cosine"}})
    collection = collections.create(r, COLLECTION, config)
    index = events.Event()
    events.add_create_index(index, collection, {"field_name": "tag", "field_schema": "keyword"})
    log.append(r, collection, index)
    for ids, vectors, payloads in make_data(points, dim).batches():
        event = events.Event()
        body = [
            {"id": i, "vector": v.tolist(), "payload": {**p, "tag": f"t{i % 50}"}}
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        events.add_upsert(event, collection, {"points": body})
        log.append(r, collection, event)
    while apply_batch(r, collection, 64) is not None:
        pass
    return collection


class LongestWait:
    """PINGs the server every millisecond from a thread; the slowest answer."""

    def __init__(self, url: str) -> None:
        self._r = redis.Redis.from_url(url)
        self._stop = threading.Event()
        self.longest = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LongestWait:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            started = time.perf_counter()
            self._r.ping()
            self.longest = max(self.longest, time.perf_counter() - started)


def projection_bytes(r: redis.Redis, collection: collections.Collection) -> int:
    keys = collection.keys
    names = [keys.payload, keys.ids, *(keys.vectors(n) for n in collection.vector_names)]
    return sum(int(r.memory_usage(k, samples=0) or 0) for k in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = embedded_server(Path(folder) / "redis")
        try:
            r = redis.Redis.from_url(server.url)
            collection = load(r, args.points, args.dim)
            url = f"file://{folder}/snapshots"
            store, settings = SnapshotStore(url), Settings(snapshots_url=url)
            with LongestWait(server.url) as waited:
                started = time.perf_counter()
                taken = snapshots.take(r, collection, store)
                take_seconds = time.perf_counter() - started
            started = time.perf_counter()
            with store.open(COLLECTION, taken.name) as source:
                snapshots.recover(r, f"{COLLECTION}-copy", source, store)
            recover_seconds = time.perf_counter() - started
            timed = {}
            for from_snapshot in (False, True):
                started = time.perf_counter()
                outcome = replay(r, COLLECTION, settings, True, lambda *_: None, from_snapshot)
                timed[from_snapshot] = time.perf_counter() - started
                assert outcome.differences == []
            print(f"points: {args.points}, dim {args.dim}")
            print(
                f"take: {take_seconds:.2f} s; longest wait on Redis meanwhile: "
                f"{waited.longest * 1000:.1f} ms"
            )
            print(
                f"file: {taken.size / 1e6:.1f} MB; projection in Redis "
                f"{projection_bytes(r, collection) / 1e6:.1f} MB"
            )
            print(f"recover: {recover_seconds:.2f} s")
            print(
                f"replay --verify from operation 0: {timed[False]:.2f} s; from the snapshot: "
                f"{timed[True]:.2f} s (equal)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
