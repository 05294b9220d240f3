"""Refused vectors get Qdrant's texts."""

from __future__ import annotations

import pytest

from projections import collections, vectors
from projections.collections import Collection
from projections.errors import ValidationFailed


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
