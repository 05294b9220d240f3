"""The RQ job that `projections.jobs` queues. It is a trigger, not a carrier: the events live
in the log, so a lost or duplicated job loses nothing and applies nothing twice."""

from __future__ import annotations

from functools import lru_cache

import redis
from rq import get_current_job

from projections import jobs, store
from projections.settings import Settings
from workers import catchup


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def _own_store() -> redis.Redis:
    settings = _settings()
    return store.connect(settings.redis_url, 4, settings.redis_ssl_cert_reqs)


def catch_up(name: str, cid: int) -> None:
    job = get_current_job()
    assert job is not None, "catch_up runs inside an RQ worker"
    queue = jobs.queue(job.connection, job.origin)
    # The log and projections are on the queue's server unless the queue has one of its own.
    r = job.connection if _settings().queue_url is None else _own_store()
    catchup.catch_up(
        r,
        name,
        cid,
        _settings(),
        requeue=lambda: jobs.enqueue_catch_up(queue, name, cid),
        others_waiting=lambda: queue.count > 0,
    )
