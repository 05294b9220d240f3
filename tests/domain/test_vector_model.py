"""The vector read model of a web process: loads the collection, follows the change feed to
the checkpoint a query must see, and reloads when the feed says the projection was replaced or
when it fell further behind than the feed keeps, or the collection's config changed."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import redis

from projections import changes, collections, config_changes, events, log
from projections.apply import apply_batch
from projections.collections import Collection
from projections.ids import to_key
from projections.vector_model import CollectionVectors, VectorModels
from tests.domain.writes import write

WAIT = 10.0


def upsert(r: redis.Redis, col: Collection, *ids: int, feed_length: int = 1000) -> int:
    points = [{"id": i, "vector": {"a": [i, 1], "b": [1, i]}} for i in ids]
    write(r, col, events.add_upsert, {"points": points})
    checkpoint = apply_batch(r, col, max_events=64, feed_length=feed_length)
    assert checkpoint is not None
    return checkpoint


def held(model: CollectionVectors, name: str = "a") -> dict[str, list[float]]:
    table = model.tables[name]
    return {key: table.matrix[row].tolist() for key, row in table.rows.items()}


@pytest.fixture
def model(r: redis.Redis, col: Collection) -> Iterator[CollectionVectors]:
    model = CollectionVectors(r, col)
    model.start()
    yield model
    model.stop()


def test_it_loads_what_is_there_then_follows_every_commit(r, col) -> None:
    upsert(r, col, 1, 2)
    model = CollectionVectors(r, col)
    model.start()
    try:
        assert model.wait_for(1, WAIT)
        assert held(model) == {to_key(1): [1.0, 1.0], to_key(2): [2.0, 1.0]}
        upsert(r, col, 3)
        write(r, col, events.add_delete, {"points": [1]})
        write(r, col, events.add_update_vectors, {"points": [{"id": 2, "vector": {"a": [7, 7]}}]})
        write(r, col, events.add_delete_vectors, {"points": [3], "vector": ["b"]})
        checkpoint = apply_batch(r, col, max_events=64)
        assert model.wait_for(checkpoint, WAIT)
        assert sorted(held(model).items()) == [(to_key(2), [7.0, 7.0]), (to_key(3), [3.0, 1.0])]
        assert set(model.tables["b"].rows) == {to_key(2)}
    finally:
        model.stop()


def test_waiting_for_a_later_checkpoint_times_out_until_it_is_applied(r, col, model) -> None:
    upsert(r, col, 1)
    assert model.wait_for(1, WAIT)
    assert not model.wait_for(2, 0.05)
    upsert(r, col, 2)
    assert model.wait_for(2, WAIT)


def test_a_reset_record_makes_it_load_afresh(r, col, model) -> None:
    upsert(r, col, 1)
    assert model.wait_for(1, WAIT)
    r.hset(col.keys.vectors("a"), to_key(1), np.array([5, 5], np.float32).tobytes())
    with r.pipeline(transaction=True) as pipe:  # as a replay's switch does
        changes.reset(pipe, col.keys, 1)
        pipe.execute()
    upsert(r, col, 2)  # the reload sees it too
    assert model.wait_for(2, WAIT)
    assert held(model)[to_key(1)] == [5.0, 5.0]


def test_a_config_change_makes_it_load_again_with_the_new_config(r, col, model) -> None:
    upsert(r, col, 1)
    assert model.wait_for(1, WAIT)
    config = config_changes.with_vector(col.config, "c", {"dense": {"size": 3, "distance": "Dot"}})
    log.append(r, col, events.config_change("create_vector", config, "c"), config)
    fresh = collections.load(r, col.name)
    write(r, fresh, events.add_upsert, {"points": [{"id": 2, "vector": {"c": [1, 2, 3]}}]})
    while (step := apply_batch(r, fresh, max_events=64)) is not None:
        checkpoint = step
    assert model.wait_for(checkpoint, WAIT)
    assert model.collection.version == 1
    assert held(model, "c") == {to_key(2): [1.0, 2.0, 3.0]}


def test_falling_behind_the_feed_makes_it_load_afresh(r, col) -> None:
    upsert(r, col, 1)
    behind = CollectionVectors(r, col)
    behind.load()  # loaded, not following yet: as a reader that stalls for a while
    for i in range(2, 300):
        last = upsert(r, col, i, feed_length=5)
    assert changes.read(r, col.keys, changes.START, 1)[0].before > 1  # its place is gone
    behind.start()
    try:
        assert behind.wait_for(last, WAIT)
        assert len(held(behind)) == 299
    finally:
        behind.stop()


def test_the_process_holds_only_what_fits_its_budget(r, col) -> None:
    upsert(r, col, 1, 2, 3)
    assert VectorModels(r, budget_bytes=0).of(col) is None
    models = VectorModels(r, budget_bytes=10 * 1024 * 1024)
    found = models.of(col)
    try:
        assert found is not None and models.of(col) is found
        assert found.wait_for(1, WAIT)
        (figures,) = models.figures()
        assert (figures.name, figures.vectors, figures.checkpoint) == (col.name, 6, 1)
        assert figures.nbytes > 0 and figures.load_seconds is not None
    finally:
        if found is not None:
            found.stop()


def test_past_the_full_scan_threshold_a_graph_is_built_and_kept_current(r, name) -> None:
    config = collections.validate_create(
        {"vectors": {"size": 8, "distance": "Cosine"}, "hnsw_config": {"full_scan_threshold": 1}}
    )
    col = collections.create(r, name, config)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(1000, 8)).astype(np.float32)
    write(
        r,
        col,
        events.add_upsert,
        {"points": [{"id": i, "vector": v.tolist()} for i, v in enumerate(vectors)]},
    )
    apply_batch(r, col, max_events=64)
    model = CollectionVectors(r, col)
    model.start()
    try:
        assert model.wait_for(1, WAIT) and model.wait_indexed(60)
        assert model.using_graph("") is True and model.indexed == 1000
        write(r, col, events.add_delete, {"points": [0]})
        checkpoint = apply_batch(r, col, max_events=64)
        assert model.wait_for(checkpoint, WAIT)
        rows = model.graphs[""].search(model.tables[""].vector(to_key(1)), 1000, 2000)
        assert rows is not None and model.tables[""].rows[to_key(1)] in rows.tolist()
        assert len(rows) == 999  # the deleted point is not found
    finally:
        model.stop()
