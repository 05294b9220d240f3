"""The `pointlog` command.

pointlog up       run everything on this machine: (embedded server,) web, workers
pointlog worker   one worker process (the Procfile's `worker`)
and tools for operators: replay, log, changes, status, archive status.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import redis
from rq import Worker

from projections import collections, full_snapshots, jobs, log, operations_feed, snapshots, store
from projections.archive import open_archive
from projections.cluster_client import node_of
from projections.errors import QdrantError
from projections.event_format import iso_time
from projections.figures import Figures, shard_overview
from projections.progress import Progress
from projections.settings import Settings
from projections.snapshot_format import FULL_MAGIC, peek_header
from projections.snapshot_store import SnapshotStore
from workers.embedded import CLUSTER_BUS_OFFSET, EmbeddedCluster, EmbeddedServer
from workers.process import run_worker
from workers.replay import OnProgress, Outcome, replay

DUMP = orjson.OPT_SERIALIZE_NUMPY
MB = 1024 * 1024
CHANGES_PAGE = 256  # operations `pointlog changes` reads at once
FOLLOW_WAIT_SECONDS = 5.0  # a wait of `--follow` ends this often to look again
STOP_SECONDS = 30.0  # what `up` gives its processes to exit after SIGTERM


# waitress as the Procfile's `web` line runs it. Request bodies up to 64 MiB stay in memory
# (waitress spills anything over 512 KiB to a temporary file by default: a bulk upsert of 256
# points of 128 floats is larger), and the socket is read 64 KiB at a time.
WEB_OPTIONS = (
    "--recv-bytes=65536",
    "--inbuf-overflow=67108864",
    "--outbuf-overflow=67108864",
    "--call",
    "api.app:create_app",
)


def web_arguments(host: str, port: int | str, threads: int | str | None = None) -> list[str]:
    threads = threads or Settings.from_env().web_threads
    return [f"--listen={host}:{port}", f"--threads={threads}", *WEB_OPTIONS]


def _up(args: argparse.Namespace) -> int:
    """Start the web process and the workers (and the embedded server without REDIS_URL);
    Ctrl-C (or SIGTERM) stops them all, the server last so nothing is lost."""
    env = dict(os.environ)
    env.setdefault("ARCHIVE_URL", (Path(args.data_dir) / "archive").resolve().as_uri())
    servers = [] if env.get("REDIS_URL") else _embedded(args, env)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    web = [sys.executable, "-m", "waitress", *web_arguments(args.host, args.port)]
    worker = [sys.executable, "-m", "workers.cli", "worker"]
    children = [subprocess.Popen(web, env=env)]
    children += [subprocess.Popen(worker, env=env) for _ in range(args.workers)]
    print(f"pointlog on http://{args.host}:{args.port} with {args.workers} workers", flush=True)
    while not stop.wait(0.5):
        if any(child.poll() is not None for child in children):
            print("a process exited; stopping", file=sys.stderr, flush=True)
            break
    _stop_children(children)
    for server in servers:
        server.stop()
    return 0


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, then, as Heroku does, SIGKILL for what has not exited within STOP_SECONDS:
    a worker killed mid-batch loses nothing (its batch commits whole or not at all)."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(
                f"process {child.pid} did not stop in {STOP_SECONDS:.0f}s: killed", file=sys.stderr
            )
            child.kill()
            child.wait()


def _embedded(
    args: argparse.Namespace, env: dict[str, str]
) -> list[EmbeddedServer | EmbeddedCluster]:
    """Start the embedded server (REDIS_URL), or with `--cluster N` a cluster of N primaries
    on the next N ports (REDIS_URL) and the queue's server (QUEUE_URL); set their URLs."""
    data = Path(args.data_dir)
    server = EmbeddedServer(data, args.redis_port, fsync=args.fsync)
    server.start()
    if not args.cluster:
        env["REDIS_URL"] = server.url
        print(f"embedded server on {server.url}, data in {args.data_dir}", flush=True)
        return [server]
    ports = [args.redis_port + 1 + i for i in range(args.cluster)]
    cluster = EmbeddedCluster(data / "cluster", [(p, p + CLUSTER_BUS_OFFSET) for p in ports])
    try:
        cluster.start()
    except BaseException:
        server.stop()
        raise
    env["REDIS_URL"], env["QUEUE_URL"] = cluster.url, server.url
    print(
        f"embedded cluster of {args.cluster} primaries on ports {ports[0]}-{ports[-1]}, the queue's"
        f" server on {server.url}, data in {args.data_dir}",
        flush=True,
    )
    return [cluster, server]


def _worker(args: argparse.Namespace) -> int:
    run_worker(Settings.from_env())
    return 0


def _store() -> redis.Redis:
    settings = Settings.from_env()
    r = store.connect(settings.redis_url, 4, settings.redis_ssl_cert_reqs)
    return r


def _progress_bar(name: str) -> OnProgress:
    """A one-line progress bar on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return lambda applied, seq: None

    def show(applied: int, seq: int) -> None:
        done = applied / seq if seq else 1.0
        bar = "#" * int(done * 30)
        print(f"\rreplaying {name} [{bar:<30}] {applied}/{seq}", end="", file=sys.stderr)

    return show


def _replay(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    r = _store()
    shards = _shards(r, args.name, args.shard)
    failed = False
    for shard in shards:
        shown = args.name if len(shards) == 1 else f"{args.name} (shard {shard})"
        progress = _progress_bar(shown)
        outcome = replay(r, args.name, settings, args.verify, progress, args.from_snapshot, shard)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if args.verify:
            for line in outcome.differences:
                print(line)
            failed = failed or bool(outcome.differences)
            verdict = "differs from" if outcome.differences else "equals"
            print(
                f"{shown}: replaying {outcome.checkpoint} operations{_start(outcome)} {verdict} "
                "the live one"
            )
        else:
            print(
                f"{shown}: projection rebuilt from {outcome.checkpoint} operations"
                f"{_start(outcome)} and switched"
            )
    return 1 if failed else 0


def _shard(r: redis.Redis, args: argparse.Namespace) -> int:
    """The one shard a command reads (`--shard`, the first by default): each has its log."""
    return _shards(r, args.name, 0 if args.shard is None else args.shard)[0]


def _shards(r: redis.Redis, name: str, wanted: int | None) -> list[int]:
    """The shards a command is for: `wanted`, else every one."""
    count = len(collections.load(r, name).parts)
    if wanted is None:
        return list(range(count))
    if not 0 <= wanted < count:
        raise SystemExit(f"pointlog: {name} has no shard {wanted} (0 to {count - 1})")
    return [wanted]


def _start(outcome: Outcome) -> str:
    return f" (from a snapshot at {outcome.start})" if outcome.start else ""


def _log(args: argparse.Namespace) -> int:
    r = _store()
    collection = collections.load(r, args.name).parts[_shard(r, args)]
    archive = open_archive(Settings.from_env().archive_url)
    applied = args.start
    while True:
        events = log.read_after(r, collection.keys, applied, 256, archive)
        if not events:
            return 0
        for seq_after, event in events:
            first = seq_after - len(event.ops)
            time = None if event.time is None else iso_time(event.time)
            line = {"operation_id": first, "time": time, "ops": event.describe(collection)}
            if seq_after > args.start:
                sys.stdout.buffer.write(orjson.dumps(line, option=DUMP) + b"\n")
            applied = seq_after


def _changes(args: argparse.Namespace) -> int:
    """The applied operations after `--since`, one JSON line each, as the change feed serves
    them; with `--follow`, then each one as it is applied, until interrupted."""
    r = _store()
    collection = collections.load(r, args.name).parts[_shard(r, args)]
    archive = open_archive(Settings.from_env().archive_url)
    progress = Progress(r) if args.follow else None
    since = args.since
    try:
        while True:
            page = operations_feed.read(r, collection, since, CHANGES_PAGE, archive)
            for operation in page.operations:
                sys.stdout.buffer.write(orjson.dumps(operation) + b"\n")
            sys.stdout.flush()
            since = page.last_operation_id
            if page.operations:
                continue
            if progress is None:
                return 0
            progress.wait(collection.keys, since + 2, FOLLOW_WAIT_SECONDS)
    except KeyboardInterrupt:
        return 0


def _status(args: argparse.Namespace) -> int:
    r = _store()
    settings = Settings.from_env()
    node = " node" if store.is_cluster(r) else ""  # on a cluster: the primary of each
    print(f"{'collection':<24} {'appended':>10} {'applied':>10} {'lag':>8} {'points':>10}{node}")
    for name, found in _shard_rows(r):
        held = f" {node_of(r, found.collection.keys.seq)}" if node else ""
        print(
            f"{name:<24} {found.appended:>10} {found.applied:>10} {found.lag:>8} {found.points:>10}"
            f"{held}"
        )
    queued = jobs.queue_store(settings, r, 2)
    queue = jobs.queue(queued, settings.queue_name)
    alive = Worker.all(connection=queued)
    print(f"pending jobs: {len(queue)}; workers alive: {len(alive)}")
    return 0


def _shard_rows(r: redis.Redis) -> list[tuple[str, Figures]]:
    """Every shard's figures, and its name in a table: the collection's, or `name[n]` for
    each shard of a collection of several."""
    shards = shard_overview(r)
    counts = Counter(found.collection.name for found in shards)
    numbers: Counter[str] = Counter()
    rows = []
    for found in shards:
        name = found.collection.name
        if counts[name] > 1:
            numbers[name] += 1
            name = f"{name}[{numbers[name] - 1}]"
        rows.append((name, found))
    return rows


def _recover(args: argparse.Namespace) -> int:
    """Recover from a snapshot file: a collection's (into `--name`, by default the collection
    it was taken from) or a full one (every collection in it)."""
    r, kept = _store(), SnapshotStore(Settings.from_env().snapshot_store_url)
    with open(args.file, "rb") as source:
        full = source.read(len(FULL_MAGIC)) == FULL_MAGIC
        source.seek(0)
        try:
            if full:
                names = full_snapshots.recover_full(r, source, kept)
            else:
                names = [args.name or str(peek_header(source)["collection"])]
                source.seek(0)
                collections.validate_name(names[0], creating=True)
                snapshots.recover(r, names[0], source, kept)
        except QdrantError as error:
            print(f"pointlog: {error.message}", file=sys.stderr)
            return 1
    print(f"recovered: {', '.join(names)}")
    return 0


def _archive_status(args: argparse.Namespace) -> int:
    """Per shard: the operations the hot log holds and the archive holds, and their bytes."""
    r = _store()
    archive = open_archive(Settings.from_env().archive_url)
    print(f"archive: {'none (ARCHIVE_URL is not set)' if archive is None else archive.url}")
    print(f"{'collection':<24} {'hot operations':>20} {'hot MB':>8} {'archived':>20} {'MB':>8}")
    for name, found in _shard_rows(r):
        archived = found.archived
        held = archive.holdings(found.collection.cid) if archive is not None else None
        cold = f"0..{archived - 1} ({held.segments} seg)" if held and archived else "-"
        cold_mb = held.bytes / MB if held else 0.0
        print(
            f"{name:<24} {f'{archived}..{found.appended - 1}':>20} "
            f"{found.hot_log_bytes / MB:>8.1f} {cold:>20} {cold_mb:>8.1f}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pointlog", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run web, workers (and an embedded server)")
    up.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    up.add_argument("--port", type=int, default=int(os.environ.get("PORT", 6333)))
    up.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 2)))
    up.add_argument("--data-dir", default=os.environ.get("DATA_DIR", "pointlog-data"))
    up.add_argument(
        "--redis-port", type=int, default=int(os.environ.get("EMBEDDED_REDIS_PORT", 6390))
    )
    up.add_argument(
        "--fsync",
        choices=("always", "everysec", "no"),
        default=os.environ.get("APPENDFSYNC", "everysec"),
        help="appendfsync of the embedded server",
    )
    up.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="N",
        help="embed a Redis Cluster of N primaries (and a server for the queue) instead",
    )
    up.set_defaults(run=_up)
    commands.add_parser("worker", help="run one worker").set_defaults(run=_worker)
    rebuild = commands.add_parser("replay", help="rebuild a collection's projection from its log")
    rebuild.add_argument("name")
    rebuild.add_argument("--shard", type=int, help="only this shard (default: each in turn)")
    rebuild.add_argument(
        "--verify", action="store_true", help="compare a rebuild with the live projection instead"
    )
    rebuild.add_argument(
        "--from-snapshot", action="store_true", help="start from the collection's latest snapshot"
    )
    rebuild.set_defaults(run=_replay)
    show = commands.add_parser("log", help="print a collection's log, one event a line")
    show.add_argument("name")
    show.add_argument("--from", dest="start", type=int, default=0, help="first operation_id")
    show.add_argument("--shard", type=int, help="the shard whose log (default: the first)")
    show.set_defaults(run=_log)
    feed = commands.add_parser("changes", help="print a collection's applied operations")
    feed.add_argument("name")
    feed.add_argument("--since", type=int, default=-1, help="the operation_id to start after")
    feed.add_argument("--follow", action="store_true", help="then wait for more, until Ctrl-C")
    feed.add_argument("--shard", type=int, help="the shard whose operations (default: the first)")
    feed.set_defaults(run=_changes)
    commands.add_parser("status", help="lag and workers").set_defaults(run=_status)
    recovering = commands.add_parser("recover", help="recover collections from a snapshot file")
    recovering.add_argument("file")
    recovering.add_argument("--name", help="the collection to make (a collection's snapshot)")
    recovering.set_defaults(run=_recover)
    archived = commands.add_parser("archive", help="the archive of old log entries")
    archived.add_argument("action", choices=("status",))
    archived.set_defaults(run=_archive_status)
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except redis.ConnectionError as error:
        # A wrong URL, a server down, a certificate refused: say so, without a traceback.
        print(f"pointlog: cannot reach the Redis at REDIS_URL: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
