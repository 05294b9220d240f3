"""Snapshots with an event-sourced meaning: a collection's projection at a checkpoint, with
its config at that checkpoint and the log position (the checkpoint itself).

Taking one copies the projection's keys in one script (Redis's COPY, beside the originals
under the same hash tag, with an expiry in case the taker dies), so workers wait no longer
than the copy, about as long as a large commit; the copies are then read in chunks, written
to the snapshot store (snapshot_format.py) and dropped.

Recovering one makes the collection anew from it: a fresh cid whose projection is the
snapshot's, whose log starts at the snapshot's checkpoint (operation ids go on from there),
and whose registry entry names the snapshot as its `base`. A replay of such a collection starts
from its base (its log holds nothing before it); a replay of any collection may start from one
of its own snapshots instead of from operation 0.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, cast

import fsspec
import orjson
import redis

from projections import collections, index_data
from projections import keys as K
from projections.collections import Collection
from projections.errors import NotFound, QdrantError
from projections.keys import Keys
from projections.snapshot_format import (
    HASH,
    KINDS,
    SET,
    STRING,
    ZSET,
    BodyWriter,
    Chunk,
    Entry,
    Header,
    check_body,
    chunks,
    read_header,
    write_file,
)
from projections.store import script

SUFFIX = ".snapshot"
CHECKSUM = ".checksum"  # beside each snapshot: its SHA-256, hex
READ_SIZE = 1 << 20
COPY_SECONDS = 3600  # a copy left by a taker that died goes after this long
SCAN = 1000  # entries read per call when writing a snapshot out
SPOOL_BYTES = 64 << 20  # a snapshot's body stays in memory up to this size


@dataclass(frozen=True)
class Description:
    """Qdrant's `SnapshotDescription`."""

    name: str
    creation_time: str | None
    size: int
    checksum: str | None
    cid: int  # the collection's it was taken from
    checkpoint: int

    def shown(self) -> dict[str, object]:
        return {
            "name": self.name,
            "creation_time": self.creation_time,
            "size": self.size,
            "checksum": self.checksum,
        }


class SnapshotsUnavailable(QdrantError):
    """The snapshot store failed to answer."""

    http_status = 503
    prefix = "Service unavailable: the snapshot store cannot be used: "


class SnapshotStore:
    """Snapshot files under an fsspec URL, a folder per collection name."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fs, self._root = fsspec.core.url_to_fs(url, skip_instance_cache=True)

    def path(self, collection: str, name: str) -> str:
        return f"{self._root.rstrip('/')}/{collection}/{name}"

    def save(self, collection: str, name: str, source: IO[bytes]) -> tuple[int, str]:
        """Store a snapshot file and, beside it, its SHA-256 (as Qdrant keeps `.checksum`
        files); its size and SHA-256."""
        path = self.path(collection, name)
        digest, size = hashlib.sha256(), 0
        try:
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            with self._fs.open(path + ".partial", "wb") as out:
                while data := source.read(READ_SIZE):
                    out.write(data)
                    digest.update(data)
                    size += len(data)
            self._fs.pipe_file(path + CHECKSUM, digest.hexdigest().encode())
            self._fs.mv(path + ".partial", path)
        except Exception as error:  # whatever the storage's client raises
            raise SnapshotsUnavailable(f"{path}: {error!r}") from error
        return size, digest.hexdigest()

    def listed(self, collection: str) -> list[Description]:
        folder = f"{self._root.rstrip('/')}/{collection}"
        self._fs.invalidate_cache(folder)
        try:
            found = self._fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        except Exception as error:
            raise SnapshotsUnavailable(f"{folder}: {error!r}") from error
        files = [item for item in found if str(item["name"]).endswith(SUFFIX)]
        return sorted((self._describe(item) for item in files), key=lambda d: d.name)

    def _describe(self, item: dict[str, object]) -> Description:
        path = str(item["name"])
        with self._fs.open(path, "rb") as source:
            header = read_header(source)
        try:
            checksum: str | None = self._fs.cat_file(path + CHECKSUM).decode()
        except FileNotFoundError:
            checksum = None
        size, name = cast("int", item["size"]), path.rsplit("/", 1)[-1]
        return Description(name, header.created, size, checksum, header.cid, header.checkpoint)

    def open(self, collection: str, name: str) -> IO[bytes]:
        path = self.path(collection, name)
        if "/" in name or not self._fs.exists(path):
            raise NotFound(f"Snapshot {name} not found")
        return cast("IO[bytes]", self._fs.open(path, "rb"))

    def delete(self, collection: str, name: str) -> None:
        self.open(collection, name).close()  # NotFound unless it is there
        path = self.path(collection, name)
        self._fs.rm(path)
        if self._fs.exists(path + CHECKSUM):
            self._fs.rm(path + CHECKSUM)


def store_of(url: str) -> SnapshotStore:
    return SnapshotStore(url)


# ---- taking a snapshot -----------------------------------------------------------------------


def take(r: redis.Redis, collection: Collection, store: SnapshotStore) -> Description:
    """Snapshot the collection's live projection and store it; its description."""
    copy, checkpoint = _copy_projection(r, collection)
    created = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    name = f"{collection.name}-{checkpoint}-{created:%Y-%m-%d-%H-%M-%S}{SUFFIX}"
    try:
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as body:
            writer = BodyWriter(body)
            schema = None
            for chunk in _read_copy(r, copy):
                if chunk.suffix == "schema" and chunk.kind == STRING:
                    schema = cast("bytes", chunk.entries[0])
                writer.chunk(chunk)
            digest = writer.finish()
            config = collections.at_checkpoint(collection, schema).config
            header = Header(
                collection.name,
                collection.cid,
                checkpoint,
                config,
                created.isoformat(),
                writer.bytes,
                digest,
            )
            with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as whole:
                body.seek(0)
                write_file(whole, header, body)
                whole.seek(0)
                size, checksum = store.save(collection.name, name, whole)
    finally:
        leftover = _copied_keys(r, copy)  # none, unless writing it out failed
        if leftover:
            r.unlink(*leftover)
    return Description(name, header.created, size, checksum, collection.cid, checkpoint)


def _copy_projection(r: redis.Redis, collection: Collection) -> tuple[Keys, int]:
    """COPY every key of the live projection at one checkpoint (one script, so workers wait
    no longer than the copy); the copy and its checkpoint. Which keys there are is read first;
    the script checks that no index or config changed meanwhile, else it runs again."""
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
        applied = _COPY(keys=listed + [live.terms(f) for f in fields] + plain, args=args, client=r)
        if applied == -2:
            raise collections.CollectionGone(collection.name)
        if applied != -1:
            return copy, int(applied)


# KEYS: checkpoint, index definitions, index builds, schema; the `terms` set of each index
# field; every other key to copy. ARGV: the live projection's key prefix, the copy's, seconds
# the copy lives, the schema the keys were listed with ("" for none), the number of fields F,
# the F fields, and the F prefixes of their term keys. Copies each key (and each term key the
# `terms` sets name) under the copy's prefix; returns the checkpoint, -1 when an index or the
# config changed since the keys were listed (list them again), -2 when the collection is gone.
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
local function copy(key)
  local target = ARGV[2] .. string.sub(key, #ARGV[1] + 1)
  if redis.call('COPY', key, target) == 1 then redis.call('EXPIRE', target, ARGV[3]) end
end
for i = 1, fields do
  local terms = KEYS[4 + i]
  copy(terms)
  for _, term in ipairs(redis.call('SMEMBERS', terms)) do copy(ARGV[5 + fields + i] .. term) end
end
for i = 5 + fields, #KEYS do copy(KEYS[i]) end
return tonumber(applied)
"""
)


def _copied_keys(r: redis.Redis, copy: Keys) -> list[str]:
    return [cast("bytes", k).decode() for k in r.scan_iter(match=copy.projected("*"), count=1000)]


def _read_copy(r: redis.Redis, copy: Keys) -> Iterator[Chunk]:
    """The copy's keys as chunks, each key read in slices and dropped once read."""
    for key in sorted(_copied_keys(r, copy)):
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
    r: redis.Redis, collection: Collection, keys: Keys, store: SnapshotStore, latest: bool
) -> int:
    """Restore into the (empty) projection at `keys` the snapshot a replay of the collection
    starts from: its base if it was recovered from one, else (`latest`) its latest snapshot of
    its own; the checkpoint to apply the log from (0 without a snapshot)."""
    name = collection.base
    if name is None and latest:
        own = [d for d in store.listed(collection.name) if d.cid == collection.cid]
        name = max(own, key=lambda d: d.checkpoint).name if own else None
    if name is None:
        return 0
    with store.open(collection.name, name) as source:
        header = read_header(source)
        check_body(source, header)
        restore(r, keys, source)
    return header.checkpoint


# ---- recovering -------------------------------------------------------------------------------


def recover(r: redis.Redis, name: str, source: IO[bytes], store: SnapshotStore) -> Collection:
    """Make collection `name` anew from a snapshot file (checked in full first), replacing the
    collection of that name if there is one; the snapshot is kept in the store as the new
    collection's base."""
    header = read_header(source)
    check_body(source, header)
    body_start = source.tell()
    cid = int(r.incr(K.NEXT_CID))
    keys = Keys(cid)
    restore(r, keys, source)
    r.mset({keys.seq: header.checkpoint, keys.applied: header.checkpoint})
    base = f"{name}-base-{cid}{SUFFIX}"
    source.seek(0)
    store.save(name, base, source)
    source.seek(body_start)
    entry = {"cid": cid, "config": header.config, "base": base, "checkpoint": header.checkpoint}
    collections.replace_collection(r, name, orjson.dumps(entry))
    return collections.load(r, name)


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
