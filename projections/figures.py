"""Where each collection, and each of its shards, stands: operations appended and applied,
points, commits, what the archive holds. Read in two round trips whatever their number, for
`pointlog status`, the metrics, telemetry, the write limit and the workers' sweep."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from projections.collections import Collection, registered


@dataclass(frozen=True)
class Figures:
    """Where one collection stands: operations appended and applied, points, commits."""

    collection: Collection
    appended: int
    applied: int
    points: int
    ops_applied: int  # counted by the commits (equals `applied` unless a replay reset it)
    batches: int
    archived: int  # operations moved out of Redis to the archive
    hot_log_bytes: int  # the size of the events the stream holds

    @property
    def lag(self) -> int:
        return self.appended - self.applied


_COUNTED = ("appended", "applied", "points", "ops_applied", "batches", "archived", "hot_log_bytes")


def shard_overview(r: redis.Redis) -> list[Figures]:
    """Every shard with its figures (a collection of one shard: the collection), by name."""
    return [f for figures in _figures(r, registered(r)) for f in figures]


def overview(r: redis.Redis) -> list[Figures]:
    """Every collection with its figures (its shards' summed), by name."""
    summed = []
    for figures in _figures(r, registered(r)):
        if figures and len(figures) == len(figures[0].collection.parts):
            counts = [sum(getattr(f, name) for f in figures) for name in _COUNTED]
            summed.append(Figures(figures[0].collection, *counts))
    return summed


def _figures(r: redis.Redis, found: list[Collection]) -> list[list[Figures]]:
    """The figures of each shard of each collection, in two round trips whatever their number
    (without the shards deleted meanwhile)."""
    parts = [part for collection in found for part in collection.parts]
    with r.pipeline(transaction=False) as pipe:
        for part in parts:
            keys = part.keys
            pipe.mget(keys.seq, keys.applied, keys.archived, keys.log_bytes)
            pipe.zcard(keys.ids)
            pipe.hmget(keys.stats, "ops", "batches")
        results = iter(pipe.execute())
    figures: list[list[Figures]] = []
    for collection in found:
        figures.append([])
        for part in collection.parts:
            (seq, applied, archived, size), points, (ops, batches) = [
                next(results) for _ in range(3)
            ]
            if seq is None:
                continue  # deleted between the two round trips
            counts = (int(seq), int(applied or 0), int(points), int(ops or 0), int(batches or 0))
            shown = collection if part is collection.parts[0] else part
            figures[-1].append(Figures(shown, *counts, int(archived or 0), int(size or 0)))
    return figures
