"""Which payload index strict mode asks for, condition by condition, as Qdrant's table says."""

from __future__ import annotations

import pytest

from projections.errors import Forbidden
from projections.indexes import Index
from projections.strict_mode import StrictMode

STRICT = StrictMode({"enabled": True, "unindexed_filtering_retrieve": False})
UUID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"


def needed(condition: dict, indexes: dict[str, object] | None = None) -> str | None:
    """The index types the refusal names, or None when the filter passes."""
    held = {field: Index(field, schema) for field, schema in (indexes or {}).items()}
    try:
        STRICT.read_filter({"must": [condition]}, lambda: held)
    except Forbidden as refused:
        return refused.detail.split("types: [")[1].split("]")[0]
    return None


@pytest.mark.parametrize(
    ("condition", "types"),
    [
        ({"key": "k", "match": {"value": "a"}}, "keyword"),
        ({"key": "k", "match": {"value": UUID}}, "keyword, uuid"),
        ({"key": "k", "match": {"any": [1, 2]}}, "integer"),
        ({"key": "k", "match": {"value": True}}, "bool"),
        ({"key": "k", "match": {"text": "a"}}, "text"),
        ({"key": "k", "range": {"gte": 1}}, "float, integer"),
        ({"key": "k", "range": {"gte": "2024-01-01T00:00:00Z"}}, "datetime"),
        ({"key": "k", "geo_radius": {"center": {"lat": 0, "lon": 0}, "radius": 1}}, "geo"),
        (
            {"nested": {"key": "n", "filter": {"must": [{"key": "k", "match": {"value": 1}}]}}},
            "integer",
        ),
    ],
)
def test_an_unindexed_key_names_the_index_types_that_would_serve_it(condition, types) -> None:
    assert needed(condition) == types


def test_a_nested_key_is_named_by_its_full_path() -> None:
    nested = {"nested": {"key": "n", "filter": {"must": [{"key": "k", "match": {"value": 1}}]}}}
    with pytest.raises(Forbidden, match=r'not found for "n\[\]\.k"'):
        STRICT.read_filter({"must": [nested]}, dict)


def test_any_index_serves_is_empty_and_the_right_kind_serves_the_rest() -> None:
    assert needed({"is_empty": {"key": "k"}}, {"k": "geo"}) is None
    assert needed({"key": "k", "range": {"gte": 1}}, {"k": "float"}) is None
    assert needed({"key": "k", "match": {"value": 1}}, {"k": "keyword"}) == "integer"
    lookup_off = {"k": {"type": "integer", "lookup": False, "range": True}}
    assert needed({"key": "k", "match": {"value": 1}}, lookup_off) == "integer"
    assert needed({"key": "k", "range": {"lt": 1}}, lookup_off) is None
    assert needed({"has_id": [1]}) is None
    assert needed({"key": "k", "match": {"any": []}}) is None  # matches nothing: no index
