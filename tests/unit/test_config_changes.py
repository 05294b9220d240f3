"""What a PATCH, or adding and removing a vector name, makes of a collection's config."""

from __future__ import annotations

import pytest

from projections.collections import validate_create
from projections.config_changes import patched, with_vector, without_vector
from projections.errors import FormatError, ValidationFailed, WrongInput

NAMED = validate_create(
    {
        "vectors": {"a": {"size": 2, "distance": "Dot"}},
        "sparse_vectors": {"s": {}},
        "hnsw_config": {"m": 16},
        "metadata": {"team": "search", "stage": "test"},
    }
)
SINGLE = validate_create({"vectors": {"size": 2, "distance": "Cosine"}})


def test_diffs_merge_into_what_the_config_had() -> None:
    new = patched(
        NAMED,
        {
            "hnsw_config": {"ef_construct": 64},
            "optimizers_config": {"indexing_threshold": 0},
            "params": {"replication_factor": 2, "on_disk_payload": False},
            "strict_mode_config": {"enabled": True, "max_query_limit": 10},
        },
    )
    assert new["hnsw_config"] == {"m": 16, "ef_construct": 64}
    assert new["optimizers_config"] == {"indexing_threshold": 0}
    assert (new["replication_factor"], new["on_disk_payload"]) == (2, False)
    assert new["strict_mode_config"] == {"enabled": True, "max_query_limit": 10}
    again = patched(new, {"strict_mode_config": {"max_query_limit": 5}})
    assert again["strict_mode_config"] == {"enabled": True, "max_query_limit": 5}
    assert NAMED["hnsw_config"] == {"m": 16}  # the config given is left as it was


def test_metadata_merges_and_a_null_removes_a_key() -> None:
    new = patched(NAMED, {"metadata": {"stage": None, "owner": "ops"}})
    assert new["metadata"] == {"team": "search", "owner": "ops"}


def test_per_vector_settings_change_that_vector_only() -> None:
    new = patched(NAMED, {"vectors": {"a": {"hnsw_config": {"m": 32}, "on_disk": True}}})
    assert new["vectors"]["a"] == {
        "size": 2,
        "distance": "Dot",
        "hnsw_config": {"m": 32},
        "on_disk": True,
    }
    single = patched(SINGLE, {"vectors": {"": {"hnsw_config": {"m": 8}}}})
    assert single["vectors"] == {"size": 2, "distance": "Cosine", "hnsw_config": {"m": 8}}
    unset = patched(new, {"vectors": {"a": {"hnsw_config": {}}}})
    assert "hnsw_config" not in unset["vectors"]["a"]


def test_quantization_is_replaced_and_disabled_removes_it() -> None:
    scalar = {"scalar": {"type": "int8"}}
    new = patched(NAMED, {"quantization_config": scalar})
    assert new["quantization_config"] == scalar
    assert "quantization_config" not in patched(new, {"quantization_config": "Disabled"})


def test_a_sparse_modifier_can_change() -> None:
    assert patched(NAMED, {"sparse_vectors": {"s": {"modifier": "idf"}}})["sparse_vectors"] == {
        "s": {"modifier": "idf"}
    }


@pytest.mark.parametrize(
    ("body", "error", "text"),
    [
        (
            {"vectors": {"nope": {"on_disk": True}}},
            WrongInput,
            "Not existing vector name error: nope",
        ),
        ({"sparse_vectors": {"a": {"modifier": "idf"}}}, WrongInput, "Not existing vector name"),
        ({"hnsw_config": {"ef_construct": 2}}, ValidationFailed, "must be 4 or larger"),
        ({"hnsw_config": {"m": -1}}, FormatError, "expected usize"),
        ({"hnsw_config": {"colour": 1}}, FormatError, "unknown field `colour`"),
        ({"params": {"replication_factor": 0}}, ValidationFailed, "must be 1 or larger"),
        ({"quantization_config": "Off"}, FormatError, "QuantizationConfigDiff"),
        ([1], FormatError, "UpdateCollection"),
    ],
)
def test_a_bad_patch_is_refused(body: object, error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        patched(NAMED, body)


def test_a_vector_name_is_added_beside_the_others() -> None:
    new = with_vector(NAMED, "b", {"dense": {"size": 3, "distance": "Euclid"}})
    assert new["vectors"]["b"] == {"size": 3, "distance": "Euclid"}
    sparse = with_vector(NAMED, "t", {"sparse": {"modifier": "idf"}})
    assert sparse["sparse_vectors"]["t"] == {"modifier": "idf"}
    # as Qdrant: a collection's single vector becomes the one named ""
    assert set(with_vector(SINGLE, "b", {"dense": {"size": 3, "distance": "Dot"}})["vectors"]) == {
        "",
        "b",
    }


def test_adding_a_name_again_is_a_no_op_unless_it_differs() -> None:
    assert with_vector(NAMED, "a", {"dense": {"size": 2, "distance": "Dot"}}) == NAMED
    with pytest.raises(
        WrongInput, match="Vector `a` already exists with a different configuration"
    ):
        with_vector(NAMED, "a", {"dense": {"size": 3, "distance": "Dot"}})
    with pytest.raises(WrongInput, match="Vector `s` already exists as a sparse vector"):
        with_vector(NAMED, "s", {"dense": {"size": 3, "distance": "Dot"}})
    with pytest.raises(WrongInput, match="Vector `a` already exists as a dense vector"):
        with_vector(NAMED, "a", {"sparse": {}})
    with pytest.raises(FormatError, match="VectorNameConfig"):
        with_vector(NAMED, "b", {"size": 3, "distance": "Dot"})


def test_removing_a_name_takes_it_from_dense_or_sparse_and_ignores_unknown_names() -> None:
    assert "a" not in without_vector(NAMED, "a")["vectors"]
    assert "s" not in without_vector(NAMED, "s")["sparse_vectors"]
    assert without_vector(NAMED, "nope") == NAMED
