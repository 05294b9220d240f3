"""Byte-level pre-checks of a filter: necessary conditions that a payload, as stored (orjson's
JSON), must meet for the filter's top-level `must` conditions to hold. The compiler
(filters.py) makes them as it compiles those conditions; a scan runs them before parsing a
payload: False means the filter cannot match; True says nothing.

- an exact `match.value` string or boolean must appear, as JSON, somewhere in the payload;
- a numeric `range` on a top-level key needs an occurrence of `"key":<number in range>`, or of
  `"key":[` (an array, not checked further). orjson writes no spaces, and a quote inside a
  string is escaped, so a top-level key always appears exactly as `"key":` before its value;
  other occurrences (the same key deeper down) can only make the answer True. The number is
  compared as the filter compares it, as an f64 (ranges.py): orjson writes integers exactly and
  floats in a form that reads back the same, so `float(token)` is the f64 of the stored value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import orjson

from projections.ranges import within

Precheck = Callable[[bytes], bool]


def contains(fragment: bytes) -> Precheck:
    """The stored payload holds `fragment` (a value's JSON) somewhere."""
    return lambda stored: fragment in stored


def number_at(key: str, bounds: Mapping[str, float]) -> Precheck:
    """The top-level `key` holds a number within the f64 `bounds` (or an array)."""
    occurrence = re.compile(re.escape(orjson.dumps(key)) + rb":(\[|-?[0-9][0-9.eE+-]*)")
    inside = within(bounds)

    def check(stored: bytes) -> bool:
        for found in occurrence.finditer(stored):
            token = found.group(1)
            if token == b"[" or inside(float(token)):
                return True
        return False

    return check
