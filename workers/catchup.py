"""Catching a collection's projection up with its log.

A catch-up applies batches until the checkpoint reaches the end of the log, then keeps following
the log for `follow_seconds` (a blocking stream read), so a collection under steady writes is
served by one long job instead of one job per write. It holds the collection's lease meanwhile.

No event is ever left behind: the kick flag stays up while a worker follows (writes then queue
no job), and is cleared before the worker lets the lease go and checks for pending events once
more, so a write either is seen by that check or raises the flag and queues a new job. A worker
that finds the lease taken just leaves, since the holder makes that last check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from projections import collections
from projections.apply import apply_batch
from projections.collections import Collection
from projections.figures import shard_overview
from projections.keys import Keys
from projections.settings import Settings
from workers.lease import Lease

logger = logging.getLogger("pointlog.worker")
LEASE_SECONDS = 5.0
# A following worker looks at the queue this often, so idle following never delays a job.
FOLLOW_BLOCK_MS = 100


def catch_up(
    r: redis.Redis,
    name: str,
    cid: int,
    settings: Settings,
    requeue: Callable[[], None] | None = None,
    others_waiting: Callable[[], bool] = lambda: False,
) -> None:
    """Apply the collection's log. A catch-up that is still busy after `max_job_seconds`
    hands over through `requeue`, so busy collections take turns on the workers; an idle one
    stops following as soon as `others_waiting` says other jobs are queued."""
    found = collections.find(r, name)
    collection = None if found is None else found.part(cid)  # the shard the job is for
    if collection is None:
        return  # deleted (or deleted and re-created): this cid's log is gone
    keys = collection.keys
    while True:
        lease = Lease(r, keys.lease, LEASE_SECONDS, blocker=keys.pause)
        if not lease.acquire():
            return
        try:
            finished = _drain_and_follow(r, collection, lease, settings, others_waiting)
            # From here on a write raises the flag and queues a job; what came before is
            # applied now or found by the check for pending events below.
            r.delete(keys.kick)
        finally:
            lease.release()
        if not finished:
            if requeue is not None:
                requeue()
            return
        if not pending(r, keys):
            return


def pending(r: redis.Redis, keys: Keys) -> bool:
    seq, applied = r.mget(keys.seq, keys.applied)
    return seq is not None and int(seq) > int(applied or 0)


def _drain_and_follow(
    r: redis.Redis,
    collection: Collection,
    lease: Lease,
    s: Settings,
    others_waiting: Callable[[], bool],
) -> bool:
    """Apply and follow the log; False if the job's time ran out while events kept coming."""
    keys = collection.keys
    give_up_at = time.monotonic() + s.max_job_seconds
    follow_until = time.monotonic() + s.follow_seconds
    while True:
        checkpoint = apply_batch(
            r, collection, s.apply_batch_events, feed_length=s.change_feed_commits
        )
        if checkpoint is not None:
            lease.renew()
            if time.monotonic() > give_up_at:
                return False
            follow_until = min(time.monotonic() + s.follow_seconds, give_up_at)
        else:  # nothing after the checkpoint: read it, to wait for what comes after
            stored = r.get(keys.applied)
            if stored is None:
                return True
            checkpoint = int(stored)
        remaining = follow_until - time.monotonic()
        if remaining <= 0 or others_waiting():
            return True
        # Returns at once when more is already there, else when the next event arrives.
        block_ms = max(1, min(FOLLOW_BLOCK_MS, int(remaining * 1000)))
        r.xread({keys.log: f"{checkpoint}-1"}, count=1, block=block_ms)
        lease.renew()


def sweep(r: redis.Redis, settings: Settings) -> None:
    """Catch up every shard that is behind while nobody holds its lease: a job lost with a
    killed worker or web pod, or a kick that could not be queued."""
    for found in shard_overview(r):
        keys = found.collection.keys
        if found.lag > 0 and not r.exists(keys.lease, keys.pause):
            logger.info("sweep: catching up %s", found.collection.name)
            catch_up(r, found.collection.name, found.collection.cid, settings)
