"""Appending to a collection's log as the web process does, without HTTP, and applying it as a
worker does."""

from __future__ import annotations

import redis

from projections import events, log
from projections.apply import apply_batch
from projections.collections import Collection
from projections.events import Builder, Event
from projections.reads import Reader


def write(r: redis.Redis, col: Collection, build: Builder, body: object) -> log.Appended:
    event = Event()
    build(event, col, body)
    return log.append(r, col, event)


def settle(r: redis.Redis, col: Collection) -> None:
    """Apply everything appended."""
    while apply_batch(r, col, max_events=64) is not None:
        pass


def load(r: redis.Redis, col: Collection, indexes: dict, payloads: list[dict]) -> Reader:
    """The payload indexes, then points with these payloads (ids from 0), applied: a reader
    of the collection."""
    for field, schema in indexes.items():
        write(r, col, events.add_create_index, {"field_name": field, "field_schema": schema})
    points = [{"id": i, "vector": {"a": [1, 1]}, "payload": p} for i, p in enumerate(payloads)]
    if points:
        write(r, col, events.add_upsert, {"points": points})
    settle(r, col)
    return Reader(r, col, progress=None, wait_seconds=0)
