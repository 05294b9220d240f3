"""The report a run prints: a header (machine, sizes, versions), the Markdown table of every
workload and system with pointlog's ratios, the checks, memory per point, the 10xN table,
notes and errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.bench import hybrid_workloads as hw
from tests.bench.data import BATCH, DESCRIPTIONS, GROUPS, QUERY_SEED, SEED
from tests.bench.outcome import NA, Outcome
from tests.bench.query_workloads import QUERY_CITY
from tests.bench.redis_state import RedisMemory
from tests.bench.systems import LABELS
from tests.bench.workloads import CLIENTS, DELETE_PRICE_BELOW, Config
from tests.support import ROOT

RATIOS = (
    "Ratios: above 1 = pointlog better (throughput: pointlog / other; latency and seconds:"
    " other / pointlog). n/a: no such operation in-process (in-process updates are synchronous;"
    " 4 clients only for pointlog and the engine; local mode builds no index, 9 and 10)."
    " Reads return payload + vector (4, 5); scroll returns payload only; queries (11-13) ids"
    " and scores only. Recall@k is a value, not a ratio: the share of the true top k (numpy,"
    " float32, exhaustive over the same points, with the same filter) that the system returned."
)


@dataclass
class Row:
    key: str
    label: str
    higher_is_better: bool
    ratio: bool = True  # False: a value compared as it is (a recall), no ratio shown


@dataclass
class Run:
    """What the report needs of a finished run."""

    cfg: Config
    systems: list[str]
    workers: int
    server: str  # the Redis pointlog ran on, or "no pointlog"
    load_at_start: float
    outcome: Outcome
    redis_memory: RedisMemory | None
    engine_disk: float | None  # bytes per point
    scaled: bool


def render(run: Run) -> str:
    sections = [header(run), table(run.cfg, run.outcome, run.systems), RATIOS]
    checks = [
        f"- {what}: " + ", ".join(f"{s}={v}" for s, v in per.items())
        for what, per in run.outcome.checks.items()
    ]
    if checks:
        sections.append("Checks (should agree across systems):\n" + "\n".join(checks))
    memory = memory_report(run.redis_memory, run.engine_disk)
    if memory:
        sections.append(memory)
    if run.scaled:
        sections.append(scale_table(run.cfg, run.outcome, run.systems))
    sections += run.outcome.notes
    if run.outcome.errors:
        sections.append("Errors:\n" + "\n".join(run.outcome.errors))
    return "\n" + "\n\n".join(sections)


def fmt(value: object) -> str:
    """Three significant figures or so; thousands with separators."""
    if value is NA:
        return "n/a"
    if not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def ratio(mine: object, other: object, higher_is_better: bool) -> str:
    """pointlog against another system, above 1 when pointlog is better."""
    if not isinstance(mine, (int, float)) or not isinstance(other, (int, float)):
        return "n/a"
    if mine <= 0 or other <= 0:
        return "n/a"
    return fmt(mine / other if higher_is_better else other / mine)


def rows(cfg: Config) -> list[Row]:
    return [
        Row("w1", f"1. bulk upsert, batches of {BATCH}, wait=true, 1 client (points/s)", True),
        Row(
            "w1c",
            f"1. bulk upsert, batches of {BATCH}, wait=true, {CLIENTS} clients (points/s)",
            True,
        ),
        Row("w2p50", f"2. single-point upsert wait=true x{cfg.single_upserts}: p50 (ms)", False),
        Row("w2p99", f"2. single-point upsert wait=true x{cfg.single_upserts}: p99 (ms)", False),
        Row("w2max", f"2. single-point upsert wait=true x{cfg.single_upserts}: max (ms)", False),
        Row(
            "w3ack", f"3. ingest wait=false (batches of {BATCH}): to acknowledged (points/s)", True
        ),
        Row("w3done", "3. ingest wait=false, then one wait=true: to completed (points/s)", True),
        Row("w4p50", f"4. get one point by id x{cfg.gets}: p50 (ms)", False),
        Row("w4p99", f"4. get one point by id x{cfg.gets}: p99 (ms)", False),
        Row("w5", f"5. get {cfg.get_many_ids} random ids x{cfg.get_many_rounds} (points/s)", True),
        Row("w6", f"6. scroll all, filter city == X, limit {cfg.scroll_limit} (s)", False),
        Row("w7", "7. set payload by filter (city == X: flag=true), wait=true (s)", False),
        Row("w8", f"8. delete by filter (price < {DELETE_PRICE_BELOW:g}), wait=true (s)", False),
        *read_model_rows(cfg),
        *hybrid_rows(cfg),
    ]


def read_model_rows(cfg: Config) -> list[Row]:
    k, q, city = cfg.top_k, f"x{cfg.queries}", f"city == {QUERY_CITY}"
    return [
        Row("w9", "9. payload indexes: keyword city + float price, wait=true (s)", False),
        Row("w10", "10. index build: until ready for indexed search (s)", False),
        Row("w11qps", f"11. query top-{k}, params exact=true {q} (queries/s)", True),
        Row("w11p50", f"11. query top-{k}, params exact=true {q}: p50 (ms)", False),
        Row("w12qps", f"12. query top-{k}, default params, after indexing {q} (queries/s)", True),
        Row("w12p50", f"12. query top-{k}, default params, after indexing {q}: p50 (ms)", False),
        Row(
            "w12recall",
            f"12. query top-{k}, default params, after indexing: recall@{k}",
            True,
            False,
        ),
        Row("w13qps", f"13. query top-{k}, filter {city}, default params {q} (queries/s)", True),
        Row("w13p50", f"13. query top-{k}, filter {city}, default params {q}: p50 (ms)", False),
        Row("w13recall", f"13. query top-{k}, filter {city}: recall@{k}", True, False),
        Row("w14", f"14. count, filter {city}, exact=true x{cfg.counts}: median (ms)", False),
        Row("w15", "15. as 6, with the indexes of 9 (s)", False),
        Row("w16", "16. as 7, with the indexes of 9 (s)", False),
        Row("w17", "17. as 8, with the indexes of 9 (s)", False),
    ]


def hybrid_rows(cfg: Config) -> list[Row]:
    """18-20, each as queries/s and p50 (keys w18qps, w18p50, ...)."""
    k, q = cfg.top_k, f"x{cfg.queries}"
    labels = {
        "18": f"18. hybrid: RRF of prefetches dense d + sparse s ({hw.PREFETCH * k} each), top-{k}",
        "19": f"19. recommend on d, 2 positive ids + 1 negative (average_vector), top-{k}",
        "20": f"20. query groups on d, group_by {hw.GROUP_BY} ({GROUPS:,} values, a keyword"
        f" index on pointlog), {hw.GROUP_LIMIT} groups of {hw.GROUP_SIZE}",
    }
    return [
        row
        for w, label in labels.items()
        for row in (
            Row(f"w{w}qps", f"{label} {q} (queries/s)", True),
            Row(f"w{w}p50", f"{label} {q}: p50 (ms)", False),
        )
    ]


def table(cfg: Config, outcome: Outcome, systems: list[str]) -> str:
    headers = ["workload", *[LABELS[s] for s in systems]]
    ratios = [s for s in ("engine", "local") if "pointlog" in systems and s in systems]
    headers += [f"pointlog vs {s}" for s in ratios]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" + "---:|" * (len(headers) - 1)]
    for row in rows(cfg):
        cells = outcome.values.get(row.key, {})
        line = [row.label, *[fmt(cells[s]) if s in cells else "-" for s in systems]]
        line += [
            ratio(cells.get("pointlog"), cells.get(s), row.higher_is_better) if row.ratio else ""
            for s in ratios
        ]
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


def scale_table(cfg: Config, outcome: Outcome, systems: list[str]) -> str:
    """Workloads 1 and 4 at N and at 10xN, and the read-model ones where they ran at 10xN."""
    n, big = cfg.points, cfg.points * 10
    lines = [
        f"| workload | system | at {n:,} | at {big:,} | 10xN / N (1.0 = flat) |",
        "|---|---|---:|---:|---:|",
    ]
    k = cfg.top_k
    for small_key, big_key, label in [
        ("w1", "s1", "1. bulk upsert, 1 client (points/s)"),
        ("w4p50", "s4p50", "4. get by id p50 (ms)"),
        ("w4p99", "s4p99", "4. get by id p99 (ms)"),
        ("w10", "s10", "10. index build (s)"),
        ("w11qps", "s11qps", f"11. query top-{k} exact (queries/s)"),
        ("w12qps", "s12qps", f"12. query top-{k} default, after indexing (queries/s)"),
        ("w12recall", "s12recall", f"12. query top-{k} default, after indexing: recall@{k}"),
        ("w13qps", "s13qps", f"13. query top-{k}, filter city (queries/s)"),
        ("w13recall", "s13recall", f"13. query top-{k}, filter city: recall@{k}"),
        ("w14", "s14", "14. count, filter city: median (ms)"),
        ("w15", "s15", "15. scroll, filter city, indexed (s)"),
        ("w16", "s16", "16. set payload by filter, indexed (s)"),
        ("w17", "s17", "17. delete by filter, indexed (s)"),
    ]:
        for s in systems:
            if s not in outcome.values.get(big_key, {}):
                continue  # not run at 10xN on this system
            a = outcome.values.get(small_key, {}).get(s)
            b = outcome.values.get(big_key, {}).get(s)
            lines.append(f"| {label} | {LABELS[s]} | {fmt(a)} | {fmt(b)} | {growth(a, b)} |")
    return "\n".join(lines)


def growth(small: object, big: object) -> str:
    """The figure at 10xN over the figure at N."""
    if isinstance(small, (int, float)) and isinstance(big, (int, float)) and small > 0:
        return fmt(big / small)
    return "n/a"


def memory_report(redis_memory: RedisMemory | None, engine_disk: float | None) -> str:
    lines = []
    if redis_memory is not None:
        m, raw = redis_memory, redis_memory.raw
        lines += [
            "| Redis memory per point | bytes | x raw |",
            "|---|---:|---:|",
            f"| raw point (vector {m.vector_raw:.0f} B + payload JSON"
            f" {raw - m.vector_raw:.0f} B) | {raw:.0f} | 1.00 |",
            f"| projection (MEMORY USAGE of payload, vec, ids, ... keys) | {m.projection:.0f} |"
            f" {m.projection / raw:.2f} |",
            f"| log (MEMORY USAGE of the stream + bookkeeping) | {m.log:.0f} | {m.log / raw:.2f} |",
            f"| projection + log | {m.projection + m.log:.0f} |"
            f" {(m.projection + m.log) / raw:.2f} |",
            f"| INFO used_memory delta over the bulk load | {m.used_delta:.0f} |"
            f" {m.used_delta / raw:.2f} |",
            "",
            "keys: "
            + ", ".join(f"{k}={v:,}" for k, v in sorted(m.keys.items(), key=lambda kv: -kv[1])),
        ]
    if engine_disk is not None:
        lines.append(
            "engine shard on disk after flush (allocated blocks):"
            f" {engine_disk:.0f} bytes per point"
        )
    return "\n".join(lines)


def header(run: Run) -> str:
    cfg = run.cfg
    return "\n".join(
        [
            "# pointlog benchmark",
            "",
            f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- machine: nproc {cpu_count()}, {cpu_model()}, {platform.system()}"
            f" {platform.release()}, Python {platform.python_version()}; load average (1 min) at"
            f" start {run.load_at_start:.2f}, at end {os.getloadavg()[0]:.2f} (other work on the"
            " machine skews the numbers)",
            f"- N = {cfg.points:,} points, dim = {cfg.dim} (float32, Cosine), payload {{city (5),"
            f" price 0..100, n, tags [2]}}, seed {SEED}",
            f"- data: {cfg.data}, vectors {DESCRIPTIONS[cfg.data]}; queries (11-13):"
            f" {cfg.queries} vectors from the same distribution, not stored ones (seed"
            f" {QUERY_SEED}); {QUERY_CITY} is one of 5 cities drawn uniformly (~20% of points)",
            f"- 18-20: a collection of their own, the same points with {hw.describe()}",
            f"- pointlog {git_state()}: web = Procfile `web` (WEB_THREADS=16), {run.workers}"
            f" worker(s), {run.server}; client: http.client keep-alive + orjson",
            f"- anchors: qdrant-edge-py {version('qdrant-edge-py')} (EdgeShard, default config),"
            f" qdrant-client {version('qdrant-client')} local mode; both in this process",
            f"- systems: {', '.join(run.systems)}",
        ]
    )


def cpu_count() -> int | None:
    """The CPUs this process may run on."""
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def git_state() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
