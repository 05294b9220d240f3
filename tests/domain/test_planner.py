"""The planner's rules one by one, and index builds: each case where an index could lose a
match (or the worker could read every payload) pinned down once, on both stores."""

from __future__ import annotations

import uuid

import orjson
import pytest
import redis

from projections import collections, events, ids, index_data
from projections.apply import apply_batch
from projections.collections import Collection
from projections.filters import compile_filter
from projections.indexes import Index, text_indexes
from projections.planner import plan
from projections.reads import Projection, Reader, count, scroll
from projections.staging import Staging
from tests.domain.writes import load, settle, write

U = uuid.UUID("6f8a2b1c-3d4e-4f5a-9b6c-7d8e9fa0b1c2")


def found(reader: Reader, raw: dict) -> list:
    page, _ = scroll(reader, None, 100, compile_filter(raw), Projection(None, ()))
    return [p["id"] for p in page]


def planned(r: redis.Redis, col: Collection, raw: dict):
    stored = r.hgetall(col.keys.indexes)
    definitions = {f.decode(): Index(f.decode(), orjson.loads(s)) for f, s in stored.items()}
    return plan(r, col.keys, definitions, compile_filter(raw, text_indexes(definitions.values())))


def test_a_uuid_index_finds_the_queried_spelling_among_all_spellings(r, col):
    spellings = [str(U), str(U).upper(), U.hex, "{" + str(U) + "}", f"urn:uuid:{U}"]
    reader = load(r, col, {"u": "uuid"}, [{"u": s} for s in spellings])
    for i, spelling in enumerate(spellings):
        raw = {"must": [{"key": "u", "match": {"value": spelling}}]}
        assert found(reader, raw) == [i]  # an equal string, as a scan matches
        assert planned(r, col, raw).candidates() == [ids.to_key(n) for n in range(5)]
    assert planned(r, col, {"must": [{"key": "u", "match": {"value": "no uuid"}}]}) is None


def test_an_integer_index_serves_ranges_over_its_floats_too(r, col):
    reader = load(r, col, {"n": "integer"}, [{"n": 2.5}, {"n": 3}, {"n": [1, 2.0]}, {"n": True}])
    raw = {"must": [{"key": "n", "range": {"gte": 2}}]}
    assert planned(r, col, raw) is not None
    assert found(reader, raw) == [0, 1, 2]
    lookup_only = {"must": [{"key": "m", "range": {"gte": 2}}]}
    load(r, col, {"m": {"type": "integer", "range": False}}, [])
    assert planned(r, col, lookup_only) is None


def test_datetimes_that_share_an_f64_score_are_told_apart_by_the_check(r, col):
    # Beyond 2**53 microseconds (after 2255) neighbouring instants share a score.
    dates = ["2300-01-01T00:00:00Z", "2300-01-01T00:00:00.000001Z", "2024-01-01T00:00:00Z"]
    reader = load(r, col, {"t": "datetime"}, [{"t": d} for d in dates])
    assert found(reader, {"must": [{"key": "t", "range": {"gt": dates[0]}}]}) == [1]
    assert found(reader, {"must": [{"key": "t", "range": {"lte": dates[0]}}]}) == [0, 2]
    assert planned(r, col, {"must": [{"key": "t", "range": {"gt": 5}}]}) is None  # numbers


def test_locations_the_geo_set_cannot_hold_are_always_candidates(r, col):
    places = [(200.0, 0.0), (-160.0, 0.5), (0.0, 89.9), (10.0, 10.0)]
    reader = load(r, col, {"loc": "geo"}, [{"loc": {"lon": x, "lat": y}} for x, y in places])
    raw = {
        "must": [
            {"key": "loc", "geo_radius": {"center": {"lon": -160, "lat": 0}, "radius": 100_000}}
        ]
    }
    assert planned(r, col, raw) is not None
    assert found(reader, raw) == [0, 1]  # lon 200 is lon -160 to the haversine
    polar = {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 89}, "radius": 1}}]}
    assert planned(r, col, polar) is None  # no safe search near a pole: scanned


def test_phrases_and_text_any_on_a_text_index(r, col):
    texts = ["the blue sky", "sky blue", "Blue whale", "grey sky"]
    reader = load(r, col, {"txt": "text"}, [{"txt": t} for t in texts])
    phrase = {"must": [{"key": "txt", "match": {"phrase": "blue sky"}}]}
    assert planned(r, col, phrase) is not None
    assert found(reader, phrase) == [0]
    assert found(reader, {"must": [{"key": "txt", "match": {"text": "BLUE sky"}}]}) == [0, 1]
    assert found(reader, {"must": [{"key": "txt", "match": {"text_any": "whale grey"}}]}) == [2, 3]


def test_an_exact_plan_counts_from_the_index(r, col):
    reader = load(r, col, {"city": "keyword"}, [{"city": c} for c in ["a", "b", "a", ["a", "c"]]])
    raw = {"must": [{"key": "city", "match": {"value": "a"}}]}
    exact = planned(r, col, raw)
    assert exact.exact and exact.count() == 3 == count(reader, compile_filter(raw))
    either = planned(r, col, {"should": [{"key": "city", "match": {"any": ["b", "c"]}}]})
    assert either.exact and either.count() == 2
    assert not planned(r, col, {"must": [raw["must"][0], {"has_id": [0]}]}).exact


def test_a_must_intersects_its_term_sets_and_reads_the_smallest_part(r, col):
    payloads = [{"city": "a", "n": i % 2, "price": i} for i in range(10)]
    reader = load(r, col, {"city": "keyword", "n": "integer", "price": "float"}, payloads)
    raw = {
        "must": [
            {"key": "city", "match": {"value": "a"}},
            {"key": "n", "match": {"value": 1}},
            {"key": "price", "range": {"lt": 2}},
        ]
    }
    chosen = planned(r, col, raw)
    assert chosen.estimate == 2  # price < 2 beats the intersection (5 points)
    assert chosen.candidates() == [ids.to_key(0), ids.to_key(1)]
    assert found(reader, raw) == [1]


def test_a_plan_whose_index_changed_since_reads_no_candidates(r, col):
    load(r, col, {"city": "keyword"}, [{"city": "a"}])
    stale = planned(r, col, {"must": [{"key": "city", "match": {"value": "a"}}]})
    write(r, col, events.add_create_index, {"field_name": "city", "field_schema": "text"})
    settle(r, col)
    assert stale.candidates() is None and stale.count() is None


def test_an_index_without_the_data_this_layout_keeps_is_scanned(r, col):
    reader = load(r, col, {"city": "keyword"}, [{"city": "a"}, {"city": "b"}])
    r.srem(col.keys.indexed, "city")  # as an older layout left it: a definition, no term sets
    r.delete(col.keys.terms("city"), col.keys.term("city", '"a"'), col.keys.term("city", '"b"'))
    raw = {"must": [{"key": "city", "match": {"value": "a"}}]}
    assert planned(r, col, raw).candidates() is None
    assert found(reader, raw) == [0] and count(reader, compile_filter(raw)) == 1
    write(r, col, events.add_delete, {"filter": raw})
    settle(r, col)
    assert r.hlen(col.keys.payload) == 1


def test_filter_operations_with_a_plan_never_load_every_payload(r, col, monkeypatch):
    load(r, col, {"city": "keyword"}, [{"city": c} for c in ["a", "b", "a"]])

    def everything(self: Staging) -> None:
        raise AssertionError("loaded every payload")

    monkeypatch.setattr(Staging, "_load_all", everything)
    selector = {"filter": {"must": [{"key": "city", "match": {"value": "a"}}]}}
    write(r, col, events.add_set_payload, {"payload": {"hit": True}, **selector})
    write(r, col, events.add_delete, selector)
    settle(r, col)
    assert r.hlen(col.keys.payload) == 1
    assert {k.decode() for k in r.smembers(col.keys.terms("city"))} == {'"b"'}
    assert not r.exists(col.keys.term("city", '"a"'))


def test_an_index_over_existing_points_is_built_a_slice_per_commit(r, col, monkeypatch):
    monkeypatch.setattr(index_data, "BUILD_SLICE", 2)
    load(r, col, {}, [{"city": "a"}, {"city": "b"}, {"city": "a"}, {}, {"city": "c"}])
    write(r, col, events.add_create_index, {"field_name": "city", "field_schema": "keyword"})
    write(r, col, events.add_delete, {"points": [0]})  # waits for the build
    checkpoints = []
    while (checkpoint := apply_batch(r, col, max_events=64)) is not None:
        checkpoints.append(checkpoint)
        if r.hexists(col.keys.builds, "city"):
            assert not r.hexists(col.keys.indexes, "city")  # no reader sees half an index
    assert checkpoints == [1, 1, 3]  # two slices, then the last with the create and the delete
    assert int(r.hget(col.keys.index_points, "city")) == 3
    assert r.smembers(col.keys.term("city", '"a"')) == {ids.to_key(2).encode()}
    assert not r.exists(col.keys.builds)


def test_dropping_an_index_drops_its_data(r, col):
    load(r, col, {"city": "keyword", "loc": "geo"}, [{"city": "a", "loc": {"lon": 1, "lat": 1}}])
    for field in ("city", "loc"):
        write(r, col, lambda event, _, f: events.add_delete_index(event, f), field)
    settle(r, col)
    assert not [k for k in r.keys(f"pl:{{{col.cid}}}:*") if b"city" in k or b"loc" in k]


@pytest.fixture
def col(r: redis.Redis, name: str) -> Collection:
    config = collections.validate_create({"vectors": {"a": {"size": 2, "distance": "Dot"}}})
    return collections.create(r, name, config)
