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
from projections import jobs, log, shard_events
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
class Appended:
    """One shard's event in its log: the shard, the operation ids it took, and which of the
    request's operations each one is."""

    shard: Collection
    op_ids: range
    origins: list[int]


@dataclass(frozen=True)
class Submitted:
    """A request's events in the logs of the shards it touched (one for most collections)."""

    parts: list[Appended]
    operations: int  # how many the request had


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
        if collection.sharded:
            split = shard_events.split(event, len(collection.shards))
            shares = [(collection.shards[n], part.event, part.origins) for n, part in split.items()]
        else:
            shares = [(collection, event, list(range(len(event.ops))))]
        appended = [self._append(shard, own, config) for shard, own, _ in shares]
        if self.replication is not None:
            for one in appended:
                self.replication.check(one.first_op, one.replicated or 0)
        parts = [
            Appended(shard, range(one.first_op, one.last_op + 1), origins)
            for (shard, _, origins), one in zip(shares, appended, strict=True)
        ]
        logger.info(
            "appended",
            extra={
                "collection": collection.name,
                "operation_id": _answered_ids(parts, len(event.ops))[0],
                "operations": [op["type"] for op in event.ops],
                "wait": params.wait,
            },
        )
        return Submitted(parts, len(event.ops))

    def _append(self, shard: Collection, event: Event, config: JsonObject | None) -> log.Appended:
        try:
            appended = log.append(self.r, shard, event, config, self.replication)
        except redis.OutOfMemoryError as error:
            raise self.limit.full(error) from error
        if appended.kicked:
            self._kick(shard)
        return appended

    def answer(self, submitted: Submitted, params: WriteParams) -> list[UpdateResult]:
        """One UpdateResult per operation: acknowledged, or (`wait=true`) completed, the
        first operation's error, or wait_timeout. On several shards an operation's id is the
        largest it took in any of them (as Qdrant answers), and `wait` waits for them all."""
        answered = _answered_ids(submitted.parts, submitted.operations)
        if not params.wait:
            return _results(answered, "acknowledged")
        timeout = params.timeout if params.timeout is not None else self.default_wait_seconds
        started = time.perf_counter()
        deadline = started + timeout
        applied = all(
            self.progress.wait(
                part.shard.keys, part.op_ids.stop, max(0.0, deadline - time.perf_counter())
            )
            for part in submitted.parts
        )
        self.waits.observe(time.perf_counter() - started)
        if not applied:
            if params.timeout is None:
                raise Timeout(f"Operation {max(answered)} was not applied within {timeout}s")
            return _results(answered, "wait_timeout")
        failed = [
            (origin, error)
            for part in submitted.parts
            for origin, error in zip(
                part.origins, log.outcomes(self.r, part.shard.keys, part.op_ids), strict=True
            )
            if error is not None
        ]
        if failed:
            raise min(failed, key=lambda entry: entry[0])[1]  # the request's first one
        return _results(answered, "completed")

    def _kick(self, collection: Collection) -> None:
        """Queue a catch-up job. If this fails the event is still in the log, and the kick flag
        stays up: the workers' sweep finds the collection behind and catches it up."""
        try:
            jobs.enqueue_catch_up(self.queue, collection.name, collection.cid)
        except redis.RedisError as error:
            logger.warning("could not queue catch-up for %s: %s", collection.name, error)


def _answered_ids(parts: list[Appended], operations: int) -> list[int]:
    """Each of the request's operations' id: the largest it took in a shard."""
    answered = [-1] * operations
    for part in parts:
        for op_id, origin in zip(part.op_ids, part.origins, strict=True):
            answered[origin] = max(answered[origin], op_id)
    return answered


def _results(op_ids: list[int], status: str) -> list[UpdateResult]:
    return [{"operation_id": op, "status": status} for op in op_ids]
