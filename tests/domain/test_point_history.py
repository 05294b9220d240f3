"""A point's history: every applied operation that touched it, oldest first, whether it named
the point or selected it by a filter, from the archive's segment indexes and the hot log
alike; and nothing of it stays in Redis once archived."""

from __future__ import annotations

import pytest

from projections import events, ids, point_history, retention
from projections.retention import Limits
from tests.domain.writes import settle, write

NO_BYTE_LIMIT = 1024.0


def history(r, col, point: int, archive, since: int = -1, limit: int = 100):
    key = ids.to_key(point)
    return point_history.read(r, col, key, since, limit, archive)


def ops_of(page) -> list[tuple[int, str]]:
    return [(op["operation_id"], op["type"]) for op in page.operations]


def fill(r, col) -> list[tuple[int, str]]:
    """Twelve operations on points 0-3; returns what touched point 1, as expected."""
    odd = {"must": [{"key": "odd", "match": {"value": True}}]}
    even = {"must": [{"key": "odd", "match": {"value": False}}]}
    points = [{"id": i, "vector": {"a": [i, 1]}, "payload": {"odd": i % 2 == 1}} for i in range(4)]
    write(r, col, events.add_upsert, {"points": points})  # 0: all
    for round_ in range(3):
        write(r, col, events.add_set_payload, {"payload": {"r": round_}, "filter": odd})  # 1, 4, 7
        write(r, col, events.add_set_payload, {"payload": {"r": round_}, "filter": even})  # 2, 5, 8
        write(r, col, events.add_update_vectors, {"points": [{"id": 2, "vector": {"a": [1, 1]}}]})
    write(r, col, events.add_delete, {"points": [1]})  # 10
    write(r, col, events.add_delete, {"points": [1]})  # 11: names it, finds nothing
    settle(r, col)
    return [
        (0, "upsert"), (1, "set_payload"), (4, "set_payload"), (7, "set_payload"),
        (10, "delete"), (11, "delete"),
    ]  # fmt: skip


@pytest.mark.parametrize("hot_operations", [100, 3, 0])  # none, most, all applied archived
def test_history_lists_what_touched_the_point_wherever_the_log_is(r, col, archive, hot_operations):
    expected = fill(r, col)
    retention.move_out(r, col.keys, archive, Limits(hot_operations, NO_BYTE_LIMIT))
    page = history(r, col, 1, archive)
    assert ops_of(page) == expected
    assert page.last_operation_id == 11
    assert all(op["status"] == "completed" and op["time"] for op in page.operations)


def test_history_pages_resume_from_the_last_operation_id(r, col, archive):
    expected = fill(r, col)
    retention.move_out(r, col.keys, archive, Limits(4, NO_BYTE_LIMIT))
    seen, since = [], -1
    while (page := history(r, col, 1, archive, since, limit=2)).operations:
        seen += ops_of(page)
        since = page.last_operation_id
    assert seen == expected


def test_a_point_no_operation_touched_has_no_history(r, col, archive):
    fill(r, col)
    retention.move_out(r, col.keys, archive, Limits(4, NO_BYTE_LIMIT))
    assert history(r, col, 77, archive).operations == []


def test_archived_operations_leave_no_resolved_points_in_redis(r, col, archive):
    fill(r, col)
    assert r.hlen(col.keys.resolved) == 6  # the six payload changes by filter
    retention.move_out(r, col.keys, archive, Limits(4, NO_BYTE_LIMIT))  # 8-11 stay
    assert r.hlen(col.keys.resolved) == 1  # operation 8 alone is still hot
