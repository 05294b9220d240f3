"""Workloads 18-20, on a collection of two named vectors (systems.DENSE: the points' vectors,
Cosine; systems.SPARSE: data.make_sparse's) holding the points with a `group` key: a hybrid
query (RRF of a dense and a sparse prefetch), a recommend query by stored examples (strategy
average_vector) and a grouped query. Each is a list of calls, one a query, that raise on an
answer of the wrong shape and return the ids it found, for comparing systems; `interleaved`
times the systems' calls in turns."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from tests.bench.data import (
    BATCH,
    GROUP_KEY,
    GROUPS,
    SPARSE_QUERY_SEED,
    SPARSE_SEED,
    VOCABULARY,
    Batch,
    Data,
    Sparse,
    make_sparse,
    with_groups,
)
from tests.bench.query_workloads import spent
from tests.bench.systems import GROUPS as GROUPED
from tests.bench.systems import System
from tests.bench.workloads import Config, milliseconds, timed

POINT_TERMS = (10, 40)  # nonzeros of a point's sparse vector
QUERY_TERMS = (3, 10)  # of a query's
PREFETCH = 2  # each prefetch's limit, in multiples of k
EXAMPLES_SEED = SPARSE_SEED + 1
GROUP_BY = GROUP_KEY
GROUP_LIMIT = 10
GROUP_SIZE = 3


@dataclass
class Hybrid:
    data: Data  # the points, each payload with a `group` key
    sparse: list[Sparse]  # the points' sparse vectors, in the same order
    dense_queries: np.ndarray
    sparse_queries: list[Sparse]
    examples: list[tuple[list[int], list[int]]]  # each recommend query's positive, negative ids

    def batches(self) -> Iterator[tuple[Batch, list[Sparse]]]:
        starts = range(0, len(self.sparse), BATCH)
        for start, batch in zip(starts, self.data.batches(BATCH), strict=True):
            yield batch, self.sparse[start : start + BATCH]


def prepare(data: Data, queries: np.ndarray) -> Hybrid:
    """The points of `data` for these workloads, and as many queries of each kind as `queries`
    (the dense ones)."""
    rng = np.random.default_rng(EXAMPLES_SEED)
    picks = [rng.choice(len(data), 3, replace=False) for _ in queries]
    return Hybrid(
        data=with_groups(data),
        sparse=make_sparse(len(data), POINT_TERMS, SPARSE_SEED),
        dense_queries=queries,
        sparse_queries=make_sparse(len(queries), QUERY_TERMS, SPARSE_QUERY_SEED),
        examples=[([data.ids[a], data.ids[b]], [data.ids[c]]) for a, b, c in picks],
    )


def load(system: System, coll: str, hybrid: Hybrid, dim: int) -> float:
    """Creates the collection and upserts the points: points/s."""
    system.create_hybrid(coll, dim)

    def upsert() -> None:
        for batch, sparse in hybrid.batches():
            system.upsert_hybrid(coll, batch, sparse)

    return len(hybrid.data) / timed(upsert)[0]


Ids = list[int]  # the points one query found, best first (a grouped query's hits in order)
Calls = list[Callable[[], Ids]]
Answers = tuple[float, float, list[Ids]]  # queries/s, p50 (ms), the ids of each query
TURN = 20  # calls a system makes before the next system's turn


def fused(system: System, coll: str, hybrid: Hybrid, k: int) -> Calls:
    pairs = zip(hybrid.dense_queries, hybrid.sparse_queries, strict=True)
    return [
        _checked(partial(system.fused, coll, dense, sparse, PREFETCH * k, k), _fused_ok(k))
        for dense, sparse in pairs
    ]


def recommend(system: System, coll: str, hybrid: Hybrid, k: int) -> Calls:
    return [
        _checked(partial(system.recommend, coll, pos, neg, k), _recommend_ok(k, pos, neg))
        for pos, neg in hybrid.examples
    ]


def groups(system: System, coll: str, hybrid: Hybrid, k: int) -> Calls:
    def call(dense: np.ndarray) -> Ids:
        answer = system.groups(coll, dense, GROUP_BY, GROUP_LIMIT, GROUP_SIZE)
        sizes = [len(hits) for hits in answer]
        _expect(
            len(sizes) == GROUP_LIMIT and all(1 <= n <= GROUP_SIZE for n in sizes),
            f"groups: {sizes} hits, expected {GROUP_LIMIT} groups of 1 to {GROUP_SIZE}",
        )
        return [i for hits in answer for i in hits]

    return [partial(call, dense) for dense in hybrid.dense_queries]


def interleaved(cfg: Config, calls: dict[str, Calls]) -> dict[str, Answers | Exception]:
    """Each system's calls, in turns of TURN calls, system after system, until each has run
    them all or spent its time budget: a drift in the machine's speed (other load, the CPU's
    clock) then lands on every system alike, not on whichever ran while it lasted, and their
    ratio holds still between runs. A system whose call raised makes no more calls; its
    answer is the error."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    found: dict[str, list[Ids]] = {name: [] for name in calls}
    errors: dict[str, Exception] = {}
    longest = max((len(c) for c in calls.values()), default=0)
    for start in range(0, longest, TURN):
        for name, mine in calls.items():
            if name in errors or spent(cfg, samples[name]):
                continue
            try:
                for call in mine[start : start + TURN]:
                    started = time.perf_counter()
                    found[name].append(call())
                    samples[name].append(time.perf_counter() - started)
            except Exception as exc:
                errors[name] = exc
    return {
        name: errors.get(name)
        or (len(samples[name]) / sum(samples[name]), milliseconds(samples[name])[0], found[name])
        for name in calls
    }


def _checked(call: Callable[[], Ids], ok: Callable[[Ids], None]) -> Callable[[], Ids]:
    def checked() -> Ids:
        ids = call()
        ok(ids)
        return ids

    return checked


def _fused_ok(k: int) -> Callable[[Ids], None]:
    def ok(ids: Ids) -> None:
        _expect(len(set(ids)) == k, f"hybrid query: {len(set(ids))} distinct points, expected {k}")

    return ok


def _recommend_ok(k: int, pos: Ids, neg: Ids) -> Callable[[Ids], None]:
    def ok(ids: Ids) -> None:
        _expect(len(set(ids)) == k, f"recommend: {len(set(ids))} distinct points, expected {k}")
        _expect(not set(ids) & {*pos, *neg}, f"recommend {pos} -{neg}: an example in {ids}")

    return ok


Workload = Callable[[System, str, Hybrid, int], Calls]
WORKLOADS: dict[str, Workload] = {"18": fused, "19": recommend, "20": groups}
NAMES = {"18": "hybrid", "19": "recommend", "20": "groups (their hits)"}
NEEDS = {"20": GROUPED}  # the capability a workload needs of a system


def overlap(mine: Sequence[list[int]], other: Sequence[list[int]]) -> float:
    """Mean share of the other system's ids that mine found too, over the queries both ran."""
    pairs = list(zip(mine, other, strict=False))
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in pairs]))


def describe() -> str:
    """What the data of 18-20 is, for the report's header."""
    return (
        f"vectors `d` (the points' own) and `s` (sparse: {POINT_TERMS[0]}-{POINT_TERMS[1]}"
        f" nonzeros a point, {QUERY_TERMS[0]}-{QUERY_TERMS[1]} a query, indices Zipf-like of"
        f" {VOCABULARY:,}, values in (0, 3]), payload + `{GROUP_BY}` (id % {GROUPS:,}, a string)"
    )


def _expect(ok: bool, problem: str) -> None:
    if not ok:
        raise RuntimeError(problem)
