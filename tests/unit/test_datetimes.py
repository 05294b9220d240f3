"""Datetimes as Qdrant reads them, and their exact microsecond form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.datetimes import parse_datetime, to_micros


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2005-04-17T08:29:02.646319Z", 1113726542646319),  # float seconds would give ...318
        ("2005-04-17T10:29:02.646319+02:00", 1113726542646319),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2024-01-15", 1705276800000000),
        ("2024-01-15 10:00:00.1234569", 1705312800123456),  # beyond microseconds is dropped
    ],
)
def test_datetimes_encode_as_exact_microseconds(text, micros):
    moment = parse_datetime(text)
    assert moment is not None
    assert to_micros(moment) == micros


@pytest.mark.parametrize("text", ["2024-02-30", "2024-01-15T25:00:00Z", "15/01/2024", ""])
def test_what_is_no_datetime_parses_as_none(text):
    assert parse_datetime(text) is None


@given(st.integers(-(10**15), 10**16), st.integers(-23 * 60, 23 * 60))
def test_to_micros_counts_every_microsecond(micros, offset_minutes):
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    assert to_micros(moment.astimezone(timezone(timedelta(minutes=offset_minutes)))) == micros
