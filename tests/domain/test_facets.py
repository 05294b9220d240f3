"""Facets: the points per value of an indexed payload key, counted as Qdrant counts them
(qdrant-client's local mode is the reference), with and without a filter, on both stores."""

from __future__ import annotations

import random
import uuid

import pytest
from qdrant_client import QdrantClient, models

from projections import events
from projections.errors import WrongInput
from projections.facets import facet, top
from projections.filters import compile_filter
from tests.domain.writes import load, settle, write

INDEXES = {"tags": "keyword", "n": "integer", "ok": "bool", "u": "uuid"}
UUIDS = [str(uuid.UUID(int=random.Random(i).getrandbits(128))) for i in range(3)]
FILTERS = {
    "none": None,
    "keyword match (an exact plan)": {"must": [{"key": "tags", "match": {"value": "red"}}]},
    "range on an unindexed key (a scan)": {"must": [{"key": "x", "range": {"gte": 0.5}}]},
    "has_id": {"must": [{"has_id": list(range(0, 60, 3))}]},
    "must_not": {"must_not": [{"key": "ok", "match": {"value": True}}]},
}


def payloads(n: int) -> list[dict]:
    rng = random.Random(3)
    colours = ["red", "green", "blue", "grey", "ochre"]
    found = []
    for _ in range(n):
        payload: dict = {"x": rng.random()}
        if rng.random() < 0.9:  # some points lack each key
            # a repeated value counts once for its point
            payload["tags"] = rng.choice([rng.choice(colours), rng.choices(colours, k=3)])
        if rng.random() < 0.9:
            payload["n"] = rng.choice([rng.randint(0, 4), [rng.randint(0, 4), rng.randint(0, 4)]])
        if rng.random() < 0.9:
            payload["ok"] = rng.random() < 0.4
        if rng.random() < 0.9:
            payload["u"] = rng.choice(UUIDS)
        found.append(payload)
    return found


@pytest.fixture(scope="module")
def local() -> QdrantClient:
    """Local mode holding the same points."""
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config={})
    client.upsert(
        "c", [models.PointStruct(id=i, vector={}, payload=p) for i, p in enumerate(payloads(60))]
    )
    return client


def expected(local: QdrantClient, key: str, raw: dict | None, limit: int) -> list[tuple]:
    flt = None if raw is None else models.Filter.model_validate(raw)
    hits = local.facet("c", key, facet_filter=flt, limit=limit).hits
    return [(hit.value, hit.count) for hit in hits]


@pytest.mark.parametrize("raw", FILTERS.values(), ids=FILTERS.keys())
def test_counts_per_value_as_local_mode_counts_them(r, col, local, raw) -> None:
    reader = load(r, col, INDEXES, payloads(60))
    for key in INDEXES:
        flt = None if raw is None else compile_filter(raw)
        for limit in (2, 100):
            assert facet(reader, key, flt, limit) == expected(local, key, raw, limit), key


def test_counts_follow_deletes_and_payload_changes(r, col) -> None:
    reader = load(r, col, {"k": "keyword"}, [{"k": "a"}, {"k": ["a", "b"]}, {"k": "b"}])
    write(r, col, events.add_delete, {"points": [0]})
    write(r, col, events.add_set_payload, {"payload": {"k": "c"}, "points": [2]})
    settle(r, col)
    assert facet(reader, "k", None, 10) == [("a", 1), ("b", 1), ("c", 1)]


def test_equal_counts_order_by_value_ascending() -> None:
    assert top({"b": 2, "a": 2, "c": 5, "d": 0}, 10) == [("c", 5), ("a", 2), ("b", 2)]
    assert top({3: 1, -1: 1, 2: 4}, 2) == [(2, 4), (-1, 1)]
    assert top({True: 3, False: 3}, 10) == [(False, 3), (True, 3)]


def test_only_values_of_the_index_type_count(r, col) -> None:
    mixed = [{"n": 1}, {"n": True}, {"n": 1.5}, {"n": "1"}, {"n": [1, 1, 2]}, {"s": 5}]
    reader = load(r, col, {"n": "integer", "s": "keyword"}, mixed)
    assert facet(reader, "n", None, 10) == [(1, 2), (2, 1)]
    assert facet(reader, "s", None, 10) == []


def test_a_uuid_index_answers_canonical_uuids(r, col) -> None:
    u = uuid.UUID(UUIDS[0])
    reader = load(r, col, {"u": "uuid"}, [{"u": str(u).upper()}, {"u": u.hex}, {"u": "no"}])
    assert facet(reader, "u", None, 10) == [(str(u), 2)]


def test_an_index_without_this_layouts_data_counts_from_payloads(r, col) -> None:
    reader = load(r, col, {"k": "keyword"}, [{"k": "a"}, {"k": ["a", "b"]}, {"k": "b"}, {}])
    r.srem(col.keys.indexed, "k")  # as an older layout left it: a definition, no term sets
    assert facet(reader, "k", None, 10) == [("a", 2), ("b", 2)]
    flt = compile_filter({"must": [{"has_id": [1, 2]}]})
    assert facet(reader, "k", flt, 10) == [("b", 2), ("a", 1)]


@pytest.mark.parametrize(
    "schema",
    [None, "text", "float", {"type": "integer", "lookup": False, "range": True}],
    ids=["no index", "text", "float", "integer without lookup"],
)
def test_a_key_without_a_map_index_is_refused_as_qdrant_does(r, col, schema) -> None:
    reader = load(r, col, {} if schema is None else {"k": schema}, [{"k": 1}])
    with pytest.raises(WrongInput) as refused:
        facet(reader, "k", None, 10)
    assert refused.value.message == (
        "Wrong input: No appropriate index for faceting: `k`. Please create one to facet on "
        "this field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index "
        "to see which payload schemas support Match conditions"
    )
