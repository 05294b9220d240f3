"""Benchmark pointlog against Qdrant's own engine and qdrant-client's local mode.

    python -m tests.bench.benchmark [--points N] [--dim D] [--data random|clustered]
                                    [--workers W] [--systems a,b] [--redis-url URL]
                                    [--quick] [--scale] [--py-spy DIR]

Starts pointlog itself (an embedded valkey-server in a temporary folder unless --redis-url, the
Procfile's `web` line with WEB_THREADS=16 and --workers processes of its `worker` line), loads
the same generated points into every system, runs workloads 1-17 one system after another,
then 18-20 on every system at once, their queries in turns, and prints a Markdown table, then
pointlog's Redis memory per point.

Systems:
  pointlog  over HTTP: one keep-alive `http.client.HTTPConnection` per client, orjson bodies
  engine    Qdrant's engine in this process: a qdrant-edge-py `EdgeShard` in a temporary folder
  local     qdrant-client's local mode, `QdrantClient(":memory:")`, in this process

The package's modules: data (the points and queries), systems (the protocol) with pointlog,
engine and local (its three implementations), deployment (pointlog's processes), workloads
(1-8), query_workloads (the read model's, 9-17), hybrid_workloads (18-20: hybrid RRF,
recommend, groups, on dense + sparse vectors), ground_truth (exact neighbours, recall),
runner, profiler (py-spy), report (the tables). Not a test: pytest does not collect it (no test_
functions, not a test_ file).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from pathlib import Path

from tests.bench import report, runner
from tests.bench.data import VECTORS
from tests.bench.systems import NAMES
from tests.bench.workloads import Config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--points", type=int, default=20000, help="N (default 20000)")
    parser.add_argument("--dim", type=int, default=128, help="vector size (default 128)")
    parser.add_argument(
        "--data",
        choices=sorted(VECTORS),
        default="random",
        help="vectors: i.i.d. Gaussian (random, the default) or embedding-like clusters",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="pointlog worker processes (default 2)"
    )
    parser.add_argument(
        "--systems",
        default=",".join(NAMES),
        help=f"comma list of {', '.join(NAMES)} (default: all)",
    )
    parser.add_argument(
        "--redis-url", help="use this Redis instead of starting the embedded server"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small N and counts")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also run workloads 1 and 4 at 10xN, and 9-17 on pointlog and the engine",
    )
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="profile web and workers with py-spy during workloads 1-2 (pointlog)",
    )
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.systems if s not in NAMES]
    if unknown or not args.systems:
        parser.error(f"--systems: unknown {unknown}; choose from {', '.join(NAMES)}")
    return args


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so SIGTERM stops every process as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = runner.Options(
        systems=args.systems,
        workers=args.workers,
        redis_url=args.redis_url,
        scale=args.scale,
        py_spy=Path(args.py_spy) if args.py_spy else None,
        load_at_start=os.getloadavg()[0],
    )
    make = Config.quick if args.quick else Config
    cfg = make(points=args.points, dim=args.dim, data=args.data)
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    warnings.filterwarnings("ignore", message=".*[Ll]ocal mode.*")
    # Local mode warns that payload indexes do nothing there: known, and called all the same.
    warnings.filterwarnings("ignore", message="Payload indexes have no effect")
    try:
        run = runner.run(cfg, options)
    except KeyboardInterrupt:
        return 130
    print(report.render(run))
    return 1 if run.outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main())
