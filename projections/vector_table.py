"""One vector name's vectors, held in memory as one contiguous float32 matrix.

A row per point, a key <-> row map, and freed rows reused, so scoring a query is one matrix
product over `matrix[:high]` whatever the order points came and went in. Rows not in use are
marked in `live` and never returned. Multivectors keep each point's rows as a small matrix of
their own (scored per point, max_sim), since their row counts differ.

Not thread-safe by itself: the read model guards it with a readers-writer lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from projections.collections import VectorSpec
from projections.vectors import Floats

if TYPE_CHECKING:  # scorers.py builds on this module's distances
    from projections.scorers import Scorer

SIMILARITIES = ("Cosine", "Dot")
INITIAL_ROWS = 1024
GROWTH = 1.5


class VectorTable:
    def __init__(self, spec: VectorSpec) -> None:
        self.spec = spec
        self.matrix: Floats = np.zeros((0 if spec.multi else INITIAL_ROWS, spec.size), np.float32)
        self.live = np.zeros(len(self.matrix), dtype=bool)
        self.keys: list[str | None] = [None] * len(self.matrix)
        self.rows: dict[str, int] = {}
        self.multi: dict[str, Floats] = {}  # multivectors: key -> its rows
        self._free: list[int] = []
        self._multi_bytes = 0
        self.high = 0  # rows [0, high) have been used

    def __len__(self) -> int:
        return len(self.multi) if self.spec.multi else len(self.rows)

    @property
    def nbytes(self) -> int:
        """Memory held by the vectors (and the liveness mask)."""
        return self._multi_bytes + self.matrix.nbytes + self.live.nbytes

    def put(self, key: str, data: bytes) -> int:
        """Set the point's vector from its stored bytes; returns its row (-1: multivector)."""
        vector = np.frombuffer(data, dtype=np.float32)
        if self.spec.multi:
            self.remove(key)
            self.multi[key] = vector.reshape(-1, self.spec.size)
            self._multi_bytes += vector.nbytes
            return -1
        row = self.rows.get(key)
        if row is None:
            row = self._free.pop() if self._free else self._next_row()
            self.rows[key] = row
            self.keys[row] = key
            self.live[row] = True
        self.matrix[row] = vector
        return row

    def put_many(self, keys: list[str], data: list[bytes]) -> None:
        """Set many points' vectors at once (a load): one copy per chunk, not per point."""
        if self.spec.multi:
            for key, one in zip(keys, data, strict=True):
                self.put(key, one)
            return
        fresh = [key for key in keys if key not in self.rows]
        for key in fresh:
            row = self._free.pop() if self._free else self._next_row()
            self.rows[key] = row
            self.keys[row] = key
        rows = np.fromiter((self.rows[key] for key in keys), dtype=np.int64, count=len(keys))
        self.live[rows] = True
        stacked = np.frombuffer(b"".join(data), dtype=np.float32).reshape(len(keys), -1)
        self.matrix[rows] = stacked

    def reserve(self, rows: int) -> None:
        """Make room for `rows` points at once (a load knows how many are coming): the matrix
        then holds what is stored, not up to GROWTH times as much."""
        if not self.spec.multi and rows > len(self.matrix):
            self._grow(rows)

    def remove(self, key: str) -> int | None:
        """Forget the point; returns the row it had (None: it had none, or a multivector)."""
        if self.spec.multi:
            gone = self.multi.pop(key, None)
            self._multi_bytes -= 0 if gone is None else gone.nbytes
            return None
        row = self.rows.pop(key, None)
        if row is not None:
            self.live[row] = False
            self.keys[row] = None
            self._free.append(row)
        return row

    def vector(self, key: str) -> Floats | None:
        """The point's vector (2-D for a multivector), or None."""
        if self.spec.multi:
            return self.multi.get(key)
        row = self.rows.get(key)
        return None if row is None else self.matrix[row]

    def scores(self, scorer: Scorer) -> tuple[Floats, Sequence[str | None]]:
        """Every held point's score, and the keys by score position: a free row's key is None
        and its score the worst possible. The keys are the table's own (no copy): index them
        under the same lock, below `len(scores)` only."""
        distance = self.spec.distance
        if self.spec.multi:
            keys = list(self.multi)
            found = [scorer.score_multi(distance, self.multi[key]) for key in keys]
            return np.array(found, dtype=np.float32), cast("list[str | None]", keys)
        scored = scorer.score(distance, self.matrix[: self.high])
        if self._free:  # rows freed and not reused yet
            scored[~self.live[: self.high]] = -np.inf if scorer.higher_first(distance) else np.inf
        return scored, self.keys

    def score_rows(self, scorer: Scorer, rows: npt.NDArray[np.int64]) -> Floats:
        """The scores of the points in these rows (never free ones)."""
        return scorer.score(self.spec.distance, self.matrix[rows])

    def _next_row(self) -> int:
        if self.high == len(self.matrix):
            self._grow(max(INITIAL_ROWS, int(len(self.matrix) * GROWTH)))
        self.high += 1
        return self.high - 1

    def _grow(self, rows: int) -> None:
        matrix = np.zeros((rows, self.spec.size), dtype=np.float32)
        matrix[: self.high] = self.matrix[: self.high]
        live = np.zeros(rows, dtype=bool)
        live[: self.high] = self.live[: self.high]
        self.matrix, self.live = matrix, live
        self.keys.extend([None] * (rows - len(self.keys)))


def pairwise(distance: str, matrix: Floats, query: Floats) -> Floats:
    """Scores as Qdrant's: similarities for Cosine (vectors are stored normalised) and Dot,
    distances for Euclid and Manhattan."""
    if distance in SIMILARITIES:
        return cast("Floats", matrix @ query)
    if distance == "Euclid":
        return cast("Floats", np.sqrt(((matrix - query) ** 2).sum(axis=-1)))
    return cast("Floats", np.abs(matrix - query).sum(axis=-1))  # Manhattan


def max_sim(distance: str, rows: Floats, query: Floats) -> np.float32:
    """A multivector's score: the sum over the query's rows of the best score of any row."""
    per_row = np.stack([pairwise(distance, rows, q) for q in query])
    best = per_row.max(axis=1) if distance in SIMILARITIES else per_row.min(axis=1)
    return np.float32(best.sum())


def passes(higher_first: bool, scores: Floats, threshold: float) -> npt.NDArray[np.bool_]:
    """Qdrant keeps scores strictly better than the threshold."""
    return scores > threshold if higher_first else scores < threshold
