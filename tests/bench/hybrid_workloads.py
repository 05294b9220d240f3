"""Workloads 18-20, on a collection of two named vectors (systems.DENSE: the points' vectors,
Cosine; systems.SPARSE: data.make_sparse's) holding the points with a `group` key: a hybrid
query (RRF of a dense and a sparse prefetch), a recommend query by stored examples (strategy
average_vector) and a grouped query. Each raises on an answer of the wrong shape and returns,
beside queries/s and p50, the ids each query found, for comparing systems."""

from __future__ import annotations

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
from tests.bench.query_workloads import timed_calls
from tests.bench.systems import GROUPS as GROUPED
from tests.bench.systems import System
from tests.bench.workloads import Config, timed

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


Answers = tuple[float, float, list[list[int]]]  # queries/s, p50 (ms), the ids of each query


def fused(system: System, coll: str, hybrid: Hybrid, cfg: Config) -> Answers:
    k = cfg.top_k
    pairs = zip(hybrid.dense_queries, hybrid.sparse_queries, strict=True)
    calls = [partial(system.fused, coll, dense, sparse, PREFETCH * k, k) for dense, sparse in pairs]
    qps, p50, found = timed_calls(cfg, calls)
    for ids in found:
        _expect(len(set(ids)) == k, f"hybrid query: {len(set(ids))} distinct points, expected {k}")
    return qps, p50, found


def recommend(system: System, coll: str, hybrid: Hybrid, cfg: Config) -> Answers:
    k = cfg.top_k
    calls = [partial(system.recommend, coll, pos, neg, k) for pos, neg in hybrid.examples]
    qps, p50, found = timed_calls(cfg, calls)
    for ids, (pos, neg) in zip(found, hybrid.examples, strict=False):
        _expect(len(set(ids)) == k, f"recommend: {len(set(ids))} distinct points, expected {k}")
        _expect(not set(ids) & {*pos, *neg}, f"recommend {pos} -{neg}: an example in {ids}")
    return qps, p50, found


def groups(system: System, coll: str, hybrid: Hybrid, cfg: Config) -> Answers:
    calls = [
        partial(system.groups, coll, dense, GROUP_BY, GROUP_LIMIT, GROUP_SIZE)
        for dense in hybrid.dense_queries
    ]
    qps, p50, found = timed_calls(cfg, calls)
    for answer in found:
        sizes = [len(hits) for hits in answer]
        _expect(
            len(sizes) == GROUP_LIMIT and all(1 <= n <= GROUP_SIZE for n in sizes),
            f"groups: {sizes} hits, expected {GROUP_LIMIT} groups of 1 to {GROUP_SIZE}",
        )
    return qps, p50, [[i for hits in answer for i in hits] for answer in found]


Workload = Callable[[System, str, Hybrid, Config], Answers]
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
