"""The workloads, each timing one kind of request against a system, and their sizes. A timed
function returns throughput (points/s), latencies (ms) or seconds; it raises on a wrong
result, so a figure is never reported for work that was not done."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from tests.bench.data import CITIES, SEED, Data
from tests.bench.systems import System

CLIENTS = 4  # concurrent clients of workload 1
SCROLL_CITY = CITIES[0]
SET_PAYLOAD_CITY = CITIES[1]
DELETE_PRICE_BELOW = 10.0

T = TypeVar("T")


@dataclass
class Config:
    points: int
    dim: int
    data: str = "random"  # the kind of vectors: a key of data.VECTORS
    single_upserts: int = 300
    gets: int = 2000
    get_many_rounds: int = 200
    get_many_ids: int = 100
    scroll_limit: int = 1000
    queries: int = 200  # query vectors of workloads 11-13
    top_k: int = 10
    counts: int = 20  # filtered counts of workload 14
    # Workloads 11-14 stop early on a system once they have taken this many seconds and run
    # `at_least` requests: at large N an exhaustive search in Python would otherwise take most
    # of the run, and a few dozen samples already give its rate.
    budget: float = 20.0
    at_least: int = 10

    @classmethod
    def quick(cls, points: int, dim: int, data: str = "random") -> Config:
        """A smoke run: at most 2,000 points, a few requests of each kind."""
        return cls(
            points=min(points, 2000),
            dim=dim,
            data=data,
            single_upserts=50,
            gets=200,
            get_many_rounds=20,
            queries=20,
            counts=5,
        )


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def milliseconds(samples: list[float], with_max: bool = False) -> tuple[float, ...]:
    """p50 and p99 (and the maximum) of durations in seconds, in milliseconds."""
    array = np.array(samples) * 1000.0
    found = float(np.percentile(array, 50)), float(np.percentile(array, 99))
    return (*found, float(array.max())) if with_max else found


def bulk(system: System, coll: str, data: Data) -> float:
    start = time.perf_counter()
    for batch in data.batches():
        system.upsert(coll, batch, wait=True)
    return len(data) / (time.perf_counter() - start)


def bulk_concurrent(system: System, coll: str, data: Data, clients: int) -> float:
    """The batches dealt out to `clients` threads, timed from a common start."""
    batches = list(data.batches())
    forks = [system.fork() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def run(k: int) -> None:
        client = forks[k]
        barrier.wait()
        try:
            for batch in batches[k::clients]:
                client.upsert(coll, batch, wait=True)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for client in forks:
        if client is not system:
            client.close()
    if failures:
        raise failures[0]
    return len(data) / elapsed


def single_upserts(system: System, coll: str, data: Data, count: int) -> tuple[float, ...]:
    """Re-upserts the first `count` points (same content), one request each."""
    samples = []
    for k in range(count):
        k %= len(data)
        started = time.perf_counter()
        system.upsert(coll, data.point(k), wait=True)
        samples.append(time.perf_counter() - started)
    return milliseconds(samples, with_max=True)


def ingest_nowait(
    system: System, coll: str, data: Data, before_final: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Throughput to acknowledged (every batch with wait=false) and to completed (then the last
    point again with wait=true)."""
    start = time.perf_counter()
    for batch in data.batches():
        system.upsert(coll, batch, wait=False)
    acknowledged = time.perf_counter() - start
    if before_final is not None:
        before_final()
    # The log is ordered: once this one is applied, everything before it is.
    system.upsert(coll, data.point(len(data) - 1), wait=True)
    completed = time.perf_counter() - start
    return len(data) / acknowledged, len(data) / completed


def gets(system: System, coll: str, data: Data, count: int) -> tuple[float, ...]:
    rng = np.random.default_rng(SEED + 4)
    picks = [data.ids[int(i)] for i in rng.integers(0, len(data), count)]
    samples = []
    for point_id in picks:
        started = time.perf_counter()
        system.get(coll, point_id)
        samples.append(time.perf_counter() - started)
    return milliseconds(samples)


def get_many(system: System, coll: str, data: Data, rounds: int, size: int) -> float:
    rng = np.random.default_rng(SEED + 5)
    draws = [
        [data.ids[int(i)] for i in rng.choice(len(data), size, replace=False)]
        for _ in range(rounds)
    ]
    got = 0
    start = time.perf_counter()
    for ids in draws:
        got += len(system.get_many(coll, ids))
    elapsed = time.perf_counter() - start
    if got != rounds * size:
        raise RuntimeError(f"get many: {got} points returned, expected {rounds * size}")
    return got / elapsed


def sanity(system: System, coll: str, data: Data) -> str | None:
    """The first point as stored: payload equal, vector equal to the normalised input."""
    got = system.get(coll, data.ids[0])
    if isinstance(got, dict):
        payload, vector = got.get("payload"), got.get("vector")
    else:
        payload, vector = getattr(got, "payload", None), getattr(got, "vector", None)
    expected = data.vectors[0] / np.linalg.norm(data.vectors[0])
    problems = []
    if payload != data.payloads[0]:
        problems.append(f"payload {payload!r} != {data.payloads[0]!r}")
    if vector is None or not np.allclose(np.asarray(vector, dtype=np.float32), expected, atol=1e-5):
        problems.append("vector differs from the normalised input")
    return "; ".join(problems) or None
