"""One sparse vector name's vectors, held in memory with an inverted index.

A sparse query scores the dot product over the indices it shares with a point; a point that
shares none is not a result (as in Qdrant). So a query reads only the postings of its own
indices: every (row, value) of those dimensions, kept sorted by dimension in flat arrays, and
sums them per row with one `np.add.at`. A dimension that many rows hold (real sparse models
give a few such: common terms) is kept instead as a dense column by row, so a query reads it
with one multiply-add rather than gathering a posting list as long as the table.

The postings are rebuilt, never edited in place. Rows changed since the last build are
`stale`: their old postings are masked out and their current vectors are kept in a small
unsorted delta, scanned whole by each query. `commit()`, called once after a batch of changes,
rebuilds the delta, or the postings once the stale rows pass REBUILD_SHARE of the rows: a
write costs a little, and a query never sorts.

Not thread-safe by itself: the read model guards it with a readers-writer lock (`commit` runs
in a write, never in a query).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from projections.collections import VectorSpec
from projections.vectors import Floats

if TYPE_CHECKING:  # scorers.py builds on the tables
    from projections.scorers import Scorer

Indices = npt.NDArray[np.uint32]
Rows = npt.NDArray[np.int64]
SparseVector = tuple[Indices, Floats]  # indices (sorted, distinct) and their values
REBUILD_SHARE = 0.02
REBUILD_MIN = 1024  # stale rows kept in the delta however small the table
HOT_SHARE = 0.125  # a dimension held by this share of the rows is kept as a dense column
HOT_MIN = 4096  # ... and by at least this many rows: below it, postings are as quick


class _Postings:
    """(row, dimension, value) triples; sorted by dimension with `starts` when built whole."""

    def __init__(self, rows: Rows, dims: Indices, values: Floats) -> None:
        self.rows, self.dims, self.values = rows, dims, values

    @classmethod
    def of(cls, vectors: list[tuple[int, SparseVector]]) -> _Postings:
        if not vectors:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.float32))
        counts = [len(v[0]) for _, v in vectors]
        rows = np.repeat(np.array([row for row, _ in vectors], dtype=np.int64), counts)
        dims = np.concatenate([v[0] for _, v in vectors])
        values = np.concatenate([v[1] for _, v in vectors])
        return cls(rows, dims, values)

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.dims.nbytes + self.values.nbytes

    def subset(self, keep: npt.NDArray[np.bool_]) -> _Postings:
        return _Postings(self.rows[keep], self.dims[keep], self.values[keep])


class _Hot:
    """Dense columns by row for the dimensions `dims` (sorted): `values[k, row]`, and
    `held[k, row]` whether the row has dimension `dims[k]` at all (a value can be 0)."""

    def __init__(self, postings: _Postings, dims: Indices, rows: int) -> None:
        self.values = np.zeros((len(dims), rows), np.float32)
        self.held = np.zeros((len(dims), rows), bool)
        column = np.searchsorted(dims, postings.dims)
        self.values[column, postings.rows] = postings.values
        self.held[column, postings.rows] = True
        self._column = {dim: k for k, dim in enumerate(dims.tolist())}

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.held.nbytes

    def columns(self, indices: Indices) -> list[tuple[int, int]]:
        """(position in `indices`, column) of each index kept here."""
        found = ((i, self._column.get(dim)) for i, dim in enumerate(indices.tolist()))
        return [(i, column) for i, column in found if column is not None]

    def clear(self, rows: Rows) -> None:
        """Forget the cells of rows whose vectors changed (their new ones are in the delta)."""
        rows = rows[rows < self.values.shape[1]]
        self.values[:, rows] = 0
        self.held[:, rows] = False


class SparseTable:
    def __init__(self, spec: VectorSpec) -> None:
        self.spec = spec
        self.keys: list[str | None] = []
        self.rows: dict[str, int] = {}
        self._vectors: list[SparseVector | None] = []  # by row
        self._free: list[int] = []
        self._present = np.zeros(0, bool)  # by row: whether it holds a vector (may run past high)
        self._shown = np.zeros(0, bool)  # the same, as of the last commit
        self._bytes = 0
        self._stale: set[int] = set()  # rows changed since the postings were built
        self._stale_mask = np.zeros(0, dtype=bool)  # the same, by row, as of the last commit
        self._main = _Postings.of([])  # sorted by dimension
        self._starts: Rows = np.zeros(1, np.int64)  # dimension _dims[i]: postings [i, i+1)
        self._dims: Indices = np.zeros(0, np.uint32)
        self._delta = _Postings.of([])  # the stale rows' current vectors
        self._hot = _Hot(self._main, self._dims, 0)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def high(self) -> int:
        """Rows [0, high) have been used."""
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Memory held by the vectors, their postings and the delta."""
        postings = self._main.nbytes + self._delta.nbytes + self._starts.nbytes
        return self._bytes + postings + self._hot.nbytes

    def put(self, key: str, data: bytes) -> None:
        """Set the point's vector from its stored bytes (indices, then values)."""
        row = self.rows.get(key)
        if row is None:
            row = self._free.pop() if self._free else self._next_row()
            self.rows[key], self.keys[row] = row, key
        self._set(row, decoded(data))

    def put_many(self, keys: list[str], data: list[bytes]) -> None:
        for key, one in zip(keys, data, strict=True):
            self.put(key, one)

    def remove(self, key: str) -> None:
        row = self.rows.pop(key, None)
        if row is not None:
            self._set(row, None)
            self.keys[row] = None
            self._free.append(row)

    def commit(self) -> None:
        """Make the changes since the last commit visible to queries."""
        self._shown = self._present[: self.high].copy()
        if len(self._stale) > max(REBUILD_MIN, math.ceil(len(self.rows) * REBUILD_SHARE)):
            self._rebuild()
            return
        stale = np.fromiter(self._stale, np.int64, len(self._stale))
        self._stale_mask = np.zeros(self.high, dtype=bool)
        self._stale_mask[stale] = True
        self._hot.clear(stale)
        self._delta = _Postings.of(self._held(sorted(self._stale)))

    def scores(self, scorer: Scorer) -> tuple[Floats, Sequence[str | None]]:
        """Every row's score (-inf: not a result), and the keys by row (the table's own)."""
        return scorer.score_sparse(self, None), self.keys

    def score_rows(self, scorer: Scorer, rows: Rows) -> Floats:
        return scorer.score_sparse(self, rows)

    def dot(self, indices: Indices, weights: Floats, rows: Rows | None = None) -> Floats:
        """Each row's dot product with the query (`rows`: only those, else every row up to
        `high`); -inf for a row that shares no index with the query, or is free."""
        sums, touched = self._sums(indices, weights)
        _mark_not_results(sums, touched)
        return sums if rows is None else sums[rows]

    def similarity(self, indices: Indices, weights: Floats, rows: Rows | None = None) -> Floats:
        """As `dot`, but 0 for a row that shares no index with the query (or is free): how
        recommend, discover and context compare a point with an example."""
        scores = self._sums(indices, weights)[0]
        return scores if rows is None else scores[rows]

    def held(self, rows: Rows | None = None) -> npt.NDArray[np.bool_]:
        """Whether each row (`rows`, else every row up to `high`) holds a vector."""
        held = np.zeros(self.high, bool)
        held[: len(self._shown)] = self._shown  # rows added since the last commit: not yet
        return held if rows is None else held[rows]

    def _sums(self, indices: Indices, weights: Floats) -> tuple[Floats, npt.NDArray[np.bool_]]:
        """Each row's dot product with the query, in float32 (as Qdrant sums them), and
        whether the row shares an index with it."""
        found_rows, products = self._products(indices, weights)
        # Summed in place in float32: 13 against 35 us at 100,000 rows for a float64
        # `bincount` cast down, and a third of its memory.
        sums = np.zeros(self.high, np.float32)
        np.add.at(sums, found_rows, products)
        touched = np.zeros(self.high, bool)
        touched[found_rows] = True
        width = self._hot.values.shape[1]
        for at, column in self._hot.columns(indices):
            sums[:width] += self._hot.values[column] * weights[at]
            touched[:width] |= self._hot.held[column]
        return sums, touched

    def idf(self, indices: Indices) -> Floats:
        """Qdrant's inverse document frequency of each index, ln(1 + (N - n + 0.5) / (n + 0.5)):
        N the points with this vector, n those whose vector has the index."""
        n = np.zeros(len(indices), np.float64)
        at, starts, ends = self._spans(indices)
        for i, lo, hi in zip(at.tolist(), starts.tolist(), ends.tolist(), strict=True):
            n[i] = np.count_nonzero(~self._stale_mask_of(self._main.rows[lo:hi]))
        for i, column in self._hot.columns(indices):
            n[i] = np.count_nonzero(self._hot.held[column])
        n += np.bincount(self._delta_of(indices)[0], minlength=len(n))
        total = len(self.rows)
        return cast("Floats", np.log1p((total - n + 0.5) / (n + 0.5)).astype(np.float32))

    def _products(self, indices: Indices, weights: Floats) -> tuple[Rows, Floats]:
        """The rows and weighted values of every current posting of the query's indices
        (outside the dense columns): a slice of the postings for each index (a query has a
        few), joined."""
        at, starts, ends = self._spans(indices)
        spans = zip(at.tolist(), starts.tolist(), ends.tolist(), strict=True)
        main = self._main
        found = [(main.rows[lo:hi], main.values[lo:hi] * weights[i]) for i, lo, hi in spans]
        rows = np.concatenate([found_rows for found_rows, _ in found] or [main.rows[:0]])
        products = np.concatenate([product for _, product in found] or [main.values[:0]])
        if len(self._stale_mask):  # else none changed since the build: all are current
            fresh = ~self._stale_mask[rows]
            rows, products = rows[fresh], products[fresh]
        positions, delta_rows, values = self._delta_of(indices)
        if not len(positions):
            return rows, products
        delta = values * weights[positions]
        return np.concatenate([rows, delta_rows]), np.concatenate([products, delta])

    def _delta_of(self, indices: Indices) -> tuple[Rows, Rows, Floats]:
        """The delta's postings of the query's indices: their positions in `indices`, their
        rows and their values."""
        if not len(self._delta.dims):  # the usual case; np.isin costs tens of microseconds
            return np.zeros(0, np.int64), self._delta.rows, self._delta.values
        in_delta = np.isin(self._delta.dims, indices)
        positions = np.searchsorted(indices, self._delta.dims[in_delta])
        return positions, self._delta.rows[in_delta], self._delta.values[in_delta]

    def _spans(self, indices: Indices) -> tuple[Rows, Rows, Rows]:
        """For each index the postings have: its position in `indices`, its first posting and
        the end of its postings; `indices` sorted, as stored queries are."""
        at = np.searchsorted(self._dims, indices)
        present = at < len(self._dims)
        present[present] = self._dims[at[present]] == indices[present]
        found = np.flatnonzero(present)
        return found, self._starts[at[found]], self._starts[at[found] + 1]

    def _stale_mask_of(self, rows: Rows) -> npt.NDArray[np.bool_]:
        """Whether each posting's row is stale (as of the last commit)."""
        if not len(self._stale_mask):  # none since the last build
            return np.zeros(len(rows), dtype=bool)
        return self._stale_mask[rows]

    def _held(self, rows: list[int]) -> list[tuple[int, SparseVector]]:
        found = ((row, self._vectors[row]) for row in rows)
        return [(row, vector) for row, vector in found if vector is not None]

    def _rebuild(self) -> None:
        """The postings afresh from every row."""
        every = _Postings.of(self._held(list(range(self.high))))
        dims, counts = np.unique(every.dims, return_counts=True)
        hot = dims[counts >= max(HOT_MIN, HOT_SHARE * len(self.rows))]
        in_hot = np.isin(every.dims, hot)
        self._hot = _Hot(every.subset(in_hot), hot, self.high)
        main = every.subset(~in_hot)
        order = np.argsort(main.dims, kind="stable")
        self._main = _Postings(main.rows[order], main.dims[order], main.values[order])
        self._dims, first = np.unique(self._main.dims, return_index=True)
        self._starts = np.append(first, len(self._main.dims)).astype(np.int64)
        self._stale, self._stale_mask = set(), np.zeros(0, dtype=bool)
        self._delta = _Postings.of([])

    def _set(self, row: int, vector: SparseVector | None) -> None:
        old = self._vectors[row]
        self._bytes += (0 if vector is None else _size(vector)) - (0 if old is None else _size(old))
        self._vectors[row] = vector
        if row >= len(self._present):  # grown by doubling: rows are added one at a time
            self._present = np.resize(self._present, max(2 * len(self._present), row + 1))
        self._present[row] = vector is not None
        self._stale.add(row)

    def _next_row(self) -> int:
        self.keys.append(None)
        self._vectors.append(None)
        return len(self.keys) - 1


NEG_INF_BITS = np.uint32(0xFF800000)  # -inf as a float32's bits


def _mark_not_results(sums: Floats, touched: npt.NDArray[np.bool_]) -> None:
    """Set the rows not `touched` to -inf in place. Their sums are +0.0 or -0.0 (no bits but
    the sign), so OR-ing in -inf's bits does it without a branch per row: a boolean mask
    assignment costs several times as much on a mask that mixes True and False."""
    untouched = (~touched).view(np.uint8).astype(np.uint32) * NEG_INF_BITS
    np.bitwise_or(sums.view(np.uint32), untouched, out=sums.view(np.uint32))


def decoded(data: bytes) -> SparseVector:
    """A stored sparse vector's indices and values."""
    half = len(data) // 2
    return np.frombuffer(data[:half], np.uint32), np.frombuffer(data[half:], np.float32)


def _size(vector: SparseVector) -> int:
    return vector[0].nbytes + vector[1].nbytes
