"""Qdrant's service endpoints as a pointlog deployment answers them: telemetry, issues,
optimizations, and a clear 501 for the endpoints it does not serve."""

from __future__ import annotations

import time

import numpy as np
import pytest
from falcon import testing

from api.app import create_app

# Qdrant 1.19's REST routes (its OpenAPI document): each method, each path template.
QDRANT_ROUTES = {
    "/collections/{collection_name}/shards": "GET PUT",
    "/collections/{collection_name}/shards/delete": "POST",
    "/": "GET",
    "/telemetry": "GET",
    "/metrics": "GET",
    "/healthz": "GET",
    "/livez": "GET",
    "/readyz": "GET",
    "/issues": "DELETE GET",
    "/cluster": "GET",
    "/cluster/telemetry": "GET",
    "/cluster/recover": "POST",
    "/cluster/peer/{peer_id}": "DELETE",
    "/quotas": "GET PUT",
    "/collections": "GET",
    "/collections/{collection_name}": "DELETE GET PATCH PUT",
    "/collections/aliases": "POST",
    "/collections/{collection_name}/index": "PUT",
    "/collections/{collection_name}/exists": "GET",
    "/collections/{collection_name}/index/{field_name}": "DELETE",
    "/collections/{collection_name}/vectors/{vector_name}": "DELETE PUT",
    "/collections/{collection_name}/cluster": "GET POST",
    "/collections/{collection_name}/optimizations": "GET",
    "/collections/{collection_name}/aliases": "GET",
    "/aliases": "GET",
    "/collections/{collection_name}/snapshots/upload": "POST",
    "/collections/{collection_name}/snapshots/recover": "PUT",
    "/collections/{collection_name}/snapshots": "GET POST",
    "/collections/{collection_name}/snapshots/{snapshot_name}": "DELETE GET",
    "/snapshots": "GET POST",
    "/snapshots/{snapshot_name}": "DELETE GET",
    "/collections/{collection_name}/shards/{shard_id}/snapshot": "GET",
    "/collections/{collection_name}/shards/{shard_id}/snapshots/upload": "POST",
    "/collections/{collection_name}/shards/{shard_id}/snapshots/recover": "PUT",
    "/collections/{collection_name}/shards/{shard_id}/snapshots": "GET POST",
    "/collections/{collection_name}/shards/{shard_id}/snapshots/{snapshot_name}": "DELETE GET",
    "/collections/{collection_name}/points/{id}": "GET",
    "/collections/{collection_name}/points": "POST PUT",
    "/collections/{collection_name}/points/delete": "POST",
    "/collections/{collection_name}/points/vectors": "PUT",
    "/collections/{collection_name}/points/vectors/delete": "POST",
    "/collections/{collection_name}/points/payload": "POST PUT",
    "/collections/{collection_name}/points/payload/delete": "POST",
    "/collections/{collection_name}/points/payload/clear": "POST",
    "/collections/{collection_name}/points/batch": "POST",
    "/collections/{collection_name}/points/scroll": "POST",
    "/collections/{collection_name}/points/count": "POST",
    "/collections/{collection_name}/facet": "POST",
    "/collections/{collection_name}/points/query": "POST",
    "/collections/{collection_name}/points/query/batch": "POST",
    "/collections/{collection_name}/points/query/groups": "POST",
    "/collections/{collection_name}/points/search/matrix/pairs": "POST",
    "/collections/{collection_name}/points/search/matrix/offsets": "POST",
}
CITY = {"must": [{"key": "city", "match": {"value": "Berlin"}}]}


def result(response) -> object:
    assert response.status_code == 200, response.text
    return response.json["result"]


def test_telemetry_counts_collections_and_this_process_answers(client, collection) -> None:
    client.simulate_get(f"/collections/{collection}")
    first = result(client.simulate_get("/telemetry"))
    assert first["app"]["name"] == "pointlog" and first["app"]["version"] == "1.19.0"
    assert first["collections"]["number_of_collections"] >= 1
    assert "collections" not in first["collections"]
    answered = first["requests"]["rest"]["responses"]["GET /collections/{name}"]["200"]
    assert answered["count"] >= 1 and answered["fail_count"] == 0
    assert answered["min_duration_micros"] <= answered["max_duration_micros"]
    detailed = result(client.simulate_get("/telemetry", params={"details_level": "1"}))
    params = [c["params"] for c in detailed["collections"]["collections"]]
    assert {"size": 4, "distance": "Dot"} in [p["vectors"] for p in params]
    assert detailed["id"] == first["id"]


def test_every_pod_of_a_deployment_has_the_same_id(client, served) -> None:
    other = testing.TestClient(create_app(served.settings()))
    assert (
        result(other.simulate_get("/telemetry"))["id"]
        == result(client.simulate_get("/telemetry"))["id"]
    )


def test_a_slow_filter_on_an_unindexed_key_is_an_issue_with_its_solution(
    served, workers, collection
) -> None:
    slow = testing.TestClient(create_app(served.settings(slow_query_seconds=0)))
    assert result(slow.simulate_delete("/issues")) is True
    body = {"vector": [1, 0, 0, 0], "limit": 3, "filter": CITY}
    result(slow.simulate_post(f"/collections/{collection}/points/search", json=body))
    [issue] = [i for i in result(slow.simulate_get("/issues"))["issues"] if collection in i["id"]]
    assert issue["id"] == f"UNINDEXED_FIELD/{collection}/city"
    assert issue["description"] == (
        f"Unindexed field 'city' might be slowing queries down in collection '{collection}'"
    )
    action = issue["solution"]["immediate"]["action"]
    assert (action["method"], action["uri"]) == ("PUT", f"/collections/{collection}/index")
    # the solution is a request that works as it is
    result(slow.simulate_put(action["uri"], json=action["body"], params={"wait": "true"}))
    result(slow.simulate_delete("/issues"))
    result(slow.simulate_post(f"/collections/{collection}/points/search", json=body))
    assert result(slow.simulate_get("/issues"))["issues"] == []


def test_optimizations_show_the_graph_this_process_built(client, name) -> None:
    config = {
        "vectors": {"size": 4, "distance": "Cosine"},
        "hnsw_config": {"full_scan_threshold": 1},
    }
    result(client.simulate_put(f"/collections/{name}", json=config))
    vectors = np.random.default_rng(5).normal(size=(300, 4)).round(3).tolist()
    points = [{"id": i, "vector": v} for i, v in enumerate(vectors)]
    path = f"/collections/{name}/points"
    result(client.simulate_put(path, json={"points": points}, params={"wait": "true"}))
    result(client.simulate_post(f"{path}/query", json={"query": vectors[0]}))
    deadline = time.monotonic() + 60
    while True:  # the graph is built in the background: nothing outside the process to await
        shown = result(
            client.simulate_get(f"/collections/{name}/optimizations", params={"with": "completed"})
        )
        if shown["completed"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [built] = shown["completed"]
    assert built["status"] == "done" and built["optimizer"] == "indexing"
    assert built["progress"]["total"] == 300 and built["segments"][0]["points_count"] == 300
    assert shown["running"] == [] and shown["summary"]["idle_segments"] == 1


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for p, methods in QDRANT_ROUTES.items() for m in methods.split()]
)
def test_every_qdrant_route_is_served_or_refused_by_name(client, collection, method, path) -> None:
    concrete = (
        path.replace("{collection_name}", collection)
        .replace("{vector_name}", "nope")
        .replace("{field_name}", "nope")
        .replace("{snapshot_name}", "nope")
        .replace("{shard_id}", "0")
        .replace("{peer_id}", "1")
        .replace("{id}", "1")
    )
    response = client.simulate_request(method, concrete, json={})
    assert response.status_code not in (404, 405) or "Not found: " in response.text, response.text
    if response.status_code == 501:
        assert response.json["status"]["error"].startswith(f"Not implemented: {method} ")
