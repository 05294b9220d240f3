"""The points a filter matches, kept as rows of the vector read model for filtered queries.

A filtered query on the vector read model scores only the points the filter matches. Those
come from the payload indexes (planner.py): the plan's candidates, their payloads checked too
when the plan is not exact. Finding them costs round trips and, for a large plan, parsing
many payloads; a repeated filter (the common case: a tenant, a category) should cost neither.
So, per filter and vector name, the matching rows are kept, with a copy of their vectors in
one contiguous matrix (gathering 20,000 scattered rows costs more than scoring them). Each
entry is stamped with the read model's `version`, which every followed commit that changed a
point, a vector or an index moves on: a stale entry is never used. The least recently used
entries go first, past ENTRIES or past FILTER_SHARE of the memory the vectors themselves take.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from projections.vectors import Floats

Rows = npt.NDArray[np.int64]
ENTRIES = 64  # filters kept per collection
FILTER_SHARE = 0.5


@dataclass(frozen=True)
class Matched:
    """The rows a filter matches in one vector table, and their vectors in that order."""

    rows: Rows
    vectors: Floats

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.vectors.nbytes


class FilterRows:
    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[bytes, str], tuple[int, Matched]] = OrderedDict()
        self.nbytes = 0

    def get(self, source: bytes, name: str, version: int) -> Matched | None:
        """What is kept for the filter (its canonical JSON) at this version, or None."""
        with self._lock:
            kept = self._kept.get((source, name))
            if kept is None or kept[0] != version:
                return None
            self._kept.move_to_end((source, name))
            return kept[1]

    def put(self, source: bytes, name: str, version: int, matched: Matched, limit: int) -> None:
        """Keep it, dropping the least recently used entries past `limit` bytes in all."""
        with self._lock:
            old = self._kept.pop((source, name), None)
            self.nbytes -= 0 if old is None else old[1].nbytes
            self._kept[(source, name)] = (version, matched)
            self.nbytes += matched.nbytes
            while self._kept and (len(self._kept) > self._entries or self.nbytes > limit):
                _, (_, dropped) = self._kept.popitem(last=False)
                self.nbytes -= dropped.nbytes
