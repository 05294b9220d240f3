"""A point's history (`GET /collections/{name}/points/{id}/history`): every applied operation
that touched the point, oldest first, with its id, type, time and outcome; paged like the
change feed (`since`, `last_operation_id`).

The archived part comes from the segments' indexes (segment_index.py), one small file per
segment, cached by each process. The hot part is read from the stream itself: operations name
their points, and those selecting them by a filter left `resolved` records when applied. So
Redis keeps nothing per point for history, and a request reads at most the hot log (bounded by
HOT_LOG_OPERATIONS and HOT_LOG_MB with an archive; the whole log without one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import orjson
import redis

from projections import event_format, log
from projections.archive import Archive
from projections.collections import Collection
from projections.errors import QdrantError
from projections.events import points_named
from projections.jsontypes import JsonObject
from projections.keys import Keys

HOT_READ = 256  # events read from the stream a round trip

Touch = tuple[int, str, int | None]  # (operation id, type, time appended)


@dataclass(frozen=True)
class Page:
    operations: list[JsonObject]
    last_operation_id: int  # where the next page starts: its `since`


def read(
    r: redis.Redis,
    collection: Collection,
    key: str,
    since: int,
    limit: int,
    archive: Archive | None,
) -> Page:
    """Up to `limit` applied operations after `since` that touched the point `key`."""
    keys = collection.keys
    archived, applied = (int(v or 0) for v in r.mget(keys.archived, keys.applied))
    found: list[Touch] = []
    last = applied - 1  # the last operation looked at
    sources = [_hot(r, keys, key, max(since + 1, archived), applied, archive)]
    if archive is not None and since + 1 < archived:
        sources.insert(0, _archived(archive, keys.cid, key, since, archived))
    for touch in (t for source in sources for t in source):
        if len(found) == limit:
            last = found[-1][0]
            break
        found.append(touch)
    errors = log.outcomes(r, keys, [op_id for op_id, _, _ in found]) if found else []
    described = [_described(t, e) for t, e in zip(found, errors, strict=True)]
    return Page(described, max(last, since))


def _archived(archive: Archive, cid: int, key: str, since: int, archived: int) -> Iterator[Touch]:
    """The point's operations after `since` in the segments below `archived`."""
    seen = since
    for span in archive.spans(cid):
        if span.last <= seen or span.first >= archived:
            continue
        index = archive.index(cid, span)
        for op_id in index.points.get(key, []):
            if op_id > seen:  # segments may overlap (archiver.py): each operation once
                yield (op_id, *index.ops[op_id])
                seen = op_id
        seen = max(seen, span.last)


def _hot(
    r: redis.Redis, keys: Keys, key: str, start: int, applied: int, archive: Archive | None
) -> Iterator[Touch]:
    """The point's operations from `start` up to the checkpoint, read from the stream."""
    at = start
    while at < applied:
        events = log.read_after(r, keys, at, HOT_READ, archive, blob=False)
        if not events:
            return
        touches: list[Touch] = []
        filtered: set[int] = set()
        for seq_after, event in events:
            first = seq_after - len(event.ops)
            for i, op in enumerate(event.ops):
                op_id = first + i
                if not at <= op_id < applied:
                    continue
                named = points_named(op)
                if named is None:
                    filtered.add(op_id)
                if named is None or key in named:
                    touches.append((op_id, op["type"], event.time))
        touched = _resolved_touching(r, keys, key, filtered)
        yield from (t for t in touches if t[0] not in filtered or t[0] in touched)
        at = events[-1][0]


def _resolved_touching(r: redis.Redis, keys: Keys, key: str, op_ids: set[int]) -> set[int]:
    """Those of the filter-based operations that touched the point, as applied."""
    if not op_ids:
        return set()
    ordered = sorted(op_ids)
    records = cast("list[bytes | None]", r.hmget(keys.resolved, ordered))
    found = zip(ordered, records, strict=True)
    return {op for op, record in found if record and key in orjson.loads(record)}


def _described(touch: Touch, error: QdrantError | None) -> JsonObject:
    op_id, kind, time = touch
    described: JsonObject = {
        "operation_id": op_id,
        "type": kind,
        "time": None if time is None else event_format.iso_time(time),
        "status": "completed" if error is None else "failed",
    }
    if error is not None:
        described["error"] = error.message
    return described
