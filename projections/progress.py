"""Waiting for a collection's checkpoint to reach an operation, push-based.

Workers announce each new checkpoint inside their commit (store.queue_announce). One
subscriber thread per process listens and wakes the threads waiting on that collection: on one
server it listens to every collection's channel by pattern; on a cluster, whose announcements
are sharded (each reaches only the node of its channel's slot), it subscribes to a collection's
channel when a thread first waits on it. A waiter reads the checkpoint once itself, then
sleeps on a condition that only a newer checkpoint notifies: no polling, and no missed wake-up
since the subscriber is listening before any waiter reads. A waiter still re-reads the
checkpoint every `recheck_seconds`, so a dropped pub/sub connection delays it by at most that
much.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from projections import store
from projections.keys import APPLIED_CHANNEL_PATTERN, Keys, cid_of_channel

logger = logging.getLogger("pointlog.progress")
RETRY_SECONDS = 0.5
SHARDED_POLL_SECONDS = 0.05  # how soon the cluster's subscriber takes up a new channel


class Progress:
    def __init__(self, r: redis.Redis, recheck_seconds: float = 1.0) -> None:
        self._r = r
        self._recheck = recheck_seconds
        self._cond = threading.Condition()
        self._seen: dict[int, int] = {}  # cid -> highest checkpoint announced
        self._subscribed = threading.Event()
        self._sharded = isinstance(r, redis.RedisCluster)
        self._channels: dict[str, threading.Event] = {}  # on a cluster: set once subscribed
        self._thread = threading.Thread(target=self._listen, name="pointlog-progress", daemon=True)
        self._thread.start()

    def wait(self, keys: Keys, target: int, timeout: float) -> bool:
        """Block until the collection has applied `target` operations; False on timeout."""
        deadline = time.monotonic() + timeout
        self._listening(keys).wait(timeout)
        reached = self._read(keys)
        with self._cond:
            while max(reached, self._seen.get(keys.cid, 0)) < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if not self._cond.wait(min(remaining, self._recheck)):
                    reached = self._read(keys)
        return True

    def _listening(self, keys: Keys) -> threading.Event:
        """Set once the subscriber hears the collection's announcements."""
        if not self._sharded:
            return self._subscribed
        with self._cond:
            return self._channels.setdefault(keys.channel, threading.Event())

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
                if self._sharded:
                    self._listen_sharded()
                else:
                    self._listen_to_pattern()
            except store.FAILURES as error:
                if self._subscribed.is_set():  # once per outage, not once per retry
                    logger.warning("progress subscriber lost the store, retrying: %s", error)
                self._subscribed.clear()
                with self._cond:
                    for heard in self._channels.values():
                        heard.clear()
                time.sleep(RETRY_SECONDS)

    def _listen_to_pattern(self) -> None:
        pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        pubsub.psubscribe(APPLIED_CHANNEL_PATTERN)
        self._listening_now()
        while True:
            message = pubsub.get_message(timeout=5.0)
            if message is not None:
                self._announce(cid_of_channel(message["channel"]), int(message["data"]))

    def _listen_sharded(self) -> None:
        pubsub = self._r.pubsub()
        self._listening_now()
        asked: set[str] = set()
        while True:
            with self._cond:
                new = [c for c in self._channels if c not in asked]
            for channel in new:
                pubsub.ssubscribe(channel)
                asked.add(channel)
            if not asked:
                time.sleep(SHARDED_POLL_SECONDS)  # no node to listen to yet
                continue
            message = pubsub.get_sharded_message(timeout=SHARDED_POLL_SECONDS)
            if message is None:
                continue
            if message["type"] == "ssubscribe":  # the node has it: waiters may read now
                self._channels[message["channel"].decode()].set()
            elif message["type"] == "smessage":
                self._announce(cid_of_channel(message["channel"]), int(message["data"]))

    def _listening_now(self) -> None:
        if not self._subscribed.is_set():
            logger.info("progress subscriber listening")
        self._subscribed.set()
