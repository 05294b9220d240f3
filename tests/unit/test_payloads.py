"""Set and delete payload as Qdrant applies them (top-level keys replaced, never deep-merged; a
null deletes its key), and `with_payload` selectors (true / false, include, exclude); see
https://qdrant.tech/documentation/concepts/payload/."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.errors import FormatError
from projections.jsonpath import get_values, parse_path
from projections.payloads import compile_selector, delete_keys, merge_payload

# ---- set_payload -------------------------------------------------------------------------------


def test_set_replaces_each_top_level_key_without_deep_merge():
    assert merge_payload({"a": {"x": 1}, "b": 1}, {"a": {"y": 1}}, None) == {
        "a": {"y": 1},
        "b": 1,
    }


def test_set_null_deletes_the_key():
    assert merge_payload({"a": 1, "b": 2}, {"a": None, "c": None}, None) == {"b": 2}


def test_set_with_key_merges_at_that_path():
    current = {"key": 1, "other": 2}
    assert merge_payload(current, {"k": "v"}, "key.sub") == {"key": {"sub": {"k": "v"}}, "other": 2}


def test_one_update_applied_to_many_points_leaves_them_independent():
    update = {"tags": ["a"], "meta": {"n": 1}}
    first = merge_payload({}, update, None)
    second = merge_payload({}, update, None)
    delete_keys(first, ["meta.n", "tags[]"])
    assert second == {"tags": ["a"], "meta": {"n": 1}}
    assert update == {"tags": ["a"], "meta": {"n": 1}}


# ---- delete_payload ----------------------------------------------------------------------------


def test_delete_keys_follows_each_path():
    current = {"a": 1, "b": {"c": 1, "d": 2}, "arr": [{"x": 1, "y": 2}], "ix": [1, 2], "w": [3]}
    assert delete_keys(current, ["a", "b.c", "arr[].x", "ix[0]", "w[]", "missing.key"]) == {
        "b": {"d": 2},
        "arr": [{"y": 2}],
        "ix": [1, 2],
        "w": [],
    }


# ---- with_payload ------------------------------------------------------------------------------

COUNTRY = {
    "country": {
        "name": "Germany",
        "capital": "Berlin",
        "cities": [{"name": "Berlin", "population": 3.7}, {"name": "Munich", "population": 1.5}],
    },
    "rating": 4,
}


def test_true_keeps_everything_and_false_or_null_nothing():
    selector = compile_selector(True)
    assert selector is not None and selector.keeps_all
    assert selector.apply(COUNTRY) == COUNTRY
    assert compile_selector(False) is None
    assert compile_selector(None) is None


def test_include_keeps_nested_structure():
    selector = compile_selector({"include": ["country.name", "country.cities[].name"]})
    assert selector is not None and not selector.keeps_all
    assert selector.apply(COUNTRY) == {
        "country": {"name": "Germany", "cities": [{"name": "Berlin"}, {"name": "Munich"}]}
    }


def test_a_list_is_an_include():
    selector = compile_selector(["rating", "country.capital"])
    assert selector is not None
    assert selector.apply(COUNTRY) == {"country": {"capital": "Berlin"}, "rating": 4}


def test_include_needs_brackets_to_enter_an_array():
    selector = compile_selector({"include": ["a.b"]})
    assert selector is not None
    assert selector.apply({"a": [{"b": 1}]}) == {"a": []}


def test_include_of_absent_or_no_keys_is_empty():
    for raw in (["nothing"], [], {"include": []}):
        selector = compile_selector(raw)
        assert selector is not None
        assert selector.apply(COUNTRY) == {}


def test_exclude_drops_subtrees():
    selector = compile_selector({"exclude": ["country.cities"]})
    assert selector is not None
    assert selector.apply(COUNTRY) == {
        "country": {"name": "Germany", "capital": "Berlin"},
        "rating": 4,
    }


def test_exclude_through_every_element():
    selector = compile_selector({"exclude": ["country.cities[].population", "rating"]})
    assert selector is not None
    assert selector.apply(COUNTRY) == {
        "country": {
            "name": "Germany",
            "capital": "Berlin",
            "cities": [{"name": "Berlin"}, {"name": "Munich"}],
        }
    }


def test_selectors_do_not_change_the_stored_payload():
    stored = copy.deepcopy(COUNTRY)
    for raw in ({"include": ["country.cities[].name"]}, {"exclude": ["country.cities[].name"]}):
        selector = compile_selector(raw)
        assert selector is not None
        selector.apply(stored)
    assert stored == COUNTRY


@pytest.mark.parametrize(
    "raw",
    [
        {"include": ["a"], "exclude": ["b"]},
        {"include": ["a"], "extra": 1},
        {"exclude": "a"},
        {"only": ["a"]},
        {},
        "a",
        1,
        [1],
        ["a..b"],
    ],
)
def test_malformed_selectors_are_a_400(raw):
    with pytest.raises(FormatError) as error:
        compile_selector(raw)
    assert error.value.http_status == 400


# ---- properties --------------------------------------------------------------------------------

KEYS = ["a", "b", "c", "my key"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2), st.sampled_from(["", "x"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=10,
)
payloads = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)


def _key(name: str) -> str:
    return f'"{name}"' if " " in name else name


@st.composite
def paths(draw: st.DrawFn, indexes: bool = True) -> str:
    """A valid JSON path over KEYS: keys, `[]` and (optionally) `[n]` steps."""
    text = _key(draw(st.sampled_from(KEYS)))
    array_steps = ["[]", "[0]", "[1]"] if indexes else ["[]"]
    for _ in range(draw(st.integers(0, 3))):
        step = draw(st.sampled_from(["key", *array_steps]))
        text += "." + _key(draw(st.sampled_from(KEYS))) if step == "key" else step
    return text


@settings(max_examples=150)
@given(payloads, st.dictionaries(st.sampled_from(KEYS), values, max_size=3), st.none() | paths())
def test_set_payload_never_fails_and_lands_where_the_path_says(payload, update, key):
    result = merge_payload(payload, update, key)
    assert isinstance(result, dict)
    if key is None:
        expected = {k: v for k, v in update.items() if v is not None}
        assert {k: result[k] for k in expected} == expected
        assert not any(k in result for k, v in update.items() if v is None)
    elif "[" not in key:  # without array steps the object at the path always exists afterwards
        (target,) = get_values(result, parse_path(key))
        assert all(target[k] == v for k, v in update.items() if v is not None)


@settings(max_examples=150)
@given(payloads, st.lists(paths(), max_size=3))
def test_delete_payload_never_fails_and_removes_what_the_paths_name(payload, keys):
    result = delete_keys(payload, keys)
    for key in keys:
        if not key.endswith("]") or key.endswith("[]"):  # a final index deletes nothing
            assert get_values(result, parse_path(key)) == []


@settings(max_examples=150)
@given(payloads, st.lists(st.sampled_from(KEYS), unique=True))
def test_include_and_exclude_of_the_same_keys_split_the_payload(payload, keys):
    selected = [_key(k) for k in keys]
    included = compile_selector({"include": selected})
    excluded = compile_selector({"exclude": selected})
    assert included is not None and excluded is not None
    kept, rest = included.apply(payload), excluded.apply(payload)
    assert kept == {k: v for k, v in payload.items() if k in keys}
    assert kept | rest == payload
    assert not kept.keys() & rest.keys()


@settings(max_examples=150)
@given(payloads, paths(indexes=False), paths(indexes=False))
def test_include_keeps_and_exclude_removes_what_a_path_reaches(payload, path, other):
    reached = parse_path(path)
    included = compile_selector([path])
    excluded = compile_selector({"exclude": [path]})
    assert included is not None and excluded is not None
    assert get_values(included.apply(payload), reached) == get_values(payload, reached)
    assert get_values(excluded.apply(payload), reached) == []
    if parse_path(other)[0] != reached[0]:  # a disjoint path is untouched by either
        assert get_values(excluded.apply(payload), parse_path(other)) == get_values(
            payload, parse_path(other)
        )
        assert parse_path(other)[0] not in included.apply(payload)
