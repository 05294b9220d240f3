"""The log and the apply step: ordering, replacement semantics, checkpoints."""

from __future__ import annotations

import orjson
import pytest

from projections import collections, events
from projections.apply import apply_batch
from projections.errors import NotFound
from tests.domain.writes import write


def state(r, col) -> dict:
    keys = col.keys
    return {
        "ids": [k.decode() for k in r.zrange(keys.ids, 0, -1)],
        "payload": {k.decode(): orjson.loads(v) for k, v in r.hgetall(keys.payload).items()},
        "a": sorted(k.decode() for k in r.hkeys(keys.vectors("a"))),
        "b": sorted(k.decode() for k in r.hkeys(keys.vectors("b"))),
    }


def test_appends_take_gapless_operation_ids_and_raise_the_kick_once(r, col):
    first = write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 2]}}]})
    second = write(r, col, events.add_delete, {"points": [1]})
    assert (first.first_op, first.last_op, first.kicked) == (0, 0, True)
    assert (second.first_op, second.last_op, second.kicked) == (1, 1, False)


def test_nothing_is_visible_until_applied_then_everything_is(r, col):
    write(
        r,
        col,
        events.add_upsert,
        {"points": [{"id": 1, "vector": {"a": [1, 2]}, "payload": {"x": 1}}]},
    )
    assert state(r, col)["ids"] == []
    assert apply_batch(r, col, max_events=10) == 1
    assert state(r, col) == {
        "ids": ["00000000000000001"],
        "payload": {"00000000000000001": {"x": 1}},
        "a": ["00000000000000001"],
        "b": [],
    }
    assert apply_batch(r, col, max_events=10) is None


def test_upsert_replaces_the_whole_point(r, col):
    write(
        r,
        col,
        events.add_upsert,
        {"points": [{"id": 1, "vector": {"a": [1, 2], "b": [3, 4]}, "payload": {"x": 1}}]},
    )
    write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"b": [5, 6]}}]})
    apply_batch(r, col, max_events=10)
    s = state(r, col)
    assert s["payload"] == {"00000000000000001": {}}
    assert (s["a"], s["b"]) == ([], ["00000000000000001"])


def test_batches_respect_the_event_limit_and_log_order(r, col):
    for i in range(5):
        write(
            r,
            col,
            events.add_upsert,
            {"points": [{"id": 1, "vector": {"a": [i, i]}, "payload": {"i": i}}]},
        )
    assert apply_batch(r, col, max_events=2) == 2
    assert state(r, col)["payload"] == {"00000000000000001": {"i": 1}}
    assert apply_batch(r, col, max_events=10) == 5
    assert state(r, col)["payload"] == {"00000000000000001": {"i": 4}}
    assert int(r.hget(col.keys.stats, "ops")) == 5


def test_delete_ignores_missing_points_and_later_upsert_revives(r, col):
    write(
        r,
        col,
        events.add_upsert,
        {"points": [{"id": 1, "vector": {"a": [1, 2]}}, {"id": 2, "vector": {"a": [1, 2]}}]},
    )
    write(r, col, events.add_delete, {"points": [2, 3]})
    write(r, col, events.add_upsert, {"points": [{"id": 3, "vector": {"b": [1, 2]}}]})
    apply_batch(r, col, max_events=10)
    s = state(r, col)
    assert s["ids"] == ["00000000000000001", "00000000000000003"]
    assert (s["a"], s["b"]) == (["00000000000000001"], ["00000000000000003"])


def test_a_deleted_collection_takes_no_appends_and_applies_nothing(r, col):
    write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 2]}}]})
    assert collections.delete(r, col.name) is True
    assert apply_batch(r, col, max_events=10) is None
    with pytest.raises(NotFound):
        write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 2]}}]})
    assert r.keys(f"pl:{{{col.cid}}}:*") == []
