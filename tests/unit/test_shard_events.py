"""A write to a collection of several shards, split into one event per shard: points go to
the shard their id hashes to, with their own bytes; what a filter selects, or what changes
the collection, goes to every shard."""

from __future__ import annotations

import orjson

from projections import collections, events, ids
from projections.collections import Collection
from projections.events import Event
from projections.shard_events import split
from projections.shard_placement import shard_of

SHARDS = 3
CONFIG = collections.validate_create({"vectors": {"size": 2, "distance": "Dot"}})
COLLECTION = Collection("c", 1, CONFIG, collections.vector_specs(CONFIG))
POINTS = [{"id": i, "vector": [float(i), 1.0], "payload": {"n": i}} for i in range(30)]


def built(add: events.Builder, body: object) -> Event:
    event = Event()
    add(event, COLLECTION, body)
    return event


def test_every_point_lands_once_on_its_shard_with_its_own_bytes() -> None:
    event = built(events.add_upsert, {"points": POINTS})
    parts = split(event, SHARDS)
    assert sorted(parts) == [0, 1, 2], "30 points hashed to fewer than 3 shards"
    seen = []
    for shard, part in parts.items():
        (op,) = part.event.ops
        assert part.origins == [0]
        for described in part.event.describe(COLLECTION)[0]["points"]:
            assert shard_of(ids.to_key(described["id"]), SHARDS) == shard
            assert described["payload"] == {"n": described["id"]}
            assert described["vector"][""].tolist() == [float(described["id"]), 1.0]
            seen.append(described["id"])
        # the shard's event holds its own points' bytes only
        assert part.event.size < event.size
        assert orjson.loads(part.event.encode()["h"])["ops"] == [op]
    assert sorted(seen) == list(range(30))


def test_shard_numbers_are_stable_and_spread() -> None:
    keys = [ids.to_key(i) for i in range(3000)]
    counts = [sum(shard_of(key, SHARDS) == n for key in keys) for n in range(SHARDS)]
    assert all(900 <= count <= 1100 for count in counts), counts
    assert [shard_of(key, SHARDS) for key in keys[:50]] == [
        shard_of(key, SHARDS) for key in keys[:50]
    ]
    assert {shard_of(key, 1) for key in keys} == {0}


def test_a_filter_or_a_change_of_the_collection_goes_to_every_shard() -> None:
    event = Event()
    events.add_delete(
        event, COLLECTION, {"filter": {"must": [{"key": "n", "match": {"value": 1}}]}}
    )
    events.add_create_index(event, COLLECTION, {"field_name": "n", "field_schema": "integer"})
    parts = split(event, SHARDS)
    assert sorted(parts) == [0, 1, 2]
    for part in parts.values():
        assert [op["type"] for op in part.event.ops] == ["delete", "create_index"]
        assert part.origins == [0, 1]
        assert part.event.ops == event.ops


def test_ids_with_a_filter_go_everywhere_each_shard_with_its_own_ids() -> None:
    body = {"points": list(range(12)), "filter": {"must": []}, "vector": [""]}
    parts = split(built(events.add_delete_vectors, body), SHARDS)
    assert sorted(parts) == [0, 1, 2]
    named = [key for part in parts.values() for key in part.event.ops[0]["ids"]]
    assert sorted(named) == sorted(ids.to_key(i) for i in range(12))
    for shard, part in parts.items():
        assert all(shard_of(key, SHARDS) == shard for key in part.event.ops[0]["ids"])


def test_a_batch_keeps_each_operation_in_order_with_where_it_came_from() -> None:
    body = {
        "operations": [
            {"upsert": {"points": POINTS[:6]}},
            {"delete": {"points": [0]}},
            {"set_payload": {"payload": {"x": 1}, "points": [1, 2, 3, 4, 5]}},
        ]
    }
    parts = split(built(events.add_batch, body), SHARDS)
    owner = shard_of(ids.to_key(0), SHARDS)
    assert 1 in parts[owner].origins
    for shard, part in parts.items():
        assert part.origins == sorted(part.origins)
        if shard != owner:
            assert 1 not in part.origins, "the delete of point 0 went to another shard"
    assert sum(len(p.origins) for p in parts.values()) >= 3
