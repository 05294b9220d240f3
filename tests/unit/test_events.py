"""Building events from request bodies: what is accepted, normalised, or refused."""

from __future__ import annotations

import re

import numpy as np
import pytest

from projections import collections, events
from projections.collections import Collection
from projections.errors import BadRequest, FormatError, ValidationFailed, WrongInput
from projections.events import Event


def make(config: dict) -> Collection:
    config = collections.validate_create(config)
    return Collection("c", 1, config, collections.vector_specs(config))


PLAIN = make({"vectors": {"size": 4, "distance": "Dot"}})
COSINE = make({"vectors": {"size": 2, "distance": "Cosine"}})
NAMED = make(
    {
        "vectors": {
            "image": {"size": 2, "distance": "Dot"},
            "colbert": {
                "size": 2,
                "distance": "Dot",
                "multivector_config": {"comparator": "max_sim"},
            },
        },
        "sparse_vectors": {"text": {}},
    }
)


def upsert(collection: Collection, body: object) -> tuple[Event, list]:
    event = Event()
    events.add_upsert(event, collection, body)
    return event, event.ops[0]["points"]


def vector_of(event: Event, point: list, name: str = "") -> np.ndarray:
    return np.frombuffer(event.bytes_at(point[2][name]), dtype=np.float32)


def test_list_and_batch_forms_make_the_same_event():
    listed, _ = upsert(PLAIN, {"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": {"a": 1}}]})
    batched, _ = upsert(
        PLAIN, {"batch": {"ids": [1], "vectors": [[1, 2, 3, 4]], "payloads": [{"a": 1}]}}
    )
    assert listed.encode() == batched.encode()


def test_payload_defaults_to_empty_object():
    event, [point] = upsert(PLAIN, {"points": [{"id": 1, "vector": [1, 2, 3, 4]}]})
    assert event.bytes_at(point[1]) == b"{}"


def test_cosine_vectors_are_normalised():
    event, [point] = upsert(COSINE, {"points": [{"id": 1, "vector": [3, 4]}]})
    assert vector_of(event, point).tolist() == pytest.approx([0.6, 0.8])


def test_zero_cosine_vector_stays_zero():
    event, [point] = upsert(COSINE, {"points": [{"id": 1, "vector": [0, 0]}]})
    assert vector_of(event, point).tolist() == [0.0, 0.0]


def test_named_multi_and_sparse_vectors():
    body = {
        "points": [
            {
                "id": 1,
                "vector": {
                    "image": [1, 2],
                    "colbert": [[1, 2], [3, 4], [5, 6]],
                    "text": {"indices": [7, 2], "values": [0.5, 0.25]},
                },
            }
        ]
    }
    event, [point] = upsert(NAMED, body)
    assert vector_of(event, point, "colbert").reshape(-1, 2).shape == (3, 2)
    sparse = event.bytes_at(point[2]["text"])
    assert np.frombuffer(sparse[:8], dtype=np.uint32).tolist() == [2, 7]
    assert np.frombuffer(sparse[8:], dtype=np.float32).tolist() == [0.25, 0.5]


@pytest.mark.parametrize(
    ("collection", "body", "error", "text"),
    [
        (PLAIN, {"points": [{"id": 1, "vector": [1, 2, 3]}]}, WrongInput, "expected dim: 4, got 3"),
        (
            NAMED,
            {"points": [{"id": 1, "vector": {"image": [1]}}]},
            WrongInput,
            "for vector 'image'",
        ),
        (NAMED, {"points": [{"id": 1, "vector": [1, 2]}]}, WrongInput, "Not existing vector name"),
        (PLAIN, {"points": [{"id": 1, "vector": []}]}, ValidationFailed, "must not be empty"),
        (PLAIN, {"points": [{"id": 1, "vector": [1e39, 0, 0, 0]}]}, WrongInput, "finite"),
        (PLAIN, {"points": []}, BadRequest, "Empty update request"),
        (
            PLAIN,
            {"points": [{"id": 1, "vector": [0.5] * 4}, {"id": 2, "vector": [True, 0, 1, 0.5]}]},
            FormatError,
            "points[1].vector: expected a vector of numbers",
        ),
        (
            PLAIN,
            {"points": [{"id": 1, "vector": [0.5] * 4}, {"id": 2, "vector": [1, 2, "3", 4]}]},
            FormatError,
            "points[1].vector",
        ),
        (PLAIN, {"points": [{"id": 1}]}, FormatError, "missing field `vector`"),
        (
            PLAIN,
            {"batch": {"ids": [1, 2], "vectors": [[1, 2, 3, 4]]}},
            ValidationFailed,
            "(2 != 1)",
        ),
        (PLAIN, {"other": []}, FormatError, "Invalid PointInsertOperations format"),
        (
            NAMED,
            {"points": [{"id": 1, "vector": {"colbert": [[1, 2], [1, 2, 3]]}}]},
            ValidationFailed,
            "same dimension",
        ),
        (
            NAMED,
            {"points": [{"id": 1, "vector": {"text": {"indices": [1, 1], "values": [1, 2]}}}]},
            ValidationFailed,
            "unique",
        ),
        (
            NAMED,
            {"points": [{"id": 1, "vector": {"text": {"indices": [1], "values": [1, 2]}}}]},
            ValidationFailed,
            "same length",
        ),
    ],
)
def test_bad_upserts_are_refused(collection, body, error, text):
    with pytest.raises(error, match=re.escape(text)):
        upsert(collection, body)


def test_delete_selector_prefers_points_over_filter():
    event = Event()
    events.add_delete(
        event, PLAIN, {"points": [1, "5C56C793-69F3-4FBF-87E6-C4BF54C28C26"], "filter": {}}
    )
    assert event.ops == [
        {"type": "delete", "ids": ["00000000000000001", "15c56c79369f34fbf87e6c4bf54c28c26"]}
    ]


def test_delete_needs_points_or_filter():
    with pytest.raises(FormatError):
        events.add_delete(Event(), PLAIN, {})
