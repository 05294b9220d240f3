"""The worker process: an RQ SimpleWorker (jobs run in-process: no fork per job) plus a sweep
thread that catches up collections left behind, without waiting for RQ's maintenance, and,
with an archive configured, a thread that moves old log entries there (archiver.py)."""

from __future__ import annotations

import logging
import threading

import redis
from rq import SimpleWorker

from projections import aliases, jobs, json_logging, memory, store
from projections.archive import open_archive
from projections.settings import Settings
from workers import catchup
from workers.archiver import archive_forever

logger = logging.getLogger("pointlog.worker")
RECONNECT_SECONDS = 1.0


def _sweep_forever(r: redis.Redis, settings: Settings, stop: threading.Event) -> None:
    while not stop.wait(settings.sweep_seconds):
        try:
            catchup.sweep(r, settings)
        except store.FAILURES as error:
            logger.warning("sweep skipped: %s", error)


def run_worker(settings: Settings) -> None:
    json_logging.configure()
    r = store.connect(settings.redis_url, 16, settings.redis_ssl_cert_reqs)
    aliases.move_former_key(r)
    memory.refuse_eviction(r, settings.allow_eviction)
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_forever, args=(r, settings, stop), name="pointlog-sweep", daemon=True
    )
    sweeper.start()
    archive = open_archive(settings.archive_url)
    if archive is not None:
        archiving = threading.Thread(
            target=archive_forever,
            args=(r, archive, settings, stop),
            name="pointlog-archive",
            daemon=True,
        )
        archiving.start()
    queued = jobs.queue_store(settings, r, 4)
    queue = jobs.queue(queued, settings.queue_name)
    try:
        while True:
            try:
                SimpleWorker([queue], connection=queued, serializer=jobs.SERIALIZER).work(
                    logging_level="WARNING"
                )
                return  # asked to stop (SIGTERM / Ctrl-C)
            except (redis.ConnectionError, redis.OutOfMemoryError) as error:
                # The store restarts, fails over, or is full (even RQ's own bookkeeping is
                # refused): wait for it instead of exiting.
                logger.warning("store unavailable, worker retries: %s", error)
                stop.wait(RECONNECT_SECONDS)
    finally:
        stop.set()
