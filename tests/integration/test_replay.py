"""Replaying the log: `pointlog replay` (and `--verify`), `log`, `status`, as a user runs them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import orjson

from projections import changes, collections, ids


def fill(client, name: str) -> None:
    path = f"/collections/{name}"
    client.simulate_put(
        f"{path}/index",
        params={"wait": "true"},
        json={"field_name": "n", "field_schema": "integer"},
    )
    points = [
        {"id": i, "vector": [i, 1, 2, 3], "payload": {"n": i, "tags": ["a", str(i % 3)]}}
        for i in range(50)
    ]
    client.simulate_put(f"{path}/points", json={"points": points})
    client.simulate_post(
        f"{path}/points/payload",
        json={
            "payload": {"odd": True},
            "filter": {"must": [{"key": "tags", "match": {"value": "1"}}]},
        },
    )
    client.simulate_post(
        f"{path}/points/delete", json={"filter": {"must": [{"key": "n", "range": {"gte": 40}}]}}
    )
    client.simulate_post(f"{path}/points/vectors/delete", json={"points": [1, 2], "vector": [""]})
    client.simulate_put(
        f"{path}/points/vectors", json={"points": [{"id": 999, "vector": [1, 1, 1, 1]}]}
    )  # fails: no point
    client.simulate_post(
        f"{path}/points/payload/clear", params={"wait": "true"}, json={"points": [3]}
    )


def test_verify_finds_the_live_projection_equal_to_a_replay(client, served, collection):
    fill(client, collection)
    result = served.pointlog("replay", collection, "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "equals the live one" in result.stdout


def test_replay_repairs_a_damaged_projection_and_verify_sees_the_damage(
    client, store, served, collection
):
    fill(client, collection)
    keys = collections.load(store, collection).keys
    store.hset(keys.payload, "00000000000000005", b'{"tampered": 1}')
    store.zrem(keys.ids, "00000000000000006")
    found = served.pointlog("replay", collection, "--verify")
    assert found.returncode == 1
    assert "tampered" in found.stdout and "00000000000000006" in found.stdout
    repaired = served.pointlog("replay", collection)
    assert repaired.returncode == 0, repaired.stderr
    point = client.simulate_get(f"/collections/{collection}/points/5").json["result"]
    assert point["payload"] == {"n": 5, "tags": ["a", "2"]}
    page = client.simulate_post(
        f"/collections/{collection}/points/scroll", json={"limit": 100}
    ).json["result"]
    assert [p["id"] for p in page["points"]] == list(range(40))
    assert served.pointlog("replay", collection, "--verify").returncode == 0


def test_a_replay_tells_the_change_feeds_readers_to_reload(client, store, served, collection):
    fill(client, collection)
    keys = collections.load(store, collection).keys
    before = changes.position(store, keys)
    assert served.pointlog("replay", collection).returncode == 0
    (record,) = changes.read(store, keys, before.entry_id, count=10)
    assert record.reset and record.after == int(store.get(keys.applied))


def test_replay_while_writes_keep_coming_loses_none(client, served, collection):
    fill(client, collection)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 1000
        while not stop.is_set():
            client.simulate_put(
                f"/collections/{collection}/points",
                json={"points": [{"id": i, "vector": [1, 1, 1, 1]}]},
            )
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = served.pointlog("replay", collection)
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    assert written, "the writer got no write in during the replay"
    got = client.simulate_post(f"/collections/{collection}/points", json={"ids": written}).json[
        "result"
    ]
    assert [p["id"] for p in got] == written
    assert served.pointlog("replay", collection, "--verify").returncode == 0


def test_log_prints_every_event_in_order_with_the_time_it_was_appended(client, served, collection):
    started = datetime.now(UTC) - timedelta(seconds=1)  # the store's clock may lag a little
    fill(client, collection)
    result = served.pointlog("log", collection)
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["operation_id"] for line in lines] == list(range(7))
    times = [datetime.fromisoformat(line["time"]) for line in lines]
    assert times == sorted(times)
    assert started <= times[0] and times[-1] <= datetime.now(UTC)
    upsert = lines[1]["ops"][0]
    assert upsert["type"] == "upsert"
    assert upsert["points"][2] == {
        "id": 2,
        "vector": {"": [2.0, 1.0, 2.0, 3.0]},
        "payload": {"n": 2, "tags": ["a", "2"]},
    }
    later = served.pointlog("log", collection, "--from", "5")
    assert [orjson.loads(line)["operation_id"] for line in later.stdout.splitlines()] == [5, 6]


def test_status_shows_lag_and_workers(client, served, collection):
    fill(client, collection)
    result = served.pointlog("status")
    row = next(line.split() for line in result.stdout.splitlines() if line.startswith(collection))
    assert row[1:5] == ["7", "7", "0", "40"]  # then, on a cluster, the node that holds it
    assert "workers alive: " in result.stdout


def test_verify_and_replay_cover_every_kind_of_index_data(client, store, served, collection):
    path = f"/collections/{collection}"
    schemas = {"city": "keyword", "loc": "geo", "words": "text", "flag": "bool", "price": "float"}
    for field, schema in schemas.items():
        body = {"field_name": field, "field_schema": schema}
        client.simulate_put(f"{path}/index", params={"wait": "true"}, json=body)
    points = [
        {
            "id": i,
            "vector": [1, 1, 1, i],
            "payload": {
                "city": ["a", "b", "c"][i % 3],
                "loc": {"lon": 10 + i, "lat": 88 if i % 4 == 0 else 40},  # some at a pole
                "words": f"w{i % 5} shared",
                "flag": i % 2 == 0,
                "price": i / 2,
            },
        }
        for i in range(30)
    ]
    client.simulate_put(f"{path}/points", json={"points": points})
    city_b = {"must": [{"key": "city", "match": {"value": "b"}}]}
    client.simulate_post(
        f"{path}/points/payload", json={"payload": {"city": "d"}, "filter": city_b}
    )
    client.simulate_post(
        f"{path}/points/delete",
        params={"wait": "true"},
        json={"filter": {"must": [{"key": "price", "range": {"lt": 3}}]}},
    )
    verified = served.pointlog("replay", collection, "--verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    keys = collections.load(store, collection).keys
    assert not store.exists(keys.term("city", '"b"'))  # emptied, and gone from `terms`
    store.srem(keys.term("city", '"a"'), ids.to_key(9))
    store.zrem(keys.geo("loc"), f"{ids.to_key(10)}|0")
    damaged = served.pointlog("replay", collection, "--verify")
    assert damaged.returncode == 1
    assert "term:city" in damaged.stdout and "geo:loc" in damaged.stdout
    assert served.pointlog("replay", collection).returncode == 0
    assert served.pointlog("replay", collection, "--verify").returncode == 0
    found = client.simulate_post(f"{path}/points/count", json={"filter": city_b}).json["result"]
    assert found == {"count": 0}
