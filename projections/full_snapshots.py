"""Full snapshots: a snapshot of every collection, in one file.

    PLFULL1\\n | u32 header length | header (JSON) | the collections' snapshot files

The header names each collection with the length of its snapshot file (snapshot_format.py),
the files follow in that order. Each collection's snapshot is taken on its own (at its own
checkpoint: collections have no common clock). Recovering one recovers every collection in it,
each as `PUT /collections/{c}/snapshots/recover` would.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, cast

import orjson
import redis

from projections import collections, snapshots
from projections.jsontypes import JsonObject
from projections.snapshot_format import FULL_MAGIC, NotASnapshot
from projections.snapshot_store import FULL, SUFFIX, Description, SnapshotStore

SPOOL_BYTES = 64 << 20
FORMAT = 1


def take_full(r: redis.Redis, store: SnapshotStore) -> Description:
    """Snapshot every collection into one file in the store's top level; its description."""
    created = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    parts: list[JsonObject] = []
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as files:
        for collection in collections.registered(r):
            start = files.tell()
            snapshots.write_snapshot(r, collection, cast("IO[bytes]", files))
            parts.append({"name": collection.name, "bytes": files.tell() - start})
        header = orjson.dumps({"format": FORMAT, "created": created, "collections": parts})
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as whole:
            whole.write(FULL_MAGIC + struct.pack("<I", len(header)) + header)
            files.seek(0)
            shutil.copyfileobj(files, whole)
            whole.seek(0)
            name = f"full-snapshot-{snapshots.stamp(created)}{SUFFIX}"
            size, checksum = store.save(FULL, name, cast("IO[bytes]", whole))
    return Description(name, created, size, checksum, 0, 0)


def collection_files(source: IO[bytes]) -> Iterator[tuple[str, IO[bytes]]]:
    """Each collection's name and snapshot file, in the order the full snapshot holds them."""
    if source.read(len(FULL_MAGIC)) != FULL_MAGIC:
        raise NotASnapshot("not a pointlog full snapshot")
    (length,) = struct.unpack("<I", source.read(4))
    header = orjson.loads(source.read(length))
    if header.get("format", 0) > FORMAT:
        raise NotASnapshot(f"a full snapshot of format {header['format']}, newer than this one")
    for part in header["collections"]:
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as one:
            _copy_bytes(source, cast("IO[bytes]", one), part["bytes"])
            one.seek(0)
            yield part["name"], cast("IO[bytes]", one)


def recover_full(r: redis.Redis, source: IO[bytes], store: SnapshotStore) -> list[str]:
    """Recover every collection of a full snapshot; their names."""
    recovered = []
    for name, file in collection_files(source):
        snapshots.recover(r, name, file, store)
        recovered.append(name)
    return recovered


def _copy_bytes(source: IO[bytes], out: IO[bytes], length: int) -> None:
    while length > 0:
        data = source.read(min(length, 1 << 20))
        if not data:
            raise NotASnapshot("the full snapshot ends inside a collection's snapshot")
        out.write(data)
        length -= len(data)
