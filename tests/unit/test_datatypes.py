"""A vector's `datatype` decides what its stored values are, as in Qdrant: `uint8` truncates
toward zero and saturates at 0 and 255; `float16` rounds to half precision."""

from __future__ import annotations

import numpy as np
import pytest

from projections import collections, vectors
from projections.collections import Collection


def collection(datatype: str, multi: bool = False) -> Collection:
    params = {"size": 4, "distance": "Dot", "datatype": datatype}
    if multi:
        params["multivector_config"] = {"comparator": "max_sim"}
    config = collections.validate_create({"vectors": params})
    return Collection("c", 1, config, collections.vector_specs(config))


def stored(col: Collection, value: list) -> list:
    data = vectors.encode_vector(col, "", value, "vector")
    return np.frombuffer(data, dtype=np.float32).tolist()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ([[1.05, 1.61, 1.76, 1.74]], [1, 1, 1, 1]),  # Qdrant's own examples
        ([[256.19, 1.81, 2.75, 3.11]], [255, 1, 2, 3]),
        ([[-3.5, 0.99, 254.99, 1000]], [0, 0, 254, 255]),
    ],
)
def test_uint8_multivectors_keep_truncated_saturated_values(sent, kept):
    assert stored(collection("uint8", multi=True), sent) == kept


def test_uint8_dense_vectors_too():
    assert stored(collection("uint8"), [0.5, 7.9, 300, -1]) == [0, 7, 255, 0]


def test_float16_rounds_to_half_precision_and_stays_finite():
    kept = stored(collection("float16"), [0.1, 1 / 3, 70000.0, -70000.0])
    assert kept == [float(np.float16(0.1)), float(np.float16(1 / 3)), 65504.0, -65504.0]


def test_float32_keeps_what_was_sent():
    sent = [0.1, 1.5, 300, -1]
    assert stored(collection("float32"), sent) == np.float32(sent).tolist()
