"""The kick-flag protocol of a catch-up: no write is ever left behind, and a write queues a job
only when no worker is already on its collection."""

from __future__ import annotations

from typing import Any

import redis

from projections import events, log
from projections.collections import Collection
from projections.settings import Settings
from tests.domain.writes import write
from workers.catchup import catch_up

SETTINGS = Settings(follow_seconds=0.0, max_job_seconds=5.0)
POINT = {"points": [{"id": 1, "vector": {"a": [1.0, 2.0]}}]}


class WriteAsKickIsCleared:
    """The worker's client, with a web request's append let in at the worst moment: just
    before the worker clears the kick flag, when that append still finds the flag up and so
    queues no job."""

    def __init__(self, r: redis.Redis, col: Collection) -> None:
        self._r = r
        self._col = col
        self.appended: log.Appended | None = None

    def delete(self, *names: str) -> Any:
        if self._col.keys.kick in names and self.appended is None:
            self.appended = write(self._r, self._col, events.add_upsert, POINT)
        return self._r.delete(*names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._r, name)


def checkpoint(r: redis.Redis, col: Collection) -> int:
    return int(r.get(col.keys.applied))


def test_a_write_that_queued_no_job_is_still_applied(r: redis.Redis, col: Collection) -> None:
    first = write(r, col, events.add_upsert, POINT)
    assert first.kicked
    worker = WriteAsKickIsCleared(r, col)
    catch_up(worker, col.name, col.cid, SETTINGS)  # type: ignore[arg-type]
    assert worker.appended is not None and not worker.appended.kicked
    assert checkpoint(r, col) == worker.appended.last_op + 1


def test_after_a_catch_up_the_next_write_queues_a_job(r: redis.Redis, col: Collection) -> None:
    write(r, col, events.add_upsert, POINT)
    catch_up(r, col.name, col.cid, SETTINGS)
    assert checkpoint(r, col) == 1
    assert write(r, col, events.add_upsert, POINT).kicked


def test_a_worker_finding_the_lease_taken_leaves_it_to_the_holder(
    r: redis.Redis, col: Collection
) -> None:
    write(r, col, events.add_upsert, POINT)
    r.set(col.keys.lease, "someone else", px=5000)
    catch_up(r, col.name, col.cid, SETTINGS)
    assert checkpoint(r, col) == 0
    assert not write(r, col, events.add_upsert, POINT).kicked  # the holder will see it


def test_a_job_for_an_old_cid_does_nothing(r: redis.Redis, col: Collection) -> None:
    write(r, col, events.add_upsert, POINT)
    catch_up(r, col.name, col.cid + 1000, SETTINGS)
    assert checkpoint(r, col) == 0
