"""Waiting for a collection's checkpoint to reach an operation, push-based.

Workers PUBLISH each new checkpoint inside their commit. One subscriber thread per process
listens to every collection's channel and wakes the threads waiting on that collection. A waiter
reads the checkpoint once itself, then sleeps on a condition that only a newer checkpoint
notifies: no polling, and no missed wake-up since the subscriber is listening before any waiter
reads. A waiter still re-reads the checkpoint every `recheck_seconds`, so a dropped pub/sub
connection delays it by at most that much.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from projections.keys import APPLIED_CHANNEL_PATTERN, Keys, cid_of_channel

logger = logging.getLogger("pointlog.progress")
RETRY_SECONDS = 0.5


class Progress:
    def __init__(self, r: redis.Redis, recheck_seconds: float = 1.0) -> None:
        self._r = r
        self._recheck = recheck_seconds
        self._cond = threading.Condition()
        self._seen: dict[int, int] = {}  # cid -> highest checkpoint announced
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="pointlog-progress", daemon=True)
        self._thread.start()

    def wait(self, keys: Keys, target: int, timeout: float) -> bool:
        """Block until the collection has applied `target` operations; False on timeout."""
        deadline = time.monotonic() + timeout
        self._subscribed.wait(timeout)
        reached = self._read(keys)
        with self._cond:
            while max(reached, self._seen.get(keys.cid, 0)) < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if not self._cond.wait(min(remaining, self._recheck)):
                    reached = self._read(keys)
        return True

    def _read(self, keys: Keys) -> int:
        return int(self._r.get(keys.applied) or 0)

    def _announce(self, cid: int, checkpoint: int) -> None:
        with self._cond:
            if checkpoint > self._seen.get(cid, 0):
                self._seen[cid] = checkpoint
                self._cond.notify_all()

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self._r.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(APPLIED_CHANNEL_PATTERN)
                if not self._subscribed.is_set():
                    logger.info("progress subscriber listening")
                self._subscribed.set()
                while True:
                    message = pubsub.get_message(timeout=5.0)
                    if message is not None:
                        self._announce(cid_of_channel(message["channel"]), int(message["data"]))
            except redis.RedisError as error:
                if self._subscribed.is_set():  # once per outage, not once per retry
                    logger.warning("progress subscriber lost the store, retrying: %s", error)
                self._subscribed.clear()
                time.sleep(RETRY_SECONDS)
