"""An event of a collection of several shards, split into one event per shard.

An operation naming its points (an upsert, `ids`) goes to the shards holding them, each with
its own points (and their bytes, copied into that shard's event). One selecting its points by
a filter, and one changing the collection (an index, its config), goes to every shard. One
that names no point at all goes to the first shard, so that it is still an operation of the
log as on a collection of one shard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from projections.events import Event, Operation, Ref
from projections.shard_placement import shard_of


@dataclass
class ShardEvent:
    """One shard's event, and which of the request's operations each of its own is."""

    event: Event = field(default_factory=Event)
    origins: list[int] = field(default_factory=list)


def split(event: Event, shards: int) -> dict[int, ShardEvent]:
    """Each shard's event (by shard number), for the shards the event touches."""
    split: dict[int, ShardEvent] = {}
    for at, op in enumerate(event.ops):
        for shard, part in _parts(event, op, shards).items():
            into = split.setdefault(shard, ShardEvent())
            into.event.ops.append(part(into.event))
            into.origins.append(at)
    return dict(sorted(split.items()))


Part = Callable[[Event], Operation]  # the shard's copy of an operation, made in its event


def _parts(event: Event, op: Operation, shards: int) -> dict[int, Part]:
    if "points" in op:
        return _by_shard(
            op, "points", op["points"], shards, lambda into, p: _copied(event, into, p)
        )
    if "ids" in op and "filter" not in op:
        return _by_shard(op, "ids", op["ids"], shards, lambda into, key: key)
    if "ids" in op:  # a filter and ids: each shard takes the filter and its own ids
        mine = {n: [k for k in op["ids"] if shard_of(k, shards) == n] for n in range(shards)}
        return {n: _with(op, ids=mine[n]) for n in range(shards)}
    return {n: _with(op) for n in range(shards)}  # a filter, or the collection's own change


def _with(op: Operation, **changed: Any) -> Part:
    return lambda into: {**op, **changed}


def _by_shard(
    op: Operation, field_name: str, items: list[Any], shards: int, copy: Callable[[Event, Any], Any]
) -> dict[int, Part]:
    """The operation's copy for each shard holding some of its items (points or keys)."""
    if not items:
        return {0: _with(op)}
    grouped: dict[int, list[Any]] = {}
    for item in items:
        key = item[0] if isinstance(item, list) else item
        grouped.setdefault(shard_of(key, shards), []).append(item)

    def part(mine: list[Any]) -> Part:
        return lambda into: {**op, field_name: [copy(into, item) for item in mine]}

    return {shard: part(mine) for shard, mine in grouped.items()}


def _copied(source: Event, into: Event, point: list[Any]) -> list[Any]:
    """A point of an upsert ([key, payload ref, {name: ref}]) or a vector update ([key,
    {name: ref}]), its bytes copied from `source` into `into`."""
    *head, refs = point
    moved = [head[0]] + [_moved(source, into, ref) for ref in head[1:]]
    return [*moved, {name: _moved(source, into, ref) for name, ref in refs.items()}]


def _moved(source: Event, into: Event, ref: Ref) -> Ref:
    return into.put(source.view(ref))
