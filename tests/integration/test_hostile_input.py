"""Hostile input on every endpoint: random JSON shapes built from the API's own vocabulary,
non-JSON bytes, deep nesting, huge numbers, NaN, odd collection names. Never a 5xx, and
nothing reaches the log that a worker then fails to apply as malformed."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import collections

WORDS = [
    "points", "id", "ids", "vector", "vectors", "payload", "payloads", "batch", "filter", "must",
    "should", "must_not", "min_should", "conditions", "min_count", "key", "match", "value", "any",
    "except", "text", "range", "gt", "lt", "gte", "lte", "is_empty", "is_null", "has_id",
    "has_vector", "nested", "values_count", "limit", "offset", "with_payload", "with_vector",
    "include", "exclude", "order_by", "direction", "start_from", "keys", "operations", "upsert",
    "delete", "set_payload", "update_vectors", "delete_vectors", "update_filter", "update_mode",
    "field_name", "field_schema", "type", "exact", "indices", "values", "a", "", "image", "query",
    "using", "nearest", "score_threshold", "prefetch", "recommend", "positive", "negative",
    "strategy", "fusion", "rrf", "k", "weights", "sample", "random", "dbsf", "best_score",
    "average_vector", "name", "searches",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(WORDS),
    st.text(max_size=8),
    st.uuids().map(str),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.sampled_from(WORDS), inner, max_size=5),
    ),
    max_leaves=30,
)
WRITES = [
    ("PUT", "points"), ("POST", "points/delete"), ("POST", "points/payload"),
    ("PUT", "points/payload"), ("POST", "points/payload/delete"), ("POST", "points/payload/clear"),
    ("PUT", "points/vectors"), ("POST", "points/vectors/delete"), ("POST", "points/batch"),
    ("PUT", "index"),
]  # fmt: skip
READS = [
    ("POST", "points"),
    ("POST", "points/scroll"),
    ("POST", "points/count"),
    ("POST", "points/query"),
    ("POST", "points/query/batch"),
    ("POST", "points/search"),
    ("POST", "points/search/batch"),
    ("POST", "points/recommend"),
    ("POST", "points/recommend/batch"),
]
RAW_BODIES = [
    b"\xff\xfe\x00garbage", b"{", b"[" * 10000 + b"]" * 10000, b'{"points": NaN}',
    b'{"limit": Infinity}', b'{"points": [{"id": 1e400, "vector": [1e400, 1, 1, 1]}]}',
    b'{"points": [{"id": 18446744073709551616, "vector": [1, 2, 3, 4]}]}', b"null", b"12",
    b'"text"', b'{"filter": ' + b'{"must": [' * 200 + b"{}" + b"]}" * 200 + b"}",
]  # fmt: skip
CONDITIONS = st.one_of(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(WORDS),
            "match": st.dictionaries(
                st.sampled_from(["value", "any", "except", "text"]),
                SCALARS | st.lists(SCALARS, max_size=3),
                min_size=1,
                max_size=1,
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(WORDS),
            "range": st.dictionaries(
                st.sampled_from(["gt", "lt", "gte", "lte"]), SCALARS, max_size=2
            ),
        }
    ),
    st.fixed_dictionaries({"has_id": st.lists(SCALARS, max_size=3)}),
    st.fixed_dictionaries({"is_empty": st.fixed_dictionaries({"key": st.sampled_from(WORDS)})}),
)
FILTERS = st.dictionaries(
    st.sampled_from(["must", "should", "must_not"]), st.lists(CONDITIONS, max_size=3), max_size=2
)
PAYLOADS = st.dictionaries(st.sampled_from(WORDS), JSON, max_size=4)
SELECTED = st.lists(st.integers(0, 8), min_size=1, max_size=3) | st.lists(
    SCALARS, min_size=1, max_size=2
)
EXAMPLES = st.lists(st.integers(0, 8) | st.lists(SCALARS, max_size=4), max_size=3)
QUERIES = st.one_of(
    st.lists(SCALARS, max_size=5),
    st.integers(0, 8),
    st.fixed_dictionaries(
        {
            "recommend": st.fixed_dictionaries(
                {},
                optional={
                    "positive": EXAMPLES,
                    "negative": EXAMPLES,
                    "strategy": st.sampled_from(["average_vector", "best_score", "sum_scores"])
                    | SCALARS,
                },
            )
        }
    ),
    st.fixed_dictionaries({"fusion": st.sampled_from(["rrf", "dbsf"]) | SCALARS}),
    st.fixed_dictionaries({"rrf": st.dictionaries(st.sampled_from(["k", "weights"]), JSON)}),
    st.fixed_dictionaries({"order_by": st.sampled_from(["a", "b"]) | JSON}),
    st.fixed_dictionaries({"sample": st.just("random") | SCALARS}),
)
STAGE = st.fixed_dictionaries(
    {},
    optional={
        "query": QUERIES,
        "using": st.sampled_from(["", "image", "a"]),
        "limit": st.integers(0, 20) | SCALARS,
        "filter": FILTERS,
    },
)
PLAUSIBLE = st.one_of(
    st.builds(
        lambda stage, prefetch: ("POST", "points/query", {**stage, "prefetch": prefetch}),
        STAGE,
        st.lists(STAGE, max_size=3) | STAGE,
    ),
    st.builds(
        lambda p, s: ("POST", "points/payload", {"payload": p, "points": s}), PAYLOADS, SELECTED
    ),
    st.builds(
        lambda p, f, k: ("POST", "points/payload", {"payload": p, "filter": f, "key": k}),
        PAYLOADS,
        FILTERS,
        st.sampled_from(WORDS) | st.none(),
    ),
    st.builds(
        lambda p, f: ("PUT", "points/payload", {"payload": p, "filter": f}), PAYLOADS, FILTERS
    ),
    st.builds(
        lambda k, s: ("POST", "points/payload/delete", {"keys": k, "points": s}),
        st.lists(st.sampled_from(WORDS), max_size=3),
        SELECTED,
    ),
    st.builds(lambda f: ("POST", "points/delete", {"filter": f}), FILTERS),
    st.builds(lambda f: ("POST", "points/scroll", {"filter": f}), FILTERS),
    st.builds(
        lambda i, p: (
            "PUT",
            "points",
            {"points": [{"id": i, "vector": {"": [1, 2, 3, 4]}, "payload": p}]},
        ),
        st.integers(0, 8) | SCALARS,
        PAYLOADS,
    ),
    st.builds(
        lambda i, v: ("PUT", "points/vectors", {"points": [{"id": i, "vector": v}]}),
        st.integers(0, 8),
        st.dictionaries(
            st.sampled_from(["", "image", "a"]), st.lists(SCALARS, max_size=4), max_size=2
        ),
    ),
    st.builds(
        lambda s: ("POST", "points/vectors/delete", {"points": s, "vector": ["image"]}), SELECTED
    ),
)
ODD_NAMES = ["a:b", "{1}", "x*", "名前", "a" * 300, "..", "%2F", "pl:{1}:seq"]
tried = {"requests": 0}


@pytest.fixture(scope="module")
def target(client) -> str:
    name = "hostile"
    config = {
        "vectors": {"": {"size": 4, "distance": "Cosine"}, "image": {"size": 2, "distance": "Dot"}}
    }
    client.simulate_put(f"/collections/{name}", json=config)
    points = [
        {"id": i, "vector": {"": [1, 2, 3, i], "image": [i, 1]}, "payload": {"a": i}}
        for i in range(5)
    ]
    client.simulate_put(
        f"/collections/{name}/points", params={"wait": "true"}, json={"points": points}
    )
    return name


def send(client, method: str, path: str, body: bytes, params: dict | None = None):
    tried["requests"] += 1
    response = client.simulate_request(
        method, path, body=body, params=params, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (method, path, body[:300], response.text[:300])
    return response


@settings(max_examples=400, suppress_health_check=list(HealthCheck))
@given(endpoint=st.sampled_from(WRITES + READS), body=JSON)
def test_random_bodies_never_break_the_server(client, target, endpoint, body):
    method, suffix = endpoint
    send(client, method, f"/collections/{target}/{suffix}", json.dumps(body).encode())


@settings(max_examples=400, suppress_health_check=list(HealthCheck))
@given(request=PLAUSIBLE)
def test_plausible_operations_with_random_values_never_break_the_server(client, target, request):
    method, suffix, body = request
    send(client, method, f"/collections/{target}/{suffix}", json.dumps(body).encode())


@settings(max_examples=60, suppress_health_check=list(HealthCheck))
@given(
    params=st.dictionaries(
        st.sampled_from(["wait", "timeout", "ordering", "consistency"]),
        st.text(max_size=6),
        max_size=3,
    )
)
def test_random_query_parameters_never_break_the_server(client, target, params):
    body = orjson.dumps({"points": [{"id": 1, "vector": {"": [1, 1, 1, 1], "image": [1, 1]}}]})
    send(client, "PUT", f"/collections/{target}/points", body, params)
    send(client, "POST", f"/collections/{target}/points/count", b"{}", params)


@pytest.mark.parametrize("body", RAW_BODIES)
@pytest.mark.parametrize(("method", "suffix"), WRITES + READS)
def test_non_json_and_extreme_bodies_are_client_errors(client, target, method, suffix, body):
    response = send(client, method, f"/collections/{target}/{suffix}", body)
    assert 400 <= response.status_code < 500 or response.json["status"] == "ok"


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_collection_names_stay_in_their_own_keyspace(client, store, name):
    response = send(
        client,
        "PUT",
        f"/collections/{name}",
        orjson.dumps({"vectors": {"size": 2, "distance": "Dot"}}),
    )
    if response.status_code != 200:
        assert response.status_code in (400, 404, 422)
        return
    send(
        client,
        "PUT",
        f"/collections/{name}/points",
        orjson.dumps({"points": [{"id": 1, "vector": [1, 2]}]}),
        {"wait": "true"},
    )
    count = send(client, "POST", f"/collections/{name}/points/count", b"{}")
    assert count.json["result"] == {"count": 1}
    assert collections.load(store, name).cid != collections.load(store, "hostile").cid
    assert send(client, "DELETE", f"/collections/{name}", b"").json["result"] is True


def test_zz_every_logged_event_applied_without_an_internal_error(client, store, target):
    """Runs last in this module: whatever the fuzzing appended was applied, and no operation
    failed as malformed (only as a user error, like a missing point)."""
    response = send(
        client, "POST", f"/collections/{target}/points/count", b"{}"
    )  # waits for the log
    assert response.status_code == 200
    keys = collections.load(store, target).keys
    seq, applied = (int(v) for v in store.mget(keys.seq, keys.applied))
    assert applied == seq
    records = [orjson.loads(v) for v in store.hvals(keys.errors)]
    internal = [r for r in records if r["kind"] == "QdrantError"]
    assert internal == []
    print(
        f"\nhostile input: {tried['requests']} requests, 0 5xx, {seq} operations logged, "
        f"{len(records)} user errors at apply time, {len(internal)} malformed"
    )
