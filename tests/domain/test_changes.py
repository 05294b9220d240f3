"""The change feed: one record per commit of the live projection, in the same transaction,
saying which points changed and how, contiguous from checkpoint to checkpoint."""

from __future__ import annotations

from itertools import pairwise

import redis

from projections import changes, events
from projections.apply import apply_batch
from projections.collections import Collection
from projections.ids import to_key
from tests.domain.writes import write


def commit(r: redis.Redis, col: Collection, length: int = changes.DEFAULT_LENGTH) -> None:
    assert apply_batch(r, col, max_events=64, feed_length=length) is not None


def records(r: redis.Redis, col: Collection) -> list[changes.Change]:
    return changes.read(r, col.keys, changes.START, count=1000)


def points(*ids: int) -> list[str]:
    return [to_key(i) for i in ids]


def test_a_commit_records_what_each_point_went_through(r, col) -> None:
    write(
        r,
        col,
        events.add_upsert,
        {"points": [{"id": i, "vector": {"a": [i, 1]}} for i in (1, 2, 3)]},
    )
    commit(r, col)
    write(
        r,
        col,
        events.add_set_payload,
        {"payload": {"x": 1}, "filter": {"must": [{"has_id": [2, 3]}]}},
    )
    write(r, col, events.add_update_vectors, {"points": [{"id": 1, "vector": {"b": [1, 1]}}]})
    write(r, col, events.add_delete, {"points": [3]})
    commit(r, col)
    first, second = records(r, col)
    assert (first.before, first.after, first.upserted, first.ops) == (
        0,
        1,
        points(1, 2, 3),
        {0: points(1, 2, 3)},
    )
    assert (second.before, second.after) == (1, 4)
    assert second.deleted == points(3)
    assert second.payload == points(2)  # 3 is deleted: reported once, as deleted
    assert second.vectors == {"b": points(1)}
    assert second.ops == {1: points(2, 3), 2: points(1), 3: points(3)}
    assert second.vector_keys("b") == points(3, 1)


def test_an_operation_that_fails_touches_nothing(r, col) -> None:
    write(r, col, events.add_update_vectors, {"points": [{"id": 9, "vector": {"a": [1, 1]}}]})
    commit(r, col)
    (record,) = records(r, col)
    assert (record.before, record.after, record.ops, record.vectors) == (0, 1, {}, {})


def test_the_position_is_the_last_record_and_the_checkpoint(r, col) -> None:
    assert changes.position(r, col.keys) == changes.Position(changes.START, 0)
    write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 1]}}]})
    commit(r, col)
    (record,) = records(r, col)
    assert changes.position(r, col.keys) == changes.Position(record.entry_id, 1)
    assert changes.read(r, col.keys, record.entry_id, count=10) == []


def test_the_feed_is_bounded_and_a_gap_shows(r, col) -> None:
    for i in range(300):
        write(r, col, events.add_upsert, {"points": [{"id": i, "vector": {"a": [i, 1]}}]})
        commit(r, col, length=10)
    kept = records(r, col)
    assert 10 <= len(kept) < 300  # trimmed about to the length asked
    assert kept[0].before > 0  # a reader that had seen less finds a gap: it must reload
    assert all(a.after == b.before for a, b in pairwise(kept))
    assert kept[-1].after == 300


def test_a_gone_collection_has_no_position(r, col) -> None:
    r.delete(col.keys.applied)
    assert changes.position(r, col.keys) is None
