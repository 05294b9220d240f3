"""Log entries by format version: an entry written by an older pointlog still decodes (here a
v1 entry kept as test data), a newer one is refused, and appends stamp entries with the time."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import fakeredis
import orjson
import pytest

from projections import collections, event_format, events, log
from projections.collections import Collection
from projections.event_format import UnknownFormat
from projections.events import Event

V1_ENTRY = Path(__file__).parent / "data" / "event_v1.json"
CONFIG = collections.validate_create(
    {"vectors": {"image": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"text": {}}}
)


def v1_fields() -> dict[bytes, bytes]:
    stored = json.loads(V1_ENTRY.read_text())
    return {b"h": stored["h"].encode(), b"b": base64.b64decode(stored["b"])}


def test_a_v1_entry_decodes_to_its_operations_without_a_time() -> None:
    event = event_format.decode(v1_fields())
    collection = Collection("c", 1, CONFIG, collections.vector_specs(CONFIG))
    assert event.time is None
    described = orjson.dumps(event.describe(collection), option=orjson.OPT_SERIALIZE_NUMPY)
    assert orjson.loads(described) == [
        {
            "type": "upsert",
            "points": [
                {
                    "id": 7,
                    "vector": {
                        "image": [0.5, -1.0],
                        "text": {"indices": [3, 9], "values": [1.5, 0.25]},
                    },
                    "payload": {"city": "Berlin"},
                },
                {
                    "id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
                    "vector": {"image": [2.0, 0.0]},
                    "payload": {},
                },
            ],
        }
    ]


def test_an_entry_of_a_newer_format_is_refused() -> None:
    with pytest.raises(UnknownFormat, match="format 3"):
        event_format.decode({**v1_fields(), b"v": b"3", b"t": b"0"})


def test_an_appended_event_reads_back_with_the_time_it_was_appended() -> None:
    r = fakeredis.FakeRedis()
    collection = collections.create(r, "c", CONFIG)
    event = Event()
    events.add_upsert(event, collection, {"points": [{"id": 1, "vector": {"image": [1, 2]}}]})
    before = time.time() * 1000
    log.append(r, collection, event)
    after = time.time() * 1000
    [(_, stored)] = log.read_after(r, collection.keys, 0, 10)
    assert stored.ops == event.ops and stored.blob == event.blob
    assert stored.time is not None and before - 1 <= stored.time <= after + 1
