"""The write path's two halves: append the event (and kick a worker), then answer, waiting for
the worker when `wait=true` asks for it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TypedDict

import redis
from prometheus_client import Histogram
from rq import Queue

from api.params import WriteParams
from projections import jobs, log
from projections.collections import Collection
from projections.errors import Timeout
from projections.events import Event
from projections.jsontypes import JsonObject
from projections.memory import WriteLimit
from projections.progress import Progress
from projections.replication import Replication

logger = logging.getLogger("pointlog.api")


class UpdateResult(TypedDict):
    """Qdrant's answer to one operation of a write."""

    operation_id: int
    status: str  # acknowledged, completed or wait_timeout


@dataclass(frozen=True)
class Submitted:
    """An event in the log: its collection and operation ids."""

    collection: Collection
    op_ids: range


@dataclass
class Writer:
    r: redis.Redis
    queue: Queue
    progress: Progress
    default_wait_seconds: float
    waits: Histogram
    limit: WriteLimit
    replication: Replication | None = None  # APPEND_REPLICAS

    def append(
        self,
        collection: Collection,
        event: Event,
        params: WriteParams,
        config: JsonObject | None = None,
    ) -> Submitted:
        """Append the event (with `config`: one that changes the collection's config to it).
        It either is in the log once this returns, or nothing was appended (CollectionGone:
        the collection was deleted meanwhile; ConfigChanged: its config changed since the event
        was checked; StoreFull: Redis's memory is past the write limit). NotReplicated: it is
        in the log, but fewer replicas than APPEND_REPLICAS asks for had it in time."""
        self.limit.check(event.size, len(event.ops))
        try:
            appended = log.append(self.r, collection, event, config, self.replication)
        except redis.OutOfMemoryError as error:
            raise self.limit.full(error) from error
        if appended.kicked:
            self._kick(collection)
        if self.replication is not None:
            self.replication.check(appended.first_op, appended.replicated or 0)
        logger.info(
            "appended",
            extra={
                "collection": collection.name,
                "operation_id": appended.first_op,
                "operations": [op["type"] for op in event.ops],
                "wait": params.wait,
            },
        )
        return Submitted(collection, range(appended.first_op, appended.last_op + 1))

    def answer(self, submitted: Submitted, params: WriteParams) -> list[UpdateResult]:
        """One UpdateResult per operation: acknowledged, or (`wait=true`) completed, the
        first operation's error, or wait_timeout."""
        op_ids = submitted.op_ids
        if not params.wait:
            return _results(op_ids, "acknowledged")
        timeout = params.timeout if params.timeout is not None else self.default_wait_seconds
        keys = submitted.collection.keys
        started = time.perf_counter()
        applied = self.progress.wait(keys, op_ids.stop, timeout)
        self.waits.observe(time.perf_counter() - started)
        if not applied:
            if params.timeout is None:
                raise Timeout(f"Operation {op_ids.stop - 1} was not applied within {timeout}s")
            return _results(op_ids, "wait_timeout")
        for error in log.outcomes(self.r, keys, op_ids):
            if error is not None:
                raise error
        return _results(op_ids, "completed")

    def _kick(self, collection: Collection) -> None:
        """Queue a catch-up job. If this fails the event is still in the log, and the kick flag
        stays up: the workers' sweep finds the collection behind and catches it up."""
        try:
            jobs.enqueue_catch_up(self.queue, collection.name, collection.cid)
        except redis.RedisError as error:
            logger.warning("could not queue catch-up for %s: %s", collection.name, error)


def _results(op_ids: range, status: str) -> list[UpdateResult]:
    return [{"operation_id": op, "status": status} for op in op_ids]
