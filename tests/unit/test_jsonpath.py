"""JSON paths as Qdrant reads them (`a.b`, `a[]`, `a[0]`, quoted keys; an array is entered
only through `[]` or `[n]`, see https://qdrant.tech/documentation/concepts/filtering/#nested-key)
and the payload edits made through them: set_payload with `key` and delete_payload
(https://qdrant.tech/documentation/concepts/payload/)."""

from __future__ import annotations

import pytest

from projections.errors import FormatError
from projections.jsonpath import (
    WILDCARD,
    delete_at,
    get_values,
    parse_path,
    path_arg,
    set_at,
)


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("a", ("a",)),
        ("a.b", ("a", "b")),
        ("a[]", ("a", WILDCARD)),
        ("a[0].b", ("a", 0, "b")),
        ("a[][2]", ("a", WILDCARD, 2)),
        ('"my key".x', ("my key", "x")),
        ('a."b.c[]"', ("a", "b.c[]")),
        ("foo_1-bar", ("foo_1-bar",)),
        ("città.größe", ("città", "größe")),
    ],
)
def test_paths_parse_into_steps(text, steps):
    assert parse_path(text) == steps


@pytest.mark.parametrize(
    "text",
    ["", ".a", "a.", "a..b", "a b", "a[", "a[x]", "a[-1]", "[]", "[0]", "$.a", 'a."b', '"a\\b"'],
)
def test_invalid_paths_are_a_400_naming_the_path(text):
    with pytest.raises(FormatError) as error:
        parse_path(text)
    assert error.value.http_status == 400
    assert error.value.detail == f"Invalid json path: '{text}'"


def test_a_path_must_be_a_string():
    with pytest.raises(FormatError, match="expected a string"):
        path_arg(5)


# ---- reading -----------------------------------------------------------------------------------


def test_arrays_are_not_traversed_implicitly():
    payload = {"a": [{"b": 1}, {"b": 2}, {"c": 3}]}
    assert get_values(payload, parse_path("a.b")) == []
    assert get_values(payload, parse_path("a[].b")) == [1, 2]
    assert get_values(payload, parse_path("a[1].b")) == [2]
    assert get_values(payload, parse_path("a[5].b")) == []


def test_a_final_array_is_one_value_unless_expanded():
    payload = {"n": [1, [2, 3]]}
    assert get_values(payload, parse_path("n")) == [[1, [2, 3]]]
    assert get_values(payload, parse_path("n[]")) == [1, [2, 3]]


def test_null_is_a_value_but_a_missing_key_is_none():
    payload = {"a": None, "b": {"c": None}}
    assert get_values(payload, parse_path("a")) == [None]
    assert get_values(payload, parse_path("b.c")) == [None]
    assert get_values(payload, parse_path("z")) == []
    assert get_values(payload, parse_path("a.c")) == []


def test_quoted_keys_reach_keys_with_dots():
    payload = {"my key": {"x.y": 1}}
    assert get_values(payload, parse_path('"my key"."x.y"')) == [1]


# ---- set_payload with key ----------------------------------------------------------------------


def test_missing_intermediate_keys_are_created():
    assert set_at({}, parse_path("key6.subkey7"), {"v": 1}) == {"key6": {"subkey7": {"v": 1}}}


def test_setting_a_key_on_an_empty_payload_is_idempotent():
    once = set_at({}, parse_path("key"), {"key": "xxx"})
    assert once == {"key": {"key": "xxx"}}
    assert set_at(once, parse_path("key"), {"key": "xxx"}) == {"key": {"key": "xxx"}}


def test_merge_at_path_replaces_top_level_keys_and_null_deletes():
    payload = {"a": {"x": {"deep": 1}, "y": 2, "z": 3}}
    assert set_at(payload, parse_path("a"), {"x": {"other": 1}, "y": None}) == {
        "a": {"x": {"other": 1}, "z": 3}
    }


def test_non_objects_on_the_way_become_objects():
    assert set_at({"a": 5}, parse_path("a.b"), {"c": 1}) == {"a": {"b": {"c": 1}}}
    assert set_at({"a": [1]}, parse_path("a"), {"c": 1}) == {"a": {"c": 1}}


def test_wildcard_merges_into_every_element():
    payload = {"arr": [{"a": 1}, {"a": 2}, 7]}
    assert set_at(payload, parse_path("arr[]"), {"b": 0}) == {
        "arr": [{"a": 1, "b": 0}, {"a": 2, "b": 0}, {"b": 0}]
    }


def test_wildcard_copies_are_independent():
    payload = set_at({"arr": [{}, {}]}, parse_path("arr[]"), {"o": {"k": 1}})
    set_at(payload, parse_path("arr[0].o"), {"k": 2})
    assert payload == {"arr": [{"o": {"k": 2}}, {"o": {"k": 1}}]}


def test_index_merges_only_into_an_existing_element():
    assert set_at({"arr": [{}, {}]}, parse_path("arr[1]"), {"b": 1}) == {"arr": [{}, {"b": 1}]}
    assert set_at({"arr": [{}]}, parse_path("arr[3]"), {"b": 1}) == {"arr": [{}]}


@pytest.mark.parametrize("path", ["a[]", "a[0]", "a[].b", "a[2].b"])
def test_array_steps_turn_a_non_array_into_an_empty_one(path):
    assert set_at({"a": {"x": 1}}, parse_path(path), {"b": 1}) == {"a": []}
    assert set_at({}, parse_path(path), {"b": 1}) == {"a": []}


def test_set_does_not_share_the_value_with_the_payload():
    value = {"o": {"k": 1}}
    payload = set_at({}, parse_path("a"), value)
    value["o"]["k"] = 2
    assert payload == {"a": {"o": {"k": 1}}}


# ---- delete_payload ----------------------------------------------------------------------------


def test_delete_a_nested_key():
    assert delete_at({"b": {"c": 1, "d": 2}}, parse_path("b.c")) == {"b": {"d": 2}}


def test_delete_of_something_absent_changes_nothing():
    payload = {"b": {"d": 2}, "s": "x", "l": [1]}
    for path in ["z", "b.c", "s.c", "l.c", "l[3].c", "b[].c", "z[]"]:
        assert delete_at(payload, parse_path(path)) == {"b": {"d": 2}, "s": "x", "l": [1]}


def test_delete_through_every_element():
    payload = {"arr": [{"x": 1, "y": 2}, {"x": 3}, 4]}
    assert delete_at(payload, parse_path("arr[].x")) == {"arr": [{"y": 2}, {}, 4]}


def test_delete_through_one_element():
    payload = {"arr": [{"x": 1}, {"x": 2}]}
    assert delete_at(payload, parse_path("arr[0].x")) == {"arr": [{}, {"x": 2}]}


def test_a_final_index_deletes_nothing():
    assert delete_at({"arr": [1, 2]}, parse_path("arr[0]")) == {"arr": [1, 2]}


def test_a_final_wildcard_empties_the_array():
    assert delete_at({"arr": [1, 2], "k": 1}, parse_path("arr[]")) == {"arr": [], "k": 1}
