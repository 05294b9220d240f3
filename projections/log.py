"""The log: one Redis stream per collection, the source of truth.

Appending allocates the event's operation_ids and adds the entry in one script, so ids are
gapless and the stream's order is the operation_id order. An entry's id is `<seq after it>-1`:
reading after a checkpoint `applied` is XRANGE from `(<applied>-1`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import orjson
import redis

from projections import event_format
from projections.collections import CollectionGone
from projections.errors import QdrantError, from_record
from projections.events import Event
from projections.keys import Keys
from projections.store import script

# KEYS: seq, log, kick. ARGV: number of operations, format version, header, blob.
# Returns {seq after the event, 1 if this append raised the kick flag}, or -1 when the
# collection is gone (its `seq` key is removed first when a collection is deleted). The entry
# is stamped with the server's clock (event_format.py).
_APPEND = script(
    b"""
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local seq = redis.call('INCRBY', KEYS[1], ARGV[1])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('XADD', KEYS[2], seq .. '-1', 'v', ARGV[2], 't', ms, 'h', ARGV[3], 'b', ARGV[4])
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


def append(r: redis.Redis, keys: Keys, event: Event, name: str) -> Appended:
    encoded = event.encode()
    n = len(event.ops)
    result = _APPEND(
        keys=[keys.seq, keys.log, keys.kick],
        args=[n, event_format.FORMAT, encoded["h"], encoded["b"]],
        client=r,
    )
    if result == -1:
        raise CollectionGone(name)
    seq, kicked = int(result[0]), bool(result[1])
    return Appended(first_op=seq - n, last_op=seq - 1, kicked=kicked)


# KEYS: checkpoint, log, index definitions. ARGV: count, highest entry id ("+" for none).
# One round trip for what a worker's batch starts from: the checkpoint, the events after it
# and the projection's payload indexes. False when the checkpoint is gone (collection deleted).
_NEXT_BATCH = script(
    b"""
local applied = redis.call('GET', KEYS[1])
if not applied then return false end
local entries = redis.call('XRANGE', KEYS[2], '(' .. applied .. '-1', ARGV[2], 'COUNT', ARGV[1])
return {applied, entries, redis.call('HGETALL', KEYS[3])}
"""
)


@dataclass(frozen=True)
class Batch:
    applied: int
    events: list[tuple[int, Event]]  # (seq after the event, event)
    indexes: dict[bytes, bytes]  # payload index definitions of the projection


def next_batch(r: redis.Redis, keys: Keys, count: int, until: int | None = None) -> Batch | None:
    """The events after the checkpoint of the projection at `keys` (up to seq `until`)."""
    high = "+" if until is None else f"{until}-1"
    found = _NEXT_BATCH(keys=[keys.applied, keys.log, keys.indexes], args=[count, high], client=r)
    if not found:
        return None
    applied, entries, flat = found
    events = [(_seq_of(entry), event_format.decode(_pairs(fields))) for entry, fields in entries]
    return Batch(int(applied), events, _pairs(flat))


def _seq_of(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def read_after(r: redis.Redis, keys: Keys, applied: int, count: int) -> list[tuple[int, Event]]:
    """Up to `count` events after the checkpoint, each with the seq reached once it is
    applied."""
    entries = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]",
        r.xrange(keys.log, min=f"({applied}-1", max="+", count=count),
    )
    return [(_seq_of(entry_id), event_format.decode(fields)) for entry_id, fields in entries]


def outcomes(r: redis.Redis, keys: Keys, op_ids: range) -> list[QdrantError | None]:
    """What each applied operation met: its error, or None when it succeeded."""
    records = r.hmget(keys.errors, list(op_ids))
    return [None if record is None else from_record(orjson.loads(record)) for record in records]
