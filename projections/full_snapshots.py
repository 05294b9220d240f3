"""Full snapshots: a snapshot of every collection, in one file.

    PLFULL1\\n | u32 header length | header (JSON) | the collections' snapshot files

The header names each collection with the length of its snapshot file (snapshot_format.py),
the files follow in that order. Each collection's snapshot is taken on its own (at its own
checkpoint: collections have no common clock). Recovering one recovers every collection in it,
each as `PUT /collections/{c}/snapshots/recover` would.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, cast

import redis

from projections import collections, snapshots
from projections.jsontypes import JsonObject
from projections.snapshot_format import FULL_MAGIC, contained, read_container, write_container
from projections.snapshot_store import FULL, SUFFIX, Description, SnapshotStore

SPOOL_BYTES = 64 << 20


def take_full(r: redis.Redis, store: SnapshotStore) -> Description:
    """Snapshot every collection into one file in the store's top level; its description."""
    created = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    parts: list[JsonObject] = []
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as files:
        for collection in collections.registered(r):
            start = files.tell()
            snapshots.write_snapshot(r, collection, cast("IO[bytes]", files))
            parts.append({"name": collection.name, "bytes": files.tell() - start})
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as whole:
            header = {"created": created, "collections": parts}
            write_container(cast("IO[bytes]", whole), FULL_MAGIC, header, cast("IO[bytes]", files))
            whole.seek(0)
            name = f"full-snapshot-{snapshots.stamp(created)}{SUFFIX}"
            size, checksum = store.save(FULL, name, cast("IO[bytes]", whole))
    return Description(name, created, size, checksum, 0, 0)


def collection_files(source: IO[bytes]) -> Iterator[tuple[str, IO[bytes]]]:
    """Each collection's name and snapshot file, in the order the full snapshot holds them."""
    header = read_container(source, FULL_MAGIC, "full snapshot")
    parts = header["collections"]
    files = contained(source, [part["bytes"] for part in parts])
    for part, file in zip(parts, files, strict=True):
        yield part["name"], file


def recover_full(r: redis.Redis, source: IO[bytes], store: SnapshotStore) -> list[str]:
    """Recover every collection of a full snapshot; their names."""
    recovered = []
    for name, file in collection_files(source):
        snapshots.recover(r, name, file, store)
        recovered.append(name)
    return recovered
