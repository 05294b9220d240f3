"""A fault run: 2 web pods and 3 workers on one server, mixed writes of every kind from several
client threads, while workers are SIGKILLed and restarted, one web pod is killed once, and
(optionally) the server itself is killed and restarted on its append-only file.

Afterwards it checks what pointlog promises: every acknowledged operation is in the log and
applied exactly once (checkpoint = last operation id, applied-ops counter = log length), no
wait=true call outlived its timeout, the change feed is contiguous and ends at the checkpoint,
and the live projection equals a replay of the log.

With `--archive folder` or `--archive s3` the workers also move old log entries to an archive
(a folder, or moto's S3 server) throughout, so worker kills land in the middle of archiving;
`--restart-s3` kills and restarts the S3 server once. The archive and the stream must then
hold every operation exactly once, in order.

With `--cluster` it runs on a Redis Cluster of 3 primaries with a replica each (the queue on
a server of its own), and `--restart-server` SIGKILLs the primary holding the collection: its
replica takes over. With `--append-replicas 1` no acknowledged operation may be lost; without,
those lost (their ids then handed out again) are counted.

With `--shards N` the collection has N shards (on a cluster, on different primaries; the
crash takes the primary of the first): every check holds for each shard's log, and replay
verifies each shard.

    python -m tests.faults.chaos --seconds 30 [--restart-server] [--archive s3 --restart-s3]
    python -m tests.faults.chaos --seconds 30 --cluster --restart-server [--append-replicas 1]
        [--shards 3]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import httpx
import redis

from projections import changes, collections, ids, log, store
from projections.archive import Archive
from projections.keys import Keys
from projections.shard_placement import shard_of
from tests.support import ROOT, Cluster, S3Server, embedded_cluster, embedded_server
from workers.embedded import NODE_TIMEOUT_MS

COLLECTION = "chaos"
WAIT_TIMEOUT = 5  # seconds, given to every wait=true call
HOT_LOG_OPERATIONS = 100  # small, so archiving runs all through the run
BACKOFF = 0.05  # seconds a client waits after a failed request
SLACK = 3.0  # what a wait=true call may take beyond its timeout (HTTP, a pod under load)
# ... and on a cluster whose primary fails: an append waits until its replica has taken over.
FAILOVER_SLACK = NODE_TIMEOUT_MS / 1000 + 2.0
POINTS = 200


def _points_by_shard(shards: int) -> list[list[int]]:
    """The ids 0..POINTS-1 each shard of `shards` holds."""
    return [
        [i for i in range(POINTS) if shard_of(ids.to_key(i), shards) == n] for n in range(shards)
    ]


POINTS_OF = {shards: _points_by_shard(shards) for shards in (1, 2, 3, 4)}


@dataclass
class Tally:
    # (shard, operation id) of each acknowledged operation; shard None: it went to every shard
    # of a collection of several, and its id is the largest it took in any of them
    acknowledged: list[tuple[int | None, int]] = field(default_factory=list)
    requests: int = 0
    unreachable: int = 0  # connection errors: the pod was down
    unavailable: int = 0  # 503s: the pod was up, the server was not
    failed: int = 0  # other 5xx answers: bugs
    outage: list[float] = field(default_factory=list)  # when 503s were seen
    waits: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def random_point(rng: random.Random, i: int) -> dict:
    vectors = {"a": [rng.random(), 1.0], "b": [1.0, rng.random()]}
    return {"id": i, "vector": vectors, "payload": {"n": i, "g": i % 5}}


def random_request(rng: random.Random, shards: int) -> tuple[str, str, dict, int | None]:
    """One write of a random kind on points 0..199, and the shard it goes to: the points it
    names are of one shard, drawn at random (None: a filter's request goes to every shard)."""
    shard = rng.randrange(shards)
    ids = rng.sample(POINTS_OF[shards][shard], rng.randint(1, 4))
    updates = [{"id": i, "vector": {"a": [0.5, 0.5]}} for i in ids]
    batch = [
        {"upsert": {"points": [random_point(rng, ids[0])]}},
        {"delete": {"points": ids[1:] or ids[:1]}},
    ]
    near = {
        "must": [
            {"key": "g", "match": {"value": rng.randint(0, 4)}},
            {"key": "n", "range": {"lt": rng.randint(0, 200)}},
        ]
    }
    choices = [
        ("PUT", "points", {"points": [random_point(rng, i) for i in ids]}),
        ("POST", "points/payload", {"payload": {"tag": rng.random()}, "points": ids}),
        ("POST", "points/payload", {"payload": {"seen": True}, "filter": near, "key": "meta"}),
        ("PUT", "points/payload", {"payload": {"n": ids[0], "g": 1}, "points": ids[:1]}),
        ("POST", "points/payload/delete", {"keys": ["tag", "meta.seen"], "points": ids}),
        ("POST", "points/payload/clear", {"points": ids[:1]}),
        ("PUT", "points/vectors", {"points": updates}),
        ("POST", "points/vectors/delete", {"vector": ["b"], "points": ids}),
        ("POST", "points/delete", {"filter": {"must": [{"key": "n", "range": {"gte": 195}}]}}),
        ("POST", "points/batch", {"operations": batch}),
    ]  # fmt: skip
    method, suffix, body = choices[rng.randrange(len(choices))]
    return method, suffix, body, None if "filter" in body and shards > 1 else shard


def client_loop(seed: int, pods: list[str], until: float, tally: Tally, shards: int) -> None:
    rng = random.Random(seed)
    http = httpx.Client(timeout=WAIT_TIMEOUT + 30)
    while time.monotonic() < until:
        method, suffix, body, shard = random_request(rng, shards)
        wait = rng.random() < 0.3
        params = {"wait": "true", "timeout": str(WAIT_TIMEOUT)} if wait else {}
        started = time.monotonic()
        try:
            response = http.request(
                method,
                f"{rng.choice(pods)}/collections/{COLLECTION}/{suffix}",
                params=params,
                json=body,
            )
        except httpx.TransportError:
            with tally.lock:
                tally.requests += 1
                tally.unreachable += 1
            time.sleep(BACKOFF)  # as a client would back off, not a synchronisation
            continue
        took = time.monotonic() - started
        if response.status_code == 503:
            time.sleep(BACKOFF)  # as a client would back off, not a synchronisation
        with tally.lock:
            tally.requests += 1
            if response.status_code == 503:
                tally.unavailable += 1
                tally.outage.append(time.monotonic())
            elif response.status_code >= 500:
                tally.failed += 1
            elif response.status_code == 200:
                result = response.json().get("result")
                for item in result if isinstance(result, list) else [result] if result else []:
                    tally.acknowledged.append((shard, item["operation_id"]))
                if wait:
                    tally.waits.append(took)


@dataclass
class Archiving:
    """Where the run's archive is, and the S3 server holding it (None: a folder)."""

    env: dict[str, str]
    s3: S3Server | None


def start_archive(kind: str | None, folder: Path) -> Archiving | None:
    if kind is None:
        return None
    settings = {"HOT_LOG_OPERATIONS": str(HOT_LOG_OPERATIONS), "SWEEP_SECONDS": "0.2"}
    if kind == "folder":
        return Archiving({**settings, "ARCHIVE_URL": f"file://{folder}/archive"}, None)
    s3 = S3Server(folder)
    url = s3.make_bucket("chaos")
    return Archiving({**settings, **s3.env, "ARCHIVE_URL": f"{url}/archive"}, s3)


@dataclass
class Servers:
    """What the run's processes use: REDIS_URL, the rest of their environment, the server
    fault (a crash, and the server back), and how to stop it all."""

    url: str
    env: dict[str, str]
    crash: Callable[[], None]
    stop: Callable[[], None]


def one_server(folder: Path) -> Servers:
    """A server on its append-only file (synced on every write): crashed, it restarts on it."""
    server = embedded_server(folder, fsync="always")

    def crash() -> None:
        server.kill()
        server.start()

    return Servers(server.url, {}, crash, server.stop)


def a_cluster(folder: Path, append_replicas: int) -> Servers:
    """A Redis Cluster of 3 primaries with a replica each, and the queue's server: the crash
    SIGKILLs the primary holding the collection, waits for its replica to take over, and
    starts it again (it rejoins as a replica)."""
    cluster = embedded_cluster(folder / "cluster", 3, replicas=1, fsync="always")
    queue = embedded_server(folder / "queue")

    def crash() -> None:
        keys = collections.load(store.connect(cluster.url), COLLECTION).keys
        primary = cluster.primary_of(keys.seq)
        primary.kill()
        cluster.wait_for_failover(primary)
        primary.start()

    def stop() -> None:
        queue.stop()
        cluster.stop()

    env = {"QUEUE_URL": queue.url, "APPEND_REPLICAS": str(append_replicas)}
    return Servers(cluster.url, env, crash, stop)


def run(
    seconds: float,
    restart_server: bool,
    clients: int = 6,
    data_dir: Path | None = None,
    archive: str | None = None,
    restart_s3: bool = False,
    cluster: bool = False,
    append_replicas: int = 0,
    shards: int = 1,
) -> dict:
    """Run the faults; returns the figures (and raises AssertionError on a broken promise).
    With `cluster`, on a Redis Cluster whose primary holding the collection is the server
    that crashes (with `restart_server`); `append_replicas`: APPEND_REPLICAS; `shards`: the
    collection's `shard_number`."""
    folder = data_dir or Path(tempfile.mkdtemp(prefix="pointlog-chaos-"))
    archiving = start_archive(archive, folder)
    servers = a_cluster(folder, append_replicas) if cluster else one_server(folder)
    env = {**servers.env, **(archiving.env if archiving else {})}
    processes = Cluster(servers.url, env)
    try:
        processes.start_workers(3)
        pods = processes.start_webs(2)
        create_collection(pods[0], shards)
        tally = Tally()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=client_loop, args=(i, pods, until, tally, shards))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        s3 = archiving.s3 if archiving and restart_s3 else None
        crash = servers.crash if restart_server else None
        kills = inflict_faults(processes, seconds, until, crash, s3)
        for thread in threads:
            thread.join()
        lossless = not cluster or append_replicas > 0
        slack = SLACK + (FAILOVER_SLACK if cluster and restart_server else 0.0)
        return check(servers.url, pods, tally, kills, archiving, lossless, slack)
    finally:
        processes.stop()
        servers.stop()
        if archiving and archiving.s3:
            archiving.s3.stop()


def inflict_faults(
    cluster: Cluster,
    seconds: float,
    until: float,
    crash: Callable[[], None] | None,
    s3: S3Server | None,
) -> dict[str, int]:
    """Until `until`: every 1 to 3 s a random worker SIGKILLed and restarted; once, after 30% of
    the run, the first web pod; once, after 45%, the S3 server (when given); once, after 60%,
    the server `crash`es (when given)."""
    rng = random.Random(7)
    kills = {"workers": 0, "web": 0, "server": 0, "s3": 0}
    web_killed_at = time.monotonic() + seconds * 0.3
    s3_killed_at = time.monotonic() + seconds * 0.45 if s3 else float("inf")
    server_killed_at = time.monotonic() + seconds * 0.6 if crash else float("inf")
    while time.monotonic() < until:
        time.sleep(rng.uniform(1.0, 3.0))  # the fault schedule, not a synchronisation
        cluster.restart_worker(rng.randrange(len(cluster.workers)))
        kills["workers"] += 1
        if s3 is not None and time.monotonic() > s3_killed_at:
            s3.restart()
            kills["s3"] += 1
            s3_killed_at = float("inf")
        if time.monotonic() > web_killed_at:
            cluster.restart_web(0)
            kills["web"] += 1
            web_killed_at = float("inf")
        if crash is not None and time.monotonic() > server_killed_at:
            crash()
            kills["server"] += 1
            server_killed_at = float("inf")
    return kills


def create_collection(pod: str, shards: int) -> None:
    """Two named vectors and an integer index on `n` (the filters' range key)."""
    config = {
        "vectors": {"a": {"size": 2, "distance": "Cosine"}, "b": {"size": 2, "distance": "Dot"}},
        "shard_number": shards,
    }
    httpx.put(f"{pod}/collections/{COLLECTION}", json=config).raise_for_status()
    index = {"field_name": "n", "field_schema": "integer"}
    httpx.put(f"{pod}/collections/{COLLECTION}/index", params={"wait": "true"}, json=index)


def check_log(r: redis.Redis, keys: Keys) -> int:
    """A shard's log is applied exactly once: checkpoint = log length = operations applied,
    and its change feed is contiguous up to the checkpoint. Returns the log's length."""
    seq, applied = (int(v) for v in r.mget(keys.seq, keys.applied))
    applied_ops = int(r.hget(keys.stats, "ops") or 0)
    assert applied == seq, f"checkpoint {applied} != log length {seq}"
    assert applied_ops == seq, f"{applied_ops} operations applied for {seq} in the log"
    feed = changes.read(r, keys, changes.START, count=100_000)
    assert feed and feed[-1].after == applied, "the change feed does not end at the checkpoint"
    assert all(a.after == b.before for a, b in pairwise(feed)), "the change feed has a gap"
    return seq


def _lost(acknowledged: list[tuple[int | None, int]], seqs: list[int]) -> int:
    """Acknowledged operations missing from their shard's log (an id at or past its end) or
    acknowledged twice there. One that went to every shard answered the largest id it took:
    it is checked against the longest log (and not for twice: two such may answer alike)."""
    own = [(shard, op) for shard, op in acknowledged if shard is not None]
    lost = len(own) - len(set(own)) + sum(1 for shard, op in set(own) if op >= seqs[shard])
    return lost + sum(1 for shard, op in acknowledged if shard is None and op >= max(seqs))


def check_archive(r: redis.Redis, keys: Keys, archive: Archive) -> tuple[int, int]:
    """Reading the log as replay and the change feed do (the archive's segments, then the
    stream, while the workers may still be moving entries out) gives every operation of the
    log once, in order; returns (archived operations, segments)."""
    seq, at = int(r.get(keys.seq) or 0), 0
    while at < seq:
        events = log.read_after(r, keys, at, 256, archive, blob=False)
        assert events, f"the log ends at operation {at}, not {seq}"
        for seq_after, event in events:
            first = seq_after - len(event.ops)
            assert first == at, f"the log jumps from operation {at} to {first}"
            at = seq_after
    return int(r.get(keys.archived) or 0), len(archive.spans(keys.cid))


def check(
    url: str,
    pods: list[str],
    tally: Tally,
    kills: dict,
    archiving: Archiving | None,
    lossless: bool = True,
    slack: float = SLACK,
) -> dict:
    """What pointlog promises after the run. Not `lossless` (a failover without
    APPEND_REPLICAS): acknowledged operations may be lost, their ids handed out again; they
    are counted, and everything else must hold all the same."""
    # A read waits (read-your-writes) until everything acknowledged is applied.
    count = httpx.post(f"{pods[1]}/collections/{COLLECTION}/points/count", json={}, timeout=60)
    count.raise_for_status()
    r = store.connect(url)
    assert tally.failed == 0, f"{tally.failed} answers were 5xx other than 503"
    assert tally.acknowledged, "no operation was acknowledged"
    seqs, archived, segments = [], 0, 0
    for part in collections.load(r, COLLECTION).parts:
        seqs.append(check_log(r, part.keys))
        if archiving is not None:
            with _environment(archiving.env):
                moved, written = check_archive(r, part.keys, Archive(archiving.env["ARCHIVE_URL"]))
            archived, segments = archived + moved, segments + written
    lost = _lost(tally.acknowledged, seqs)
    if lossless:
        assert lost == 0, f"{lost} acknowledged operations are missing or were handed out twice"
    slowest = max(tally.waits, default=0.0)
    assert slowest <= WAIT_TIMEOUT + slack, f"a wait=true call took {slowest:.1f}s"
    env = {"REDIS_URL": url, "PATH": "/usr/bin:/bin", **(archiving.env if archiving else {})}
    verify = subprocess.run(
        [sys.executable, "-m", "workers.cli", "replay", COLLECTION, "--verify"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    return {
        "requests": tally.requests,
        "operations acknowledged": len(tally.acknowledged),
        "acknowledged, then lost": lost,
        "pod unreachable": tally.unreachable,
        "503 server down": tally.unavailable,
        "503s seen for (s)": round(max(tally.outage) - min(tally.outage), 2) if tally.outage else 0,
        "operations in log": sum(seqs),
        "shards": len(seqs),
        "worker kills": kills["workers"],
        "web kills": kills["web"],
        "server kills": kills["server"],
        "S3 server restarts": kills["s3"],
        "operations archived": archived,
        "segments": segments,
        "slowest wait=true (s)": round(slowest, 2),
        "replay equals live": True,  # every shard's
    }


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """This process's environment with `variables` set (an S3 client reads its endpoint and
    keys there), as it was afterwards."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--restart-server", action="store_true")
    parser.add_argument("--archive", choices=("folder", "s3"))
    parser.add_argument("--restart-s3", action="store_true")
    parser.add_argument(
        "--cluster", action="store_true", help="on a Redis Cluster: the crash is a failover"
    )
    parser.add_argument("--append-replicas", type=int, default=0, help="APPEND_REPLICAS")
    parser.add_argument("--shards", type=int, choices=sorted(POINTS_OF), default=1)
    args = parser.parse_args()
    figures = run(
        args.seconds,
        args.restart_server,
        archive=args.archive,
        restart_s3=args.restart_s3,
        cluster=args.cluster,
        append_replicas=args.append_replicas,
        shards=args.shards,
    )
    for name, value in figures.items():
        print(f"{name:>24}: {value}")


if __name__ == "__main__":
    main()
