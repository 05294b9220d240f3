"""Bulk upsert into one collection from CLIENTS clients at once (wait=true, BATCH points a
request): on one embedded server with `shard_number: 1` and with `shard_number: PRIMARIES`,
then on an embedded cluster of PRIMARIES primaries with `shard_number: PRIMARIES`, the same web
and worker processes beside each. Prints points/s of each and their ratios to the first, and
how the points spread over the nodes.

    python -m tests.bench.shards --points 40000 --dim 128 --webs 2 --workers 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.data import Data, make_data
from tests.bench.pointlog import Pointlog
from tests.bench.workloads import bulk_concurrent
from tests.support import Cluster, embedded_cluster, embedded_server

CLIENTS = 4
PRIMARIES = 3
COLLECTION = "bulk"


def measure(
    redis_url: str,
    env: dict[str, str],
    shards: int,
    data: Data,
    args: argparse.Namespace,
    logs: Path,
) -> tuple[float, list[int]]:
    """Points/s of the bulk upsert, and the points of each shard."""
    with Cluster(redis_url, {"WEB_THREADS": "16", **env}, logs=logs) as processes:
        processes.start_workers(args.workers)
        urls = processes.start_webs(args.webs)
        first = Pointlog(processes.webs[0].port, redis_url)
        body = {"vectors": {"size": args.dim, "distance": "Cosine"}, "shard_number": shards}
        first.http.request("PUT", f"/collections/{COLLECTION}", body)
        rate = bulk_concurrent(_Spread(processes, redis_url), COLLECTION, data, CLIENTS)
        shown = httpx.get(f"{urls[0]}/collections/{COLLECTION}/cluster").json()["result"]
        return rate, [shard["points_count"] for shard in shown["local_shards"]]


class _Spread(Pointlog):
    """A client whose forks take the web processes in turn."""

    def __init__(self, processes: Cluster, redis_url: str) -> None:
        super().__init__(processes.webs[0].port, redis_url)
        self._processes, self._forks = processes, 0

    def fork(self) -> Pointlog:
        self._forks += 1
        web = self._processes.webs[self._forks % len(self._processes.webs)]
        return Pointlog(web.port, self.redis_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=40_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    data = make_data(args.points, args.dim)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        server = embedded_server(work / "one")
        try:
            one, _ = measure(server.url, {}, 1, data, args, work)
        finally:
            server.stop()
        server = embedded_server(work / "one-sharded")
        try:
            split, _ = measure(server.url, {}, PRIMARIES, data, args, work)
        finally:
            server.stop()
        queue = embedded_server(work / "queue")
        cluster = embedded_cluster(work / "cluster", PRIMARIES)
        try:
            env = {"QUEUE_URL": queue.url}
            spread, counts = measure(cluster.url, env, PRIMARIES, data, args, work)
        finally:
            cluster.stop()
            queue.stop()
    stamp = time.strftime("%Y-%m-%d")
    print(f"bulk upsert, {CLIENTS} clients, {args.points:,} points of {args.dim} dims ({stamp}):")
    print(f"  one server, 1 shard:            {one:10,.0f} points/s")
    print(
        f"  one server, {PRIMARIES} shards:           {split:10,.0f} points/s  ({split / one:.2f}x)"
    )
    print(
        f"  {PRIMARIES} primaries, {PRIMARIES} shards:         {spread:10,.0f} points/s"
        f"  ({spread / one:.2f}x)"
    )
    share = [f"{n / sum(counts):.1%}" for n in counts]
    print(f"  points per shard (a primary each): {counts} = {share}")


if __name__ == "__main__":
    main()
