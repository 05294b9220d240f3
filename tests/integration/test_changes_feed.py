"""The change feed users read (`GET /collections/{name}/changes`): applied operations in order
with their type, time, the points they touched (filter-based ones resolved as applied) and
their outcome; pages that resume from `last_operation_id`; a long poll that returns the next
operation once it is applied."""

from __future__ import annotations

import threading
from datetime import datetime

import orjson

from projections import collections
from tests.support import stop


def write(client, name: str, path: str, body: dict, wait: str = "true", method: str = "POST"):
    client.simulate_request(
        method, f"/collections/{name}/points{path}", params={"wait": wait}, json=body
    )


def changes(client, name: str, **params) -> dict:
    response = client.simulate_get(f"/collections/{name}/changes", params=params)
    assert response.status_code == 200, response.text
    return response.json["result"]


def fill(client, name: str) -> None:
    """Operations 0-3: an upsert, a payload set by filter, a delete, a failing vector update."""
    points = [{"id": i, "vector": [i, 1, 1, 1], "payload": {"odd": i % 2 == 1}} for i in (1, 2, 3)]
    write(client, name, "", {"points": points}, method="PUT")
    flt = {"must": [{"key": "odd", "match": {"value": True}}]}
    write(client, name, "/payload", {"payload": {"seen": 1}, "filter": flt})
    write(client, name, "/delete", {"points": [2]})
    write(client, name, "/vectors", {"points": [{"id": 99, "vector": [1, 1, 1, 1]}]}, method="PUT")


def test_the_feed_lists_each_applied_operation_with_its_points_and_outcome(client, collection):
    fill(client, collection)
    feed = changes(client, collection)
    assert feed["last_operation_id"] == 3
    operations = feed["operations"]
    assert [(op["operation_id"], op["type"], op["points"], op["status"]) for op in operations] == [
        (0, "upsert", [1, 2, 3], "completed"),
        (1, "set_payload", [1, 3], "completed"),
        (2, "delete", [2], "completed"),
        (3, "update_vectors", [], "failed"),
    ]
    assert operations[3]["error"] == "Not found: No point with id 99 found"
    times = [datetime.fromisoformat(op["time"]) for op in operations]
    assert times == sorted(times)


def test_pages_resume_from_the_last_operation_id(client, collection):
    fill(client, collection)
    first = changes(client, collection, since=-1, limit=3)
    assert [op["operation_id"] for op in first["operations"]] == [0, 1, 2]
    rest = changes(client, collection, since=first["last_operation_id"], limit=3)
    assert [op["operation_id"] for op in rest["operations"]] == [3]
    assert changes(client, collection, since=3) == {"operations": [], "last_operation_id": 3}


def test_without_change_records_named_points_remain_and_filtered_ones_are_unknown(
    client, store, collection
):
    fill(client, collection)
    store.delete(collections.find(store, collection).keys.changes)  # as if long trimmed
    operations = changes(client, collection)["operations"]
    assert [op["points"] for op in operations] == [[1, 2, 3], None, [2], [99]]


def test_a_long_poll_returns_the_next_operation_once_it_is_applied(client, collection):
    fill(client, collection)
    idle = changes(client, collection, since=3, feed="longpoll", timeout=1)
    assert idle == {"operations": [], "last_operation_id": 3}
    found: list[dict] = []
    poll = threading.Thread(
        target=lambda: found.append(changes(client, collection, since=3, feed="longpoll"))
    )
    poll.start()
    write(client, collection, "/delete", {"points": [1]}, wait="false")
    poll.join(timeout=60)
    assert [op["operation_id"] for op in found[0]["operations"]] == [4]


def test_an_event_stream_sends_each_operation_and_resumes_from_last_event_id(client, collection):
    """The stream ends after `timeout` seconds (an EventSource then reconnects)."""
    fill(client, collection)
    response = client.simulate_get(
        f"/collections/{collection}/changes",
        params={"feed": "eventsource", "timeout": "1"},
        headers={"Last-Event-ID": "1"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in response.text.split("\n\n") if block]
    assert blocks[0] == "retry: 1000"  # how soon an EventSource reconnects
    events = [dict(line.split(": ", 1) for line in block.splitlines()) for block in blocks[1:]]
    assert [(e["id"], e["event"]) for e in events] == [("2", "operation"), ("3", "operation")]
    sent = [orjson.loads(e["data"]) for e in events]
    assert sent == changes(client, collection, since=1)["operations"]


def test_the_command_prints_the_feed_and_follows_it(client, served, collection):
    fill(client, collection)
    printed = served.pointlog("changes", collection, "--since", "1")
    assert [orjson.loads(line) for line in printed.stdout.splitlines()] == (
        changes(client, collection, since=1)["operations"]
    )
    following = served.pointlog_following("changes", collection, "--since", "3", "--follow")
    try:
        write(client, collection, "/delete", {"points": [1]}, wait="false")
        assert orjson.loads(following.stdout.readline())["operation_id"] == 4
    finally:
        stop(following)


def test_bad_parameters_are_refused(client, collection):
    path = f"/collections/{collection}/changes"
    assert client.simulate_get(path, params={"since": "x"}).status_code == 400
    assert client.simulate_get(path, params={"limit": "0"}).status_code == 422
    assert client.simulate_get(path, params={"feed": "websocket"}).status_code == 400
    assert client.simulate_get("/collections/missing-one/changes").status_code == 404
