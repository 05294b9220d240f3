"""Every points endpoint of the API document, driven through qdrant-client over REST (raw HTTP
where the client cannot send the request), against the Procfile's web process and two workers.

Each test asserts what a user of Qdrant would notice, as /work/shared/reference/POINTS-API.md
states it (section numbers in the docstrings)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

pytestmark = pytest.mark.e2e

U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
U2 = "0f0e0d0c-0b0a-4909-8807-060504030201"
V1 = [0.19, 0.81, 0.75, 0.11]
V2 = [0.36, 0.55, 0.47, 0.94]
V3 = [0.5, 0.25, 0.125, 1.0]


@pytest.fixture(scope="module")
def client(base_url: str) -> QdrantClient:
    return QdrantClient(url=base_url, prefer_grpc=False, timeout=60)


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as session:
        yield session


@pytest.fixture(autouse=True)
def drop_collections(client: QdrantClient, name: str) -> Iterator[None]:
    """Each test's collections (`name`, and `name-s` / `name-n` where a second one is needed)."""
    yield
    for collection in (name, f"{name}-s", f"{name}-n"):
        with contextlib.suppress(Exception):
            client.delete_collection(collection)


@contextlib.contextmanager
def fails(status: int, error: str | None = None, contains: str | None = None) -> Iterator[None]:
    """The block raises the client's UnexpectedResponse with this status and error text."""
    with pytest.raises(UnexpectedResponse) as caught:
        yield
    assert caught.value.status_code == status, caught.value.content
    text = json.loads(caught.value.content)["status"]["error"]
    if error is not None:
        assert text == error
    if contains is not None:
        assert contains in text, text


def error_text(response: httpx.Response) -> str:
    return response.json()["status"]["error"]


def dense(client: QdrantClient, name: str, size: int = 4, distance: str = "Dot") -> str:
    client.create_collection(name, vectors_config=models.VectorParams(size=size, distance=distance))
    return name


def named(client: QdrantClient, name: str) -> str:
    """`image` (4, Dot) and `text` (2, Cosine)."""
    client.create_collection(
        name,
        vectors_config={
            "image": models.VectorParams(size=4, distance=models.Distance.DOT),
            "text": models.VectorParams(size=2, distance=models.Distance.COSINE),
        },
    )
    return name


def point(pid: int | str, vector: object = V1, payload: dict | None = None) -> models.PointStruct:
    return models.PointStruct(id=pid, vector=vector, payload=payload)


def payloads(client: QdrantClient, name: str, ids: list) -> dict:
    return {r.id: r.payload for r in client.retrieve(name, ids, with_payload=True)}


def all_ids(client: QdrantClient, name: str) -> list:
    return [r.id for r in client.scroll(name, limit=1000, with_payload=False)[0]]


def has(key: str, value: object) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


# -- upsert (§8.8, §5, §6, §7.1) ------------------------------------------------------------------


def test_upsert_points_form_completes_with_consecutive_operation_ids(
    client: QdrantClient, name: str
) -> None:
    """§3.1: wait=true answers `completed`; operation ids grow by one per accepted update."""
    dense(client, name)
    first = client.upsert(name, [point(1, V1, {"city": "Berlin"})], wait=True)
    second = client.upsert(name, [point(2, V2, {"city": "London"})], wait=True)
    assert first.status == models.UpdateStatus.COMPLETED
    assert second.status == models.UpdateStatus.COMPLETED
    assert second.operation_id == first.operation_id + 1
    records = client.retrieve(name, [1, 2], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (1, {"city": "Berlin"}, V1),
        (2, {"city": "London"}, V2),
    ]


def test_upsert_batch_form_with_payloads_and_nulls(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """§8.8 batch form; a null payload is no payload (`{}`); ints stay ints (§7.1)."""
    dense(client, name)
    result = client.upsert(
        name,
        models.Batch(
            ids=[1, 2, U1],
            vectors=[V1, V2, V3],
            payloads=[{"i": 1, "f": 1.0, "nested": {"a": [1, None, "x"]}}, {}, {"n": None}],
        ),
        wait=True,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    records = client.retrieve(name, [1, 2, U1], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (1, {"i": 1, "f": 1.0, "nested": {"a": [1, None, "x"]}}, V1),
        (2, {}, V2),
        (U1, {"n": None}, V3),
    ]
    assert type(records[0].payload["i"]) is int
    assert type(records[0].payload["f"]) is float
    raw = http.put(
        f"/collections/{name}/points?wait=true",
        json={"batch": {"ids": [3, 4], "vectors": [V1, V2], "payloads": [None, {"b": 2}]}},
    )
    assert raw.json()["result"]["status"] == "completed"
    no_payloads = http.put(
        f"/collections/{name}/points?wait=true", json={"batch": {"ids": [5], "vectors": [V3]}}
    )
    assert no_payloads.json()["result"]["status"] == "completed"
    assert payloads(client, name, [3, 4, 5]) == {3: {}, 4: {"b": 2}, 5: {}}
    mismatch = http.put(
        f"/collections/{name}/points?wait=true", json={"batch": {"ids": [6, 7], "vectors": [V3]}}
    )
    assert mismatch.status_code == 422


def test_upsert_named_batch_form(client: QdrantClient, name: str) -> None:
    client.create_collection(
        name,
        vectors_config={"image": models.VectorParams(size=4, distance=models.Distance.DOT)},
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    client.upsert(
        name,
        models.Batch(
            ids=[1, 2],
            vectors={
                "image": [V1, V2],
                "words": [
                    models.SparseVector(indices=[7, 2], values=[0.5, 0.25]),
                    models.SparseVector(indices=[1], values=[1.0]),
                ],
            },
            payloads=[{"a": 1}, {"a": 2}],
        ),
    )
    records = client.retrieve(name, [1, 2], with_vectors=True)
    assert [(r.id, r.payload, r.vector) for r in records] == [
        (
            1,
            {"a": 1},
            {"image": V1, "words": models.SparseVector(indices=[2, 7], values=[0.25, 0.5])},
        ),
        (2, {"a": 2}, {"image": V2, "words": models.SparseVector(indices=[1], values=[1.0])}),
    ]


def test_upsert_replaces_the_whole_point(client: QdrantClient, name: str) -> None:
    """§8.8: vectors not given are gone, a missing payload clears it."""
    named(client, name)
    client.upsert(name, [point(1, {"image": V1, "text": [1.0, 0.0]}, {"a": 1, "b": 2})])
    client.upsert(name, [point(1, {"text": [0.0, 2.0]})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert record.payload == {}
    assert record.vector == {"text": [0.0, 1.0]}
    client.upsert(name, [point(1, {"image": V2}, {"c": 3})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert (record.payload, record.vector) == ({"c": 3}, {"image": V2})


def test_duplicate_ids_in_one_upsert_last_wins(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "first"}), point(1, V2, {"v": "last"})])
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert (record.payload, record.vector) == ({"v": "last"}, V2)


def test_named_sparse_and_multi_vectors(client: QdrantClient, name: str) -> None:
    """§6.1/§6.3: any subset of the configured names; output holds what the point has; sparse
    vectors come back sorted by index; a point without vectors shows `{}`."""
    client.create_collection(
        name,
        vectors_config={
            "image": models.VectorParams(size=4, distance=models.Distance.DOT),
            "colbert": models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(
                    comparator=models.MultiVectorComparator.MAX_SIM
                ),
            ),
        },
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    sparse_in = models.SparseVector(indices=[9, 3, 5], values=[0.5, 1.5, 2.0])
    sparse_out = models.SparseVector(indices=[3, 5, 9], values=[1.5, 2.0, 0.5])
    client.upsert(
        name,
        [
            point(1, {"image": V1, "colbert": [[1.0, 2.0], [3.0, 4.5]], "words": sparse_in}),
            point(2, {"image": V2}),
            point(3, {}),
            point(4, {"colbert": [[0.5, 0.25]]}),
        ],
    )
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2, 3, 4], with_vectors=True)}
    assert got == {
        1: {"image": V1, "colbert": [[1.0, 2.0], [3.0, 4.5]], "words": sparse_out},
        2: {"image": V2},
        3: {},
        4: {"colbert": [[0.5, 0.25]]},
    }
    only = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=["colbert"])}
    assert only == {1: {"colbert": [[1.0, 2.0], [3.0, 4.5]]}, 2: {}}
    words = client.retrieve(name, [1], with_vectors=["words", "image"])[0].vector
    assert words == {"image": V1, "words": sparse_out}
    with fails(400, contains="Vector dimension error: expected dim: 2, got 3"):
        client.upsert(name, [point(5, {"colbert": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]})])
    with fails(422, contains="all vectors must have the same dimension"):
        client.upsert(name, [point(5, {"colbert": [[1.0, 2.0], [1.0, 2.0, 3.0]]})])
    assert client.count(name).count == 4


def test_unnamed_multivector_and_unnamed_with_sparse(client: QdrantClient, name: str) -> None:
    """§6.3: one unnamed vector comes back bare; next to another vector it is keyed `""`."""
    client.create_collection(
        name,
        vectors_config=models.VectorParams(
            size=2,
            distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(
                comparator=models.MultiVectorComparator.MAX_SIM
            ),
        ),
    )
    client.upsert(name, [point(1, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == [
        [1.0, 2.0],
        [3.0, 4.0],
        [5.0, 6.0],
    ]
    other = f"{name}-s"
    client.create_collection(
        other,
        vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    words = models.SparseVector(indices=[1, 2], values=[0.5, 1.0])
    client.upsert(other, [point(1, {"": V1, "words": words}), point(2, V2)])
    got = {r.id: r.vector for r in client.retrieve(other, [1, 2], with_vectors=True)}
    assert got == {1: {"": V1, "words": words}, 2: V2}
    client.delete_collection(other)


def test_cosine_vectors_are_stored_normalised(client: QdrantClient, name: str) -> None:
    """§6.2: L2-normalised on write, returned normalised, as the shortest float32 repr."""
    dense(client, name, size=2, distance="Cosine")
    client.upsert(name, [point(1, [3, 4]), point(2, [0.0, 0.0])])
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: [0.6, 0.8], 2: [0.0, 0.0]}


def test_uuid_spellings_are_one_point_returned_lowercase(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """§5: hyphenated, simple, braced and urn spellings, any case, name one point; output is
    always lowercase hyphenated."""
    dense(client, name)
    upper = U1.upper()
    spellings = [upper, U1.replace("-", ""), "{" + U1 + "}", "urn:uuid:" + upper]
    for n, spelling in enumerate(spellings):
        client.upsert(name, [point(spelling, V1, {"n": n})])
    assert all_ids(client, name) == [U1]
    for spelling in spellings:
        (record,) = client.retrieve(name, [spelling])
        assert (record.id, record.payload) == (U1, {"n": 3})
    for spelling in (upper, U1.replace("-", "")):
        got = http.get(f"/collections/{name}/points/{spelling}")
        assert got.status_code == 200
        assert got.json()["result"]["id"] == U1
    client.delete(name, [upper.replace("-", "")])
    assert all_ids(client, name) == []


@pytest.mark.parametrize("bad", ["123", -1, 1.5, "not-a-uuid"])
def test_ids_that_are_not_u64_or_uuid_are_rejected(
    http: httpx.Client, client: QdrantClient, name: str, bad: object
) -> None:
    """§5: numeric strings, negatives, floats and other strings are 400."""
    dense(client, name)
    got = http.put(
        f"/collections/{name}/points?wait=true",
        json={"points": [{"id": bad, "vector": V1}]},
    )
    assert got.status_code == 400, got.text
    assert http.post(f"/collections/{name}/points/count", json={}).json()["result"] == {"count": 0}


# -- get one point (§8.9) -------------------------------------------------------------------------


def test_get_point(client: QdrantClient, http: httpx.Client, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1}, {"city": "Berlin"}), point(U1, {"text": [0, 5]})])
    for params in ({}, {"consistency": "majority"}, {"consistency": "all"}, {"consistency": 2}):
        got = http.get(f"/collections/{name}/points/1", params=params)
        assert got.status_code == 200, got.text
        assert got.json()["result"] == {
            "id": 1,
            "payload": {"city": "Berlin"},
            "vector": {"image": V1},
        }
    got = http.get(f"/collections/{name}/points/{U1}", params={"timeout": 5})
    assert got.json()["result"] == {"id": U1, "payload": {}, "vector": {"text": [0.0, 1.0]}}
    missing = http.get(f"/collections/{name}/points/7")
    assert missing.status_code == 404
    assert error_text(missing) == "Not found: Point with id 7 does not exists!"
    bad = http.get(f"/collections/{name}/points/abc")
    assert bad.status_code == 400
    assert error_text(bad) == 'Wrong input: Can not recognize "abc" as point id'


@pytest.mark.parametrize(
    "params",
    [{"consistency": 0}, {"consistency": "most"}, {"timeout": 0}, {"timeout": -1}],
    ids=["consistency=0", "consistency=most", "timeout=0", "timeout=-1"],
)
def test_bad_read_parameters_are_400(
    client: QdrantClient, http: httpx.Client, name: str, params: dict
) -> None:
    """§2.2: `consistency` 0 or an unknown word, and `timeout` 0 (NonZero deserialization) are
    400 on every read endpoint (unlike the collection endpoints' `timeout`, §2.3: 422)."""
    dense(client, name)
    client.upsert(name, [point(1)])
    base = f"/collections/{name}/points"
    responses = [
        http.get(f"{base}/1", params=params),
        http.post(base, params=params, json={"ids": [1]}),
        http.post(f"{base}/scroll", params=params, json={}),
        http.post(f"{base}/count", params=params, json={}),
    ]
    assert [r.status_code for r in responses] == [400] * 4, [r.text for r in responses]


# -- retrieve (§8.10, §9.1, §9.2) -----------------------------------------------------------------


def test_retrieve_order_missing_and_duplicates(client: QdrantClient, name: str) -> None:
    """Records in the order of `ids`, missing ids skipped, duplicates collapse to the first."""
    dense(client, name)
    client.upsert(name, [point(1), point(2), point(U1)])
    got = client.retrieve(name, [U1, 9, 2, 1, 2, U1.upper()], with_payload=False)
    assert [r.id for r in got] == [U1, 2, 1]
    assert client.retrieve(name, []) == []
    assert client.retrieve(name, [42]) == []


PAYLOAD = {
    "city": "Berlin",
    "price": 1.5,
    "country": {
        "name": "Germany",
        "cities": [{"name": "Berlin", "pop": 3.6}, {"name": "Munich", "pop": 1.5}],
    },
    "tags": [{"b": 1}, {"b": 2, "c": 3}],
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (True, PAYLOAD),
        (False, None),
        (["city", "country.name"], {"city": "Berlin", "country": {"name": "Germany"}}),
        (
            models.PayloadSelectorInclude(include=["country.cities[].name"]),
            {"country": {"cities": [{"name": "Berlin"}, {"name": "Munich"}]}},
        ),
        (models.PayloadSelectorInclude(include=["tags.b"]), {"tags": []}),
        (models.PayloadSelectorInclude(include=["missing"]), {}),
        ([], {}),
        (
            models.PayloadSelectorExclude(exclude=["country.cities"]),
            {
                "city": "Berlin",
                "price": 1.5,
                "country": {"name": "Germany"},
                "tags": PAYLOAD["tags"],
            },
        ),
        (
            models.PayloadSelectorExclude(exclude=["country.cities[].pop", "tags", "price"]),
            {
                "city": "Berlin",
                "country": {"name": "Germany", "cities": [{"name": "Berlin"}, {"name": "Munich"}]},
            },
        ),
    ],
)
def test_retrieve_with_payload_selectors(
    client: QdrantClient, name: str, selector: object, expected: dict | None
) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, PAYLOAD), point(2, V2)])
    got = client.retrieve(name, [1, 2], with_payload=selector)
    empty = None if expected is None else {}
    assert [(r.id, r.payload, r.vector) for r in got] == [(1, expected, None), (2, empty, None)]
    page = client.scroll(name, with_payload=selector)[0]
    assert [r.payload for r in page] == [expected, empty]


def test_retrieve_with_vectors(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1, "text": [0, 2]}, {"a": 1}), point(2, {"image": V2})]
    )
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=False)] == [None, None]
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)] == [
        {"image": V1, "text": [0.0, 1.0]},
        {"image": V2},
    ]
    assert [r.vector for r in client.retrieve(name, [1, 2], with_vectors=["text"])] == [
        {"text": [0.0, 1.0]},
        {},
    ]
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.retrieve(name, [1], with_vectors=["nope"])


def test_retrieve_without_with_payload_defaults_to_no_payload(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """§8.10: Rust's default for an omitted `with_payload` is false (client always sends it)."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"a": 1})])
    got = http.post(f"/collections/{name}/points", json={"ids": [1]})
    assert got.json()["result"] == [{"id": 1}]
    got = http.post(f"/collections/{name}/points", json={"ids": [1], "with_vectors": True})
    assert got.json()["result"] == [{"id": 1, "vector": V1}]
    for consistency in ("majority", "quorum", "all", "1"):
        got = http.post(
            f"/collections/{name}/points",
            params={"consistency": consistency, "timeout": 3},
            json={"ids": [1], "with_payload": True},
        )
        assert got.json()["result"] == [{"id": 1, "payload": {"a": 1}}]
    bad = http.post(
        f"/collections/{name}/points", params={"consistency": "most"}, json={"ids": [1]}
    )
    assert bad.status_code == 400


# -- delete (§8.11) -------------------------------------------------------------------------------


def test_delete_by_ids_ignores_missing_ones(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1), point(2), point(U1)])
    result = client.delete(name, models.PointIdsList(points=[1, 77, U1.upper()]))
    assert result.status == models.UpdateStatus.COMPLETED
    assert all_ids(client, name) == [2]


def test_delete_by_filter(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(
        name,
        [
            point(i, V1, {"city": city})
            for i, city in enumerate(["Berlin", "London", "Berlin", "Rome"])
        ],
    )
    client.delete(name, models.FilterSelector(filter=models.Filter(must=[has("city", "Berlin")])))
    assert all_ids(client, name) == [1, 3]
    client.delete(name, models.Filter(must=[has("city", "Paris")]))
    assert all_ids(client, name) == [1, 3]
    client.delete(name, models.Filter())
    assert all_ids(client, name) == []


# -- scroll (§8.19) -------------------------------------------------------------------------------


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
    """§8.19 order_by: needs a range index; asc/desc; inclusive start_from; a point appears once
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
    """§8.19 says a point appears once per value of its array; a value repeated in the array is
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


# -- payload (§8.12 - §8.15, §7.2) ----------------------------------------------------------------


def test_set_payload_merges_top_level_keys_and_null_deletes(
    client: QdrantClient, name: str
) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"a": {"x": 1}, "b": 1, "c": 2}), point(2, V1, {"c": 9})])
    result = client.set_payload(name, {"a": {"y": 1}, "b": None, "d": [1, None]}, [1, 2])
    assert result.status == models.UpdateStatus.COMPLETED
    assert payloads(client, name, [1, 2]) == {
        1: {"a": {"y": 1}, "c": 2, "d": [1, None]},
        2: {"c": 9, "a": {"y": 1}, "d": [1, None]},
    }


def test_set_payload_with_key_paths(client: QdrantClient, name: str) -> None:
    """§8.12 with `key`: merge at the path; missing objects are created, scalars replaced by `{}`,
    `[]` applies to every element, `[n]` only to an existing element."""
    dense(client, name)
    client.upsert(
        name,
        [
            point(1),
            point(2, V1, {"a": {"x": 1, "y": 2}, "s": "text", "arr": [{"k": 1}, {"k": 2}, 5]}),
        ],
    )
    client.set_payload(name, {"key": "xxx"}, [1], key="key")
    client.set_payload(name, {"key": "xxx"}, [1], key="key")
    client.set_payload(name, {"z": 1}, [1], key="key6.subkey7")
    assert payloads(client, name, [1])[1] == {"key": {"key": "xxx"}, "key6": {"subkey7": {"z": 1}}}
    client.set_payload(name, {"y": None, "z": 3}, [2], key="a")
    client.set_payload(name, {"t": 1}, [2], key="s")
    client.set_payload(name, {"m": True}, [2], key="arr[]")
    client.set_payload(name, {"first": 1}, [2], key="arr[0]")
    client.set_payload(name, {"far": 1}, [2], key="arr[7]")
    assert payloads(client, name, [2])[2] == {
        "a": {"x": 1, "z": 3},
        "s": {"t": 1},
        "arr": [{"k": 1, "m": True, "first": 1}, {"k": 2, "m": True}, {"m": True}],
    }


def test_set_payload_by_filter(client: QdrantClient, http: httpx.Client, name: str) -> None:
    dense(client, name)
    client.upsert(
        name, [point(i, V1, {"city": c}) for i, c in enumerate(["Berlin", "Rome", "Berlin"])]
    )
    client.set_payload(name, {"de": True}, models.Filter(must=[has("city", "Berlin")]))
    client.set_payload(name, {"fr": True}, models.Filter(must=[has("city", "Paris")]))
    client.set_payload(
        name, {"n": 1}, models.Filter(must_not=[has("city", "Berlin")]), key="info.more"
    )
    assert payloads(client, name, [0, 1, 2]) == {
        0: {"city": "Berlin", "de": True},
        1: {"city": "Rome", "info": {"more": {"n": 1}}},
        2: {"city": "Berlin", "de": True},
    }
    both = http.post(
        f"/collections/{name}/points/payload?wait=true",
        json={"payload": {"both": 1}, "points": [1], "filter": {"must": [{"has_id": [0]}]}},
    )
    assert both.status_code == 200, both.text
    assert [i for i, p in payloads(client, name, [0, 1, 2]).items() if "both" in p] == [1]


def test_overwrite_payload_replaces_everything_and_keeps_nulls(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    """§8.13: the payload becomes exactly the given object (nulls stored); `key` is ignored."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"a": 1, "b": 2}), point(2, V1, {"a": 1}), point(3)])
    result = client.overwrite_payload(name, {"c": None, "d": {"e": 1}}, [1])
    assert result.status == models.UpdateStatus.COMPLETED
    client.overwrite_payload(
        name, {"f": 1}, models.Filter(must=[models.HasIdCondition(has_id=[2])])
    )
    assert payloads(client, name, [1, 2, 3]) == {1: {"c": None, "d": {"e": 1}}, 2: {"f": 1}, 3: {}}
    is_null = models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="c"))])
    assert client.count(name, is_null).count == 1
    keyed = http.put(
        f"/collections/{name}/points/payload?wait=true",
        json={"payload": {"g": 1}, "points": [3], "key": "deep.er"},
    )
    assert keyed.status_code == 200, keyed.text
    assert payloads(client, name, [3]) == {3: {"g": 1}}


def test_delete_payload_nested_paths(client: QdrantClient, name: str) -> None:
    """§8.14: `b.c` inside an object, `arr[].x` in every element, `arr[0]` is a no-op,
    `arr[0].x` in one element, `arr[]` empties the array; absent keys are fine."""
    dense(client, name)
    original = {
        "a": 1,
        "b": {"c": 1, "d": 2},
        "arr": [{"x": 1, "y": 1}, {"x": 2, "y": 2}],
        "one": [{"x": 1, "y": 1}, {"x": 2, "y": 2}],
        "ints": [1, 2, 3],
        "wipe": [1, 2],
    }
    client.upsert(name, [point(1, V1, original), point(2, V1, original)])
    result = client.delete_payload(
        name, ["a", "b.c", "arr[].x", "ints[0]", "one[0].x", "wipe[]", "nope", "b.nope.deeper"], [1]
    )
    assert result.status == models.UpdateStatus.COMPLETED
    assert payloads(client, name, [1, 2]) == {
        1: {
            "b": {"d": 2},
            "arr": [{"y": 1}, {"y": 2}],
            "one": [{"y": 1}, {"x": 2, "y": 2}],
            "ints": [1, 2, 3],
            "wipe": [],
        },
        2: original,
    }
    client.delete_payload(name, ["b", "arr"], models.Filter(must=[has("a", 1)]))
    assert payloads(client, name, [2])[2] == {
        k: v for k, v in original.items() if k not in ("b", "arr")
    }


def test_clear_payload(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(i, V1, {"i": i, "odd": i % 2 == 1}) for i in range(5)])
    result = client.clear_payload(name, models.PointIdsList(points=[0]))
    assert result.status == models.UpdateStatus.COMPLETED
    client.clear_payload(name, models.FilterSelector(filter=models.Filter(must=[has("odd", True)])))
    assert payloads(client, name, list(range(5))) == {
        0: {},
        1: {},
        2: {"i": 2, "odd": False},
        3: {},
        4: {"i": 4, "odd": False},
    }
    client.clear_payload(name, models.Filter())
    assert payloads(client, name, list(range(5))) == {i: {} for i in range(5)}
    assert [r.vector for r in client.retrieve(name, [0], with_vectors=True)] == [V1]


# -- vectors (§8.16, §8.17) -----------------------------------------------------------------------


def test_update_vectors_keeps_other_vectors_and_payload(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1, "text": [1, 0]}, {"keep": 1}), point(2, {"image": V1})]
    )
    result = client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V2}),
            models.PointVectors(id=2, vector={"text": [0, 3]}),
        ],
    )
    assert result.status == models.UpdateStatus.COMPLETED
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {
        1: ({"keep": 1}, {"image": V2, "text": [1.0, 0.0]}),
        2: ({}, {"image": V1, "text": [0.0, 1.0]}),
    }
    client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V3, "text": [3, 4]}),
            models.PointVectors(id=1, vector={"text": [4, 3]}),
        ],
    )
    (record,) = client.retrieve(name, [1], with_vectors=True)
    assert record.vector == {"image": V3, "text": [0.8, 0.6]}


def test_update_vectors_with_update_filter(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name, [point(1, {"image": V1}, {"ok": True}), point(2, {"image": V1}, {"ok": False})]
    )
    client.update_vectors(
        name,
        [
            models.PointVectors(id=1, vector={"image": V2}),
            models.PointVectors(id=2, vector={"image": V2}),
        ],
        update_filter=models.Filter(must=[has("ok", True)]),
    )
    got = {r.id: r.vector for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: {"image": V2}, 2: {"image": V1}}


def test_delete_vectors(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(
        name,
        [point(i, {"image": V1, "text": [1, 1]}, {"i": i, "big": i > 1}) for i in range(4)],
    )
    result = client.delete_vectors(name, ["image"], [0])
    assert result.status == models.UpdateStatus.COMPLETED
    client.delete_vectors(name, ["image"], [0])
    client.delete_vectors(name, ["image", "text"], models.Filter(must=[has("big", True)]))
    got = {
        r.id: (r.payload, r.vector) for r in client.retrieve(name, [0, 1, 2, 3], with_vectors=True)
    }
    diagonal = [2**-0.5, 2**-0.5]
    assert {i: v for i, (_, v) in got.items()} == {
        0: {"text": pytest.approx(diagonal)},
        1: {"image": V1, "text": pytest.approx(diagonal)},
        2: {},
        3: {},
    }
    assert got[2][0] == {"i": 2, "big": True}
    with_image = models.Filter(must=[models.HasVectorCondition(has_vector="image")])
    assert client.count(name, with_image).count == 1
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.delete_vectors(name, ["nope"], [1])


# -- batch (§8.18) --------------------------------------------------------------------------------


def test_batch_update_mixed_operations(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(i, {"image": V1, "text": [1, 0]}, {"i": i}) for i in range(1, 4)])
    ops = [
        models.UpsertOperation(
            upsert=models.PointsList(points=[point(10, {"image": V2}, {"new": True})])
        ),
        models.UpsertOperation(
            upsert=models.PointsBatch(batch=models.Batch(ids=[11], vectors={"text": [[0, 2]]}))
        ),
        models.DeleteOperation(delete=models.PointIdsList(points=[1])),
        models.SetPayloadOperation(
            set_payload=models.SetPayload(payload={"s": 1}, points=[2, 10], key="x")
        ),
        models.OverwritePayloadOperation(
            overwrite_payload=models.SetPayload(payload={"o": 1}, points=[3])
        ),
        models.DeletePayloadOperation(
            delete_payload=models.DeletePayload(
                keys=["i"], filter=models.Filter(must=[has("i", 2)])
            )
        ),
        models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[11])),
        models.UpdateVectorsOperation(
            update_vectors=models.UpdateVectors(
                points=[models.PointVectors(id=10, vector={"text": [5, 0]})]
            )
        ),
        models.DeleteVectorsOperation(
            delete_vectors=models.DeleteVectors(points=[2], vector=["image"])
        ),
    ]
    results = client.batch_update_points(name, ops)
    assert len(results) == len(ops)
    assert all(r.status == models.UpdateStatus.COMPLETED for r in results)
    op_ids = [r.operation_id for r in results]
    assert op_ids == list(range(op_ids[0], op_ids[0] + len(ops)))
    got = {
        r.id: (r.payload, r.vector) for r in client.scroll(name, limit=100, with_vectors=True)[0]
    }
    assert got == {
        2: ({"x": {"s": 1}}, {"text": [1.0, 0.0]}),
        3: ({"o": 1}, {"image": V1, "text": [1.0, 0.0]}),
        10: ({"new": True, "x": {"s": 1}}, {"image": V2, "text": [1.0, 0.0]}),
        11: ({}, {"text": [0.0, 1.0]}),
    }


def test_batch_stops_at_the_first_failure_earlier_ops_stay(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1)])
    ops = [
        models.UpsertOperation(upsert=models.PointsList(points=[point(10, V1, {"a": 1})])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"b": 1}, points=[1])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"c": 1}, points=[99])),
        models.UpsertOperation(upsert=models.PointsList(points=[point(11)])),
        models.DeleteOperation(delete=models.PointIdsList(points=[1])),
    ]
    with fails(404, "Not found: No point with id 99 found"):
        client.batch_update_points(name, ops)
    assert all_ids(client, name) == [1, 10]
    assert payloads(client, name, [1, 10]) == {1: {"b": 1}, 10: {"a": 1}}


def test_empty_batch_answers_an_empty_list(http: httpx.Client, name: str) -> None:
    """§8.18: `{"operations": []}` is `200 []`, without even looking up the collection."""
    got = http.post(f"/collections/{name}/points/batch?wait=true", json={"operations": []})
    assert got.status_code == 200
    assert got.json()["result"] == []


# -- count (§8.20) --------------------------------------------------------------------------------


def test_count_with_filters(client: QdrantClient, http: httpx.Client, name: str) -> None:
    dense(client, name)
    client.upsert(
        name,
        [
            point(1, V1, {"city": "Berlin", "price": 10, "tags": ["a", "b"]}),
            point(2, V1, {"city": "London", "price": 2.5, "tags": []}),
            point(3, V1, {"city": "Berlin", "price": None}),
            point(U1, V1, {"city": "Rome", "price": 7, "tags": ["b"]}),
            point(5, V1),
        ],
    )
    cases = [
        (None, 5),
        (models.Filter(), 5),
        (models.Filter(must=[has("city", "Berlin")]), 2),
        (models.Filter(should=[has("city", "Rome"), has("city", "London")]), 2),
        (models.Filter(must_not=[has("city", "Berlin")]), 3),
        (
            models.Filter(
                must=[models.FieldCondition(key="price", range=models.Range(gte=2.5, lt=10))]
            ),
            2,
        ),
        (
            models.Filter(
                must=[models.FieldCondition(key="tags", match=models.MatchAny(any=["b"]))]
            ),
            2,
        ),
        (
            models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))]),
            3,
        ),
        (models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="price"))]), 1),
        (models.Filter(must=[models.HasIdCondition(has_id=[U1.upper(), 1, 42])]), 2),
        (
            models.Filter(
                min_should=models.MinShould(
                    conditions=[has("city", "Berlin"), has("tags", "b"), has("price", 10)],
                    min_count=2,
                )
            ),
            1,
        ),
    ]
    for flt, expected in cases:
        assert client.count(name, flt, exact=True).count == expected, flt
        assert client.count(name, flt, exact=False).count == expected, flt
    got = http.post(
        f"/collections/{name}/points/count", json={"filter": {"must": [{"has_id": [1]}]}}
    )
    assert got.json()["result"] == {"count": 1}


# -- conditional upserts (§8.8) -------------------------------------------------------------------


def test_upsert_insert_only(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "old"})])
    result = client.upsert(
        name,
        [point(1, V2, {"v": "new"}), point(2, V2, {"v": "new"})],
        update_mode=models.UpdateMode.INSERT_ONLY,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: ({"v": "old"}, V1), 2: ({"v": "new"}, V2)}


def test_upsert_update_only(client: QdrantClient, name: str) -> None:
    dense(client, name)
    client.upsert(name, [point(1, V1, {"v": "old"})])
    client.upsert(
        name,
        [point(1, V2, {"v": "new"}), point(2, V2, {"v": "new"})],
        update_mode=models.UpdateMode.UPDATE_ONLY,
    )
    got = {r.id: (r.payload, r.vector) for r in client.retrieve(name, [1, 2], with_vectors=True)}
    assert got == {1: ({"v": "new"}, V2)}


def test_upsert_with_update_filter(client: QdrantClient, http: httpx.Client, name: str) -> None:
    """Existing points are only overwritten when they match; new points are always inserted."""
    dense(client, name)
    client.upsert(name, [point(1, V1, {"version": 1}), point(2, V1, {"version": 5})])
    only_old = models.Filter(must=[models.FieldCondition(key="version", range=models.Range(lt=3))])
    client.upsert(
        name,
        [point(i, V2, {"version": 3}) for i in (1, 2, 3)],
        update_filter=only_old,
    )
    assert payloads(client, name, [1, 2, 3]) == {
        1: {"version": 3},
        2: {"version": 5},
        3: {"version": 3},
    }
    raw = http.put(
        f"/collections/{name}/points?wait=true",
        json={
            "points": [{"id": 2, "vector": V3, "payload": {"version": 6}}],
            "update_filter": {"must": [{"key": "version", "match": {"value": 5}}]},
            "update_mode": "update_only",
        },
    )
    assert raw.json()["result"]["status"] == "completed"
    assert payloads(client, name, [2]) == {2: {"version": 6}}


# -- payload indexes (§8.3, §8.6, §8.7) -----------------------------------------------------------


def test_payload_index_shows_in_collection_info(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    dense(client, name)
    client.upsert(name, [point(i, V1, {"city": c, "n": i}) for i, c in enumerate(["a", "b", "c"])])
    assert client.get_collection(name).payload_schema == {}
    result = client.create_payload_index(name, "city", models.PayloadSchemaType.KEYWORD)
    assert result.status == models.UpdateStatus.COMPLETED
    client.create_payload_index(
        name,
        "n",
        models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=True, range=True),
    )
    schema = client.get_collection(name).payload_schema
    assert set(schema) == {"city", "n"}
    assert (schema["city"].data_type, schema["city"].points) == (
        models.PayloadSchemaType.KEYWORD,
        3,
    )
    assert (schema["n"].data_type, schema["n"].points) == (models.PayloadSchemaType.INTEGER, 3)
    client.upsert(name, [point(9, V1, {"city": "d", "n": 9})])
    assert client.get_collection(name).payload_schema["city"].points == 4
    raw = http.get(f"/collections/{name}").json()["result"]["payload_schema"]["city"]
    assert (raw["data_type"], raw["points"]) == ("keyword", 4)
    deleted = client.delete_payload_index(name, "city")
    assert deleted.status == models.UpdateStatus.COMPLETED
    assert set(client.get_collection(name).payload_schema) == {"n"}
    missing_schema = http.put(f"/collections/{name}/index?wait=true", json={"field_name": "x"})
    assert missing_schema.status_code == 400
    assert error_text(missing_schema) == (
        "Bad request: Can't auto-detect field type, please specify `field_schema` in the request"
    )
    aliased = http.put(
        f"/collections/{name}/index?wait=true", json={"field_name": "f", "field_type": "float"}
    )
    assert aliased.status_code == 200, aliased.text
    assert (
        client.get_collection(name).payload_schema["f"].data_type == models.PayloadSchemaType.FLOAT
    )


# -- wait=false, write parameters (§2.1, §3) ------------------------------------------------------


def test_wait_false_then_an_immediate_read_sees_the_write(client: QdrantClient, name: str) -> None:
    named(client, name)
    for i in range(15):
        ack = client.upsert(name, [point(i, {"image": V1}, {"i": i})], wait=False)
        assert ack.status == models.UpdateStatus.ACKNOWLEDGED
        assert client.retrieve(name, [i])[0].payload == {"i": i}
        client.set_payload(name, {"seen": i}, [i], wait=False)
        assert client.retrieve(name, [i])[0].payload == {"i": i, "seen": i}
        client.update_vectors(
            name, [models.PointVectors(id=i, vector={"text": [0, 1]})], wait=False
        )
        assert client.retrieve(name, [i], with_vectors=["text"])[0].vector == {"text": [0.0, 1.0]}
        assert client.count(name).count == i + 1
    client.delete(
        name,
        models.Filter(must=[models.FieldCondition(key="i", range=models.Range(lt=5))]),
        wait=False,
    )
    assert client.count(name).count == 10
    results = client.batch_update_points(
        name,
        [
            models.DeleteOperation(delete=models.PointIdsList(points=[5])),
            models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[6])),
        ],
        wait=False,
    )
    assert [r.status for r in results] == [models.UpdateStatus.ACKNOWLEDGED] * 2
    assert all_ids(client, name)[:2] == [6, 7]
    assert client.retrieve(name, [6])[0].payload == {}


def test_write_parameters(client: QdrantClient, http: httpx.Client, name: str) -> None:
    """§2.1: `ordering` weak/medium/strong and `timeout` are accepted; bad values are 400."""
    dense(client, name)
    for n, ordering in enumerate(models.WriteOrdering):
        result = client.upsert(name, [point(n)], ordering=ordering, timeout=5)
        assert result.status == models.UpdateStatus.COMPLETED
    assert client.count(name).count == 3
    body = {"points": [{"id": 9, "vector": V1}]}
    bad_ordering = http.put(f"/collections/{name}/points?wait=true&ordering=fast", json=body)
    assert bad_ordering.status_code == 400
    bad_wait = http.put(f"/collections/{name}/points?wait=yes", json=body)
    assert bad_wait.status_code == 400
    assert client.count(name).count == 3


# -- errors a user sees (§1.4, §3.2, §6.4) --------------------------------------------------------


def test_missing_collection_is_404(client: QdrantClient, http: httpx.Client, name: str) -> None:
    error = f"Not found: Collection `{name}` doesn't exist!"
    calls = [
        lambda: client.upsert(name, [point(1)]),
        lambda: client.retrieve(name, [1]),
        lambda: client.scroll(name),
        lambda: client.count(name),
        lambda: client.delete(name, [1]),
        lambda: client.set_payload(name, {"a": 1}, [1]),
        lambda: client.overwrite_payload(name, {"a": 1}, [1]),
        lambda: client.delete_payload(name, ["a"], [1]),
        lambda: client.clear_payload(name, [1]),
        lambda: client.update_vectors(name, [models.PointVectors(id=1, vector=V1)]),
        lambda: client.delete_vectors(name, [""], [1]),
        lambda: client.batch_update_points(
            name, [models.DeleteOperation(delete=models.PointIdsList(points=[1]))]
        ),
        lambda: client.create_payload_index(name, "a", models.PayloadSchemaType.KEYWORD),
        lambda: client.get_collection(name),
    ]
    for call in calls:
        with fails(404, error):
            call()
    got = http.get(f"/collections/{name}/points/1")
    assert (got.status_code, error_text(got)) == (404, error)


@pytest.mark.parametrize("wait", [True, False])
def test_wrong_vector_size_is_400_and_writes_nothing(
    client: QdrantClient, name: str, wait: bool
) -> None:
    """§3.2: upsert dimensions are checked before acknowledging, whatever `wait` is."""
    dense(client, name)
    with fails(400, "Wrong input: Vector dimension error: expected dim: 4, got 3"):
        client.upsert(name, [point(1, [1.0, 2.0, 3.0])], wait=wait)
    other = f"{name}-n"
    named(client, other)
    with fails(
        400, "Wrong input: Vector dimension error: expected dim: 4, got 3 for vector 'image'"
    ):
        client.upsert(other, [point(1, {"image": [1.0, 2.0, 3.0]})], wait=wait)
    with fails(
        400, "Wrong input: Vector dimension error: expected dim: 4, got 3 for vector 'image'"
    ):
        client.upsert(
            other, models.Batch(ids=[1, 2], vectors={"image": [V1, [1.0, 2.0, 3.0]]}), wait=wait
        )
    assert client.count(name).count == 0
    assert client.count(other).count == 0
    client.delete_collection(other)


def test_unknown_vector_name_is_400(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1})])
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.upsert(name, [point(2, {"nope": V1})])
    with fails(400, "Wrong input: Not existing vector name error: nope"):
        client.update_vectors(name, [models.PointVectors(id=1, vector={"nope": V1})])
    with fails(400, "Wrong input: Not existing vector name error: "):
        client.upsert(name, [point(3, V1)])
    assert all_ids(client, name) == [1]
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}


def test_update_vectors_wrong_size_is_400(client: QdrantClient, name: str) -> None:
    named(client, name)
    client.upsert(name, [point(1, {"image": V1})])
    with fails(400, contains="Wrong input: Vector dimension error: expected dim: 4, got 2"):
        client.update_vectors(name, [models.PointVectors(id=1, vector={"image": [1.0, 2.0]})])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}


def test_point_updates_on_a_missing_id_are_404_with_wait(client: QdrantClient, name: str) -> None:
    """§1.4 / §8.12-§8.16: `Not found: No point with id X found`; with wait=false the write is
    acknowledged (the error only shows when applied)."""
    named(client, name)
    client.upsert(name, [point(1, {"image": V1}, {"a": 1})])
    error = "Not found: No point with id 99 found"
    calls = [
        lambda wait: client.update_vectors(
            name, [models.PointVectors(id=99, vector={"image": V2})], wait=wait
        ),
        lambda wait: client.set_payload(name, {"b": 1}, [99], wait=wait),
        lambda wait: client.overwrite_payload(name, {"b": 1}, [99], wait=wait),
        lambda wait: client.delete_payload(name, ["a"], [99], wait=wait),
        lambda wait: client.clear_payload(name, [99], wait=wait),
    ]
    for call in calls:
        with fails(404, error):
            call(True)
        assert call(False).status == models.UpdateStatus.ACKNOWLEDGED
    assert all_ids(client, name) == [1]
    with fails(404, f"Not found: No point with id {U1} found"):
        client.set_payload(name, {"b": 1}, [U1.upper()])
    assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"image": V1}
    assert payloads(client, name, [1]) == {1: {"a": 1}}


def test_set_payload_missing_id_still_updates_the_others(client: QdrantClient, name: str) -> None:
    """§8.12 / §3.3: the found points of the request are modified before the 404."""
    dense(client, name)
    client.upsert(name, [point(1), point(2)])
    with fails(404, "Not found: No point with id 99 found"):
        client.set_payload(name, {"b": 1}, [1, 99, 2])
    assert payloads(client, name, [1, 2]) == {1: {"b": 1}, 2: {"b": 1}}


def test_text_index_gives_full_text_matching(client: QdrantClient, name: str) -> None:
    """With a text index, `match.text` matches lowercased word tokens (reads and the worker's
    filter writes alike); without one, it is a case-sensitive substring (§9.3)."""
    dense(client, name)
    titles = {1: "Hello World", 2: "hello there, world", 3: "Othello"}
    client.upsert(name, [point(i, V1, {"title": t}) for i, t in titles.items()])

    def ids_matching(match: models.Match) -> list:
        flt = models.Filter(must=[models.FieldCondition(key="title", match=match)])
        return sorted(p.id for p in client.scroll(name, scroll_filter=flt)[0])

    assert ids_matching(models.MatchText(text="hello")) == [2, 3]  # substrings
    client.create_payload_index(name, "title", models.PayloadSchemaType.TEXT, wait=True)
    assert ids_matching(models.MatchText(text="hello")) == [1, 2]  # tokens
    assert ids_matching(models.MatchText(text="world hello")) == [1, 2]
    assert ids_matching(models.MatchPhrase(phrase="hello world")) == [1]
    assert ids_matching(models.MatchTextAny(text_any="there othello")) == [2, 3]
    count = client.count(
        name,
        count_filter=models.Filter(
            must=[models.FieldCondition(key="title", match=models.MatchText(text="WORLD"))]
        ),
    )
    assert count.count == 2
    client.delete(
        name,
        models.Filter(
            must=[models.FieldCondition(key="title", match=models.MatchText(text="there"))]
        ),
        wait=True,
    )
    assert sorted(p.id for p in client.scroll(name)[0]) == [1, 3]
    client.delete_payload_index(name, "title", wait=True)
    assert ids_matching(models.MatchText(text="hello")) == [3]
