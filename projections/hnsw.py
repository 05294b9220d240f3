"""Approximate search: an HNSW graph (hnswlib) over one vector table, built in the background.

A graph is worth it once a vector name holds more than `full_scan_threshold` KB of vectors
(Qdrant's setting and unit); below that an exact scan is as fast. The graph's labels are the
table's rows, so the follower keeps it current row by row: a new or changed vector is added
(hnswlib replaces a label's vector), a removed one is marked deleted (a reused row is added
again, which unmarks it).

Never silently poor recall. A sample of the points is held out of a build until the graph
holds the others, and searched then, as new queries are, against the exact answer. The search
`ef` is raised until recall@10 reaches `TARGET_RECALL`; a graph that cannot reach it within
`MAX_EF` is not used, and queries stay exact.

Candidates from the graph are scored again exactly from the table, so an approximate answer
has the same scores as the exact one would for the same points.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import cast

import hnswlib
import numpy as np
import numpy.typing as npt

from projections.vector_table import SIMILARITIES, VectorTable
from projections.vectors import Floats

logger = logging.getLogger("pointlog.hnsw")
SPACES = {"Cosine": "ip", "Dot": "ip", "Euclid": "l2"}  # hnswlib has no Manhattan
TARGET_RECALL = 0.95
MAX_EF = 1024
SAMPLE = 200  # points whose neighbours measure a graph's recall
Rows = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HnswConfig:
    m: int = 16
    ef_construct: int = 100
    full_scan_threshold: int = 10_000  # KB of vectors

    @classmethod
    def of(
        cls, collection_config: dict[str, object], vector_config: dict[str, object]
    ) -> HnswConfig:
        """The collection's `hnsw_config`, overridden by the vector name's own."""
        merged: dict[str, object] = {}
        for given in (collection_config.get("hnsw_config"), vector_config.get("hnsw_config")):
            if isinstance(given, dict):
                merged.update({k: v for k, v in given.items() if v is not None})
        defaults = cls()
        return cls(
            m=int(cast("int", merged.get("m", defaults.m))),
            ef_construct=int(cast("int", merged.get("ef_construct", defaults.ef_construct))),
            full_scan_threshold=int(
                cast("int", merged.get("full_scan_threshold", defaults.full_scan_threshold))
            ),
        )

    def wants_graph(self, table: VectorTable) -> bool:
        """Whether the table is past the full-scan threshold (and a graph can serve it)."""
        if table.spec.multi or table.spec.distance not in SPACES or self.m == 0:
            return False
        return len(table) * table.spec.size * 4 > self.full_scan_threshold * 1024


class Graph:
    """An HNSW graph over a table's rows."""

    def __init__(self, table: VectorTable, config: HnswConfig) -> None:
        self.config = config
        self._distance = table.spec.distance
        self._index = hnswlib.Index(space=SPACES[self._distance], dim=table.spec.size)
        capacity = max(len(table.matrix), 1)
        self._index.init_index(
            max_elements=capacity, M=config.m, ef_construction=config.ef_construct
        )
        self.ef = max(config.ef_construct, 10)
        self.recall: float | None = None  # None: not measured yet
        self._deleted: set[int] = set()  # labels marked deleted (rows freed since added)
        self.count = 0  # live labels

    @property
    def usable(self) -> bool:
        return self.recall is not None and self.recall >= TARGET_RECALL

    def build(self, matrix: Floats, rows: Rows, k: int = 10) -> None:
        """Add the given rows of a snapshot of the table's matrix (the slow part), and tune
        the search's `ef` on a sample held out of the graph until the others are in."""
        rng = np.random.default_rng(0)
        held_out = (
            rng.choice(rows, size=min(SAMPLE, len(rows) // 10), replace=False)
            if len(rows) > 10 * (k + 1)
            else rows[:0]
        )
        rest = np.setdiff1d(rows, held_out)
        self._ensure_capacity(int(rows.max()) + 1 if len(rows) else 1)
        self._add(matrix, rest)
        self._tune(matrix, rest, held_out, k)
        self._add(matrix, held_out)
        self.count = len(rows)

    def _add(self, matrix: Floats, rows: Rows) -> None:
        if len(rows):
            self._index.add_items(matrix[rows], rows, num_threads=os.cpu_count() or 1)

    def _tune(self, matrix: Floats, rows: Rows, held_out: Rows, k: int) -> None:
        """Find the smallest `ef`, from ef_construct up, whose recall@k for the held-out
        points reaches the target; record the recall reached. Held-out points are searched as
        new queries are: the graph never linked them (a graph's own points, even excluded from
        their answer, overstate recall: 0.97 where new queries get 0.90, measured at ef 24)."""
        if not len(held_out):
            self.recall = 1.0  # too few points to measure: a search finds them all
            return
        self.count = len(rows)
        truth = _exact_neighbours(self._distance, matrix, rows, matrix[held_out], k)
        ef = self.ef
        while True:
            try:
                found = self._neighbours(matrix[held_out], k, ef)
                hits = sum(
                    len(set(got.tolist()) & set(want.tolist()))
                    for got, want in zip(found, truth, strict=True)
                )
            except RuntimeError:  # a query found fewer than k points: the graph falls apart
                hits = 0
            self.recall, self.ef = hits / (k * len(held_out)), ef
            if self.recall >= TARGET_RECALL or ef >= MAX_EF:
                break
            ef = min(ef * 2, MAX_EF)
        logger.info("graph tuned", extra={"ef": self.ef, "recall": self.recall})

    def apply(self, changed: dict[int, Floats | None]) -> None:
        """Carry the table's row changes (a vector, or None: removed) into the graph."""
        added = {row: vector for row, vector in changed.items() if vector is not None}
        if added:
            rows = np.fromiter(added, dtype=np.int64, count=len(added))
            self._ensure_capacity(int(rows.max()) + 1)
            self._index.add_items(np.stack(list(added.values())), rows)
            self._deleted -= added.keys()
        for row in (row for row, vector in changed.items() if vector is None):
            with contextlib.suppress(RuntimeError):  # never added: removed before it was seen
                self._index.mark_deleted(row)
                self._deleted.add(row)
        self.count = self._index.get_current_count() - len(self._deleted)

    def search(
        self, query: Floats, k: int, ef: int | None, accept: npt.NDArray[np.bool_] | None = None
    ) -> Rows | None:
        """About the `k` nearest rows (fewer when the graph holds fewer), only rows where
        `accept` is true when it is given; None when the graph cannot answer (hnswlib finds
        too few live, accepted points at this `ef`)."""
        try:
            found = self._neighbours(query[None, :], k, max(ef or self.ef, k), accept)
            return cast("Rows", found[0])
        except RuntimeError:
            return None

    def _neighbours(
        self, queries: Floats, k: int, ef: int, accept: npt.NDArray[np.bool_] | None = None
    ) -> npt.NDArray[np.int64]:
        self._index.set_ef(ef)
        test = None if accept is None else accept.__getitem__  # called with each row it meets
        labels, _ = self._index.knn_query(queries, k=min(k, self.count), num_threads=1, filter=test)
        return cast("npt.NDArray[np.int64]", labels.astype(np.int64))

    def _ensure_capacity(self, rows: int) -> None:
        capacity = self._index.get_max_elements()
        if rows > capacity:
            self._index.resize_index(max(rows, int(capacity * 1.5)))


def _exact_neighbours(
    distance: str, matrix: Floats, rows: Rows, queries: Floats, k: int
) -> list[Rows]:
    """Each query's `k` nearest rows, by exact scores."""
    candidates = matrix[rows]
    found = []
    for query in queries:
        if distance in SIMILARITIES:
            order = np.argsort(-(candidates @ query), kind="stable")
        else:
            order = np.argsort(((candidates - query) ** 2).sum(axis=1), kind="stable")
        found.append(rows[order[:k]])
    return found
