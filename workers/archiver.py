"""Archiving inside the worker processes: a thread that, every sweep, moves the oldest log
entries of each collection whose hot log is over its limits to the archive (retention.py).
One worker at a time archives a collection (a lease); a failed write trims nothing and is
tried again at the next sweep."""

from __future__ import annotations

import logging
import threading

import redis

from projections import collections, retention
from projections.archive import Archive
from projections.retention import Limits
from projections.settings import Settings
from workers.lease import Lease

logger = logging.getLogger("pointlog.archive")
# A segment's write and check fit well within it, and a killed archiver's lease frees soon.
# Should one outlive it anyway, two archivers may store overlapping segments: harmless, since
# the log never changes (any segment holding an operation holds the same entries around it)
# and only one of them trims the stream (log.trim).
LEASE_SECONDS = 10.0


def archive_due(r: redis.Redis, archive: Archive, limits: Limits) -> None:
    """Move out what is over the limits, collection by collection (shard by shard)."""
    for collection in (part for c in collections.registered(r) for part in c.parts):
        keys = collection.keys
        hot = retention.hot_log(r, keys)
        if hot is None or not hot.over(limits, retention.SEGMENT_SHARE):
            continue
        lease = Lease(r, keys.archiver, LEASE_SECONDS)
        if not lease.acquire():
            continue  # another worker is on it
        try:
            moved = retention.move_out(r, keys, archive, limits, renew=lease.renew)
        finally:
            lease.release()
        if moved:
            logger.info("archived", extra={"collection": collection.name, "segments": moved})


def archive_forever(
    r: redis.Redis, archive: Archive, settings: Settings, stop: threading.Event
) -> None:
    limits = Limits(settings.hot_log_operations, settings.hot_log_mb)
    while not stop.wait(settings.sweep_seconds):
        try:
            archive_due(r, archive, limits)
        except Exception as error:  # storage away, Redis away: nothing was trimmed
            logger.warning("archiving skipped: %s", error)
