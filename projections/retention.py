"""Retention: moving a collection's oldest log entries out of Redis into the archive.

The hot log keeps at most `operations` applied operations and `megabytes` of events; whichever
limit is passed first moves the oldest entries out. Entries not yet applied always stay (the
workers read them from the stream). So that segments are not tiny, moving starts once the hot
log is over a limit by SEGMENT_SHARE of it, and then goes on until it is within both.

Each segment, and then its index for point history (segment_index.py), is stored and read back
before the stream is trimmed (log.trim), so an entry is always in Redis or in a checked
segment. A crash between the two leaves a segment whose
entries are still in the stream: the next run finds it by its first operation and trims them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
import redis

from projections import event_format, log, segment_index
from projections.archive import Archive
from projections.keys import Keys
from projections.segments import DamagedSegment, Entry, Segment, raw_size

SEGMENT_SHARE = 0.25
SEGMENT_MAX_BYTES = 16 * 1024 * 1024  # a segment is decoded whole when read: keep it small
READ_COUNT = 256  # entries read from the stream a round trip


@dataclass(frozen=True)
class Limits:
    operations: int
    megabytes: float

    @property
    def bytes(self) -> int:
        return int(self.megabytes * 1024 * 1024)


@dataclass(frozen=True)
class HotLog:
    archived: int  # operations below this id are archived
    applied: int  # the live checkpoint
    bytes: int  # the events' size in the stream

    @property
    def operations(self) -> int:
        """Applied operations the stream holds."""
        return self.applied - self.archived

    def over(self, limits: Limits, share: float = 0.0) -> bool:
        """Past a limit by more than `share` of it."""
        return (
            self.operations > limits.operations * (1 + share)
            or self.bytes > limits.bytes * (1 + share)
        ) and self.operations > 0


def hot_log(r: redis.Redis, keys: Keys) -> HotLog | None:
    """The hot log's figures; None once the collection is gone."""
    archived, applied, size = r.mget(keys.archived, keys.applied, keys.log_bytes)
    if applied is None:
        return None
    return HotLog(int(archived or 0), int(applied), int(size or 0))


def move_out(
    r: redis.Redis,
    keys: Keys,
    archive: Archive,
    limits: Limits,
    renew: Callable[[], None] = lambda: None,
) -> int:
    """Move the oldest entries out while the hot log is over its limits (see the module's
    docstring); `renew` is called after each segment. Returns the segments moved."""
    hot = hot_log(r, keys)
    moved = 0
    while hot is not None and hot.over(limits, SEGMENT_SHARE):
        segment = _stored_segment(r, keys, archive, hot, limits)
        if segment is None:
            break
        resolved = _store_index(r, keys, archive, segment)
        span = segment.span
        if log.trim(r, keys, span.first, span.last + 1, segment.raw_bytes, resolved) != 1:
            break  # another archiver moved it, or the collection is gone
        moved += 1
        renew()
        hot = hot_log(r, keys)
    return moved


def _stored_segment(
    r: redis.Redis, keys: Keys, archive: Archive, hot: HotLog, limits: Limits
) -> Segment | None:
    """The next segment, in storage: one left by an archiver that stopped before trimming,
    or a new one."""
    left = next((s for s in archive.spans(keys.cid) if s.first == hot.archived), None)
    if left is not None and left.last < hot.applied:
        try:
            return archive.read(keys.cid, left, fresh=True)
        except DamagedSegment:
            pass  # cut short by a crash: written again below
    entries = _entries_to_move(r, keys, hot, limits)
    return archive.write(keys.cid, hot.archived, entries) if entries else None


def _store_index(r: redis.Redis, keys: Keys, archive: Archive, segment: Segment) -> list[int]:
    """Store the segment's index (segment_index.py); returns the filter-based operations whose
    `resolved` records it now holds."""
    entries = segment.entries
    events = [(seq_after, event_format.decode(fields, blob=False)) for seq_after, fields in entries]
    filtered = segment_index.filtered_operations(events)
    found = r.hmget(keys.resolved, filtered) if filtered else []
    resolved = {op: orjson.loads(keys) for op, keys in zip(filtered, found, strict=True) if keys}
    archive.write_index(keys.cid, segment.span, segment_index.build(events, resolved))
    return filtered


def _entries_to_move(r: redis.Redis, keys: Keys, hot: HotLog, limits: Limits) -> list[Entry]:
    """The oldest applied entries, while what stays is over the limits and the segment has
    room."""
    entries: list[Entry] = []
    moved_bytes, after = 0, hot.archived
    while True:
        chunk = log.entries_after(r, keys, after, READ_COUNT)
        for seq_after, fields in chunk:
            stays = HotLog(after, hot.applied, hot.bytes - moved_bytes)
            if seq_after > hot.applied or not stays.over(limits):
                return entries
            entries.append((seq_after, fields))
            moved_bytes += raw_size(fields)
            after = seq_after
            if moved_bytes >= SEGMENT_MAX_BYTES:
                return entries
        if len(chunk) < READ_COUNT:
            return entries
