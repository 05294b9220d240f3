"""The RQ job. It is a trigger, not a carrier: the events live in the log, so a lost or
duplicated job loses nothing and applies nothing twice."""

from __future__ import annotations

from functools import lru_cache

from rq import Queue, get_current_job
from rq.serializers import JSONSerializer

from projections.settings import Settings
from workers import catchup


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return Settings.from_env()


def catch_up(name: str, cid: int) -> None:
    job = get_current_job()
    assert job is not None, "catch_up runs inside an RQ worker"
    queue = Queue(job.origin, connection=job.connection, serializer=JSONSerializer)

    def requeue() -> None:
        queue.enqueue_call(
            catch_up,
            args=(name, cid),
            timeout=job.timeout,
            result_ttl=0,
            failure_ttl=job.failure_ttl,
        )

    catchup.catch_up(
        job.connection, name, cid, _settings(), requeue, others_waiting=lambda: queue.count > 0
    )
