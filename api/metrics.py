"""`/metrics` in Prometheus' text format: this web process's HTTP and wait figures, and every
collection's log figures read from Redis (the same on every pod)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

import falcon
import redis

from projections import collections
from projections.collections import Figures
from projections.memory import WriteLimit
from projections.vector_model import Figures as VectorFigures
from projections.vector_model import VectorModels

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = [0] * len(BUCKETS)
        self._sum = 0.0
        self._total = 0

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._sum += seconds
            self._total += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._counts[i] += 1
                    break

    def lines(self, name: str, labels: str = "") -> Iterable[str]:
        with self._lock:
            counts, total, summed = list(self._counts), self._total, self._sum
        cumulative = 0
        sep = "," if labels else ""
        for bound, count in zip(BUCKETS, counts, strict=True):
            cumulative += count
            yield f'{name}_bucket{{{labels}{sep}le="{bound}"}} {cumulative}'
        yield f'{name}_bucket{{{labels}{sep}le="+Inf"}} {total}'
        yield f"{name}_sum{{{labels}}} {summed}"
        yield f"{name}_count{{{labels}}} {total}"


class Metrics:
    """Middleware counting requests, and the `/metrics` route."""

    def __init__(self, r: redis.Redis, vectors: VectorModels, limit: WriteLimit) -> None:
        self._r = r
        self._vectors = vectors
        self._limit = limit
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, str]] = Counter()
        self._latency: dict[str, Histogram] = {}
        self.waits = Histogram()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        route = req.uri_template or "unmatched"
        started = getattr(req.context, "started", None)
        with self._lock:
            self._requests[(req.method, route, str(resp.status).split()[0])] += 1
            histogram = self._latency.setdefault(route, Histogram())
        if started is not None:
            histogram.observe(time.perf_counter() - started)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/plain; version=0.0.4"
        lines = [
            *self._process_lines(),
            *self._memory_lines(),
            *self._collection_lines(),
            *self._vector_lines(),
        ]
        resp.text = "\n".join(lines) + "\n"

    def _process_lines(self) -> Iterable[str]:
        yield "# TYPE pointlog_http_requests_total counter"
        with self._lock:
            requests = dict(self._requests)
            latency = dict(self._latency)
        for (method, route, status), n in sorted(requests.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            yield f"pointlog_http_requests_total{{{labels}}} {n}"
        yield "# TYPE pointlog_http_request_seconds histogram"
        for route, histogram in sorted(latency.items()):
            yield from histogram.lines("pointlog_http_request_seconds", f'route="{route}"')
        yield "# TYPE pointlog_wait_seconds histogram"
        yield from self.waits.lines("pointlog_wait_seconds")

    def _memory_lines(self) -> Iterable[str]:
        """The store's memory against the write limit (memory.py), and appends refused."""
        memory = self._limit.current()
        if memory is not None:
            limit = memory.limit(self._limit.share)
            yield "# TYPE pointlog_redis_used_memory_bytes gauge"
            yield f"pointlog_redis_used_memory_bytes {memory.used}"
            yield "# TYPE pointlog_redis_maxmemory_bytes gauge"
            yield f"pointlog_redis_maxmemory_bytes {memory.maxmemory}"
            yield "# TYPE pointlog_write_limit_bytes gauge"
            yield f"pointlog_write_limit_bytes {0 if limit is None else limit}"
        yield "# TYPE pointlog_writes_refused_total counter"
        yield f"pointlog_writes_refused_total {self._limit.refused}"

    def _collection_lines(self) -> Iterable[str]:
        series: dict[str, tuple[str, Callable[[Figures], int]]] = {
            "pointlog_operations_appended": ("gauge", lambda f: f.appended),
            "pointlog_operations_applied": ("gauge", lambda f: f.applied),
            "pointlog_apply_lag": ("gauge", lambda f: f.lag),
            "pointlog_points": ("gauge", lambda f: f.points),
            "pointlog_apply_ops_total": ("counter", lambda f: f.ops_applied),
            "pointlog_apply_batches_total": ("counter", lambda f: f.batches),
            "pointlog_operations_archived": ("gauge", lambda f: f.archived),
            "pointlog_hot_log_bytes": ("gauge", lambda f: f.hot_log_bytes),
        }
        figures = collections.overview(self._r)
        for metric, (kind, figure) in series.items():
            yield f"# TYPE {metric} {kind}"
            for found in figures:
                label = f'{{collection="{_escape(found.collection.name)}"}}'
                yield f"{metric}{label} {figure(found)}"

    def _vector_lines(self) -> Iterable[str]:
        """This process's vector read models: what each holds, and how far it has followed."""
        series: dict[str, Callable[[VectorFigures], float]] = {
            "pointlog_vectors_held": lambda f: f.vectors,
            "pointlog_vectors_bytes": lambda f: f.nbytes,
            "pointlog_vectors_checkpoint": lambda f: f.checkpoint,
            "pointlog_vectors_load_seconds": lambda f: (
                -1 if f.load_seconds is None else f.load_seconds
            ),
        }
        figures = self._vectors.figures()
        for metric, figure in series.items():
            yield f"# TYPE {metric} gauge"
            for found in figures:
                yield f'{metric}{{collection="{_escape(found.name)}"}} {figure(found)}'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
