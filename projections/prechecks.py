"""Byte-level pre-checks of a filter: necessary conditions that a payload, as stored (orjson's
JSON), must meet for the filter's top-level `must` conditions to hold. A scan runs them before
parsing a payload: False means the filter cannot match; True says nothing.

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
from collections.abc import Callable

import orjson

from projections.jsonpath import parse_path
from projections.ranges import f64_bounds, given_bounds, within

Precheck = Callable[[bytes], bool]


def prechecks(raw: object) -> tuple[Precheck, ...]:
    """The pre-checks of a filter that compiled (so `raw` has the shape of one)."""
    must = raw.get("must") if isinstance(raw, dict) else None
    conditions = [must] if isinstance(must, dict) else must or []
    found: list[Precheck] = []
    for condition in conditions:
        if not isinstance(condition, dict):
            continue
        if set(condition) == {"key", "match"}:
            fragment = _exact_value(condition["match"])
            if fragment is not None:
                found.append(_contains(fragment))
        elif set(condition) == {"key", "range"}:
            check = _number_at(condition["key"], condition["range"])
            if check is not None:
                found.append(check)
    return tuple(found)


def _exact_value(match: object) -> bytes | None:
    if isinstance(match, dict) and set(match) == {"value"}:
        value = match["value"]
        if isinstance(value, str | bool):
            return orjson.dumps(value)
    return None


def _contains(fragment: bytes) -> Precheck:
    return lambda stored: fragment in stored


def _number_at(key: str, bounds: dict[str, object]) -> Precheck | None:
    given = given_bounds(bounds)
    numeric = f64_bounds(given) if given else None
    if numeric is None:
        return None  # datetime ranges, or no bound: no pre-check
    path = parse_path(key)
    if len(path) != 1:
        return None
    occurrence = re.compile(re.escape(orjson.dumps(path[0])) + rb":(\[|-?[0-9][0-9.eE+-]*)")
    inside = within(numeric)

    def check(stored: bytes) -> bool:
        for found in occurrence.finditer(stored):
            token = found.group(1)
            if token == b"[" or inside(float(token)):
                return True
        return False

    return check
