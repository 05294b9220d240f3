from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections import ids
from projections.errors import FormatError, WrongInput

U = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"


@pytest.mark.parametrize("raw", [0, 1, 2**64 - 1])
def test_unsigned_integers_are_ids(raw):
    assert ids.parse_id(raw) == raw


@pytest.mark.parametrize("raw", [-1, 2**64, 1.0, "123", True, None, [1], {"a": 1}, "not-a-uuid"])
def test_everything_else_is_refused(raw):
    with pytest.raises(FormatError, match="not a valid point ID"):
        ids.parse_id(raw)


@pytest.mark.parametrize(
    "spelling", [U, U.upper(), U.replace("-", ""), "{" + U + "}", "urn:uuid:" + U]
)
def test_every_uuid_spelling_is_the_same_point(spelling):
    assert ids.parse_id(spelling) == U


def test_url_ids_are_integers_first():
    assert ids.parse_path_id("123") == 123
    assert ids.parse_path_id(U.upper()) == U
    with pytest.raises(WrongInput, match='Can not recognize "x1" as point id'):
        ids.parse_path_id("x1")


point_ids = st.one_of(st.integers(0, 2**64 - 1), st.uuids().map(str))


@given(st.lists(point_ids, min_size=2, max_size=20))
def test_keys_sort_in_qdrant_order_and_round_trip(values):
    qdrant_order = sorted(
        values, key=lambda v: (0, v) if isinstance(v, int) else (1, uuid.UUID(v).int)
    )
    assert sorted(values, key=ids.to_key) == qdrant_order
    assert [ids.from_key(ids.to_key(v)) for v in values] == values
