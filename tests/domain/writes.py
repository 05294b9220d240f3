"""Appending to a collection's log as the web process does, without HTTP."""

from __future__ import annotations

import redis

from projections import log
from projections.collections import Collection
from projections.events import Builder, Event


def write(r: redis.Redis, col: Collection, build: Builder, body: object) -> log.Appended:
    event = Event()
    build(event, col, body)
    return log.append(r, col.keys, event, col.name)
