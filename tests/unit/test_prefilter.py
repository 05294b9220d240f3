"""The byte-level pre-check of filters never rejects a payload that the filter matches."""

from __future__ import annotations

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from projections.filters import compile_filter

VALUES = st.one_of(
    st.sampled_from(["Berlin", 'Lon"don', "ü", "", "a b"]), st.booleans(), st.integers(-3, 3)
)
PAYLOADS = st.dictionaries(
    st.sampled_from(["city", "flag", "tags", "Berlin"]),
    st.one_of(
        VALUES, st.lists(VALUES, max_size=3), st.dictionaries(st.sampled_from(["city"]), VALUES)
    ),
    max_size=4,
)


@given(payload=PAYLOADS, key=st.sampled_from(["city", "flag", "tags", "tags[]"]), value=VALUES)
def test_may_match_is_true_whenever_the_filter_matches(payload, key, value):
    flt = compile_filter({"must": [{"key": key, "match": {"value": value}}]})
    if flt.matches(1, payload, ()):
        assert flt.may_match(orjson.dumps(payload))


def test_a_payload_without_the_string_is_skipped():
    flt = compile_filter({"must": [{"key": "city", "match": {"value": "Berlin"}}]})
    assert not flt.may_match(orjson.dumps({"city": "London"}))
    assert flt.may_match(orjson.dumps({"city": "Berlin"}))


# Integers near 2**53 and 2**63, where neighbours share an f64, alongside arbitrary ones.
EDGES = st.sampled_from([2**53, 2**53 + 1, 2**53 + 2, 2**63 - 2, 2**63 - 1, 2**63, -(2**63)])
NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    EDGES,
)
PRICES = st.one_of(
    NUMBERS, st.lists(NUMBERS, max_size=3), st.none(), st.text(max_size=4), st.booleans()
)
PRICED = st.dictionaries(
    st.sampled_from(["price", "other", "nested"]),
    st.one_of(PRICES, st.dictionaries(st.sampled_from(["price"]), PRICES, max_size=1)),
    max_size=3,
)
BOUNDS = st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte"]), NUMBERS, min_size=1)


LARGE = {"lte": 9223372036854775806, "gt": 9007199254740993}


@given(payload=PRICED, bounds=BOUNDS)
@example(payload={"price": 9223372036854775806}, bounds=LARGE)
@example(payload={"price": 2**53 + 1}, bounds={"lte": 2**53})
def test_range_pre_check_never_rejects_a_match(payload, bounds):
    flt = compile_filter({"must": [{"key": "price", "range": bounds}]})
    if flt.matches(1, payload, ()):
        assert flt.may_match(orjson.dumps(payload))


def test_range_pre_check_skips_payloads_out_of_range():
    flt = compile_filter({"must": [{"key": "price", "range": {"lt": 10}}]})
    assert not flt.may_match(orjson.dumps({"price": 50, "nested": {"cost": 5}}))
    assert flt.may_match(orjson.dumps({"price": 5}))
    assert flt.may_match(orjson.dumps({"price": [50, 5]}))


def test_range_pre_check_compares_large_integers_as_the_filter_does():
    flt = compile_filter({"must": [{"key": "price", "range": LARGE}]})
    payload = {"price": 9223372036854775806}
    assert flt.matches(1, payload, ())
    assert flt.may_match(orjson.dumps(payload))
