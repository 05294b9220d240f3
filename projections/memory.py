"""Redis memory as an event log needs it: nothing may ever be evicted, and writes stop while
there is still room to apply everything already acknowledged.

- An evicting `maxmemory-policy` (several managed plans default to one) would silently drop
  log entries or projection keys: web and worker processes refuse to start on one, unless
  ALLOW_EVICTION says the operator knows better.
- Appends stop once the memory used, plus what applying the operations acknowledged but not
  yet applied will take, reaches MEMORY_WRITE_LIMIT (a share of `maxmemory`): the workers can
  always apply what was acknowledged, and the rest of `maxmemory` is a margin for their
  transactions and bookkeeping. The web process reads the figures at most every
  REFRESH_SECONDS (and counts its own appends in between), so an append costs no extra round
  trip; Redis's own refusal ("OOM command not allowed") gets the same answer.
- "The store is full" (507) and "the store cannot be reached" (503) are different answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import redis

from projections import store
from projections.errors import QdrantError
from projections.figures import overview

REFRESH_SECONDS = 0.5
MB = 1024 * 1024
# Memory that applying an operation takes, in multiples of its event's bytes: the point's
# payload and vector hashes, its place in the ids set and the change record (measured with
# 64-dim points and 200-byte payloads at about 1.5; the rest is margin).
APPLY_COST = 2.0


class StoreFull(QdrantError):
    http_status = 507
    prefix = "Insufficient storage: "


@dataclass(frozen=True)
class Memory:
    """What the store says of its memory (INFO memory), and the operations acknowledged but
    not applied yet, over every collection."""

    used: int
    maxmemory: int  # 0: no limit
    policy: str
    backlog: int = 0

    @property
    def evicting(self) -> bool:
        return self.policy != "noeviction"

    def limit(self, share: float) -> int | None:
        """The used memory past which appends stop (None: the store has no limit)."""
        return int(self.maxmemory * share) if self.maxmemory else None


def read(r: redis.Redis) -> Memory | None:
    """The store's memory figures; None when it does not report them (INFO is not a command
    every Redis-compatible server has). On a cluster, the fullest primary's (relative to its
    maxmemory): appends stop for every collection once one node reaches the limit, since the
    web process does not weigh each append against its own node."""
    try:
        nodes = [_of(info) for info in store.memory_infos(r)]
    except redis.ResponseError:
        return None
    evicting = [node.policy for node in nodes if node.evicting]
    fullest = max(nodes, key=lambda node: node.used / node.maxmemory if node.maxmemory else 0.0)
    return Memory(
        fullest.used,
        fullest.maxmemory,
        evicting[0] if evicting else fullest.policy,
        sum(found.lag for found in overview(r)),
    )


def _of(info: dict[str, object]) -> Memory:
    return Memory(
        int(str(info.get("used_memory", 0))),
        int(str(info.get("maxmemory", 0))),
        str(info.get("maxmemory_policy", "noeviction")),
    )


def eviction_problem(memory: Memory) -> str:
    return (
        f"Redis maxmemory-policy is {memory.policy}: Redis may evict pointlog's log and"
        " projection keys, losing acknowledged writes. Set it to noeviction (`CONFIG SET"
        " maxmemory-policy noeviction`, or your Redis plan's settings), or set"
        " ALLOW_EVICTION=1 to run anyway."
    )


def refuse_eviction(r: redis.Redis, allowed: bool) -> None:
    """At a process's start: exit with the problem on an evicting policy unless `allowed`. A
    store that does not answer yet is checked later, by the write limit (web) or not at all
    (workers only ever apply what is in the log)."""
    try:
        memory = read(r)
    except redis.ConnectionError:
        return
    if memory is not None and memory.evicting and not allowed:
        raise SystemExit(f"pointlog: {eviction_problem(memory)}")


class WriteLimit:
    """The web process's gate before every append."""

    def __init__(self, r: redis.Redis, share: float, allow_eviction: bool) -> None:
        self._r = r
        self.share = share
        self._allow_eviction = allow_eviction
        self._lock = threading.Lock()
        self._memory: Memory | None = None
        self._read_at = -REFRESH_SECONDS
        self._appended = 0  # bytes this process appended since the figures were read
        self._sizes = (0, 0)  # bytes and operations this process appended, ever: their mean
        self.refused = 0  # appends refused so far (metrics)

    def check(self, size: int, ops: int) -> None:
        """Raise StoreFull when an event of `size` bytes and `ops` operations must not be
        appended now; else count it as used until the figures are read again (a burst between
        two readings stops at the mark too)."""
        problem = self.problem(size, ops)
        with self._lock:
            if problem is None:
                self._appended += size
                self._sizes = (self._sizes[0] + size, self._sizes[1] + ops)
                return
            self.refused += 1
        raise StoreFull(problem)

    def problem(self, size: int | None = None, ops: int = 1) -> str | None:
        """Why an append of `size` bytes is refused now (None: it is not); without a size,
        an append of this process's mean size."""
        memory = self.current()
        if memory is None:
            return None
        if memory.evicting and not self._allow_eviction:
            return eviction_problem(memory)
        limit = memory.limit(self.share)
        if limit is None:
            return None
        known_bytes, known_ops = self._sizes
        if size is None:
            size = known_bytes // known_ops if known_ops else 0
        per_op = known_bytes / known_ops if known_ops else size / max(ops, 1)
        logged = memory.used + self._appended + size  # this event in the log
        unapplied = memory.backlog * per_op + self._appended + size  # its bytes, and the others'
        if logged + APPLY_COST * unapplied < limit:
            return None
        return (
            f"the store is full: Redis would use {logged / MB:.1f} MB of its"
            f" {memory.maxmemory / MB:.1f} MB, and applying what is acknowledged but not yet"
            f" applied about {APPLY_COST * unapplied / MB:.1f} MB more: past the write limit"
            f" of {limit / MB:.1f} MB (MEMORY_WRITE_LIMIT={self.share}). Acknowledged writes"
            " are still being applied and reads carry on; writes resume once memory is freed"
            " or Redis's maxmemory is raised."
        )

    def current(self) -> Memory | None:
        """The figures, read again when older than REFRESH_SECONDS."""
        with self._lock:
            now = time.monotonic()
            if now - self._read_at >= REFRESH_SECONDS:
                self._memory, self._read_at, self._appended = read(self._r), now, 0
            return self._memory

    def full(self, error: redis.OutOfMemoryError) -> StoreFull:
        """Redis's own refusal, as the same answer (counted, and the figures read afresh)."""
        with self._lock:
            self._read_at = -REFRESH_SECONDS
            self.refused += 1
        return StoreFull(f"the store is full: Redis refused the write ({error})")
