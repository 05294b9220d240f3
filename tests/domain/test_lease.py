"""The per-collection lease: one holder at a time, only the holder renews or releases it, it
expires on its own, and a pause key keeps it from being taken."""

from __future__ import annotations

import redis

from workers.lease import Lease

TTL = 5.0


def test_one_holder_at_a_time_until_it_lets_go(r: redis.Redis, name: str) -> None:
    first, second = Lease(r, f"lease:{name}", TTL), Lease(r, f"lease:{name}", TTL)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()


def test_only_the_holder_can_release_it(r: redis.Redis, name: str) -> None:
    holder, other = Lease(r, f"lease:{name}", TTL), Lease(r, f"lease:{name}", TTL)
    assert holder.acquire()
    other.release()
    assert not other.acquire()


def test_it_expires_on_its_own_so_a_dead_holder_cannot_keep_it(r: redis.Redis, name: str) -> None:
    lease = Lease(r, f"lease:{name}", TTL)
    assert lease.acquire()
    assert 0 < r.pttl(f"lease:{name}") <= TTL * 1000


def test_renewing_extends_only_the_holders_lease(r: redis.Redis, name: str) -> None:
    key = f"lease:{name}"
    holder = Lease(r, key, TTL)
    assert holder.acquire()
    r.pexpire(key, 100)  # as if most of its time had passed
    holder._renewed -= TTL  # and the last renewal was long ago
    holder.renew()
    assert r.pttl(key) > 100
    other = Lease(r, key, TTL)
    other._renewed -= TTL
    r.pexpire(key, 100)
    other.renew()
    assert r.pttl(key) <= 100


def test_a_pause_key_keeps_it_from_being_taken(r: redis.Redis, name: str) -> None:
    pause = f"{{{name}}}:pause"  # in the lease's slot, as a collection's keys are
    lease = Lease(r, f"{{{name}}}:lease", TTL, blocker=pause)
    r.set(pause, 1)
    assert not lease.acquire()
    r.delete(pause)
    assert lease.acquire()
