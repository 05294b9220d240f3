"""The points a filter matches, kept as rows of the vector read model for filtered queries.

A filtered query on the vector read model scores only the points the filter matches. Those
come from the payload indexes (planner.py): the plan's candidates, their payloads checked too
when the plan is not exact. Finding them costs round trips and, for a large plan, parsing
many payloads; a repeated filter (the common case: a tenant, a category) should cost neither.
So, per filter and vector name, the matching rows are kept (kept.py), with a copy of their
vectors in one contiguous matrix (gathering 20,000 scattered rows costs more than scoring
them), stamped with the read model's `version`, which every followed commit that changed a
point, a vector or an index moves on. At most ENTRIES filters are kept per collection, in at
most FILTER_SHARE of the memory its vectors take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from projections.kept import Kept
from projections.vectors import Floats

ENTRIES = 64
FILTER_SHARE = 0.5
FilterKey = tuple[bytes, str]  # the filter's canonical JSON, the vector name


@dataclass(frozen=True)
class Matched:
    """The rows a filter matches in one vector table, and their vectors in that order (None
    when the graph serves the filter: only exact scoring reads them)."""

    rows: npt.NDArray[np.int64]
    vectors: Floats | None

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + (0 if self.vectors is None else self.vectors.nbytes)


def filter_rows() -> Kept[FilterKey, Matched]:
    return Kept(ENTRIES, lambda matched: matched.nbytes)
