"""What one request has learnt of its collection's progress, for read-your-writes.

A read must see every write acknowledged before it began. A request finds that out once (a
read model's checkpoint at or past the `seq` it read) and later stages trust it. When the
wait for the workers runs out instead, the read is refused (503) or, with STALE_READS=warn,
answered from what is applied with a Warning header: never stale without saying so.

A query plan may defer the check of a read model's answer to its next read of the projection,
which reads `seq` anyway: one round trip fewer. When that read finds the answer behind, the
plan runs again (Replan), checking as it goes.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from projections.errors import QdrantError

# The current request's stale-read warning, for the response's Warning header (api/http.py).
STALE: ContextVar[str | None] = ContextVar("pointlog_stale_read", default=None)


class ReadBehind(QdrantError):
    http_status = 503
    prefix = "Service unavailable: "


class Replan(Exception):  # a signal to the query plan, not a failure
    """A read model's unchecked answer was taken at a checkpoint before `seq`, an operation
    acknowledged already: the plan must run again once the model has seen it."""

    def __init__(self, seq: int) -> None:
        super().__init__(seq)
        self.seq = seq


@dataclass
class Consistency:
    """One request's reads of one collection. `seq`: the lowest `seq` a read model's
    checkpoint was found at or past (every write acknowledged before the request began is at
    or below it, so a model whose checkpoint reaches it needs no check of its own); `stale`:
    a wait already ran out (later reads do not wait again); `deferring`: a query plan defers
    read models' checks, `unchecked` holding the oldest checkpoint an answer came from."""

    warn_stale: bool = False  # STALE_READS=warn
    seq: int | None = None
    stale: bool = False
    deferring: bool = False
    unchecked: int | None = None

    def note(self, seq: int) -> None:
        self.seq = seq if self.seq is None else min(self.seq, seq)

    def covers(self, checkpoint: int) -> bool:
        return self.seq is not None and self.seq <= checkpoint

    def defer(self, checkpoint: int) -> None:
        """An answer came from a read model at `checkpoint`, to be checked by `settle`."""
        self.unchecked = checkpoint if self.unchecked is None else min(self.unchecked, checkpoint)

    def settle(self, seq: int) -> None:
        """A read found `seq` acknowledged: the unchecked answers stand if their checkpoint
        reaches it, else Replan."""
        checkpoint, self.unchecked = self.unchecked, None
        if checkpoint is None:
            return
        if seq > checkpoint:
            raise Replan(seq)
        self.note(seq)

    def ran_out(self, seq: int, applied: int, waited: float) -> None:
        """The wait for the checkpoint to reach `seq` ended at `applied`: refuse, or warn."""
        problem = (
            f"only {applied} of the {seq} acknowledged operations are applied after waiting"
            f" {waited:g}s (READ_WAIT_SECONDS): the workers are behind or not running"
        )
        if not self.warn_stale:
            advice = "Retry later, or set STALE_READS=warn to read what is applied"
            raise ReadBehind(f"{problem}. {advice}")
        self.stale = True
        STALE.set(f"stale read: {problem}")
