"""Creating a collection: the counts Qdrant takes as u32 of at least 1 (`shard_number`,
`replication_factor`, `write_consistency_factor`) are refused as Qdrant refuses them, and so
is a name given to both a dense and a sparse vector."""

from __future__ import annotations

import pytest

from projections.collections import COUNTS, MAX_SHARDS, validate_create
from projections.errors import FormatError, ValidationFailed, WrongInput

VECTORS = {"size": 4, "distance": "Dot"}


@pytest.mark.parametrize("field", COUNTS)
def test_zero_is_a_validation_error(field):
    with pytest.raises(ValidationFailed) as refused:
        validate_create({"vectors": VECTORS, field: 0})
    assert refused.value.http_status == 422
    assert refused.value.message == (
        f"Validation error in JSON body: [{field}: value 0 invalid, must be 1 or larger]"
    )


@pytest.mark.parametrize("field", COUNTS)
@pytest.mark.parametrize("value", [-1, "2", 1.5, True, 2**32])
def test_what_is_not_a_u32_is_a_format_error(field, value):
    with pytest.raises(FormatError) as refused:
        validate_create({"vectors": VECTORS, field: value})
    assert refused.value.http_status == 400


@pytest.mark.parametrize("field", COUNTS)
def test_a_positive_count_is_kept(field):
    assert validate_create({"vectors": VECTORS, field: 2})[field] == 2


def test_a_name_cannot_be_both_a_dense_and_a_sparse_vector():
    body = {"vectors": {"text": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"text": {}}}
    with pytest.raises(WrongInput, match="`text` is given to both a dense and a sparse vector"):
        validate_create(body)
    body["sparse_vectors"] = {"words": {}}
    assert set(validate_create(body)["sparse_vectors"]) == {"words"}


def test_shards_are_bounded():
    assert validate_create({"vectors": VECTORS, "shard_number": MAX_SHARDS})["shard_number"] == 64
    with pytest.raises(
        ValidationFailed, match="shard_number: value 65 invalid, must be 64 or less"
    ):
        validate_create({"vectors": VECTORS, "shard_number": MAX_SHARDS + 1})
