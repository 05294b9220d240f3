"""`/metrics` in Prometheus' text format, from prometheus-client's registry: Qdrant's metric
names (`app_info`, `collections_total`, `collections_vector_total`, `cluster_enabled`,
`rest_responses_*`; with `?per_collection=true` also `collection_points` and
`collection_vectors`) beside pointlog's own (`pointlog_*`): this web process's waits and
vector read models, and every collection's log figures read from Redis (the same on every
pod)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar, cast

import falcon
import redis
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.request_stats import Durations, RequestStats
from api.service import QDRANT_API_VERSION
from projections.figures import Figures, overview
from projections.memory import WriteLimit
from projections.vector_model import Figures as VectorFigures
from projections.vector_model import VectorModels

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TIMED_STATUS = 200  # as Qdrant, durations are shown for successful answers only
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Middleware recording each answer, and the `/metrics` route."""

    def __init__(
        self, r: redis.Redis, vectors: VectorModels, limit: WriteLimit, stats: RequestStats
    ) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # Qdrant has no `_created`
        self._r = r
        self._stats = stats
        self._registry = CollectorRegistry(auto_describe=False)
        self.waits = Histogram(
            "pointlog_wait_seconds",
            "How long wait=true writes waited to be applied",
            buckets=BUCKETS,
            registry=self._registry,
        )
        self._durations = Histogram(
            "rest_responses_duration_seconds",
            "Durations of successful REST answers",
            ["method", "endpoint"],
            buckets=BUCKETS,
            registry=self._registry,
        )
        for collector in (_Rest(stats), _Store(r), _Memory(limit), _Models(vectors)):
            self._registry.register(collector)
        self._per_collection = CollectorRegistry(auto_describe=False)
        self._per_collection.register(_PerCollection(r))

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "started", None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        route, status = req.uri_template or "unmatched", int(str(resp.status).split()[0])
        self._stats.record(req.method, route, status, seconds)
        if status == TIMED_STATUS:
            self._durations.labels(req.method, route).observe(seconds)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        per_collection = req.get_param_as_bool("per_collection", default=False)
        data = generate_latest(self._registry)
        if per_collection:
            data += generate_latest(self._per_collection)
        resp.content_type = CONTENT_TYPE
        resp.data = data


class _Rest(Collector):
    """Qdrant's `rest_responses_*`: per method, route and status."""

    def __init__(self, stats: RequestStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        labels = ["method", "endpoint", "status"]
        total = CounterMetricFamily("rest_responses", "REST answers", labels=labels)
        failed = CounterMetricFamily("rest_responses_fail", "REST error answers", labels=labels)
        gauges: dict[str, Callable[[Durations], float]] = {
            "avg": lambda d: d.average,
            "min": lambda d: d.least,
            "max": lambda d: d.most,
        }
        timed = {
            kind: GaugeMetricFamily(
                f"rest_responses_{kind}_duration_seconds", f"{kind} REST answer time", labels=labels
            )
            for kind in gauges
        }
        for (method, route, status), durations in sorted(self._stats.snapshot().items()):
            values = [method, route, str(status)]
            total.add_metric(values, durations.count)
            failed.add_metric(values, durations.count if durations.failed else 0)
            if status == TIMED_STATUS:
                for kind, figure in gauges.items():
                    timed[kind].add_metric(values, figure(durations))
        yield from (total, failed, *timed.values())


class _Store(Collector):
    """What Redis holds, read at each scrape in a few round trips: Qdrant's server figures
    and pointlog's figures of each collection's log."""

    SERIES: ClassVar[dict[str, tuple[str, Callable[[Figures], int]]]] = {
        "pointlog_operations_appended": ("gauge", lambda f: f.appended),
        "pointlog_operations_applied": ("gauge", lambda f: f.applied),
        "pointlog_apply_lag": ("gauge", lambda f: f.lag),
        "pointlog_points": ("gauge", lambda f: f.points),
        "pointlog_apply_ops": ("counter", lambda f: f.ops_applied),
        "pointlog_apply_batches": ("counter", lambda f: f.batches),
        "pointlog_operations_archived": ("gauge", lambda f: f.archived),
        "pointlog_hot_log_bytes": ("gauge", lambda f: f.hot_log_bytes),
    }

    def __init__(self, r: redis.Redis) -> None:
        self._r = r

    def collect(self) -> Iterator[Metric]:
        figures = overview(self._r)
        info = GaugeMetricFamily("app_info", "pointlog", labels=["name", "version"])
        info.add_metric(["pointlog", QDRANT_API_VERSION], 1)
        yield info
        yield GaugeMetricFamily("collections_total", "collections", value=len(figures))
        vectors = sum(n for _, _, n in vector_counts(self._r, figures))
        yield GaugeMetricFamily("collections_vector_total", "vectors in all collections", vectors)
        yield GaugeMetricFamily("cluster_enabled", "distributed mode (never)", value=0)
        for metric, (kind, figure) in self.SERIES.items():
            family = _family(kind, metric, metric.removeprefix("pointlog_").replace("_", " "))
            for found in figures:
                family.add_metric([found.collection.name], figure(found))
            yield family


class _PerCollection(Collector):
    """`?per_collection=true`: points and vectors of each collection."""

    def __init__(self, r: redis.Redis) -> None:
        self._r = r

    def collect(self) -> Iterator[Metric]:
        figures = overview(self._r)
        points = GaugeMetricFamily("collection_points", "points", labels=["id"])
        for found in figures:
            points.add_metric([found.collection.name], found.points)
        vectors = GaugeMetricFamily("collection_vectors", "vectors", labels=["id", "vector"])
        for name, vector, count in vector_counts(self._r, figures):
            vectors.add_metric([name, vector], count)
        yield from (points, vectors)


def vector_counts(r: redis.Redis, figures: list[Figures]) -> list[tuple[str, str, int]]:
    """(collection, vector name, vectors stored) of every vector name, in one round trip."""
    named = [(f.collection, name) for f in figures for name in f.collection.vector_names]
    with r.pipeline(transaction=False) as pipe:
        for collection, name in named:
            for part in collection.parts:
                pipe.hlen(part.keys.vectors(name))
        counts = iter(cast("list[int]", pipe.execute()))
    return [(c.name, name, sum(next(counts) for _ in c.parts)) for c, name in named]


class _Memory(Collector):
    """The store's memory against the write limit (memory.py), and appends refused."""

    def __init__(self, limit: WriteLimit) -> None:
        self._limit = limit

    def collect(self) -> Iterator[Metric]:
        memory = self._limit.current()
        if memory is not None:
            limit = memory.limit(self._limit.share)
            yield GaugeMetricFamily(
                "pointlog_redis_used_memory_bytes", "Redis used_memory", memory.used
            )
            yield GaugeMetricFamily(
                "pointlog_redis_maxmemory_bytes", "Redis maxmemory", memory.maxmemory
            )
            yield GaugeMetricFamily(
                "pointlog_write_limit_bytes", "writes refused past it", limit or 0
            )
        refused = self._limit.refused
        yield CounterMetricFamily("pointlog_writes_refused", "appends refused: store full", refused)


class _Models(Collector):
    """This process's vector read models: what each holds, and how far it has followed."""

    SERIES: ClassVar[dict[str, Callable[[VectorFigures], float]]] = {
        "pointlog_vectors_held": lambda f: f.vectors,
        "pointlog_vectors_bytes": lambda f: f.nbytes,
        "pointlog_vectors_checkpoint": lambda f: f.checkpoint,
        "pointlog_vectors_load_seconds": lambda f: -1 if f.load_seconds is None else f.load_seconds,
    }

    def __init__(self, vectors: VectorModels) -> None:
        self._vectors = vectors

    def collect(self) -> Iterable[Metric]:
        figures = self._vectors.figures()
        for metric, figure in self.SERIES.items():
            help_text = metric.removeprefix("pointlog_").replace("_", " ")
            family = GaugeMetricFamily(metric, help_text, labels=["collection"])
            for found in figures:
                family.add_metric([found.name], figure(found))
            yield family


def _family(kind: str, name: str, help_text: str) -> CounterMetricFamily | GaugeMetricFamily:
    """A family of per-collection series."""
    if kind == "counter":
        return CounterMetricFamily(name, help_text, labels=["collection"])
    return GaugeMetricFamily(name, help_text, labels=["collection"])
