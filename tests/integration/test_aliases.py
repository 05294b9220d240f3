"""Aliases as Qdrant has them: create, delete and rename in one atomic change, listed per
server and per collection, resolved by every route, dropped with their collection."""

from __future__ import annotations

import uuid

import pytest


def change(client, *actions, status: int = 200):
    response = client.simulate_post("/collections/aliases", json={"actions": list(actions)})
    assert response.status_code == status, response.text
    return response.json


def create(alias: str, collection: str) -> dict:
    return {"create_alias": {"alias_name": alias, "collection_name": collection}}


def aliases(client, path: str = "/aliases") -> list[tuple[str, str]]:
    listed = client.simulate_get(path).json["result"]["aliases"]
    return [(a["alias_name"], a["collection_name"]) for a in listed]


@pytest.fixture
def other(client) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    client.simulate_put(f"/collections/{name}", json={"vectors": {"size": 4, "distance": "Dot"}})
    return name


@pytest.fixture
def alias() -> str:
    return f"a-{uuid.uuid4().hex[:12]}"


def upsert(client, name: str, point_id: int) -> dict:
    body = {"points": [{"id": point_id, "vector": [1, 0, 0, 0]}]}
    path = f"/collections/{name}/points"
    response = client.simulate_put(path, params={"wait": "true"}, json=body)
    assert response.status_code == 200, response.text
    return response.json["result"]


def point_ids(client, name: str) -> list[int]:
    found = client.simulate_post(f"/collections/{name}/points/scroll", json={"limit": 100})
    return [p["id"] for p in found.json["result"]["points"]]


def test_every_route_resolves_an_alias(client, collection, alias):
    assert change(client, create(alias, collection))["result"] is True
    upsert(client, alias, 7)
    assert point_ids(client, collection) == [7]
    assert client.simulate_get(f"/collections/{alias}/points/7").json["result"]["id"] == 7
    assert client.simulate_get(f"/collections/{alias}").json["result"]["points_count"] == 1
    assert client.simulate_get(f"/collections/{alias}/exists").json["result"] == {"exists": True}
    query = client.simulate_post(f"/collections/{alias}/points/query", json={"query": [1, 0, 0, 0]})
    assert [p["id"] for p in query.json["result"]["points"]] == [7]
    assert (alias, collection) in aliases(client)
    assert aliases(client, f"/collections/{collection}/aliases") == [(alias, collection)]


def test_a_switch_is_atomic_and_reads_follow_it_at_once(client, collection, other, alias):
    change(client, create(alias, collection))
    upsert(client, collection, 1)
    upsert(client, other, 2)
    assert point_ids(client, alias) == [1]
    change(client, {"delete_alias": {"alias_name": alias}}, create(alias, other))
    assert point_ids(client, alias) == [2]
    assert aliases(client, f"/collections/{collection}/aliases") == []


def test_a_change_with_an_error_changes_nothing(client, collection, alias):
    missing = f"t-{uuid.uuid4().hex[:12]}"
    answer = change(client, create(alias, collection), create("x" + alias, missing), status=404)
    assert answer["status"]["error"] == f"Not found: Collection `{missing}` doesn't exist!"
    assert aliases(client, f"/collections/{collection}/aliases") == []


def test_qdrants_errors_for_taken_names_and_missing_aliases(client, collection, other, alias):
    taken = change(client, create(other, collection), status=409)
    assert taken["status"]["error"] == f"Wrong input: Collection `{other}` already exists!"
    renamed = {"rename_alias": {"old_alias_name": alias, "new_alias_name": "y" + alias}}
    assert change(client, renamed, status=404)["status"]["error"] == (
        f"Not found: Alias {alias} does not exists!"
    )
    change(client, create(alias, collection))
    body = {"vectors": {"size": 4, "distance": "Dot"}}
    refused = client.simulate_put(f"/collections/{alias}", json=body)
    assert refused.status_code == 400
    assert refused.json["status"]["error"] == (
        f"Wrong input: Can't create collection with name {alias}. "
        "Alias with the same name already exists"
    )
    bad = client.simulate_post("/collections/aliases", json={"actions": [{"make_alias": {}}]})
    assert bad.status_code == 400 and "Format error" in bad.json["status"]["error"]


def test_rename_keeps_the_target_and_delete_of_a_missing_alias_is_fine(client, collection, alias):
    change(client, create(alias, collection))
    renamed = {"rename_alias": {"old_alias_name": alias, "new_alias_name": "r" + alias}}
    change(client, renamed, {"delete_alias": {"alias_name": "never-" + alias}})
    assert aliases(client, f"/collections/{collection}/aliases") == [("r" + alias, collection)]


def test_deleting_a_collection_drops_its_aliases(client, collection, alias):
    change(client, create(alias, collection))
    assert client.simulate_delete(f"/collections/{collection}").json["result"] is True
    assert alias not in [a for a, _ in aliases(client)]
    gone = client.simulate_get(f"/collections/{alias}/points/7")
    assert gone.status_code == 404
