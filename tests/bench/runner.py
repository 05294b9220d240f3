"""Running the benchmark: generate the points and the queries' exact answers, start pointlog
and the anchors, run every workload on one system after another (profiling pointlog on
request), then stop everything. A failed workload is recorded as `error` with its reason, and
the run goes on."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from tests.bench import deployment, hybrid_workloads
from tests.bench.data import Data, make_data
from tests.bench.deployment import Deployment
from tests.bench.ground_truth import recall
from tests.bench.http_client import DUMPS, ServerError
from tests.bench.hybrid_workloads import Hybrid
from tests.bench.outcome import ERROR, NA, Outcome, Value
from tests.bench.pointlog import Pointlog, point_bodies
from tests.bench.profiler import Profiler
from tests.bench.query_workloads import (
    QUERY_CITY,
    Expected,
    build_indexes,
    count_city,
    expected,
    top_k_queries,
)
from tests.bench.report import Run, fmt
from tests.bench.systems import CONCURRENT, INDEXES, LABELS, NOWAIT, System
from tests.bench.workloads import (
    CLIENTS,
    DELETE_PRICE_BELOW,
    SCROLL_CITY,
    SET_PAYLOAD_CITY,
    Config,
    bulk,
    bulk_concurrent,
    get_many,
    gets,
    ingest_nowait,
    sanity,
    single_upserts,
    timed,
)
from tests.support import Cluster

if TYPE_CHECKING:
    from tests.bench.engine import Engine
    from tests.bench.local import Local

Figures = float | tuple[Value, ...]
# The rows of workloads 9-17, one group a workload, after their prefix: "w" at N, "s" at 10xN.
READ_MODEL_KEYS = (
    ("9", "10"),
    ("11qps", "11p50"),
    ("12qps", "12p50", "12recall"),
    ("13qps", "13p50", "13recall"),
    ("14",),
    ("15",),
    ("16",),
    ("17",),
)
# The rows of workloads 18-20 (hybrid_workloads), at N only.
HYBRID_KEYS = {w: (f"w{w}qps", f"w{w}p50") for w in hybrid_workloads.WORKLOADS}


@dataclass
class Options:
    systems: list[str]
    workers: int  # pointlog worker processes
    redis_url: str | None  # None: an embedded server
    scale: bool  # also workloads 1 and 4 at 10xN
    py_spy: Path | None  # profile pointlog's workloads 1-2 into this folder
    load_at_start: float


def run(cfg: Config, options: Options) -> Run:
    """The whole benchmark; KeyboardInterrupt stops every process and propagates."""
    print(f"generating {cfg.points:,} {cfg.data} points of dim {cfg.dim}...", flush=True)
    data = make_data(cfg.points, cfg.dim, cfg.data)
    want = expected(cfg, data)
    hybrid = hybrid_workloads.prepare(data, want.queries)
    big = make_data(cfg.points * 10, cfg.dim, cfg.data) if options.scale else None
    big_want = expected(cfg, big) if big is not None else None
    encode = client_cost(data)
    workdir = Path(tempfile.mkdtemp(prefix="pointlog-bench-"))
    outcome = Outcome()
    pointlog: Deployment | None = None
    client: Pointlog | None = None
    engine: Engine | None = None
    systems: dict[str, System] = {}
    server = "no pointlog"
    failed = True
    try:
        if "pointlog" in options.systems:
            pointlog = deployment.start(workdir, options.redis_url, options.workers)
            server = pointlog.describe()
            client = Pointlog(pointlog.port, pointlog.redis_url)
            systems["pointlog"] = client
        if "engine" in options.systems:
            engine = systems["engine"] = start_engine(workdir / "engine")
        if "local" in options.systems:
            systems["local"] = start_local()
        cluster = pointlog.cluster if pointlog else None
        runner = Runner(cfg, data, want, outcome, cluster)
        for name in options.systems:
            runner.run(systems[name], profiler_for(name, pointlog, options.py_spy))
        runner.hybrid_queries([systems[name] for name in options.systems], hybrid)
        runner.note_overlaps()
        if big is not None and big_want is not None:
            for name in options.systems:
                runner.scale(systems[name], big, big_want)
        if client is not None and client.http.reconnects:
            outcome.notes.append(
                f"pointlog client reconnected {client.http.reconnects} time(s)"
                " (server closed keep-alive)"
            )
        failed = bool(outcome.errors)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr, flush=True)
        raise
    finally:
        for system in systems.values():
            with contextlib.suppress(Exception):
                system.close()
        if pointlog is not None:
            pointlog.stop()
        if failed:
            print(f"(process logs and data kept in {workdir})", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    note_client_cost(outcome, cfg, encode)
    return Run(
        cfg=cfg,
        systems=options.systems,
        workers=options.workers,
        server=server,
        load_at_start=options.load_at_start,
        outcome=outcome,
        redis_memory=client.memory if client else None,
        engine_disk=engine.disk_per_point if engine else None,
        scaled=big is not None,
    )


def start_engine(folder: Path) -> Engine:
    from tests.bench.engine import Engine  # qdrant-edge-py is needed only when the engine runs

    folder.mkdir()
    return Engine(folder)


def start_local() -> Local:
    from tests.bench.local import Local  # qdrant-client likewise

    return Local()


def profiler_for(name: str, pointlog: Deployment | None, outdir: Path | None) -> Profiler | None:
    """A py-spy profiler of pointlog's processes, when asked for and the system is pointlog."""
    if outdir is None or name != "pointlog" or pointlog is None:
        return None
    targets = {n: p.pid for n, p in pointlog.cluster.processes().items()}
    return Profiler(outdir, targets)


def client_cost(data: Data) -> float:
    """Seconds pointlog's client takes to build and encode every upsert body (best of 3)."""

    def encode() -> None:
        for batch in data.batches():
            orjson.dumps({"points": list(point_bodies(batch))}, option=DUMPS)

    return min(timed(encode)[0] for _ in range(3))


def note_client_cost(outcome: Outcome, cfg: Config, encode: float) -> None:
    w1 = outcome.values.get("w1", {}).get("pointlog")
    if isinstance(w1, float):
        share = encode / (cfg.points / w1)
        outcome.notes.append(
            f"pointlog client cost: building + orjson-encoding all {cfg.points:,} points takes"
            f" {encode * 1000:.0f} ms ({100 * share:.1f}% of workload 1's time)"
        )


class Runner:
    """The workloads on one system, in order, into the outcome shared by all systems."""

    def __init__(
        self,
        cfg: Config,
        data: Data,
        want: Expected,
        outcome: Outcome,
        cluster: Cluster | None,
    ) -> None:
        self.cfg = cfg
        self.data = data
        self.want = want  # the queries of workloads 11-13 and their exact answers over `data`
        self.outcome = outcome
        self.cluster = cluster  # pointlog's processes, named in errors when one died
        self.tag = uuid.uuid4().hex[:8]  # in collection names, so runs never collide
        self.answers: dict[str, dict[str, list[list[int]]]] = {}  # 18-20: workload -> system

    def run(self, system: System, profiler: Profiler | None = None) -> None:
        cfg, data, name = self.cfg, self.data, system.name
        main = self.collection("main")
        print(f"-- {LABELS[name]}", flush=True)
        if profiler:
            profiler.start()
        try:
            self.attempt(system, ["w1"], lambda: self.bulk_load(system, main))
            with contextlib.suppress(Exception):
                self.outcome.check("first point as sent", name, sanity(system, main, data) or "ok")
            if CONCURRENT in system.supports:
                self.attempt(system, ["w1c"], lambda: self.concurrent_load(system))
            else:
                self.outcome.put("w1c", name, NA)
            self.diagnose(system, main, "2")
            self.attempt(
                system,
                ["w2p50", "w2p99", "w2max"],
                lambda: single_upserts(system, main, data, cfg.single_upserts),
            )
        finally:
            if profiler:
                profiler.stop()
        if NOWAIT in system.supports:
            self.attempt(system, ["w3ack", "w3done"], lambda: self.nowait_ingest(system))
        else:
            self.outcome.put("w3ack", name, NA)
            self.outcome.put("w3done", name, NA)
        self.attempt(system, ["w4p50", "w4p99"], lambda: gets(system, main, data, cfg.gets))
        self.attempt(
            system,
            ["w5"],
            lambda: get_many(system, main, data, cfg.get_many_rounds, cfg.get_many_ids),
        )
        self.attempt(system, ["w6"], lambda: self.scroll(system, main, "6"))
        self.diagnose(system, main, "7")
        self.attempt(system, ["w7"], lambda: self.set_payload(system, main, "7"))
        self.diagnose(system, main, "8")
        self.attempt(system, ["w8"], lambda: self.delete(system, main, "8"))
        with contextlib.suppress(Exception):
            system.drop(main)
        self.read_model_load(system)
        if profiler:
            self.outcome.notes.append("py-spy (workloads 1-2 of pointlog):\n" + profiler.summary())

    def scale(self, system: System, big: Data, want: Expected) -> None:
        """Workloads 1 and 4 at 10xN, in a collection of their own; then the read-model ones
        where there are indexes to measure (local mode's exhaustive search in Python would
        take most of the run at that size)."""
        coll = self.collection("scale")
        print(f"-- {LABELS[system.name]} at {len(big)} points", flush=True)

        def load() -> float:
            system.create(coll, self.cfg.dim)
            return bulk(system, coll, big)

        self.attempt(system, ["s1"], load)
        self.attempt(system, ["s4p50", "s4p99"], lambda: gets(system, coll, big, self.cfg.gets))
        if INDEXES in system.supports:
            self.read_model(system, coll, big, want, "s")
        with contextlib.suppress(Exception):
            system.drop(coll)

    def collection(self, role: str) -> str:
        return f"bench-{self.tag}-{role}"

    def read_model_load(self, system: System) -> None:
        """Workloads 9-17 on a collection of their own, loaded with the points as generated
        (workloads 7 and 8 changed the main one)."""
        coll = self.collection("query")
        try:
            system.create(coll, self.cfg.dim)
            bulk(system, coll, self.data)
        except Exception as exc:
            self.failed(system, [f"w{key}" for group in READ_MODEL_KEYS for key in group], exc)
            return
        try:
            self.read_model(system, coll, self.data, self.want, "w")
        finally:
            with contextlib.suppress(Exception):
                system.drop(coll)

    def read_model(
        self, system: System, coll: str, data: Data, want: Expected, prefix: str
    ) -> None:
        """Workloads 9-17 on `coll`, which holds `data`; their rows' keys start with `prefix`.
        15-17 are 6-8 again, with the payload indexes of 9 (17 last: it deletes points)."""
        name, k, at = system.name, self.cfg.top_k, f" at N = {len(data):,}"

        def cut_short(workload: str, ran: int, wanted: int) -> None:
            self.cut_short(name, f"{workload}{at}", ran, wanted)

        def indexes() -> tuple[Value, Value]:
            payload, build, indexed = build_indexes(system, coll)
            self.outcome.check(f"vectors indexed after 10{at}", name, indexed)
            if INDEXES not in system.supports:
                return NA, NA  # called all the same, but nothing is built to time
            return payload, build

        def search(workload: str, exact: bool, city: str | None) -> tuple[float, float, float]:
            """Queries per second, p50, recall@k of the queries that ran."""
            qps, p50, found = top_k_queries(system, coll, want.queries, self.cfg, exact, city)
            cut_short(workload, len(found), len(want.queries))
            truth = want.nearest if city is None else want.nearest_in_city
            return qps, p50, recall(found, truth[: len(found)])

        def count() -> float:
            median, calls = count_city(system, coll, QUERY_CITY, self.cfg, want.in_city)
            cut_short("14", calls, self.cfg.counts)
            return median

        def exact() -> tuple[float, float]:
            qps, p50, got = search("11", True, None)
            self.outcome.check(f"recall@{k} of the exact queries (11){at}", name, f"{got:.3f}")
            return qps, p50

        workloads: list[Callable[[], Figures]] = [
            indexes,
            exact,
            lambda: search("12", False, None),
            lambda: search("13", False, QUERY_CITY),
            count,
            lambda: self.scroll(system, coll, f"15{at}"),
            lambda: self.set_payload(system, coll, f"16{at}"),
            lambda: self.delete(system, coll, f"17{at}"),
        ]
        for group, workload in zip(READ_MODEL_KEYS, workloads, strict=True):
            self.attempt(system, [prefix + key for key in group], workload)
            if group == ("14",):
                self.note_read_model(system, coll, data, at)

    def hybrid_queries(self, systems: list[System], hybrid: Hybrid) -> None:
        """Workloads 18-20 on a collection of their own in each system (dense and sparse
        vectors, a `group` key), loaded and indexed first (not timed); then each workload on
        every system at once, their calls in turns (hybrid_workloads.interleaved)."""
        coll, loaded = self.collection("hybrid"), []
        print("-- 18-20, every system in turn", flush=True)
        try:
            for system in systems:
                if self.hybrid_load(system, coll, hybrid):
                    loaded.append(system)
            for workload in hybrid_workloads.WORKLOADS:
                self.hybrid_workload(loaded, coll, hybrid, workload)
        finally:
            for system in loaded:
                with contextlib.suppress(Exception):
                    system.drop(coll)

    def hybrid_load(self, system: System, coll: str, hybrid: Hybrid) -> bool:
        """Whether the system holds the points of 18-20, indexed."""
        try:
            rate = hybrid_workloads.load(system, coll, hybrid, self.cfg.dim)
            indexed = system.build_index(coll)
        except Exception as exc:
            self.failed(system, [key for keys in HYBRID_KEYS.values() for key in keys], exc)
            with contextlib.suppress(Exception):
                system.drop(coll)
            return False
        print(f"  {system.name}: hybrid load {fmt(rate)} points/s, {indexed:,} indexed", flush=True)
        return True

    def hybrid_workload(
        self, systems: list[System], coll: str, hybrid: Hybrid, workload: str
    ) -> None:
        """One of 18-20 on the systems that support it: its figures, and its answers kept for
        comparing systems."""
        needs = hybrid_workloads.NEEDS.get(workload)
        able = [s for s in systems if needs is None or needs in s.supports]
        for system in systems:
            if system not in able:
                for key in HYBRID_KEYS[workload]:
                    self.outcome.put(key, system.name, NA)
        make = hybrid_workloads.WORKLOADS[workload]
        calls = {s.name: make(s, coll, hybrid, self.cfg.top_k) for s in able}
        answers = hybrid_workloads.interleaved(self.cfg, calls)
        for system in able:
            answer = answers[system.name]
            if isinstance(answer, Exception):
                self.failed(system, list(HYBRID_KEYS[workload]), answer)
                continue
            qps, p50, found = answer
            self.answers.setdefault(workload, {})[system.name] = found
            self.cut_short(system.name, workload, len(found), len(hybrid.examples))
            self.record(system, list(HYBRID_KEYS[workload]), (qps, p50))

    def note_overlaps(self) -> None:
        """How far pointlog's answers to 18-20 agree with each other system's."""
        mine = {w: per["pointlog"] for w, per in self.answers.items() if "pointlog" in per}
        others = sorted({s for per in self.answers.values() for s in per} - {"pointlog"})
        for other in others:
            shares = [
                f"{hybrid_workloads.NAMES[w]} ({w})"
                f" {hybrid_workloads.overlap(ids, self.answers[w][other]):.3f}"
                for w, ids in mine.items()
                if other in self.answers[w]
            ]
            if shares:
                self.outcome.notes.append(
                    f"18-20: share of {LABELS[other]}'s ids that pointlog's answers hold too (mean"
                    f" over the queries both ran; ties in RRF scores may break either way): "
                    + ", ".join(shares)
                )

    def cut_short(self, name: str, workload: str, ran: int, wanted: int) -> None:
        if ran < wanted:
            self.outcome.notes.append(
                f"{name}: workload {workload} ran {ran} of {wanted} requests"
                f" (its {self.cfg.budget:g} s budget)"
            )

    def note_read_model(self, system: System, coll: str, data: Data, at: str) -> None:
        """pointlog: the memory its web process holds for the queries (the read model's own
        figure, and the process's resident set)."""
        if not isinstance(system, Pointlog) or self.cluster is None:
            return
        with contextlib.suppress(Exception):
            held = system.held_vector_bytes(coll)
            raw = len(data) * self.cfg.dim * 4
            status = Path(f"/proc/{self.cluster.webs[0].process.pid}/status").read_text()
            rss = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            self.outcome.notes.append(
                f"pointlog{at}: the web process's vector read model holds {held:,} bytes "
                f"({(held or 0) / raw:.2f}x the {raw:,} bytes of raw vectors, with the copies "
                f"kept for filters); the process's resident set is {int(rss) * 1024:,} bytes"
            )

    # -- the workloads that need a collection of their own, or a check beside the figure --------

    def bulk_load(self, system: System, coll: str) -> float:
        """Workload 1; the collection it fills serves the later workloads."""
        system.before_bulk(coll)
        system.create(coll, self.cfg.dim)
        value = bulk(system, coll, self.data)
        system.after_bulk(coll, self.data)
        return value

    def concurrent_load(self, system: System) -> float:
        coll = self.collection("c4")
        system.create(coll, self.cfg.dim)
        try:
            value = bulk_concurrent(system, coll, self.data, CLIENTS)
            self.expect_count(system, coll, "after the concurrent load")
            return value
        finally:
            system.drop(coll)

    def nowait_ingest(self, system: System) -> tuple[float, float]:
        coll = self.collection("nowait")
        system.create(coll, self.cfg.dim)
        try:
            values = ingest_nowait(
                system, coll, self.data, lambda: self.diagnose(system, coll, "3 (final)")
            )
            self.expect_count(system, coll, "after wait=false ingest")
            return values
        finally:
            system.drop(coll)

    def scroll(self, system: System, coll: str, workload: str) -> float:
        seconds, seen = timed(lambda: system.scroll_city(coll, SCROLL_CITY, self.cfg.scroll_limit))
        self.outcome.check(f"scroll city == {SCROLL_CITY} ({workload}): points", system.name, seen)
        return seconds

    def set_payload(self, system: System, coll: str, workload: str) -> float:
        seconds, _ = timed(lambda: system.set_payload_city(coll, SET_PAYLOAD_CITY, {"flag": True}))
        flagged = system.count_flag(coll)
        self.outcome.check(f"points with flag=true after {workload}", system.name, flagged)
        return seconds

    def delete(self, system: System, coll: str, workload: str) -> float:
        seconds, _ = timed(lambda: system.delete_price_below(coll, DELETE_PRICE_BELOW))
        self.outcome.check(f"points left after {workload}", system.name, system.count(coll))
        return seconds

    def expect_count(self, system: System, coll: str, when: str) -> None:
        count = system.count(coll)
        if count != len(self.data):
            raise RuntimeError(f"{count} points {when}, expected {len(self.data)}")

    # -- recording -------------------------------------------------------------------------------

    def attempt(self, system: System, keys: list[str], fn: Callable[[], Figures]) -> None:
        """Run one workload; its values go in the rows `keys`, or `error` and the reason."""
        try:
            values = fn()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self.failed(system, keys, exc)
            return
        self.record(system, keys, values if isinstance(values, tuple) else (values,))

    def record(self, system: System, keys: list[str], values: tuple[Value, ...]) -> None:
        for key, value in zip(keys, values, strict=True):
            self.outcome.put(key, system.name, value)
        shown = ", ".join(f"{k}={fmt(v)}" for k, v in zip(keys, values, strict=True))
        print(f"  {system.name}: {shown}", flush=True)

    def failed(self, system: System, keys: list[str], exc: Exception) -> None:
        """Record the error (naming any of pointlog's processes that died); a request that
        failed is saved whole, for replaying it by hand."""
        for key in keys:
            self.outcome.put(key, system.name, ERROR)
        where = f"{system.name} {'/'.join(keys)}"
        dead = self.cluster.dead() if self.cluster and system.name == "pointlog" else []
        extra = f" [{'; '.join(dead)}]" if dead else ""
        self.outcome.errors.append(f"{where}: {type(exc).__name__}: {exc}{extra}")
        print(f"  ! {where}: {type(exc).__name__}: {str(exc)[:300]}{extra}", flush=True)
        if isinstance(exc, ServerError) and exc.body is not None:
            saved = (
                Path(tempfile.gettempdir())
                / f"pointlog-bench-request-{self.tag}-{len(self.outcome.errors)}.json"
            )
            saved.write_bytes(exc.body)
            self.outcome.errors.append(f"    full request body of the above: {saved}")

    def diagnose(self, system: System, coll: str, workload: str) -> None:
        """Note why a timed write could stall (pointlog: a stale kick flag) before it runs."""
        with contextlib.suppress(Exception):
            found = system.stall(coll)
            if found:
                note = f"before workload {workload}: {found}"
                self.outcome.notes.append(f"pointlog {note}")
                print(f"  ? {note}", flush=True)
