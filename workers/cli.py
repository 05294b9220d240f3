"""The `pointlog` command.

pointlog up       run everything on this machine: (embedded server,) web, workers
pointlog worker   one worker process (the Procfile's `worker`)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from projections.settings import Settings
from workers.embedded import EmbeddedServer
from workers.process import run_worker


def _up(args: argparse.Namespace) -> int:
    """Start the web process and the workers (and the embedded server without REDIS_URL);
    Ctrl-C (or SIGTERM) stops them all, the server last so nothing is lost."""
    server = None
    env = dict(os.environ)
    if not env.get("REDIS_URL"):
        server = EmbeddedServer(Path(args.data_dir), args.redis_port, fsync=args.fsync)
        server.start()
        env["REDIS_URL"] = server.url
        print(f"embedded server on {server.url}, data in {args.data_dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    web = [
        sys.executable, "-m", "waitress", f"--listen={args.host}:{args.port}",
        f"--threads={Settings.from_env().web_threads}", "--call", "api.app:create_app",
    ]  # fmt: skip
    worker = [sys.executable, "-m", "workers.cli", "worker"]
    children = [subprocess.Popen(web, env=env)]
    children += [subprocess.Popen(worker, env=env) for _ in range(args.workers)]
    print(f"pointlog on http://{args.host}:{args.port} with {args.workers} workers", flush=True)
    while not stop.wait(0.5):
        if any(child.poll() is not None for child in children):
            print("a process exited; stopping", file=sys.stderr, flush=True)
            break
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        child.wait(timeout=30)
    if server is not None:
        server.stop()
    return 0


def _worker(args: argparse.Namespace) -> int:
    run_worker(Settings.from_env())
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
    up.set_defaults(run=_up)
    commands.add_parser("worker", help="run one worker").set_defaults(run=_worker)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
