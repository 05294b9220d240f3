"""Rebuilding a collection's projection from its log (the archive's segments, then the
stream), and checking one against the other.

The rebuild is applied by the same code as the workers', into the `rebuild:` keyspace beside
the live projection, while the API keeps taking writes and workers keep applying them. Then
`replay` pauses the workers on that collection, brings the rebuild to the end of the log and
renames it over the live keys in one transaction. Reads never see a half-built projection: a
read right after the switch waits (read-your-writes) for anything appended meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import redis

from projections import changes, collections, snapshots
from projections.apply import apply_batch
from projections.archive import Archive, open_archive
from projections.collections import Collection
from projections.index_data import index_fields, stored_indexes, stored_terms
from projections.keys import Keys
from projections.settings import Settings
from projections.snapshot_store import SnapshotStore
from workers.catchup import LEASE_SECONDS, catch_up
from workers.lease import Lease

OnProgress = Callable[[int, int], None]  # (applied, seq)
PAUSE_SECONDS = 120
LEASE_POLL_SECONDS = 0.05


@dataclass
class Outcome:
    checkpoint: int
    differences: list[str] = field(default_factory=list)
    start: int = 0  # the operation the rebuild started at (after a snapshot: its checkpoint)


def replay(
    r: redis.Redis,
    name: str,
    settings: Settings,
    verify: bool = False,
    progress: OnProgress = print,
    from_snapshot: bool = False,
    shard: int = 0,
) -> Outcome:
    """Rebuild the projection of `name` from its log. With `verify`, compare the rebuild with
    the live projection at the same checkpoint and keep the live one; else switch to the rebuild.
    A collection recovered from a snapshot starts from that snapshot; with `from_snapshot` any
    collection starts from its latest snapshot, when it has one. A collection of several
    shards is replayed a `shard` at a time: each has its own log and projection."""
    whole = collections.load(r, name)
    collection = whole.parts[shard]
    archive = open_archive(settings.archive_url)
    live = collection.keys
    rebuilt = live.rebuild()
    r.delete(*_projection_keys(r, collection, rebuilt), rebuilt.applied)
    store = SnapshotStore(settings.snapshot_store_url)
    start = snapshots.seed(r, whole, shard, rebuilt, store, from_snapshot)
    r.set(rebuilt.applied, start)
    _follow(r, collection, rebuilt, settings, archive, progress, until=None)
    r.set(live.pause, 1, ex=PAUSE_SECONDS)
    lease = _take_lease(r, live)
    try:
        target = int(r.get(live.seq) or 0)
        _follow(r, collection, rebuilt, settings, archive, progress, until=target)
        if verify:
            _follow(r, collection, live, settings, archive, None, until=target)
            return Outcome(target, compare(r, collection, live, rebuilt), start)
        _switch(r, collection, live, rebuilt, target)
        return Outcome(target, start=start)
    finally:
        if verify:
            r.delete(*_projection_keys(r, collection, rebuilt), rebuilt.applied)
        lease.release()
        r.delete(live.pause)
        # Apply what arrived meanwhile now, rather than at the next sweep.
        catch_up(r, name, collection.cid, replace(settings, follow_seconds=0.0))


def _follow(
    r: redis.Redis,
    collection: Collection,
    keys: Keys,
    settings: Settings,
    archive: Archive | None,
    progress: OnProgress | None,
    until: int | None,
) -> None:
    while True:
        checkpoint = apply_batch(
            r,
            collection,
            settings.apply_batch_events,
            keys,
            until,
            settings.change_feed_commits,
            archive,
        )
        if checkpoint is None:
            return
        if progress is not None:
            progress(checkpoint, int(r.get(collection.keys.seq) or 0))


def _take_lease(r: redis.Redis, live: Keys) -> Lease:
    """Wait until the worker holding the lease lets go (it will not take it again while
    `pause` is set); a lease held by a dead worker expires on its own."""
    lease = Lease(r, live.lease, LEASE_SECONDS * 3)
    deadline = time.monotonic() + LEASE_SECONDS * 2
    while not lease.acquire():
        if time.monotonic() > deadline:
            raise TimeoutError("the collection's lease was not released")
        time.sleep(LEASE_POLL_SECONDS)
    return lease


def _switch(
    r: redis.Redis, collection: Collection, live: Keys, rebuilt: Keys, checkpoint: int
) -> None:
    """Rename the rebuilt keys over the live ones, and the checkpoint with them, atomically;
    the change feed tells its readers to reload."""
    pairs, _ = _side_by_side(r, collection, rebuilt, live)
    present = [bool(n) for n in _exists_each(r, [source for source, _ in pairs])]
    with r.pipeline(transaction=True) as pipe:
        for (source, target), exists in zip(pairs, present, strict=True):
            if exists:
                pipe.rename(source, target)
            else:
                pipe.delete(target)
        pipe.rename(rebuilt.applied, live.applied)
        changes.reset(pipe, live, checkpoint)
        pipe.execute()


def compare(r: redis.Redis, collection: Collection, a: Keys, b: Keys) -> list[str]:
    """The differences between two projections, key by key (counters excepted)."""
    differences = []
    pairs, fields = _side_by_side(r, collection, a, b)
    geo = {a.geo(f) for f in fields} | {b.geo(f) for f in fields}
    for key_a, key_b in pairs:
        if key_a in (a.stats,):
            continue
        left, right = _dump(r, key_a, key_a in geo), _dump(r, key_b, key_b in geo)
        for member in sorted(set(left) | set(right)):
            if left.get(member) != right.get(member):
                differences.append(
                    f"{key_a} [{member!r}]: {left.get(member)!r} != {right.get(member)!r}"
                )
    return differences


def _side_by_side(
    r: redis.Redis, collection: Collection, a: Keys, b: Keys
) -> tuple[list[tuple[str, str]], list[str]]:
    """The keys of two projections in pairs, with the data of every index either of them
    has, and the fields of those indexes."""
    fields = sorted(set(index_fields(r, a)) | set(index_fields(r, b)))
    terms_a, terms_b = stored_terms(r, a, fields), stored_terms(r, b, fields)
    indexes = {f: sorted(set(terms_a[f]) | set(terms_b[f])) for f in fields}
    names = collection.vector_names
    pairs = zip(a.projection_keys(names, indexes), b.projection_keys(names, indexes), strict=True)
    return list(pairs), fields


def _dump(r: redis.Redis, key: str, geo: bool) -> Mapping[bytes, object]:
    """A hash's fields, a sorted set's members with their scores (a GEO set's with their
    positions), or a set's members."""
    kind = r.type(key)
    if kind == b"hash":
        return cast("dict[bytes, bytes]", r.hgetall(key))
    if kind == b"zset" and geo:
        members = cast("list[bytes]", r.zrange(key, 0, -1))
        return dict(zip(members, r.geopos(key, *members), strict=True))
    if kind == b"zset":
        return dict(cast("list[tuple[bytes, float]]", r.zrange(key, 0, -1, withscores=True)))
    if kind == b"set":
        return dict.fromkeys(cast("set[bytes]", r.smembers(key)), True)
    return {}


def _exists_each(r: redis.Redis, keys: list[str]) -> list[int]:
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.exists(key)
        return pipe.execute()


def _projection_keys(r: redis.Redis, collection: Collection, keys: Keys) -> list[str]:
    return keys.projection_keys(collection.vector_names, stored_indexes(r, keys))
