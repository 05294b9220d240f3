"""How a catch-up job is queued: the one place that knows RQ's queue, where it lives, its
serializer, the job's import path and how long RQ keeps its records.

A catch-up job means "apply collection C's log". It is a trigger, not a carrier: the events
live in the log, so a lost or duplicated job loses nothing and applies nothing twice. The web
process queues one when an append raises the collection's kick flag; a worker queues the next
one when it hands a busy collection over. Both go through `enqueue_catch_up`.

The queue lives on the store's server, or on a server of its own (QUEUE_URL). Then a kick
and its job sit on different servers, and a job that could not be queued (its server down)
is no loss either: the kick flag stays up in the store, and the workers' sweep catches the
collection up from the log.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from projections import store
from projections.settings import Settings

# The job's function, by import path: `projections` may not import `workers`.
CATCH_UP = "workers.jobs.catch_up"
JOB_TIMEOUT = 3600  # seconds; a catch-up job may apply a whole backlog
FAILED_JOB_TTL = 24 * 3600  # a failed job is kept a day for `rq info`
SERIALIZER = JSONSerializer


def queue(r: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=r, serializer=SERIALIZER)


def queue_store(settings: Settings, r: redis.Redis, connections: int) -> redis.Redis:
    """The server of the queue: QUEUE_URL's, else the store `r` itself. A cluster cannot hold
    it (RQ runs on one server): one named by QUEUE_URL, or a store that is one without
    QUEUE_URL, is refused at start."""
    if settings.queue_url is None:
        store.refuse_cluster(r, "REDIS_URL, without QUEUE_URL,")
        return r
    found = store.connect_single(settings.queue_url, connections, settings.redis_ssl_cert_reqs)
    store.refuse_cluster(found, "QUEUE_URL")
    return found


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
