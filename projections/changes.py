"""The change feed: what each commit of the live projection changed, point by point.

Workers append one record per commit to the collection's `changes` stream, inside the same
MULTI/EXEC as the projection's writes and its checkpoint, so the feed can never disagree with
the projection. It is how every read model other than the Redis projection (the vector read
model of each web process, say) learns of changes: load the projection once, then follow.

A record says, for the commit that took the checkpoint from `before` to `after`:
- `upserted`: points replaced whole (payload and every vector), `deleted`: points removed,
  `payload`: points whose payload alone changed, `vectors`: per vector name, points whose
  vector of that name was set or removed (upserted and deleted points are not repeated there);
- `ops`: per operation id, the points it touched, in order (filter-based operations resolved
  as applied), which a user-facing feed of operations can be served from;
- `indexes`: the payload index fields created or dropped;
- `config`: whether the commit changed the collection's config (a vector name added or
  removed, a new HNSW config...): a read model reloads with the new config.

Records are contiguous: each one's `before` is the previous one's `after`. A reader that meets
a gap (its position was trimmed away, the stream is bounded) or a `reset` record (a replay
switched the projection) reloads from the projection. The last record's `after` is always the
checkpoint, since both are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import orjson
import redis

from projections.keys import Keys

Entries = list[tuple[bytes, dict[bytes, bytes]]]  # stream entries as redis-py reads them
DEFAULT_LENGTH = 1000  # commits kept; a reader further behind reloads from the projection
START = b"0-0"  # the position before any record


@dataclass
class Change:
    """One commit's changes (see the module docstring)."""

    before: int
    after: int
    upserted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    payload: list[str] = field(default_factory=list)
    vectors: dict[str, list[str]] = field(default_factory=dict)
    ops: dict[int, list[str]] = field(default_factory=dict)
    indexes: list[str] = field(default_factory=list)
    config: bool = False
    reset: bool = False
    entry_id: bytes = START  # its position in the stream, once read

    def encode(self) -> dict[str, bytes]:
        body = {
            "upserted": self.upserted,
            "deleted": self.deleted,
            "payload": self.payload,
            "vectors": self.vectors,
            "ops": self.ops,
            "indexes": self.indexes,
            "config": self.config,
        }
        return {
            "before": str(self.before).encode(),
            "after": str(self.after).encode(),
            "reset": b"1" if self.reset else b"0",
            "body": orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        }

    @classmethod
    def decode(cls, entry_id: bytes, fields: dict[bytes, bytes]) -> Change:
        body = orjson.loads(fields[b"body"])
        return cls(
            before=int(fields[b"before"]),
            after=int(fields[b"after"]),
            upserted=body["upserted"],
            deleted=body["deleted"],
            payload=body["payload"],
            vectors=body["vectors"],
            ops={int(op): keys for op, keys in body["ops"].items()},
            indexes=body["indexes"],
            config=body.get("config", False),  # absent from records of older versions
            reset=fields[b"reset"] == b"1",
            entry_id=entry_id,
        )

    def vector_keys(self, name: str) -> list[str]:
        """Every point whose vector `name` may differ after this commit."""
        return self.upserted + self.deleted + self.vectors.get(name, [])


def append(pipe: redis.client.Pipeline, keys: Keys, change: Change, length: int) -> None:
    """Queue the record on the commit's pipeline (inside its MULTI); the stream keeps about
    `length` records."""
    pipe.xadd(keys.changes, change.encode(), maxlen=length, approximate=True)  # type: ignore[arg-type]


def reset(pipe: redis.client.Pipeline, keys: Keys, checkpoint: int) -> None:
    """Queue a record telling readers the projection was replaced at `checkpoint`."""
    pipe.xadd(keys.changes, Change(checkpoint, checkpoint, reset=True).encode())  # type: ignore[arg-type]


@dataclass(frozen=True)
class Position:
    """Where a reader starts: the last record so far and the checkpoint it reached."""

    entry_id: bytes
    checkpoint: int


def position(r: redis.Redis, keys: Keys) -> Position | None:
    """The feed's end and the checkpoint, read together (None: the collection is gone). A
    reader that loads the projection after this and then follows from here misses nothing."""
    with r.pipeline(transaction=True) as pipe:
        pipe.xrevrange(keys.changes, count=1)
        pipe.get(keys.applied)
        last, applied = pipe.execute()
    if applied is None:
        return None
    entry_id = cast("bytes", last[0][0]) if last else START
    return Position(entry_id, int(applied))


def read(
    r: redis.Redis, keys: Keys, after: bytes, count: int, block_ms: int | None = None
) -> list[Change]:
    """Up to `count` records after position `after`; with `block_ms`, waits that long for the
    first one when there is none yet."""
    entries: Entries
    if block_ms is None:
        entries = cast("Entries", r.xrange(keys.changes, min=b"(" + after, count=count))
    else:
        found = cast("list[tuple[bytes, Entries]]", r.xread({keys.changes: after}, count, block_ms))
        entries = found[0][1] if found else []
    return [Change.decode(entry_id, fields) for entry_id, fields in entries]
