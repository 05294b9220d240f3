"""A per-collection lease, so one worker at a time applies a collection's log.

Correctness never rests on it (the checkpoint's compare-and-set does): it only keeps two
workers from computing the same batch. It expires on its own when its holder dies."""

from __future__ import annotations

import time
import uuid

import redis

from projections.store import script

# KEYS: the lease, a key that blocks taking it. ARGV: token, ttl in ms.
_ACQUIRE = script(
    b"if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "
    b"if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0",
)
_RENEW = script(
    b"if redis.call('GET', KEYS[1]) == ARGV[1] then "
    b"return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
)
_RELEASE = script(
    b"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
)


class Lease:
    def __init__(
        self, r: redis.Redis, key: str, ttl_seconds: float, blocker: str | None = None
    ) -> None:
        self._r = r
        self._key = key
        self._blocker = blocker  # while this key exists the lease is not taken
        self._ttl_ms = int(ttl_seconds * 1000)
        self._token = uuid.uuid4().hex
        self._renewed = time.monotonic()

    def acquire(self) -> bool:
        self._renewed = time.monotonic()
        if self._blocker is None:
            return bool(self._r.set(self._key, self._token, nx=True, px=self._ttl_ms))
        keys = [self._key, self._blocker]
        return bool(_ACQUIRE(keys=keys, args=[self._token, self._ttl_ms], client=self._r))

    def renew(self) -> None:
        """Extend the lease, at most every third of its time to live (one round trip saved on
        nearly every batch)."""
        now = time.monotonic()
        if now - self._renewed < self._ttl_ms / 3000:
            return
        self._renewed = now
        _RENEW(keys=[self._key], args=[self._token, self._ttl_ms], client=self._r)

    def release(self) -> None:
        _RELEASE(keys=[self._key], args=[self._token], client=self._r)
