"""Through HTTP, with real workers: a collection with payload indexes answers every filter
(scroll, count, delete and set payload by filter) exactly as the same collection without
them, whether its indexes came before the points or after them, and after one is dropped."""

from __future__ import annotations

import random
import uuid

import pytest

from projections import collections
from projections.filters import compile_filter

CITIES = ["Berlin", "London", "Paris", "Madrid"]
WORDS = ["red", "green", "blue", "sky", "sea"]
U = [uuid.UUID(int=n * 7919 + 2**120) for n in range(3)]
BEFORE = {"city": "keyword", "price": "float"}  # created before the points
AFTER = {
    "n": "integer",
    "tags": "keyword",
    "flag": "bool",
    "u": "uuid",
    "t": "datetime",
    "loc": "geo",
    "txt": "text",
}


def eq(key: str, value: object) -> dict:
    return {"key": key, "match": {"value": value}}


def within(key: str, **bounds: object) -> dict:
    return {"key": key, "range": bounds}


BERLIN = {"center": {"lon": 13.4, "lat": 52.5}, "radius": 50000}
FILTERS = [
    {"must": [eq("city", "Berlin")]},
    {"must": [{"key": "city", "match": {"any": ["Paris", "Rome"]}}]},
    {"must": [within("price", lt=10)]},
    {"must": [within("price", gte=20.5, lte=60), eq("flag", True)]},
    {"must": [within("n", gt=3)], "must_not": [eq("tags", "red")]},
    {"must": [{"key": "n", "match": {"any": [1, 2]}}]},
    {"should": [eq("tags", "sea"), eq("city", "London")]},
    {"must": [eq("u", str(U[1]).upper())]},
    {"must": [eq("u", str(U[2]))]},
    {"must": [within("t", gte="2024-01-03T00:00:00Z")]},
    {"must": [{"key": "loc", "geo_radius": BERLIN}]},
    {"must": [{"has_id": [1, 5, 9, 300]}, eq("city", "Paris")]},
    {"min_should": {"conditions": [eq("flag", False), within("n", lt=2)], "min_count": 2}},
]
# A text index gives text matches their meaning (tokens, not substrings): these are checked
# against the filter itself, bound to the index, on every payload.
TEXT_FILTERS = [
    {"must": [{"key": "txt", "match": {"text": "blue sky"}}]},
    {"must": [{"key": "txt", "match": {"phrase": "sky blue"}}, within("price", gt=50)]},
    {"should": [{"key": "txt", "match": {"text_any": "sea red"}}, eq("city", "Paris")]},
]


def points(n: int) -> list[dict]:
    rng = random.Random(7)
    found = []
    for i in range(n):
        payload = {
            "city": rng.choice(CITIES),
            "price": round(rng.random() * 100, 2),
            "n": rng.choice([0, 1, 2, 3, 4, 5, 2.5, [1, 7]]),
            "tags": rng.sample(WORDS, 2),
            "flag": rng.random() < 0.5,
            "u": rng.choice([str(U[0]), str(U[1]).upper(), U[2].hex]),
            "t": f"2024-01-0{rng.randint(1, 5)}T12:00:00Z",
            "loc": {"lon": 13.4 + rng.uniform(-1, 1), "lat": 52.5 + rng.uniform(-1, 1)},
            "txt": " ".join(rng.sample(WORDS, 3)),
        }
        found.append({"id": i, "vector": [1, 2, 3, i], "payload": payload})
    return found


def put(client, path: str, body: dict) -> None:
    response = client.simulate_put(path, params={"wait": "true"}, json=body)
    assert response.json["result"]["status"] == "completed", response.json


def post(client, path: str, body: dict) -> dict:
    response = client.simulate_post(path, params={"wait": "true"}, json=body)
    assert response.status_code == 200, response.json
    return response.json["result"]


def create_indexes(client, name: str, schemas: dict) -> None:
    for field, schema in schemas.items():
        put(client, f"/collections/{name}/index", {"field_name": field, "field_schema": schema})


def answers(client, name: str, flt: dict) -> tuple[list, int, list]:
    """Every page of a filtered scroll (payloads included), the count, and the nearest
    points that pass the filter."""
    pages, offset = [], None
    while True:
        body = {
            "filter": flt,
            "limit": 7,
            "with_payload": True,
            **({"offset": offset} if offset is not None else {}),
        }
        page = post(client, f"/collections/{name}/points/scroll", body)
        pages.append(page["points"])
        offset = page["next_page_offset"]
        if offset is None:
            break
    total = post(client, f"/collections/{name}/points/count", {"filter": flt})["count"]
    query = {"query": [1, 0, 0, -1], "filter": flt, "limit": 5}
    nearest = post(client, f"/collections/{name}/points/query", query)["points"]
    return pages, total, [(p["id"], p["score"]) for p in nearest]


def everything(client, name: str) -> list:
    return post(client, f"/collections/{name}/points/scroll", {"limit": 1000})["points"]


@pytest.fixture
def pair(client, collection: str):
    """The collection with indexes (some made before the points, the rest after), and a twin
    without any, holding the same points."""
    plain = f"{collection}-plain"
    assert (
        client.simulate_put(
            f"/collections/{plain}", json={"vectors": {"size": 4, "distance": "Dot"}}
        ).status_code
        == 200
    )
    create_indexes(client, collection, BEFORE)
    for name in (collection, plain):
        put(client, f"/collections/{name}/points", {"points": points(120)})
    create_indexes(client, collection, AFTER)
    yield collection, plain
    client.simulate_delete(f"/collections/{plain}")


def test_indexed_and_plain_collections_answer_every_filter_alike(client, pair):
    indexed, plain = pair
    schema = client.simulate_get(f"/collections/{indexed}").json["result"]["payload_schema"]
    floats = sum(isinstance(p["payload"]["n"], float) for p in points(120))  # not integers
    assert {f: s["points"] for f, s in schema.items()} == {
        **dict.fromkeys({**BEFORE, **AFTER}, 120),
        "n": 120 - floats,
    }
    for flt in FILTERS:
        pages, total, nearest = answers(client, indexed, flt)
        assert (pages, total, nearest) == answers(client, plain, flt), flt
        assert total == sum(len(page) for page in pages)
        assert len(nearest) == min(total, 5)
    assert answers(client, indexed, FILTERS[0])[1] > 0
    stored = everything(client, plain)
    for flt in TEXT_FILTERS:
        check = compile_filter(flt, {"txt": {}})
        expected = [p["id"] for p in stored if check.matches(p["id"], p["payload"], ())]
        pages, total, _ = answers(client, indexed, flt)
        assert [p["id"] for page in pages for p in page] == expected and total == len(expected)


def test_writes_by_filter_change_the_same_points_with_or_without_indexes(client, pair):
    """Also: what the web process keeps of a filter's plan (its candidates for the next page,
    the rows a query scores) is not used once the writes changed the points."""
    indexed, plain = pair
    asked = [*FILTERS, {"must": [{"key": "city", "match": {"value": "Rome"}}]}]
    for flt in asked:
        assert answers(client, indexed, flt) == answers(client, plain, flt), flt
    for name in pair:
        post(
            client,
            f"/collections/{name}/points/payload",
            {"payload": {"hit": 1}, "filter": FILTERS[0]},
        )
        post(
            client,
            f"/collections/{name}/points/payload",
            {"payload": {"city": "Rome"}, "filter": FILTERS[6]},
        )
        post(client, f"/collections/{name}/points/delete", {"filter": FILTERS[2]})
        post(
            client,
            f"/collections/{name}/points/payload/delete",
            {"keys": ["price"], "filter": FILTERS[10]},
        )
    assert everything(client, indexed) == everything(client, plain)
    for flt in asked:
        assert answers(client, indexed, flt) == answers(client, plain, flt), flt


def test_after_an_index_is_dropped_its_filters_scan(client, store, pair):
    indexed, plain = pair
    for field in ("city", "loc"):
        response = client.simulate_delete(
            f"/collections/{indexed}/index/{field}", params={"wait": "true"}
        )
        assert response.status_code == 200
    for flt in FILTERS:
        assert answers(client, indexed, flt) == answers(client, plain, flt), flt
    info = client.simulate_get(f"/collections/{indexed}").json["result"]
    assert set(info["payload_schema"]) == {*BEFORE, *AFTER} - {"city", "loc"}
    keys = collections.load(store, indexed).keys
    assert store.keys(f"pl:{{{keys.cid}}}:term:city:*") == []
    assert not store.exists(keys.terms("city"), keys.geo("loc"), keys.geo_outside("loc"))
