"""Switching an alias under load, as a re-index does: clients keep writing through the alias
to two web pods while it is switched back and forth between two collections. Every write
lands in exactly one of them, under the operation id it was acknowledged with, and none is
lost."""

from __future__ import annotations

import threading

import httpx
import redis

from tests.support import Cluster

WRITERS = 4
WRITES_EACH = 120


def write_through(url: str, alias: str, first_id: int, acknowledged: list, failed: list) -> None:
    """Upsert points first_id.. one a request, through the alias; keep each acknowledgement
    (and each answer that is not one)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        for point_id in range(first_id, first_id + WRITES_EACH):
            body = {"points": [{"id": point_id, "vector": [1, 0]}]}
            response = http.put(f"/collections/{alias}/points", json=body)
            if response.status_code != 200:
                failed.append(response.text)
                continue
            acknowledged.append((point_id, response.json()["result"]["operation_id"]))


def switch(url: str, alias: str, targets: tuple[str, str], done: threading.Event) -> int:
    """Point the alias at each target in turn, over and over, until the writers are done;
    returns the switches made."""
    made = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        while not done.is_set() or made < 2:
            target = targets[made % 2]
            actions = [
                {"delete_alias": {"alias_name": alias}},
                {"create_alias": {"alias_name": alias, "collection_name": target}},
            ]
            assert http.post("/collections/aliases", json={"actions": actions}).status_code == 200
            made += 1
    return made


def history(http: httpx.Client, collection: str, point_id: int) -> list[int]:
    found = http.get(f"/collections/{collection}/points/{point_id}/history").json()["result"]
    return [op["operation_id"] for op in found["operations"]]


def test_writes_through_a_switching_alias_land_once_and_are_never_lost(redis_url, tmp_path):
    redis.Redis.from_url(redis_url).ping()
    with Cluster(redis_url, logs=tmp_path) as cluster:
        cluster.start_workers(2)
        urls = cluster.start_webs(2)
        targets = ("switch-a", "switch-b")
        with httpx.Client(base_url=urls[0], timeout=30) as http:
            for name in targets:
                http.delete(f"/collections/{name}")
                config = {"vectors": {"size": 2, "distance": "Dot"}}
                assert http.put(f"/collections/{name}", json=config).status_code == 200
            first = {"create_alias": {"alias_name": "switching", "collection_name": targets[0]}}
            assert http.post("/collections/aliases", json={"actions": [first]}).status_code == 200
        acknowledged: list[tuple[int, int]] = []
        failed: list[str] = []
        done = threading.Event()
        writers = [
            threading.Thread(
                target=write_through,
                args=(urls[k % 2], "switching", k * WRITES_EACH, acknowledged, failed),
            )
            for k in range(WRITERS)
        ]
        switches: list[int] = []
        switcher = threading.Thread(
            target=lambda: switches.append(switch(urls[1], "switching", targets, done))
        )
        switcher.start()
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        done.set()
        switcher.join()
        assert switches[0] >= 2
        assert failed == []

        with httpx.Client(base_url=urls[0], timeout=60) as http:
            held = {}
            for name in targets:
                scrolled = http.post(
                    f"/collections/{name}/points/scroll", json={"limit": WRITERS * WRITES_EACH}
                ).json()["result"]["points"]
                held[name] = {p["id"] for p in scrolled}
            assert not held[targets[0]] & held[targets[1]], "a write landed in both"
            assert held[targets[0]] | held[targets[1]] == {p for p, _ in acknowledged}
            assert held[targets[0]] and held[targets[1]], "the switches split no writes"
            for point_id, operation_id in acknowledged[::10]:
                where = targets[0] if point_id in held[targets[0]] else targets[1]
                assert history(http, where, point_id) == [operation_id]
