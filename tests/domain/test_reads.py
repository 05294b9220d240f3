"""Read queries on the projection: by id, scroll pages, counts, one stored vector, and the
registry's overview."""

from __future__ import annotations

import numpy as np
import orjson
import redis

from projections import events, ids
from projections.apply import apply_batch
from projections.collections import Collection
from projections.figures import overview
from projections.filters import compile_filter
from projections.payloads import compile_selector
from projections.reads import Projection, Reader, count, retrieve, scroll, vectors_of
from tests.domain.writes import write

EVERYTHING = Projection(compile_selector(True), ("a",))


def load(r: redis.Redis, col: Collection, n: int) -> Reader:
    points = [{"id": i, "vector": {"a": [i, 1]}, "payload": {"i": i}} for i in range(1, n + 1)]
    write(r, col, events.add_upsert, {"points": points})
    apply_batch(r, col, max_events=10)
    return Reader(r, col, progress=None, wait_seconds=0)


def as_sent(record: dict) -> dict:
    """A record as a client receives it (payloads stay stored bytes until then)."""
    return orjson.loads(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY))


def key(point: int) -> str:
    return ids.to_key(point)


def test_retrieve_keeps_the_order_asked_skips_missing_and_repeats(r, col) -> None:
    reader = load(r, col, 3)
    found = retrieve(reader, [key(3), key(9), key(1), key(3)], EVERYTHING)
    assert [p["id"] for p in found] == [3, 1]
    assert as_sent(found[1]) == {"id": 1, "payload": {"i": 1}, "vector": {"a": [1.0, 1.0]}}


def test_scroll_pages_in_id_order_with_the_next_offset(r, col) -> None:
    reader = load(r, col, 5)
    page, next_key = scroll(reader, None, 2, None, EVERYTHING)
    assert [p["id"] for p in page] == [1, 2]
    page, next_key = scroll(reader, next_key, 2, None, EVERYTHING)
    assert [p["id"] for p in page] == [3, 4]
    page, next_key = scroll(reader, next_key, 2, None, EVERYTHING)
    assert ([p["id"] for p in page], next_key) == ([5], None)


def test_count_and_scroll_agree_on_a_filter(r, col) -> None:
    reader = load(r, col, 10)
    flt = compile_filter({"must": [{"key": "i", "range": {"gt": 3, "lte": 7}}]})
    page, _ = scroll(reader, None, 100, flt, EVERYTHING)
    assert [p["id"] for p in page] == [4, 5, 6, 7]
    assert count(reader, flt) == 4


def test_vector_of_one_point(r, col) -> None:
    reader = load(r, col, 2)
    (stored,) = vectors_of(reader, "a", [key(2)])
    assert np.frombuffer(stored, dtype=np.float32).tolist() == [2.0, 1.0]
    assert vectors_of(reader, "b", [key(2)]) == [None]


def test_overview_has_every_collection_with_its_figures(r, col) -> None:
    load(r, col, 4)
    write(r, col, events.add_delete, {"points": [1]})  # appended, not applied
    (found,) = [f for f in overview(r) if f.collection.name == col.name]
    assert (found.appended, found.applied, found.lag, found.points) == (2, 1, 1, 4)
    assert (found.ops_applied, found.batches) == (1, 1)
