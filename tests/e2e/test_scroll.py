"""Scroll pages as in Qdrant: id order, inclusive offsets, default limit, filters, order_by."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import U1, U2, V1, all_ids, dense, fails, has, named, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_scroll_pages_as_qdrant(client: QdrantClient, name: str) -> None:
    """Ints first then UUIDs by value; `offset` is an inclusive lower bound that need not exist;
    `next_page_offset` is the id after the page, null on the last page even when it is full."""
    dense(client, name)
    ids = [8, 1, U1, 3, 2, U2, 5]
    client.upsert(name, [point(i, V1, {"i": str(i)}) for i in ids])
    order = [1, 2, 3, 5, 8, U2, U1]
    assert all_ids(client, name) == order
    page, nxt = client.scroll(name, limit=2)
    assert ([r.id for r in page], nxt) == ([1, 2], 3)
    page, nxt = client.scroll(name, limit=2, offset=nxt)
    assert ([r.id for r in page], nxt) == ([3, 5], 8)
    page, nxt = client.scroll(name, limit=2, offset=4)
    assert ([r.id for r in page], nxt) == ([5, 8], U2)
    page, nxt = client.scroll(name, limit=2, offset=U2)
    assert ([r.id for r in page], nxt) == ([U2, U1], None)
    page, nxt = client.scroll(name, limit=7)
    assert ([r.id for r in page], nxt) == (order, None)
    page, nxt = client.scroll(name, limit=3, offset=9)
    assert ([r.id for r in page], nxt) == ([U2, U1], None)
    page, nxt = client.scroll(name, offset=U1.upper())
    assert ([r.id for r in page], nxt) == ([U1], None)
    assert page[0].payload == {"i": U1}


def test_scroll_default_limit_is_ten(client: QdrantClient, http: httpx.Client, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(i) for i in range(1, 13)])
    got = http.post(f"/collections/{name}/points/scroll", json={}).json()["result"]
    assert [p["id"] for p in got["points"]] == list(range(1, 11))
    assert got["next_page_offset"] == 11
    assert all(p == {"id": p["id"], "payload": {}} for p in got["points"])
    zero = http.post(f"/collections/{name}/points/scroll", json={"limit": 0})
    assert zero.status_code == 422


def test_scroll_with_filter_payload_and_vectors(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name,
        [point(i, {"image": V1, "text": [1, 0]}, {"n": i, "even": i % 2 == 0}) for i in range(10)],
    )
    flt = models.Filter(must=[has("even", True)], must_not=[models.HasIdCondition(has_id=[4])])
    page, nxt = client.scroll(name, flt, limit=2, with_payload=["n"], with_vectors=["text"])
    assert [(r.id, r.payload, r.vector) for r in page] == [
        (0, {"n": 0}, {"text": [1.0, 0.0]}),
        (2, {"n": 2}, {"text": [1.0, 0.0]}),
    ]
    assert nxt == 6
    page, nxt = client.scroll(name, flt, limit=2, offset=nxt, with_payload=False)
    assert ([(r.id, r.payload) for r in page], nxt) == ([(6, None), (8, None)], None)


def test_scroll_order_by(client: QdrantClient, name: str) -> None:
    """order_by: needs a range index; asc/desc; inclusive start_from; a point appears once
    per value; points without a numeric value are left out; next_page_offset is null."""
    dense(client, name)
    values = {1: 10, 2: 30, 3: 20, 4: [5, 40], 5: None, 6: "x", 7: 25}
    client.upsert(
        name,
        [
            point(i, V1, {} if v is None else {"price": v, "even": i % 2 == 0})
            for i, v in values.items()
        ],
    )
    index = client.create_payload_index(name, "price", models.PayloadSchemaType.INTEGER)
    assert index.status == models.UpdateStatus.COMPLETED

    def ordered(order_by: object, **kwargs: object) -> tuple[list, object]:
        page, nxt = client.scroll(name, order_by=order_by, limit=kwargs.pop("limit", 100), **kwargs)
        return [(r.id, r.order_value) for r in page], nxt

    asc = [(4, 5), (1, 10), (3, 20), (7, 25), (2, 30), (4, 40)]
    assert ordered("price") == (asc, None)
    assert ordered(models.OrderBy(key="price", direction=models.Direction.ASC)) == (asc, None)
    assert ordered(models.OrderBy(key="price", direction=models.Direction.DESC)) == (
        asc[::-1],
        None,
    )
    assert ordered("price", limit=2) == (asc[:2], None)
    assert ordered(models.OrderBy(key="price", start_from=20)) == (asc[2:], None)
    assert ordered(models.OrderBy(key="price", direction="desc", start_from=20)) == (
        [(3, 20), (1, 10), (4, 5)],
        None,
    )
    assert ordered(models.OrderBy(key="price", start_from=21.5)) == (asc[3:], None)
    even = models.Filter(must=[has("even", True)])
    assert ordered("price", scroll_filter=even) == ([(4, 5), (2, 30), (4, 40)], None)
    page = client.scroll(name, order_by="price", limit=1, with_payload=True)[0]
    assert (page[0].id, page[0].payload) == (4, {"price": [5, 40], "even": True})
    assert type(page[0].order_value) is int


def test_scroll_order_by_repeated_value_appears_once(client: QdrantClient, name: str) -> None:
    """Qdrant returns a point once per value of its array; a value repeated in the array is
    one value: Rust's numeric index keeps (value, point) pairs in a BTreeSet
    (lib/segment/src/index/field_index/numeric_index/mutable_numeric_index.rs), and local mode
    also returns the point once."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"n": [5, 5]}), point(2, V1, {"n": [3, 7, 3]})])
    client.create_payload_index(name, "n", models.PayloadSchemaType.INTEGER)
    page = client.scroll(name, order_by="n")[0]
    assert [(r.id, r.order_value) for r in page] == [(2, 3), (1, 5), (2, 7)]


def test_scroll_order_by_float_index(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(
        name, [point(1, V1, {"w": 2.5}), point(2, V1, {"w": -1.25}), point(3, V1, {"w": 2.0})]
    )
    client.create_payload_index(name, "w", models.PayloadSchemaType.FLOAT)
    page = client.scroll(name, order_by="w")[0]
    assert [(r.id, r.order_value) for r in page] == [(2, -1.25), (3, 2.0), (1, 2.5)]
    assert all(type(r.order_value) is float for r in page)


def test_scroll_order_by_errors(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"price": 1, "city": "Berlin"})])
    with fails(
        400,
        "Wrong input: No range index for `order_by` key: `price`. Please create one to use "
        "`order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index "
        "to see which payload schemas support Range conditions",
    ):
        client.scroll(name, order_by="price")
    client.create_payload_index(name, "city", models.PayloadSchemaType.KEYWORD)
    with fails(400, contains="No range index for `order_by` key: `city`"):
        client.scroll(name, order_by="city")
    client.create_payload_index(name, "price", models.PayloadSchemaType.INTEGER)
    with fails(400, contains="Wrong input: Cannot use an `offset` when using `order_by`"):
        client.scroll(name, order_by="price", offset=1)


def test_parallel_scrolls_over_slices_split_the_points_as_local_mode(
    client: QdrantClient, name: str
) -> None:
    """Qdrant 1.19's `slice` condition: each of `total` scrolls takes its own slice of the ids,
    the same slice as local mode, and together they read every point once."""
    ids = [*range(1, 41), U1, U2]

    def slices(target: QdrantClient) -> list[list]:
        dense(target, name)
        target.upsert(name, [point(i, V1, {"i": str(i)}) for i in ids])
        return [
            [r.id for r in target.scroll(name, scroll_filter=_slice(index), limit=100)[0]]
            for index in range(3)
        ]

    seen = slices(client)
    assert seen == slices(QdrantClient(":memory:"))
    assert sorted(str(i) for page in seen for i in page) == sorted(map(str, ids))


def _slice(index: int) -> models.Filter:
    condition = models.SliceCondition(slice=models.Slice(total=3, index=index))
    return models.Filter(must=[condition])
