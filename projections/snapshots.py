"""Snapshots with an event-sourced meaning: a collection's projection at a checkpoint, with
its config at that checkpoint and the log position (the checkpoint itself).

Taking one copies the projection's keys in one script (Redis's COPY, beside the originals
under the same hash tag, with an expiry in case the taker dies), so workers wait no longer
than the copy, about as long as a large commit; the copies are then read in chunks, written
to the snapshot store (snapshot_format.py) and dropped.

A collection of several shards is snapshotted shard by shard, each at its own checkpoint,
into one container file (snapshot_format.SHARDS_MAGIC); recovering it makes each shard anew
from its own.

Recovering one makes the collection anew from it: a fresh cid whose projection is the
snapshot's, whose log starts at the snapshot's checkpoint (operation ids go on from there),
and whose registry entry names the snapshot as its `base`. A replay of such a collection starts
from its base (its log holds nothing before it); a replay of any collection may start from one
of its own snapshots instead of from operation 0.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, cast

import orjson
import redis

from projections import collections, index_data, shard_placement
from projections.collections import Collection
from projections.errors import QdrantError
from projections.jsontypes import JsonObject
from projections.keys import Keys
from projections.snapshot_format import (
    HASH,
    KINDS,
    SET,
    SHARDS_MAGIC,
    STRING,
    ZSET,
    BodyWriter,
    Chunk,
    Entry,
    Header,
    check_body,
    chunks,
    contained,
    is_container,
    read_container,
    read_header,
    write_container,
    write_file,
)
from projections.snapshot_store import SUFFIX, Description, SnapshotStore
from projections.store import script

COPY_SECONDS = 3600  # a copy left by a taker that died goes after this long
SCAN = 1000  # entries read per call when writing a snapshot out
SPOOL_BYTES = 64 << 20  # a snapshot's body stays in memory up to this size


# ---- taking a snapshot -----------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """A snapshot written: when, and at which checkpoint (of a collection of several shards:
    the sum of its shards')."""

    checkpoint: int
    created: str


def take(r: redis.Redis, collection: Collection, store: SnapshotStore) -> Description:
    """Snapshot the collection's live projection and store it; its description."""
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as whole:
        taken = write_snapshot(r, collection, whole)
        whole.seek(0)
        name = f"{collection.name}-{taken.checkpoint}-{stamp(taken.created)}{SUFFIX}"
        size, checksum = store.save(collection.name, name, whole)
    return Description(name, taken.created, size, checksum, collection.cid, taken.checkpoint)


def stamp(created: str) -> str:
    """A creation time as snapshot names show it: 2026-12-06-05-50-00."""
    return created.replace("T", "-").replace(":", "-")


def write_snapshot(r: redis.Redis, collection: Collection, out: IO[bytes]) -> Taken:
    """Write a snapshot of the collection's live projection to `out` (of a collection of
    several shards: a container of each shard's, each at its own checkpoint)."""
    if collection.sharded:
        return _write_shards(r, collection, out)
    header = _write_one(r, collection, out)
    return Taken(header.checkpoint, header.created)


def _write_shards(r: redis.Redis, collection: Collection, out: IO[bytes]) -> Taken:
    created = _now()
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as files:
        shards: list[JsonObject] = []
        for part in collection.parts:
            start = files.tell()
            header = _write_one(r, part, cast("IO[bytes]", files))
            shards.append({"bytes": files.tell() - start, "checkpoint": header.checkpoint})
        checkpoint = sum(shard["checkpoint"] for shard in shards)
        listed = {
            "collection": collection.name,
            "cid": collection.cid,
            "checkpoint": checkpoint,
            "created": created,
            "shards": shards,
        }
        write_container(out, SHARDS_MAGIC, listed, cast("IO[bytes]", files))
    return Taken(checkpoint, created)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def _write_one(r: redis.Redis, collection: Collection, out: IO[bytes]) -> Header:
    """Write a snapshot of one shard's live projection to `out`; its header."""
    copy, copies, checkpoint = _copy_projection(r, collection)
    created = _now()
    try:
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as body:
            writer = BodyWriter(body)
            schema = None
            for chunk in _read_copy(r, copy, copies):
                if chunk.suffix == "schema" and chunk.kind == STRING:
                    schema = cast("bytes", chunk.entries[0])
                writer.chunk(chunk)
            digest = writer.finish()
            config = collections.at_checkpoint(collection, schema).config
            header = Header(
                collection.name, collection.cid, checkpoint, config, created, writer.bytes, digest
            )
            body.seek(0)
            write_file(out, header, body)
    finally:
        if copies:
            r.unlink(*copies)  # gone already, unless writing it out failed
    return header


def _copy_projection(r: redis.Redis, collection: Collection) -> tuple[Keys, list[str], int]:
    """COPY every key of the live projection at one checkpoint (one script, so workers wait
    no longer than the copy); the copy, the keys it holds and its checkpoint. Which keys there
    are is read first; the script checks that no index or config changed meanwhile, else it
    runs again."""
    live, copy = collection.keys, collection.keys.copy(uuid.uuid4().hex[:12])
    while True:
        schema = cast("bytes | None", r.get(live.schema))
        fields = index_data.index_fields(r, live)
        names = collections.at_checkpoint(collection, schema).vector_names
        plain = [
            key
            for key in live.projection_keys(names, {f: [] for f in fields})
            if key not in {live.terms(f) for f in fields}
        ]
        args: list[bytes | str | int] = [live.projected(""), copy.projected(""), COPY_SECONDS]
        args += [schema or b"", len(fields), *fields, *(live.term(f, "") for f in fields)]
        listed = [live.applied, live.indexes, live.builds, live.schema]
        copied = _COPY(keys=listed + [live.terms(f) for f in fields] + plain, args=args, client=r)
        if copied == -2:
            raise collections.CollectionGone(collection.name)
        if copied != -1:
            applied, *targets = cast("list[bytes]", copied)
            return copy, [t.decode() for t in targets], int(applied)


# KEYS: checkpoint, index definitions, index builds, schema; the `terms` set of each index
# field; every other key to copy. ARGV: the live projection's key prefix, the copy's, seconds
# the copy lives, the schema the keys were listed with ("" for none), the number of fields F,
# the F fields, and the F prefixes of their term keys. Copies each key (and each term key the
# `terms` sets name) under the copy's prefix; returns the checkpoint followed by the copies
# made, -1 when an index or the config changed since the keys were listed (list them again),
# -2 when the collection is gone.
_COPY = script(
    b"""
local applied = redis.call('GET', KEYS[1])
if not applied then return -2 end
local schema = redis.call('GET', KEYS[4]) or ''
local fields = tonumber(ARGV[5])
if schema ~= ARGV[4] then return -1 end
local known = {}
for i = 1, fields do known[ARGV[5 + i]] = true end
for _, hash in ipairs({KEYS[2], KEYS[3]}) do
  for _, field in ipairs(redis.call('HKEYS', hash)) do
    if not known[field] then return -1 end
  end
end
local copied = {applied}
local function copy(key)
  local target = ARGV[2] .. string.sub(key, #ARGV[1] + 1)
  if redis.call('COPY', key, target) == 1 then
    redis.call('EXPIRE', target, ARGV[3])
    copied[#copied + 1] = target
  end
end
for i = 1, fields do
  local terms = KEYS[4 + i]
  copy(terms)
  for _, term in ipairs(redis.call('SMEMBERS', terms)) do copy(ARGV[5 + fields + i] .. term) end
end
for i = 5 + fields, #KEYS do copy(KEYS[i]) end
return copied
"""
)


def _read_copy(r: redis.Redis, copy: Keys, copies: list[str]) -> Iterator[Chunk]:
    """The copy's keys as chunks, each key read in slices and dropped once read."""
    for key in sorted(copies):
        kind = KINDS.get(cast("bytes", r.type(key)).decode())
        suffix = copy.suffix_of(key)
        if kind == STRING:
            yield Chunk(STRING, suffix, [cast("bytes", r.get(key))])
        elif kind is not None:
            for entries in _slices(r, key, kind):
                yield Chunk(kind, suffix, entries)
        r.unlink(key)


def _slices(r: redis.Redis, key: str, kind: int) -> Iterator[list[Entry]]:
    cursor = 0
    while True:
        if kind == HASH:
            cursor, found = r.hscan(key, cursor, count=SCAN)
            entries: list[Entry] = list(cast("dict[bytes, bytes]", found).items())
        elif kind == ZSET:
            cursor, pairs = r.zscan(key, cursor, count=SCAN)
            entries = [(m, float(s)) for m, s in cast("list[tuple[bytes, float]]", pairs)]
        else:
            cursor, members = r.sscan(key, cursor, count=SCAN)
            entries = list(cast("list[bytes]", members))
        if entries:
            yield entries
        if cursor == 0:
            return


# ---- starting a replay from a snapshot -------------------------------------------------------


def seed(
    r: redis.Redis,
    collection: Collection,
    shard: int,
    keys: Keys,
    store: SnapshotStore,
    latest: bool,
) -> int:
    """Restore into the (empty) projection at `keys` the snapshot a replay of the collection's
    `shard` starts from: its base if it was recovered from one, else (`latest`) its latest
    snapshot of its own; the checkpoint to apply the log from (0 without a snapshot)."""
    name = collection.base
    if name is None and latest:
        own = [d for d in store.listed(collection.name) if d.cid == collection.cid]
        name = max(own, key=lambda d: d.checkpoint).name if own else None
    if name is None:
        return 0
    with store.open(collection.name, name) as source:
        for number, file in enumerate(_shard_files(source)):
            if number == shard:
                header = read_header(file)
                check_body(file, header)
                restore(r, keys, file)
                return header.checkpoint
    return 0


# ---- recovering -------------------------------------------------------------------------------


def recover(r: redis.Redis, name: str, source: IO[bytes], store: SnapshotStore) -> Collection:
    """Make collection `name` anew from a snapshot file (checked in full first), replacing the
    collection of that name if there is one; the snapshot is kept in the store as the new
    collection's base. A snapshot of several shards makes a collection of as many, each
    recovered from its own, placed as a new collection's shards are."""
    headers = []
    for file in _shard_files(source):
        headers.append(read_header(file))
        check_body(file, headers[-1])
    cids = shard_placement.fresh_cids(r, len(headers))
    base = f"{name}-base-{cids[0]}{SUFFIX}"
    entry: JsonObject = {"cid": cids[0], "config": headers[0].config, "base": base}
    if len(cids) > 1:
        entry["shards"] = cids
    raw = orjson.dumps(entry)
    try:
        for cid, file, header in zip(cids, _shard_files(source), headers, strict=True):
            keys = Keys(cid)
            read_header(file)
            restore(r, keys, file)
            r.mset({keys.seq: header.checkpoint, keys.applied: header.checkpoint})
        source.seek(0)
        store.save(name, base, source)
        collections.replace_collection(r, name, raw)
    except BaseException:
        # nothing names the new keyspaces yet (the name may be an alias's, storage may fail)
        collections.drop_keyspaces(r, collections.parse_entry(name, raw))
        with contextlib.suppress(QdrantError):
            store.delete(name, base)
        raise
    return collections.load(r, name)


def _shard_files(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """From the start of a snapshot: each shard's snapshot file (a plain snapshot's: itself)."""
    source.seek(0)
    if not is_container(source, SHARDS_MAGIC):
        yield source
        return
    listed = read_container(source, SHARDS_MAGIC, "snapshot of shards")
    yield from contained(source, [part["bytes"] for part in listed["shards"]])


def restore(r: redis.Redis, keys: Keys, source: IO[bytes]) -> None:
    """Write a checked body's chunks into the projection at `keys` (empty before)."""
    with r.pipeline(transaction=False) as pipe:
        for chunk in chunks(source):
            key = keys.projected(chunk.suffix)
            if chunk.kind == HASH:
                pipe.hset(key, mapping=dict(cast("list[tuple[bytes, bytes]]", chunk.entries)))
            elif chunk.kind == ZSET:
                pipe.zadd(key, dict(cast("list[tuple[bytes, float]]", chunk.entries)))
            elif chunk.kind == SET:
                pipe.sadd(key, *cast("list[bytes]", chunk.entries))
            else:
                pipe.set(key, cast("bytes", chunk.entries[0]))
            if len(pipe) >= 64:
                pipe.execute()
        pipe.execute()
