"""The filter language as the Rust server evaluates it without payload indexes, checked on the
documented cases and, by property, against qdrant-client's local mode."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models
from qdrant_client.local.payload_filters import check_filter

from projections.errors import FormatError, QdrantError, ValidationFailed
from projections.filters import compile_filter

U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
U2 = "0e5e4f6c-1ab2-4a0c-9d59-3f2bb5c9a0e1"


def matches(raw: dict, payload: dict, point_id: int | str = 1, vectors: tuple = ()) -> bool:
    return compile_filter(raw).matches(point_id, payload, vectors)


def field(key: str, **condition: object) -> dict:
    return {"must": [{"key": key, **condition}]}


def rejected(raw: object) -> QdrantError:
    with pytest.raises(QdrantError) as error:
        compile_filter(raw)
    return error.value


# ---- boolean structure -------------------------------------------------------------------------

RED = {"key": "color", "match": {"value": "red"}}
BIG = {"key": "size", "range": {"gte": 10}}


def test_an_empty_filter_matches_everything():
    assert matches({}, {})
    assert matches({"must": [], "must_not": [], "should": []}, {"x": 1})


@pytest.mark.parametrize(
    ("raw", "payload", "expected"),
    [
        ({"must": [RED, BIG]}, {"color": "red", "size": 10}, True),
        ({"must": [RED, BIG]}, {"color": "red", "size": 9}, False),
        ({"should": [RED, BIG]}, {"color": "blue", "size": 10}, True),
        ({"should": [RED, BIG]}, {"color": "blue", "size": 9}, False),
        ({"must_not": [RED, BIG]}, {"color": "blue", "size": 9}, True),
        ({"must_not": [RED, BIG]}, {"color": "red", "size": 9}, False),
        ({"must": RED}, {"color": "red"}, True),  # a single condition instead of a list
        ({"must": RED, "must_not": BIG}, {"color": "red", "size": 11}, False),
        ({"must": [{"should": [RED, BIG]}]}, {"size": 12}, True),  # a filter as a condition
    ],
)
def test_clauses_combine_conditions(raw, payload, expected):
    assert matches(raw, payload) is expected


def test_min_should_needs_at_least_min_count_conditions():
    conditions = [RED, BIG, {"key": "tag", "match": {"value": "new"}}]
    raw = {"min_should": {"conditions": conditions, "min_count": 2}}
    assert matches(raw, {"color": "red", "tag": "new"})
    assert not matches(raw, {"color": "red", "size": 1})
    empty = {"min_should": {"conditions": [], "min_count": 1}}
    assert not matches(empty, {})


# ---- value resolution and type strictness ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored", "expected"),
    [
        ("red", "red", True),
        ("red", "Red", False),
        ("1", 1, False),
        (1, 1, True),
        (1, 1.0, False),
        (1, "1", False),
        (1, True, False),
        (True, True, True),
        (True, 1, False),
        (True, "true", False),
        (False, False, True),
    ],
)
def test_match_value_never_coerces(value, stored, expected):
    assert matches(field("k", match={"value": value}), {"k": stored}) is expected


def test_an_array_matches_element_wise_one_level_deep():
    condition = field("n", match={"value": 2})
    assert matches(condition, {"n": [1, 2]})
    assert not matches(condition, {"n": [1, [2, 3]]})
    assert matches(field("n[]", match={"value": 2}), {"n": [1, [2, 3]]})


def test_arrays_of_objects_need_brackets():
    payload = {"a": [{"b": 1}, {"b": 4}]}
    assert not matches(field("a.b", match={"value": 4}), payload)
    assert matches(field("a[].b", match={"value": 4}), payload)
    assert not matches(field("a[0].b", match={"value": 4}), payload)


def test_a_missing_key_or_wrong_intermediate_matches_nothing():
    for payload in ({}, {"a": 5}, {"a": None}, {"a": {"c": 1}}):
        assert not matches(field("a.b", match={"value": 1}), payload)
        assert not matches(field("a.b", match={"except": [2]}), payload)


def test_match_any():
    assert matches(field("k", match={"any": ["a", "b"]}), {"k": "b"})
    assert matches(field("k", match={"any": [1, 2]}), {"k": [5, 2]})
    assert not matches(field("k", match={"any": [1, 2]}), {"k": 1.0})
    assert not matches(field("k", match={"any": ["1"]}), {"k": 1})
    assert not matches(field("k", match={"any": []}), {"k": "a"})


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("a", False),
        ("c", True),
        (3, True),  # another type is "not in the list"
        (True, True),
        ({"o": 1}, True),
        (["a", "c"], True),
        (["a"], False),
        ([], False),
        (None, False),
        ([None], False),
    ],
)
def test_match_except(stored, expected):
    assert matches(field("k", match={"except": ["a", "b"]}), {"k": stored}) is expected


def test_except_empty_matches_any_non_null_value():
    condition = field("k", match={"except": []})
    assert matches(condition, {"k": 0})
    assert not matches(condition, {"k": None})
    assert not matches(condition, {})


def test_text_without_index_is_a_case_sensitive_substring():
    assert matches(field("t", match={"text": "lo Wo"}), {"t": "Hello World"})
    assert not matches(field("t", match={"text": "hello"}), {"t": "Hello World"})
    assert matches(field("t", match={"phrase": "o W"}), {"t": "Hello World"})
    assert not matches(field("t", match={"text": "1"}), {"t": 1})


def test_text_any_needs_one_token_as_substring():
    assert matches(field("t", match={"text_any": "xyz orl"}), {"t": "Hello World"})
    assert not matches(field("t", match={"text_any": "xyz world"}), {"t": "Hello World"})


def test_prefix_is_case_sensitive():
    assert matches(field("t", match={"prefix": "Hel"}), {"t": "Hello"})
    assert not matches(field("t", match={"prefix": "hel"}), {"t": "Hello"})
    assert not matches(field("t", match={"prefix": ""}), {"t": 5})


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (5, True),
        (5.5, True),
        (1, False),
        ("5", False),
        (True, False),
        (None, False),
        ([0, 3], True),
        ([0, 6], False),  # one element must satisfy every bound
    ],
)
def test_numeric_range_matches_numbers_only(stored, expected):
    assert matches(field("n", range={"gt": 1, "lte": 5.5}), {"n": stored}) is expected


# 2**53 + 1 has no f64 of its own: as an f64 it is 2**53, as Qdrant compares it.
@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"gt": 2**53}, False),  # exact integers: 2**53 + 1 > 2**53
        ({"lte": 2**53}, True),  # exact integers: not <=
        ({"gte": 2**53, "lt": 2**53 + 2}, True),
        ({"gt": 2**53 + 1}, False),  # the bound is 2**53 too
        ({"lt": 2**53 + 2}, True),  # 2**53 + 2 is an f64 of its own
    ],
)
def test_numeric_range_compares_integers_as_f64(bounds, expected):
    assert matches(field("n", range=bounds), {"n": 2**53 + 1}) is expected
    assert matches(field("n", range=bounds), {"n": [0.5, 2**53 + 1]}) is expected


def test_match_value_keeps_integers_exact():
    assert not matches(field("n", match={"value": 2**53}), {"n": 2**53 + 1})
    assert matches(field("n", match={"value": 2**53 + 1}), {"n": 2**53 + 1})


@pytest.mark.parametrize(
    "stored",
    [
        "2024-01-15T10:00:00Z",
        "2024-01-15T12:00:00+02:00",
        "2024-01-15 10:00:00.5",
        "2024-01-15T11:00:00+0100",
        "2024-01-15 10:00",
        "2024-01-15",
    ],
)
def test_datetime_range_accepts_qdrant_formats_in_utc(stored):
    assert matches(
        field("d", range={"gte": "2024-01-15", "lt": "2024-01-16T00:00:00Z"}), {"d": stored}
    )


def test_datetime_range_compares_in_utc_and_skips_non_dates():
    condition = field("d", range={"lt": "2024-01-15T10:00:00Z"})
    assert matches(condition, {"d": "2024-01-15T11:59:59+02:00"})
    assert not matches(condition, {"d": "2024-01-15T10:00:00-00:01"})
    assert not matches(condition, {"d": 1})
    assert not matches(condition, {"d": "yesterday"})


# ---- values_count, is_empty, is_null -----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "count"),
    [
        ({}, 0),
        ({"k": None}, 0),
        ({"k": []}, 0),
        ({"k": [1, 2, 3]}, 3),
        ({"k": "x"}, 1),
        ({"k": {}}, 1),
    ],
)
def test_values_count(payload, count):
    assert matches(field("k", values_count={"gte": count, "lte": count}), payload)
    assert not matches(field("k", values_count={"gt": count}), payload)


@pytest.mark.parametrize(
    ("payload", "empty", "null"),
    [
        ({}, True, False),
        ({"k": None}, True, True),
        ({"k": []}, True, False),
        ({"k": [None]}, False, False),  # Rust (unindexed); local mode says null
        ({"k": 0}, False, False),
        ({"k": ""}, False, False),
        ({"k": {}}, False, False),
    ],
)
def test_is_empty_and_is_null(payload, empty, null):
    assert matches({"must": [{"is_empty": {"key": "k"}}]}, payload) is empty
    assert matches({"must": [{"is_null": {"key": "k"}}]}, payload) is null


def test_field_forms_of_is_empty_and_is_null():
    assert matches(field("k", is_empty=True), {})
    assert not matches(field("k", is_empty=False), {})
    assert matches(field("k", is_null=False), {})
    assert matches(field("k", is_null=False), {"k": 1})
    assert not matches(field("k", is_null=False), {"k": None})


def test_must_not_is_null_means_the_field_is_set():
    raw = {"must_not": [{"is_null": {"key": "k"}}]}
    assert matches(raw, {"k": 1})
    assert not matches(raw, {"k": None})


def test_is_empty_through_brackets_tests_elements():
    payload = {"a": [{"b": None}, {"b": 1}]}
    assert not matches({"must": [{"is_empty": {"key": "a[].b"}}]}, payload)
    assert matches({"must": [{"is_empty": {"key": "a[].c"}}]}, payload)


# ---- has_id, has_vector ------------------------------------------------------------------------


def test_has_id_normalises_uuids():
    raw = {"must": [{"has_id": [1, U1.upper()]}]}
    assert matches(raw, {}, point_id=1)
    assert matches(raw, {}, point_id=U1)
    assert not matches(raw, {}, point_id=2)
    assert not matches({"must": [{"has_id": []}]}, {}, point_id=1)


def test_has_vector():
    flt = compile_filter({"must": [{"has_vector": "image"}]})
    assert flt.uses_vectors
    assert flt.matches(1, {}, ["image", "text"])
    assert not flt.matches(1, {}, ["text"])
    assert compile_filter({"must": [{"has_vector": ""}]}).matches(1, {}, [""])
    assert not compile_filter({"must": [{"has_vector": "nope"}]}).matches(1, {}, ["image"])
    assert not compile_filter({"must": [RED]}).uses_vectors


# ---- nested ------------------------------------------------------------------------------------

DINERS = {
    "diet": [{"food": "meat", "likes": False}, {"food": "leek", "likes": True}],
    "name": "x",
}


def test_nested_needs_one_element_to_satisfy_all_conditions():
    inner = {
        "must": [
            {"key": "food", "match": {"value": "meat"}},
            {"key": "likes", "match": {"value": True}},
        ]
    }
    assert not matches({"must": [{"nested": {"key": "diet", "filter": inner}}]}, DINERS)
    flat = {
        "must": [
            {"key": "diet[].food", "match": {"value": "meat"}},
            {"key": "diet[].likes", "match": {"value": True}},
        ]
    }
    assert matches(flat, DINERS)
    liked = {
        "must": [
            {"key": "food", "match": {"value": "leek"}},
            {"key": "likes", "match": {"value": True}},
        ]
    }
    assert matches({"must": [{"nested": {"key": "diet[]", "filter": liked}}]}, DINERS)


def test_nested_on_a_non_array_or_non_objects_matches_nothing():
    anything = {"nested": {"key": "k", "filter": {}}}
    assert not matches({"must": [anything]}, {"k": {"food": "meat"}})
    assert not matches({"must": [anything]}, {"k": [1, "a"]})
    assert matches({"must": [anything]}, {"k": [1, {}]})


def test_empty_should_is_no_constraint_except_inside_nested():
    assert matches({"should": []}, DINERS)
    assert matches({"must": [{"should": []}]}, DINERS)
    assert not matches({"must": [{"nested": {"key": "diet", "filter": {"should": []}}}]}, DINERS)


def test_has_id_and_has_vector_never_match_inside_nested():
    for condition in ({"has_id": [1]}, {"has_vector": "v"}):
        raw = {"must": [{"nested": {"key": "diet", "filter": {"must": [condition]}}}]}
        assert not compile_filter(raw).matches(1, DINERS, ["v"])


# ---- geo ---------------------------------------------------------------------------------------

BERLIN = {"lon": 13.405, "lat": 52.52}
MOSCOW = {"lon": 37.6173, "lat": 55.7558}


def test_geo_radius_in_meters():
    near = field("loc", geo_radius={"center": {"lon": 13.41, "lat": 52.51}, "radius": 2000})
    assert matches(near, {"loc": BERLIN})
    assert matches(near, {"loc": [MOSCOW, BERLIN]})
    assert not matches(near, {"loc": MOSCOW})
    assert not matches(near, {"loc": [13.405, 52.52]})


def test_geo_bounding_box_and_antimeridian():
    box = {"top_left": {"lon": 13.0, "lat": 53.0}, "bottom_right": {"lon": 14.0, "lat": 52.0}}
    assert matches(field("loc", geo_bounding_box=box), {"loc": BERLIN})
    assert not matches(field("loc", geo_bounding_box=box), {"loc": MOSCOW})
    pacific = {"top_left": {"lon": 170, "lat": 10}, "bottom_right": {"lon": -170, "lat": -10}}
    assert matches(field("loc", geo_bounding_box=pacific), {"loc": {"lon": 179, "lat": 0}})
    assert matches(field("loc", geo_bounding_box=pacific), {"loc": {"lon": -179, "lat": 0}})
    assert not matches(field("loc", geo_bounding_box=pacific), {"loc": {"lon": 0, "lat": 0}})


def _ring(*corners: tuple[float, float]) -> dict:
    return {"points": [{"lon": lon, "lat": lat} for lon, lat in (*corners, corners[0])]}


def test_geo_polygon_with_a_hole():
    polygon = {
        "exterior": _ring((0, 0), (10, 0), (10, 10), (0, 10)),
        "interiors": [_ring((4, 4), (6, 4), (6, 6), (4, 6))],
    }
    condition = field("loc", geo_polygon=polygon)
    assert matches(condition, {"loc": {"lon": 2, "lat": 2}})
    assert not matches(condition, {"loc": {"lon": 5, "lat": 5}})
    assert not matches(condition, {"loc": {"lon": 11, "lat": 5}})
    assert not matches(condition, {"loc": {"lon": 0, "lat": 5}})  # on the boundary


# ---- rejections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"must": [], "filter": {}},  # unknown key in a filter
        {"must": [{"must": [], "bogus": 1}]},
        {"must": [{"unknown_condition": {}}]},
        {"must": [5]},
        {"must": "color"},
        {"must": [{"key": 5, "match": {"value": 1}}]},
        {"must": [{"key": "a..b", "match": {"value": 1}}]},
        field("k", match={"value": 1.0}),
        field("k", match={"value": None}),
        field("k", match={"any": [1, "a"]}),
        field("k", match={"any": [True]}),
        field("k", match={"any": [1.5]}),
        field("k", match={"except": "a"}),
        field("k", match={"text": 5}),
        field("k", match={"unknown": 1}),
        field("k", match={}),
        field("k", range={"gt": "2024-01-01", "lt": 5}),
        field("k", range={"gt": True}),
        field("k", values_count={"gt": -1}),
        field("k", is_empty="yes"),
        {"must": [{"has_id": [-1]}]},
        {"must": [{"has_id": 1}]},
        {"must": [{"has_vector": 1}]},
        {"must": [{"nested": {"key": "a"}}]},
        {"must": [{"nested": {"key": "a", "filter": {"x": 1}}}]},
        {"must": [{"is_empty": {"field": "a"}}]},
        {"min_should": {"conditions": [RED]}},
        {"min_should": {"min_count": 1}},
        {"min_should": {"conditions": [RED], "min_count": -1}},
        field("g", geo_radius={"center": {"lon": 0, "lat": 91}, "radius": 5}),
        field("g", geo_radius={"center": {"lon": 181, "lat": 0}, "radius": 5}),
        field("g", geo_radius={"center": {"lon": 0, "lat": 0}}),
        field("g", geo_bounding_box={"top_left": {"lon": 0, "lat": 0}}),
        "not a filter",
    ],
)
def test_malformed_filters_are_a_400(raw):
    error = rejected(raw)
    assert isinstance(error, FormatError)
    assert error.http_status == 400


def test_a_bad_datetime_bound_says_which_formats_are_accepted():
    error = rejected(field("d", range={"gte": "01/02/2024"}))
    assert error.http_status == 400
    assert error.detail == (
        "'01/02/2024' does not match accepted datetime format (RFC3339). "
        "Example: 2014-01-01T00:00:00Z"
    )


def test_a_geo_point_out_of_range_is_a_400_naming_it():
    error = rejected(field("g", geo_radius={"center": {"lon": 200.0, "lat": 1.5}, "radius": 1}))
    assert "`lat` = 1.5 within [-90;90] and `lon` = 200 within [-180;180]" in error.detail


def test_a_field_condition_without_operator_is_a_422():
    error = rejected({"must": [{"key": "city"}]})
    assert isinstance(error, ValidationFailed)
    assert error.http_status == 422
    assert "At least one field condition must be specified" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        {"min_should": {"conditions": [RED], "min_count": 0}},
        field("g", geo_polygon={"exterior": _ring((0, 0), (1, 0))}),
        field(
            "g",
            geo_polygon={
                "exterior": {
                    "points": [*_ring((0, 0), (1, 0), (1, 1))["points"][:3], {"lon": 5, "lat": 5}]
                }
            },
        ),
        field(
            "g",
            geo_polygon={
                "exterior": _ring((0, 0), (9, 0), (9, 9)),
                "interiors": [_ring((1, 1), (2, 1))],
            },
        ),
    ],
)
def test_out_of_range_but_well_typed_filters_are_a_422(raw):
    error = rejected(raw)
    assert isinstance(error, ValidationFailed)
    assert error.http_status == 422


def test_a_400_anywhere_wins_over_a_422():
    error = rejected({"must": [{"key": "city"}, {"key": "n", "match": {"value": 1.5}}]})
    assert error.http_status == 400


# ---- differential test against qdrant-client's local mode ----------------------------------------
#
# Random payloads and random filters built from every supported condition, evaluated by
# compile_filter and by local mode's check_filter. Left out, because the Rust server (which we
# follow) and local mode (qdrant-client 1.20) disagree there:
#   - match.text / text_any / phrase: substring in Rust, lowercase word tokens in local mode;
#   - is_null (object form) on an array holding null ([null]): false in Rust, true in local
#     mode -- filters using it are only tried on payloads without null inside arrays;
#   - `should: []` inside `nested`: matches nothing in Rust, no constraint in local mode;
#   - field-form `is_empty: true` / `is_null: false` on keys with `[]` (several values): Rust
#     needs one value to pass, local mode all of them -- only single-value keys get them;
#   - several operators in one field condition: OR-ed in Rust, first one wins in local mode;
#   - range on integers beyond 2**53: compared as f64 in Rust, exactly in local mode -- the
#     numbers drawn are small.

KEYS = ["a", "b", "c"]
STRINGS = ["red", "Red", "", "2024-01-01T00:00:00Z", "2024-03-05 10:00:00", "2023-12-31"]
IDS = [0, 1, 2, U1, U2]
VECTORS = ["", "img", "txt"]
PATHS = ["a", "b", "a.b", "a[]", "a[].b", "a[0]", "b[].c", "a.b[]", "c[1].a", "a[].b[]"]
NUMBERS = [-2, -1.5, 0, 1, 2.5, 3]
FALLBACK_PAIRS = [("a", "red"), ("b", 1), ("a", True), ("c", 2.5), ("a", {"lon": 0, "lat": 0})]
DATES = ["2023-12-31T00:00:00Z", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00+01:00"]
POLYGONS = [
    {"exterior": _ring((-2, -2), (2, -2), (2, 2), (-2, 2))},
    {
        "exterior": _ring((-3, -3), (3, -3), (3, 3), (-3, 3)),
        "interiors": [_ring((-1, -1), (1, -1), (1, 1), (-1, 1))],
    },
    {"exterior": _ring((0, 0), (3, 1), (1, 3))},
]

# Geo coordinates on a coarse grid: the polygon tests stay exact, whichever axis comes first.
grid = st.sampled_from([-3, -2, -1.5, -1, 0, 0.5, 1, 2, 2.5, 3])
geo_points = st.builds(lambda lon, lat: {"lon": lon, "lat": lat}, grid, grid)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([-1.5, 0.0, 1.0, 2.5]),
    st.sampled_from(STRINGS),
    geo_points,
)


def payloads(null_in_arrays: bool) -> st.SearchStrategy:
    def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
        items = inner if null_in_arrays else inner.filter(lambda v: v is not None)
        objects = st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
        return st.lists(items, max_size=3) | objects

    nested = st.recursive(scalars, containers, max_leaves=8)
    objects = st.lists(st.dictionaries(st.sampled_from(KEYS), scalars | nested), max_size=3)
    values = scalars | nested | objects  # plain scalars and arrays of objects are common
    return st.dictionaries(st.sampled_from(KEYS), values, max_size=3)


POINTS = {
    nulls: st.tuples(payloads(nulls), st.sampled_from(IDS), st.sets(st.sampled_from(VECTORS)))
    for nulls in (True, False)
}


class Pool:
    """What the drawn payloads hold: every path, and every (path, value) pair of a scalar or geo
    point. Conditions are built from these pairs (so they often hit one of the payloads and miss
    the others) as well as from fixed values; independent draws would almost never match."""

    def __init__(self, payloads: list[dict]) -> None:
        self.paths: set[str] = set(PATHS)
        self.object_arrays: set[str] = set()  # paths of arrays holding objects, for `nested`
        self.pairs: list[tuple[str, object]] = []
        for payload in payloads:
            self._walk(payload, "")

    def _walk(self, value: object, path: str) -> None:
        if isinstance(value, dict):
            if "lon" in value and path:
                self.pairs.append((path, value))
            for key, item in value.items():
                self._walk(item, f"{path}.{key}" if path else key)
            if path:
                self.paths.add(path)
        elif isinstance(value, list):
            self.paths.update((path, f"{path}[]", f"{path}[0]"))
            for item in value:
                if not isinstance(item, dict | list):
                    self.pairs.append((path, item))  # an array is matched element-wise
                self._walk(item, f"{path}[]")
                if isinstance(item, dict):
                    self.object_arrays.add(path)
                    self._walk(item, "")  # paths relative to an element, for `nested`
        else:
            self.paths.add(path)
            self.pairs.append((path, value))

    def keys(self) -> st.SearchStrategy:
        return st.sampled_from(sorted(self.paths))

    def nested_keys(self) -> st.SearchStrategy:
        arrays = sorted(self.object_arrays)
        return st.sampled_from(arrays) | self.keys() if arrays else self.keys()

    def pairs_of(self, *kinds: type) -> st.SearchStrategy:
        """A (path, value) pair whose value is of one of these exact types (a made-up one if
        the payloads hold none)."""
        found = [(p, v) for p, v in self.pairs if type(v) in kinds]
        return st.sampled_from(found or [(p, v) for p, v in FALLBACK_PAIRS if type(v) in kinds])


def bounds(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte"]), values)


def keyed(pair: st.SearchStrategy, make: Callable[[object], dict]) -> st.SearchStrategy:
    """A field condition on the pair's path, its operator made from the pair's value."""
    return st.builds(lambda kv: {"key": kv[0], **make(kv[1])}, pair)


def match_conditions(pool: Pool) -> st.SearchStrategy:
    strings, ints = pool.pairs_of(str), pool.pairs_of(int)
    other_strings = st.lists(st.sampled_from(STRINGS), max_size=2)
    other_ints = st.lists(st.integers(-2, 2), max_size=2)
    return st.one_of(
        keyed(pool.pairs_of(str, int, bool), lambda v: {"match": {"value": v}}),
        st.builds(
            lambda kv, more: {"key": kv[0], "match": {"any": [kv[1], *more]}},
            strings,
            other_strings,
        ),
        st.builds(
            lambda kv, more: {"key": kv[0], "match": {"any": [kv[1], *more]}}, ints, other_ints
        ),
        st.builds(
            lambda kv, more: {"key": kv[0], "match": {"except": more}}, strings, other_strings
        ),
        st.builds(lambda kv, more: {"key": kv[0], "match": {"except": more}}, ints, other_ints),
        keyed(strings, lambda v: {"match": {"prefix": v[:2]}}),
        st.builds(
            lambda k, v: {"key": k, "match": {"value": v}}, pool.keys(), st.sampled_from(STRINGS)
        ),
    )


def range_conditions(pool: Pool) -> st.SearchStrategy:
    def around(kv: tuple[str, float], others: dict) -> dict:
        return {"key": kv[0], "range": {**others, "gte": kv[1]}}

    numbers = st.sampled_from(NUMBERS)
    return st.one_of(
        st.builds(around, pool.pairs_of(int, float), bounds(numbers)),
        st.builds(lambda k, r: {"key": k, "range": r}, pool.keys(), bounds(numbers)),
        st.builds(
            lambda k, r: {"key": k, "range": r},
            pool.keys(),
            bounds(st.sampled_from(DATES)).filter(bool),
        ),
        st.builds(
            lambda k, r: {"key": k, "values_count": r}, pool.keys(), bounds(st.integers(0, 3))
        ),
    )


def box_around(kv: tuple[str, dict], margins: list[float]) -> dict:
    """A box with the point inside, on an edge or outside; crossing the antimeridian if the
    margins make the left edge east of the right one."""
    (lon, lat), (west, north, east, south) = (kv[1]["lon"], kv[1]["lat"]), margins
    top_left, bottom_right = (
        {"lon": lon - west, "lat": lat + north},
        {"lon": lon + east, "lat": lat - south},
    )
    return {"key": kv[0], "geo_bounding_box": {"top_left": top_left, "bottom_right": bottom_right}}


def geo_conditions(pool: Pool) -> st.SearchStrategy:
    points = pool.pairs_of(dict) | st.tuples(pool.keys(), geo_points)
    return st.one_of(
        st.builds(
            box_around, points, st.lists(st.sampled_from([-1, 0, 0.5, 2]), min_size=4, max_size=4)
        ),
        st.builds(
            lambda kv, radius: {"key": kv[0], "geo_radius": {"center": kv[1], "radius": radius}},
            points,
            st.sampled_from([0, 50_000, 150_000, 400_000]),
        ),
        st.builds(
            lambda kv, polygon: {"key": kv[0], "geo_polygon": polygon},
            points,
            st.sampled_from(POLYGONS),
        ),
    )


def emptiness_conditions(pool: Pool, object_is_null: bool) -> st.SearchStrategy:
    single_value = st.sampled_from(sorted(p for p in pool.paths if "[]" not in p))
    conditions = [
        st.builds(lambda k, flag: {"key": k, "is_empty": flag}, single_value, st.booleans()),
        st.builds(lambda k, flag: {"key": k, "is_null": flag}, single_value, st.booleans()),
        st.builds(lambda k: {"key": k, "is_empty": False}, pool.keys()),
        st.builds(lambda k: {"key": k, "is_null": True}, pool.keys()),
        st.builds(lambda k: {"is_empty": {"key": k}}, pool.keys()),
    ]
    if object_is_null:
        conditions.append(st.builds(lambda k: {"is_null": {"key": k}}, pool.keys()))
    return st.one_of(conditions)


def field_conditions(pool: Pool, object_is_null: bool) -> st.SearchStrategy:
    return st.one_of(
        match_conditions(pool),
        range_conditions(pool),
        geo_conditions(pool),
        emptiness_conditions(pool, object_is_null),
    )


point_conditions = st.one_of(
    st.builds(lambda ids: {"has_id": ids}, st.lists(st.sampled_from(IDS), max_size=3)),
    st.builds(lambda name: {"has_vector": name}, st.sampled_from(VECTORS)),
)


def filters(pool: Pool, object_is_null: bool, depth: int, nested: bool) -> st.SearchStrategy:
    condition = field_conditions(pool, object_is_null) | point_conditions
    if depth > 0:
        condition |= filters(pool, object_is_null, depth - 1, nested)
        condition |= st.builds(
            lambda key, f: {"nested": {"key": key, "filter": f}},
            pool.nested_keys(),
            filters(pool, object_is_null, depth - 1, nested=True),
        )
    clause = st.lists(condition, max_size=3) | condition
    should = st.lists(condition, min_size=1, max_size=3) if nested else clause
    min_should = st.builds(
        lambda conditions, count: {"conditions": conditions, "min_count": count},
        st.lists(condition, max_size=3),
        st.integers(1, 3),
    )
    clauses = {"must": clause, "should": should, "must_not": clause, "min_should": min_should}
    # at least one clause: the empty filter is trivial (and tested above)
    return st.one_of(
        st.fixed_dictionaries(
            {name: clauses[name]}, optional={k: v for k, v in clauses.items() if k != name}
        )
        for name in clauses
    )


@settings(max_examples=300)
@given(st.data())
def test_filters_agree_with_local_mode(data):
    object_is_null = data.draw(st.booleans(), label="object_is_null")
    points = data.draw(st.lists(POINTS[not object_is_null], min_size=1, max_size=5), label="points")
    pool = Pool([payload for payload, _, _ in points])
    raw = data.draw(filters(pool, object_is_null, depth=2, nested=False), label="filter")
    compiled = compile_filter(raw)
    model = models.Filter.model_validate(raw)
    for payload, point_id, vectors in points:
        expected = check_filter(model, payload, point_id, dict.fromkeys(vectors, True))
        assert compiled.matches(point_id, payload, vectors) == expected
