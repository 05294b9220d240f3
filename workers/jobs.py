"""The RQ job that `projections.jobs` queues. It is a trigger, not a carrier: the events live
in the log, so a lost or duplicated job loses nothing and applies nothing twice."""

from __future__ import annotations

from functools import lru_cache

from rq import get_current_job

from projections import jobs
from projections.settings import Settings
from workers import catchup


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return Settings.from_env()


def catch_up(name: str, cid: int) -> None:
    job = get_current_job()
    assert job is not None, "catch_up runs inside an RQ worker"
    queue = jobs.queue(job.connection, job.origin)
    catchup.catch_up(
        job.connection,
        name,
        cid,
        _settings(),
        requeue=lambda: jobs.enqueue_catch_up(queue, name, cid),
        others_waiting=lambda: queue.count > 0,
    )
