"""How a catch-up job is queued: the one place that knows RQ's queue, its serializer, the job's
import path and how long RQ keeps its records.

A catch-up job means "apply collection C's log". It is a trigger, not a carrier: the events
live in the log, so a lost or duplicated job loses nothing and applies nothing twice. The web
process queues one when an append raises the collection's kick flag; a worker queues the next
one when it hands a busy collection over. Both go through `enqueue_catch_up`.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.serializers import JSONSerializer

# The job's function, by import path: `projections` may not import `workers`.
CATCH_UP = "workers.jobs.catch_up"
JOB_TIMEOUT = 3600  # seconds; a catch-up job may apply a whole backlog
FAILED_JOB_TTL = 24 * 3600  # a failed job is kept a day for `rq info`
SERIALIZER = JSONSerializer


def queue(r: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=r, serializer=SERIALIZER)


def enqueue_catch_up(jobs: Queue, name: str, cid: int) -> None:
    """Queue a catch-up of the collection `name` (with id `cid`). A successful job leaves no
    record (`result_ttl=0`): there is nothing to read back."""
    jobs.enqueue_call(
        CATCH_UP,
        args=(name, cid),
        timeout=JOB_TIMEOUT,
        result_ttl=0,
        failure_ttl=FAILED_JOB_TTL,
    )
