"""Strict mode, set by PATCH as Qdrant's own tests set it: each limit refuses what passes it
with Qdrant's 403 and text, lets through what stays within it, and changes nothing when
refused; a disabled strict mode checks nothing."""

from __future__ import annotations

import pytest

V = [0.2, 0.1, 0.9, 0.7]
CITY = {"must": [{"key": "city", "match": {"value": "Berlin"}}]}


def strict(client, collection: str, config: dict) -> None:
    patched = client.simulate_patch(
        f"/collections/{collection}", json={"strict_mode_config": config}
    )
    assert patched.json["result"] is True, patched.text


def search(client, collection: str, body: dict, **params):
    return client.simulate_post(
        f"/collections/{collection}/points/search", json={"vector": V, **body}, params=params
    )


def error(response) -> str:
    return response.json["status"]["error"]


def refused(response, text: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json["status"]["error"] == f"Forbidden: {text}"


def test_a_query_limit_past_the_maximum_is_refused(client, collection) -> None:
    assert search(client, collection, {"limit": 4}).status_code == 200
    strict(client, collection, {"enabled": True, "max_query_limit": 4})
    assert search(client, collection, {"limit": 4}).status_code == 200
    strict(client, collection, {"max_query_limit": 3})  # merged: still enabled
    refused(
        search(client, collection, {"limit": 4}),
        'Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.',
    )
    query = {"query": V, "prefetch": {"query": V, "limit": 5}, "limit": 2}
    response = client.simulate_post(f"/collections/{collection}/points/query", json=query)
    assert response.status_code == 403 and "Limit exceeded 5 > 3" in error(response)
    groups = {"vector": V, "limit": 2, "group_by": "city", "group_size": 2}
    response = client.simulate_post(f"/collections/{collection}/points/search/groups", json=groups)
    assert response.status_code == 403 and "Limit exceeded 4 > 3" in error(response)
    scroll = client.simulate_post(f"/collections/{collection}/points/scroll", json={"limit": 4})
    assert scroll.status_code == 403


def test_timeouts_and_search_params_past_their_limits_are_refused(client, collection) -> None:
    strict(
        client,
        collection,
        {"enabled": True, "max_timeout": 2, "search_max_hnsw_ef": 4, "search_allow_exact": False,
         "search_max_oversampling": 1.5},
    )  # fmt: skip
    assert search(client, collection, {"limit": 3}, timeout=2).status_code == 200
    refused(
        search(client, collection, {"limit": 3}, timeout=3),
        'Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.',
    )
    refused(
        search(client, collection, {"limit": 3, "params": {"exact": True}}),
        "Exact search disabled!. Help: Set exact=false.",
    )
    response = search(client, collection, {"limit": 3, "params": {"hnsw_ef": 5}})
    assert response.status_code == 403 and '5 > 4 for "hnsw_ef"' in error(response)
    over = {"limit": 3, "params": {"quantization": {"oversampling": 2.0}}}
    assert '2 > 1.5 for "oversampling"' in error(search(client, collection, over))
    count = client.simulate_post(f"/collections/{collection}/points/count", json={})
    assert count.status_code == 403  # a count is exact unless it says otherwise
    inexact = client.simulate_post(f"/collections/{collection}/points/count", json={"exact": False})
    assert inexact.status_code == 200


def berlin_points(client, collection: str) -> int:
    body = {"points": [{"id": 1, "vector": V, "payload": {"city": "Berlin"}}]}
    client.simulate_put(f"/collections/{collection}/points", json=body, params={"wait": "true"})
    count = {"filter": CITY, "exact": True}
    return client.simulate_post(f"/collections/{collection}/points/count", json=count).json[
        "result"
    ]["count"]


@pytest.mark.parametrize("setting", ["retrieve", "update"])
def test_filters_on_unindexed_keys_are_refused_until_an_index_serves_them(
    client, collection, setting
) -> None:
    def request():
        if setting == "retrieve":
            return search(client, collection, {"limit": 3, "filter": CITY})
        path = f"/collections/{collection}/points/delete"
        return client.simulate_post(path, json={"filter": CITY}, params={"wait": "true"})

    strict(client, collection, {"enabled": True, f"unindexed_filtering_{setting}": True})
    assert request().status_code == 200
    assert berlin_points(client, collection) == 1
    strict(client, collection, {f"unindexed_filtering_{setting}": False})
    refused(
        request(),
        'Index required but not found for "city" of one of the following types: [keyword]. '
        "Help: Create an index for this key or use a different filter.",
    )
    index = {"field_name": "city", "field_schema": "keyword"}
    client.simulate_put(f"/collections/{collection}/index", json=index, params={"wait": "true"})
    assert berlin_points(client, collection) == 1  # the refused delete deleted nothing
    assert request().status_code == 200


def test_batches_past_the_upsert_limit_are_refused_and_append_nothing(client, collection) -> None:
    points = [{"id": i, "vector": V} for i in range(6)]
    path = f"/collections/{collection}/points"
    strict(client, collection, {"enabled": True, "upsert_max_batchsize": 5})
    refused(
        client.simulate_put(path, json={"points": points}),
        'Limit exceeded 6 > 5 for "upsert limit". '
        'Help: Reduce the "upsert limit" parameter to or below 5.',
    )
    batch = {"operations": [{"upsert": {"points": points}}]}
    assert client.simulate_post(f"{path}/batch", json=batch).status_code == 403
    vectors = client.simulate_put(f"{path}/vectors", json={"points": points})
    assert vectors.status_code == 403 and '"update limit"' in error(vectors)
    count = client.simulate_post(f"{path}/count", json={"exact": True}).json["result"]["count"]
    assert count == 0
    assert client.simulate_put(path, json={"points": points[:5]}).status_code == 200


def test_too_many_filter_conditions_are_refused(client, collection) -> None:
    strict(client, collection, {"enabled": True, "filter_max_conditions": 1})
    two = {"must": [{"has_id": [1]}, {"should": [{"key": "a", "match": {"value": 1}}]}]}
    refused(
        search(client, collection, {"limit": 1, "filter": two}),
        "Filter condition limit reached (2 > 1). Help: Reduce the amount of conditions of "
        "your filter.",
    )


def test_a_disabled_strict_mode_checks_nothing(client, collection) -> None:
    strict(client, collection, {"enabled": False, "max_query_limit": 1})
    assert search(client, collection, {"limit": 5}).status_code == 200
    info = client.simulate_get(f"/collections/{collection}").json["result"]["config"]
    assert info["strict_mode_config"] == {"enabled": False, "max_query_limit": 1}


def test_a_collection_full_by_its_strict_limits_refuses_what_adds_to_it(client, collection):
    path = f"/collections/{collection}/points"
    strict(client, collection, {"enabled": True, "max_points_count": 3})
    three = {"points": [{"id": i, "vector": V} for i in range(3)]}
    assert client.simulate_put(path, json=three, params={"wait": "true"}).status_code == 200
    more = client.simulate_put(path, json={"points": [{"id": 9, "vector": V}]})
    assert more.status_code == 400
    assert error(more) == "Bad request: Max points count limit of 3 reached!"
    deleted = client.simulate_post(f"{path}/delete", json={"points": [0]}, params={"wait": "true"})
    assert deleted.status_code == 200  # what does not add is let through
    assert client.simulate_put(path, json={"points": [{"id": 9, "vector": V}]}).status_code == 200
    strict(client, collection, {"max_points_count": 100, "max_collection_vector_size_bytes": 40})
    refused_vectors = client.simulate_put(path, json={"points": [{"id": 10, "vector": V}]})
    assert error(refused_vectors) == (
        "Bad request: Max vector storage size limit of 0.000038146973MB reached!"
    )
