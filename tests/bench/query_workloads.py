"""The read-model workloads, on a loaded collection: payload indexes and the vector index
build (9, 10), top-k queries exact, at the default params and with a keyword filter (11-13),
and the filtered count (14); and what the queries should find, computed here."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np

from tests.bench import ground_truth
from tests.bench.data import CITIES, Data, make_queries
from tests.bench.systems import System
from tests.bench.workloads import Config, milliseconds, timed

# One of the five cities the generator draws uniformly: about 20% of the points, selective
# enough for a payload index to matter, common enough that the filtered top-k is never short.
QUERY_CITY = CITIES[2]

T = TypeVar("T")


@dataclass
class Expected:
    """The query vectors and their exact answers over the data: (queries, k) ids each."""

    queries: np.ndarray
    nearest: np.ndarray
    nearest_in_city: np.ndarray
    in_city: int  # points whose city is QUERY_CITY


def expected(cfg: Config, data: Data) -> Expected:
    queries = make_queries(cfg.queries, cfg.dim, cfg.data)
    ids = np.asarray(data.ids)
    mask = np.array([p["city"] == QUERY_CITY for p in data.payloads])
    return Expected(
        queries=queries,
        nearest=ground_truth.nearest_ids(data.vectors, ids, queries, cfg.top_k, None),
        nearest_in_city=ground_truth.nearest_ids(data.vectors, ids, queries, cfg.top_k, mask),
        in_city=int(mask.sum()),
    )


def build_indexes(system: System, coll: str) -> tuple[float, float, int]:
    """Seconds to create the payload indexes, seconds until ready for indexed search, and how
    many vectors the system then says are indexed."""
    payload, _ = timed(lambda: system.create_payload_indexes(coll))
    build, indexed = timed(lambda: system.build_index(coll))
    return payload, build, indexed


def top_k_queries(
    system: System,
    coll: str,
    vectors: np.ndarray,
    cfg: Config,
    exact: bool,
    city: str | None,
) -> tuple[float, float, list[np.ndarray]]:
    """Queries per second, p50 (ms), and the ids each query found, in order (fewer than the
    vectors when the budget ran out); raises if one found fewer than k points (every query here
    has more than k candidates)."""
    k = cfg.top_k
    calls = [partial(system.query, coll, vector, k, exact, city) for vector in vectors]
    qps, p50, found = timed_calls(cfg, calls)
    for ids in found:
        if len(ids) != k:
            raise RuntimeError(f"query found {len(ids)} points, expected {k}")
    return qps, p50, [np.asarray(ids) for ids in found]


def timed_calls(cfg: Config, calls: Sequence[Callable[[], T]]) -> tuple[float, float, list[T]]:
    """Calls per second, p50 (ms) and the calls' results, in order: as many calls as the
    budget allows."""
    found: list[T] = []
    samples: list[float] = []
    for call in calls:
        if spent(cfg, samples):
            break
        started = time.perf_counter()
        found.append(call())
        samples.append(time.perf_counter() - started)
    return len(samples) / sum(samples), milliseconds(samples)[0], found


def count_city(
    system: System, coll: str, city: str, cfg: Config, expected: int
) -> tuple[float, int]:
    """The median (ms) of `cfg.counts` exact filtered counts, or of fewer when the budget ran
    out, and how many ran; raises on a wrong count."""
    samples: list[float] = []
    for _ in range(cfg.counts):
        if spent(cfg, samples):
            break
        started = time.perf_counter()
        count = system.count_city(coll, city)
        samples.append(time.perf_counter() - started)
        if count != expected:
            raise RuntimeError(f"count city == {city}: {count}, expected {expected}")
    return milliseconds(samples)[0], len(samples)


def spent(cfg: Config, samples: list[float]) -> bool:
    """Whether a workload has used its time budget, having run enough requests to stop."""
    return len(samples) >= cfg.at_least and sum(samples) >= cfg.budget
