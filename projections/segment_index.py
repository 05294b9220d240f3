"""A segment's index, for point history: which of the segment's operations touched each point,
and each operation's type and time. The archiver stores it beside its segment (`<span>.idx`)
before the stream is trimmed, so a point's archived history is found without reading the
segments themselves, and Redis keeps nothing of it.

Layout: `PLIDX1\\n`, then zlib-compressed JSON: `{"points": {key: [op, ...]}, "ops": {op:
[type, time]}}`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import orjson

from projections import events as E
from projections.events import Event, points_named
from projections.segments import LEVEL, DamagedSegment

MAGIC = b"PLIDX1\n"
SUFFIX = ".idx"


@dataclass(frozen=True)
class SegmentIndex:
    points: dict[str, list[int]]  # point key -> the operations that touched it, in order
    ops: dict[int, tuple[str, int | None]]  # operation id -> (type, time appended)


def filtered_operations(events: list[tuple[int, Event]]) -> list[int]:
    """The operations whose points only applying them resolved (their `resolved` records)."""
    return [
        seq_after - len(event.ops) + i
        for seq_after, event in events
        for i, op in enumerate(event.ops)
        if E.by_filter(op)
    ]


def build(events: list[tuple[int, Event]], resolved: dict[int, list[str]]) -> SegmentIndex:
    """The index of a segment's events; `resolved`: the points each filter-based operation
    touched (one that touched none may be missing)."""
    points: dict[str, list[int]] = {}
    ops: dict[int, tuple[str, int | None]] = {}
    for seq_after, event in events:
        first = seq_after - len(event.ops)
        for i, op in enumerate(event.ops):
            op_id = first + i
            ops[op_id] = (op["type"], event.time)
            named = points_named(op)
            for key in resolved.get(op_id, []) if named is None else named:
                points.setdefault(key, []).append(op_id)
    return SegmentIndex(points, ops)


def encode(index: SegmentIndex) -> bytes:
    body = {"points": index.points, "ops": index.ops}
    return MAGIC + zlib.compress(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), LEVEL)


def decode(data: bytes) -> SegmentIndex:
    if not data.startswith(MAGIC):
        raise DamagedSegment("not a pointlog segment index")
    try:
        body = orjson.loads(zlib.decompress(data[len(MAGIC) :]))
    except (zlib.error, orjson.JSONDecodeError) as error:
        raise DamagedSegment(f"a damaged segment index: {error}") from error
    ops = {int(op): (kind, time) for op, (kind, time) in body["ops"].items()}
    return SegmentIndex(body["points"], ops)
