"""The write path: append the event, kick a worker, answer (or wait for the worker)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from api.metrics import Histogram
from api.params import WriteParams
from projections import log
from projections.collections import Collection
from projections.errors import Timeout, from_record
from projections.events import Event
from projections.progress import Progress

logger = logging.getLogger("pointlog.api")
CATCH_UP_JOB = "workers.jobs.catch_up"
JOB_TIMEOUT = 3600  # a catch-up job applies a whole backlog
FAILED_JOB_TTL = 24 * 3600


def job_queue(r: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=r, serializer=JSONSerializer)


@dataclass
class Writer:
    r: redis.Redis
    queue: Queue
    progress: Progress
    default_wait_seconds: float
    waits: Histogram

    def submit(self, collection: Collection, event: Event, params: WriteParams) -> list[dict]:
        """One UpdateResult per operation of the event."""
        appended = log.append(self.r, collection.keys, event, collection.name)
        if appended.kicked:
            self._kick(collection)
        op_ids = range(appended.first_op, appended.last_op + 1)
        logger.info(
            "appended",
            extra={
                "collection": collection.name,
                "operation_id": appended.first_op,
                "operations": [op["type"] for op in event.ops],
                "wait": params.wait,
            },
        )
        if not params.wait:
            return _results(op_ids, "acknowledged")
        timeout = params.timeout if params.timeout is not None else self.default_wait_seconds
        started = time.perf_counter()
        applied = self.progress.wait(collection.keys, appended.last_op + 1, timeout)
        self.waits.observe(time.perf_counter() - started)
        if not applied:
            if params.timeout is None:
                raise Timeout(f"Operation {appended.last_op} was not applied within {timeout}s")
            return _results(op_ids, "wait_timeout")
        for record in self.r.hmget(collection.keys.errors, list(op_ids)):
            if record is not None:
                raise from_record(orjson.loads(record))
        return _results(op_ids, "completed")

    def _kick(self, collection: Collection) -> None:
        """Queue a catch-up job. If this fails the event is still in the log, and the kick flag
        stays up: the workers' sweep finds the collection behind and catches it up."""
        try:
            self.queue.enqueue_call(
                CATCH_UP_JOB,
                args=(collection.name, collection.cid),
                timeout=JOB_TIMEOUT,
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL,
            )
        except redis.RedisError as error:
            logger.warning("could not queue catch-up for %s: %s", collection.name, error)


def _results(op_ids: range, status: str) -> list[dict]:
    return [{"operation_id": op, "status": status} for op in op_ids]
