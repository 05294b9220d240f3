"""The change feed users read (`GET /collections/{name}/changes`): the collection's applied
operations in order, each with its type, the time it was appended, the points it touched and
its outcome; resumable from any operation id the log holds.

Served from three places: the log (types and times), the outcome records (errors) and the
internal change feed (changes.py), whose records say, per operation, the points it touched as
applied (filter-based operations resolved). That feed keeps CHANGE_FEED_COMMITS commits; for
older operations the points are those the event names, and `null` for a filter-based one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from projections import changes, event_format, ids, log
from projections.archive import Archive
from projections.collections import Collection
from projections.errors import QdrantError
from projections.events import Operation, points_named
from projections.jsontypes import JsonObject
from projections.keys import Keys

CHANGES_READ = 64  # change records read a round trip, newest first


@dataclass(frozen=True)
class Page:
    operations: list[JsonObject]
    last_operation_id: int  # where the next page starts: its `since`


def read(
    r: redis.Redis, collection: Collection, since: int, limit: int, archive: Archive | None = None
) -> Page:
    """Up to `limit` applied operations with ids above `since`, oldest first (those moved out
    of the hot log read from `archive`)."""
    keys = collection.keys
    applied = int(cast("bytes | None", r.get(keys.applied)) or 0)  # operations [0, applied)
    first, last = since + 1, min(applied, since + 1 + limit) - 1
    if last < first:
        return Page([], since)
    events = log.read_after(r, keys, first, limit, archive, blob=False)
    if events:  # fewer than asked when they end a segment of the archive
        last = min(last, events[-1][0] - 1)
    found: list[tuple[int, Operation, int | None]] = []  # (operation_id, operation, time)
    for seq_after, event in events:
        start = seq_after - len(event.ops)
        found += [
            (start + i, op, event.time)
            for i, op in enumerate(event.ops)
            if first <= start + i <= last
        ]
    errors = log.outcomes(r, keys, range(first, last + 1))
    touched = _touched(r, keys, first, last)
    operations = [
        _described(op_id, op, time, touched.get(op_id, points_named(op)), errors[op_id - first])
        for op_id, op, time in found
    ]
    return Page(operations, last)


def _touched(r: redis.Redis, keys: Keys, first: int, last: int) -> dict[int, list[str]]:
    """The points each operation in [first, last] touched as applied, for those the change
    records still cover (an operation they cover and do not list touched none)."""
    touched: dict[int, list[str]] = {}
    newest = b"+"
    while True:
        entries = cast("changes.Entries", r.xrevrange(keys.changes, max=newest, count=CHANGES_READ))
        for entry_id, fields in entries:
            change = changes.Change.decode(entry_id, fields)
            for op_id in range(max(first, change.before), min(last + 1, change.after)):
                touched[op_id] = change.ops.get(op_id, [])
            if change.before <= first:
                return touched
        if len(entries) < CHANGES_READ:
            return touched
        newest = b"(" + entries[-1][0]


def _described(
    op_id: int,
    op: Operation,
    time: int | None,
    touched: list[str] | None,
    error: QdrantError | None,
) -> JsonObject:
    described: JsonObject = {
        "operation_id": op_id,
        "type": op["type"],
        "time": None if time is None else event_format.iso_time(time),
        "points": None if touched is None else [ids.from_key(key) for key in touched],
        "status": "completed" if error is None else "failed",
    }
    if error is not None:
        described["error"] = error.message
    return described
