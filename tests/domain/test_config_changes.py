"""Config changes as events: a vector name added or removed on a live collection, in the log
with the config it leaves, applied in order and replayed to the same projection."""

from __future__ import annotations

import pytest

from projections import collections, config_changes, events, log
from projections.apply import apply_batch
from projections.collections import Collection, ConfigChanged
from projections.reads import Reader
from tests.domain.writes import settle, write
from workers.replay import compare


def change(r, col: Collection, kind: str, config: dict, vector: str | None = None) -> Collection:
    """Append a config change as the web process does; the collection as it is after."""
    log.append(r, col, events.config_change(kind, config, vector), config)
    return collections.load(r, col.name)


def add_c(r, col: Collection, size: int = 3) -> Collection:
    body = {"dense": {"size": size, "distance": "Dot"}}
    return change(r, col, "create_vector", config_changes.with_vector(col.config, "c", body), "c")


def drop(r, col: Collection, vector: str) -> Collection:
    return change(
        r, col, "delete_vector", config_changes.without_vector(col.config, vector), vector
    )


def vectors_of(r, col: Collection, name: str) -> dict[str, bytes]:
    return {k.decode(): v for k, v in r.hgetall(col.keys.vectors(name)).items()}


def test_a_vector_name_added_takes_writes_once_its_event_is_in_the_log(r, col):
    fresh = add_c(r, col)
    assert fresh.version == 1 and fresh.vector_names == ["a", "b", "c"]
    write(
        r,
        fresh,
        events.add_upsert,
        {"points": [{"id": 1, "vector": {"a": [1, 2], "c": [1, 2, 3]}}]},
    )
    settle(r, fresh)
    assert list(vectors_of(r, fresh, "c")) == ["00000000000000001"]


def test_a_write_checked_against_the_old_config_is_refused_and_appends_nothing(r, col):
    fresh = drop(r, col, "b")
    seq = int(r.get(col.keys.seq))
    with pytest.raises(ConfigChanged):
        write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"b": [1, 2]}}]})
    assert int(r.get(col.keys.seq)) == seq
    assert fresh.vector_names == ["a"]


def test_a_read_planned_with_the_old_config_is_refused(r, col):
    add_c(r, col)
    with pytest.raises(ConfigChanged):
        Reader(r, col, progress=None, wait_seconds=0).seq()


def test_removing_a_vector_name_removes_its_vectors_from_every_point(r, col):
    points = [{"id": i, "vector": {"a": [1, i], "b": [i, 1]}} for i in range(5)]
    write(r, col, events.add_upsert, {"points": points})
    settle(r, col)
    fresh = drop(r, col, "b")
    settle(r, fresh)
    assert vectors_of(r, fresh, "b") == {}
    assert len(vectors_of(r, fresh, "a")) == 5


def test_events_are_applied_with_the_config_of_their_place_in_the_log(r, col):
    """A backlog that adds `c`, writes it and removes it again: the worker starts from the
    current config (no `c`), yet each checkpoint on the way shows what the log said then."""
    with_c = add_c(r, col)
    written = write(
        r, with_c, events.add_upsert, {"points": [{"id": 1, "vector": {"c": [1, 2, 3]}}]}
    )
    latest = drop(r, with_c, "c")
    while apply_batch(r, latest, 64, until=written.last_op + 1) is not None:
        pass
    assert list(vectors_of(r, latest, "c")) == ["00000000000000001"]
    settle(r, latest)
    assert vectors_of(r, latest, "c") == {}


def test_a_replay_rebuilds_the_same_projection_through_config_changes(r, col):
    write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 2], "b": [3, 4]}}]})
    fresh = drop(r, add_c(r, col), "b")
    write(r, fresh, events.add_upsert, {"points": [{"id": 2, "vector": {"c": [1, 2, 3]}}]})
    settle(r, fresh)
    rebuilt = fresh.keys.rebuild()
    r.set(rebuilt.applied, 0)
    while apply_batch(r, fresh, 64, rebuilt) is not None:
        pass
    assert compare(r, fresh, fresh.keys, rebuilt) == []
    assert sorted(vectors_of(r, fresh, "c")) == ["00000000000000002"]


def test_deleting_the_collection_leaves_no_config_behind(r, col):
    drop(r, col, "b")
    collections.delete(r, col.name)
    assert r.keys(f"pl:{{{col.cid}}}:*") == []


def test_a_patch_is_kept_and_leaves_the_points_as_they_are(r, col):
    write(r, col, events.add_upsert, {"points": [{"id": 1, "vector": {"a": [1, 2]}}]})
    config = config_changes.patched(col.config, {"hnsw_config": {"m": 8}, "metadata": {"k": 1}})
    fresh = change(r, col, "update_collection", config)
    settle(r, fresh)
    assert fresh.config["hnsw_config"] == {"m": 8} and fresh.config["metadata"] == {"k": 1}
    assert list(vectors_of(r, fresh, "a")) == ["00000000000000001"]
    assert compare(r, fresh, fresh.keys, fresh.keys) == []
