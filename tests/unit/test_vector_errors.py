"""Refused vectors get Qdrant's texts."""

from __future__ import annotations

import numpy as np
import pytest

from projections import collections, vectors
from projections.collections import Collection
from projections.errors import ValidationFailed, WrongInput


def multi() -> Collection:
    params = {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}
    config = collections.validate_create({"vectors": params})
    return Collection("c", 1, config, collections.vector_specs(config))


def test_an_empty_multivector_is_an_empty_dense_vector_to_qdrant():
    with pytest.raises(ValidationFailed) as refused:
        vectors.encode_vector(multi(), "", [], "points[0].vector")
    assert refused.value.message == (
        "Validation error in JSON body: [points[0].vector: dense vector must not be empty]"
    )


def plain() -> Collection:
    config = collections.validate_create({"vectors": {"size": 2, "distance": "Dot"}})
    return Collection("c", 1, config, collections.vector_specs(config))


F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize(
    "value",
    [F32_MAX, -F32_MAX, float(np.nextafter(vectors.F32_OVERFLOW, 0.0))],
    ids=["largest", "least", "rounds-to-largest"],
)
def test_a_value_float32_holds_is_kept(value: float) -> None:
    stored = vectors.encode_vector(plain(), "", [value, 1.0], "query")
    assert np.frombuffer(stored, np.float32).tolist() == [np.float32(value), 1.0]


@pytest.mark.parametrize("value", [vectors.F32_OVERFLOW, 1e39, -1e300], ids=str)
def test_a_value_float32_cannot_hold_is_refused(value: float) -> None:
    with pytest.raises(WrongInput, match="finite 32-bit floats"):
        vectors.encode_vector(plain(), "", [value, 1.0], "query")
