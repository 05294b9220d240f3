"""How an event is kept in a log entry, by format version: the log outlives the code that
wrote it, so every entry says its version and decoding upcasts, one step per version, to the
current one.

- v1: `h` (the operations, JSON) and `b` (their blob); no version field.
- v2: `v` (2), `t` (when the event was appended: milliseconds since the epoch, Redis's own
  clock, so every pod agrees), `h` and `b`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from projections.events import Event

Fields = dict[bytes, bytes]  # a stream entry's fields
FORMAT = 2  # what appends write


class UnknownFormat(Exception):
    """An entry written by a newer pointlog than this one."""


def _v1_to_v2(fields: Fields) -> Fields:
    return {**fields, b"v": b"2", b"t": b""}  # the time was not kept: unknown


UPCASTS: dict[int, Callable[[Fields], Fields]] = {1: _v1_to_v2}  # version: to the next one


def upcast(fields: Fields) -> Fields:
    """The entry's fields in the current format."""
    version = int(fields.get(b"v", b"1"))
    if version > FORMAT:
        raise UnknownFormat(f"a log entry of format {version}: this pointlog reads up to {FORMAT}")
    while version < FORMAT:
        fields = UPCASTS[version](fields)
        version += 1
    return fields


def iso_time(milliseconds: int) -> str:
    """An entry's time as users read it: ISO 8601, UTC, to the millisecond."""
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat(timespec="milliseconds")


def decode(fields: Fields, blob: bool = True) -> Event:
    """The entry's event; without `blob`, its operations and time alone (no vector bytes are
    copied: for what only needs to know which points each operation names)."""
    current = upcast(fields)
    time = int(current[b"t"]) if current[b"t"] else None
    data = bytearray(current[b"b"]) if blob else bytearray()
    return Event(orjson.loads(current[b"h"])["ops"], data, time)
