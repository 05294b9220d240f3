"""The log: one Redis stream per collection, the source of truth.

Appending allocates the event's operation_ids and adds the entry in one script, so ids are
gapless and the stream's order is the operation_id order. An entry's id is `<seq after it>-1`:
reading after a checkpoint `applied` is XRANGE from `(<applied>-1`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import orjson
import redis

from projections import event_format
from projections.archive import Archive
from projections.collections import Collection, CollectionGone, ConfigChanged
from projections.errors import QdrantError, from_record
from projections.event_format import Fields
from projections.events import Event
from projections.jsontypes import JsonObject
from projections.keys import Keys
from projections.replication import Replication, run_and_wait
from projections.segments import Entry
from projections.store import script

# KEYS: seq, log, kick, log bytes, config version, config. ARGV: number of operations, format
# version, header, blob, the config version the event was checked against, and (for an event
# that changes the config) the new config as the `config` key keeps it.
# Returns {seq after the event, 1 if this append raised the kick flag}; -1 when the collection
# is gone (its `seq` key is removed first when a collection is deleted); -2 when its config
# changed since the event was checked. The entry is stamped with the server's clock
# (event_format.py), and its size (segments.raw_size) counted for retention.
_APPEND = script(
    b"""
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if tonumber(redis.call('GET', KEYS[5]) or '0') ~= tonumber(ARGV[5]) then return -2 end
local seq = redis.call('INCRBY', KEYS[1], ARGV[1])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('XADD', KEYS[2], seq .. '-1', 'v', ARGV[2], 't', ms, 'h', ARGV[3], 'b', ARGV[4])
redis.call('INCRBY', KEYS[4], #ARGV[3] + #ARGV[4])
if ARGV[6] then
  redis.call('SET', KEYS[6], ARGV[6])
  redis.call('INCR', KEYS[5])
end
local kicked = redis.call('SET', KEYS[3], '1', 'NX')
if kicked then return {seq, 1} end
return {seq, 0}
"""
)


@dataclass(frozen=True)
class Appended:
    first_op: int  # operation_id of the event's first operation
    last_op: int
    kicked: bool  # this append raised the collection's kick flag: a job must be queued
    replicated: int | None = None  # how many replicas have it, when the append asked


def append(
    r: redis.Redis,
    collection: Collection,
    event: Event,
    config: JsonObject | None = None,
    replication: Replication | None = None,
) -> Appended:
    """Append an event checked against `collection`'s config; with `config`, the event
    changes the collection's config to it, in the same step; with `replication`, then wait
    for the replicas (Appended.replicated says how many have it)."""
    encoded = event.encode()
    n = len(event.ops)
    keys = collection.keys
    args: list[bytes | int] = [
        n,
        event_format.FORMAT,
        encoded["h"],
        encoded["b"],
        collection.version,
    ]
    if config is not None:
        args.append(orjson.dumps({"version": collection.version + 1, "config": config}))
    touched = [keys.seq, keys.log, keys.kick, keys.log_bytes, keys.version, keys.config]
    replicated = None
    if replication is None:
        result = _APPEND(keys=touched, args=args, client=r)
    else:
        result, replicated = run_and_wait(
            r, _APPEND, touched, args, replication.replicas, replication.timeout_ms
        )
    if result == -1:
        raise CollectionGone(collection.name)
    if result == -2:
        raise ConfigChanged(collection.name)
    seq, kicked = int(result[0]), bool(result[1])
    return Appended(seq - n, seq - 1, kicked, replicated)


# KEYS: checkpoint, log, index definitions, archived, schema. ARGV: count, highest entry id
# ("+" for none). One round trip for what a worker's batch starts from: the checkpoint, the
# events after it (none when they are archived: the caller reads them there), the projection's
# payload indexes and the config it is at. False when the checkpoint is gone (collection
# deleted).
_NEXT_BATCH = script(
    b"""
local applied = redis.call('GET', KEYS[1])
if not applied then return false end
local indexes = redis.call('HGETALL', KEYS[3])
local schema = redis.call('GET', KEYS[5])
local archived = tonumber(redis.call('GET', KEYS[4]) or '0')
if tonumber(applied) < archived then return {applied, 1, {}, indexes, schema} end
local entries = redis.call('XRANGE', KEYS[2], '(' .. applied .. '-1', ARGV[2], 'COUNT', ARGV[1])
return {applied, 0, entries, indexes, schema}
"""
)


@dataclass(frozen=True)
class Batch:
    applied: int
    events: list[tuple[int, Event]]  # (seq after the event, event)
    indexes: dict[bytes, bytes]  # payload index definitions of the projection
    schema: bytes | None  # the config the projection is at (collections.at_checkpoint)


class ArchiveNeeded(QdrantError):
    """The entries to read were moved to the archive, and no archive was given (ARCHIVE_URL
    is not set in this process)."""


def next_batch(
    r: redis.Redis, keys: Keys, count: int, until: int | None = None, archive: Archive | None = None
) -> Batch | None:
    """The events after the checkpoint of the projection at `keys` (up to seq `until`): from
    the stream, or from the archive when they have been moved there."""
    high = "+" if until is None else f"{until}-1"
    found = _NEXT_BATCH(
        keys=[keys.applied, keys.log, keys.indexes, keys.archived, keys.schema],
        args=[count, high],
        client=r,
    )
    if not found:
        return None
    applied, in_archive, entries, flat, schema = found
    if in_archive:
        events = _decoded(_archived(archive, keys.cid, int(applied), count, until))
    else:
        events = _decoded((_seq_of(e), _pairs(f)) for e, f in entries)
    return Batch(int(applied), events, _pairs(flat), schema or None)


def _archived(
    archive: Archive | None, cid: int, applied: int, count: int, until: int | None
) -> list[Entry]:
    if archive is None:
        raise ArchiveNeeded(f"operation {applied} is archived: set ARCHIVE_URL to read it")
    return archive.entries_after(cid, applied, count, until)


def _decoded(entries: Iterable[Entry], blob: bool = True) -> list[tuple[int, Event]]:
    return [(seq_after, event_format.decode(fields, blob)) for seq_after, fields in entries]


def _seq_of(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def read_after(
    r: redis.Redis,
    keys: Keys,
    applied: int,
    count: int,
    archive: Archive | None = None,
    blob: bool = True,
) -> list[tuple[int, Event]]:
    """Up to `count` events after the checkpoint, each with the seq reached once it is
    applied: from the stream, or from the archive for those moved there (without `blob`, their
    operations alone: event_format.decode)."""
    with r.pipeline(transaction=True) as pipe:
        pipe.get(keys.archived)
        _xrange_after(pipe, keys, applied, count)
        archived, entries = pipe.execute()
    if applied < int(archived or 0):
        return _decoded(_archived(archive, keys.cid, applied, count, None), blob)
    return _decoded(_entries(entries), blob)


def entries_after(r: redis.Redis, keys: Keys, applied: int, count: int) -> list[Entry]:
    """Up to `count` entries the stream holds after the checkpoint, as stored."""
    return _entries(_xrange_after(r, keys, applied, count))


def _xrange_after(r: redis.Redis, keys: Keys, applied: int, count: int) -> object:
    return r.xrange(keys.log, min=f"({applied}-1", max="+", count=count)


def _entries(found: object) -> list[Entry]:
    listed = cast("list[tuple[bytes, Fields]]", found)
    return [(_seq_of(entry_id), fields) for entry_id, fields in listed]


# KEYS: log, archived, log bytes, checkpoint, resolved. ARGV: the first archived operation the
# segment holds (where `archived` must still be), the seq after its last entry, the segment's
# bytes, then the operations whose `resolved` records its index holds. Trims what a stored
# and checked segment holds, all or nothing: 1 when done, 0 when another archiver got there
# first or the segment is not all applied (a replay rewound the checkpoint), -1 when the
# collection is gone.
_TRIM = script(
    b"""
local applied = redis.call('GET', KEYS[4])
if not applied then return -1 end
local archived = tonumber(redis.call('GET', KEYS[2]) or '0')
local upto = tonumber(ARGV[2])
if archived ~= tonumber(ARGV[1]) or upto > tonumber(applied) then return 0 end
redis.call('XTRIM', KEYS[1], 'MINID', (upto + 1) .. '-0')
redis.call('SET', KEYS[2], upto)
local left = redis.call('DECRBY', KEYS[3], ARGV[3])
if left < 0 then redis.call('SET', KEYS[3], 0) end
for i = 4, #ARGV do redis.call('HDEL', KEYS[5], ARGV[i]) end
return 1
"""
)


def trim(r: redis.Redis, keys: Keys, first: int, upto: int, size: int, resolved: list[int]) -> int:
    """Drop the entries of operations `first`..`upto - 1`, now held by an archived segment of
    `size` bytes, and the `resolved` records of these operations, now in its index; see _TRIM
    for the answer."""
    return int(
        _TRIM(
            keys=[keys.log, keys.archived, keys.log_bytes, keys.applied, keys.resolved],
            args=[first, upto, size, *resolved],
            client=r,
        )
    )


def outcomes(r: redis.Redis, keys: Keys, op_ids: Sequence[int]) -> list[QdrantError | None]:
    """What each applied operation met: its error, or None when it succeeded."""
    records = r.hmget(keys.errors, list(op_ids))
    return [None if record is None else from_record(orjson.loads(record)) for record in records]
