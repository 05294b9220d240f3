"""Set, overwrite, delete and clear payload change payloads exactly as Qdrant does."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, dense, has, payloads, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


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
    """set_payload with `key`: merge at the path; missing objects are created, scalars replaced
    by `{}`, `[]` applies to every element, `[n]` only to an existing element."""
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
    """overwrite_payload: the payload becomes exactly the given object (nulls stored); `key` is
    ignored."""
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
    """delete_payload: `b.c` inside an object, `arr[].x` in every element, `arr[0]` is a
    no-op, `arr[0].x` in one element, `arr[]` empties the array; absent keys are fine."""
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
