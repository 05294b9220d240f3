"""The systems under test and what the workloads ask of them: one protocol, implemented by
pointlog over HTTP (pointlog.py), Qdrant's engine in-process (engine.py) and qdrant-client's
local mode (local.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from tests.bench.data import Batch, Data, Payload, Sparse

NAMES = ("pointlog", "engine", "local")
LABELS = {
    "pointlog": "pointlog",
    "engine": "engine (qdrant-edge)",
    "local": "local (qdrant-client :memory:)",
}

# What a system can do beyond the common operations: "concurrent" (several clients at once,
# through fork()), "nowait" (writes answered before they are applied) and "indexes" (payload
# and vector indexes really built, the vector index after the load, its readiness observable).
CONCURRENT = "concurrent"
NOWAIT = "nowait"
INDEXES = "indexes"
GROUPS = "groups"  # grouped queries (query groups)
# The vectors of the hybrid workloads' collection: a dense one and a sparse one.
DENSE = "d"
SPARSE = "s"


class System(Protocol):
    """One system under test. Reads return the system's own record type (a JSON object for
    pointlog); the filter operations are the workloads' own: by `city`, by `price`, by `flag`."""

    name: str
    supports: frozenset[str]

    def fork(self) -> System:
        """A client for another thread (itself where one client is safe to share)."""

    def close(self) -> None: ...

    def create(self, coll: str, dim: int) -> None:
        """A collection of `dim`-sized Cosine vectors."""

    def drop(self, coll: str) -> None: ...

    def upsert(self, coll: str, batch: Batch, wait: bool = True) -> None:
        """The batch's points, whole (ids, vectors, payloads)."""

    def get(self, coll: str, point_id: int) -> object:
        """One point with payload and vector."""

    def get_many(self, coll: str, ids: list[int]) -> Sequence[object]:
        """The points with these ids, with payload and vector."""

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        """Scroll every point whose city is `city`, `limit` a page; returns how many."""

    def set_payload_city(self, coll: str, city: str, payload: Payload) -> None: ...

    def delete_price_below(self, coll: str, price: float) -> None: ...

    def count(self, coll: str) -> int: ...

    def count_flag(self, coll: str) -> int:
        """How many points have `flag` = true."""

    def count_city(self, coll: str, city: str) -> int:
        """How many points have `city` = `city`, counted exactly."""

    def create_payload_indexes(self, coll: str) -> None:
        """A keyword index on `city` and a float index on `price`, each built when it returns."""

    def build_index(self, coll: str) -> int:
        """Returns once the collection is ready for indexed search: how many vectors are
        indexed."""

    def query(
        self, coll: str, vector: np.ndarray, limit: int, exact: bool, city: str | None
    ) -> list[int]:
        """The ids of the `limit` nearest points (of those in `city`, if given); `exact` asks
        for an exhaustive search, otherwise the system's default (its index, if it has one)."""

    def create_hybrid(self, coll: str, dim: int) -> None:
        """A collection of two named vectors: DENSE (`dim`-sized, Cosine) and SPARSE."""

    def upsert_hybrid(self, coll: str, batch: Batch, sparse: Sequence[Sparse]) -> None:
        """The batch's points, each with its sparse vector beside the dense one; wait=true."""

    def fused(
        self, coll: str, dense: np.ndarray, sparse: Sparse, prefetch: int, limit: int
    ) -> list[int]:
        """The ids of the best `limit` by RRF of two prefetches of `prefetch` points each: the
        nearest on DENSE and the nearest on SPARSE."""

    def recommend(
        self, coll: str, positive: list[int], negative: list[int], limit: int
    ) -> list[int]:
        """The ids of the `limit` best on DENSE for these examples (stored points), strategy
        average_vector; the examples themselves left out."""

    def groups(
        self, coll: str, dense: np.ndarray, key: str, groups: int, size: int
    ) -> list[list[int]]:
        """The best `groups` groups by the payload `key` of the points nearest on DENSE, up to
        `size` hits each: their ids, group by group (systems that support GROUPS)."""

    def before_bulk(self, coll: str) -> None:
        """Called before the collection is created and bulk-loaded: a memory baseline."""

    def after_bulk(self, coll: str, data: Data) -> None:
        """Called after the bulk load: measure what it costs to hold."""

    def stall(self, coll: str) -> str | None:
        """Why a write about to be timed could wait on something other than its own work, or
        None: a diagnostic printed with the figures."""
