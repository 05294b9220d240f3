"""What one request has learnt of its collection's progress, for read-your-writes.

A read must see every write acknowledged before it began. A request finds that out once (a
read model's checkpoint at or past the `seq` it read) and later stages trust it. When the
wait for the workers runs out instead, the read is refused (503) or, with STALE_READS=warn,
answered from what is applied with a Warning header: never stale without saying so.
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


@dataclass
class Consistency:
    """One request's reads of one collection. `seq`: the lowest `seq` a read model's
    checkpoint was found at or past (every write acknowledged before the request began is at
    or below it, so a model whose checkpoint reaches it needs no check of its own); `stale`:
    a wait already ran out (later reads do not wait again)."""

    warn_stale: bool = False  # STALE_READS=warn
    seq: int | None = None
    stale: bool = False

    def note(self, seq: int) -> None:
        self.seq = seq if self.seq is None else min(self.seq, seq)

    def covers(self, checkpoint: int) -> bool:
        return self.seq is not None and self.seq <= checkpoint

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
