"""Byte-level pre-checks of a filter: necessary conditions that a payload, as stored (orjson's
JSON), must meet for the filter's top-level `must` conditions to hold. A scan runs them before
parsing a payload: False means the filter cannot match; True says nothing.

- an exact `match.value` string or boolean must appear, as JSON, somewhere in the payload;
- a numeric `range` on a top-level key needs an occurrence of `"key":<number in range>`, or of
  `"key":[` (an array, not checked further). orjson writes no spaces, and a quote inside a
  string is escaped, so a top-level key always appears exactly as `"key":` before its value;
  other occurrences (the same key deeper down) can only make the answer True.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import orjson

from projections.jsonpath import parse_path

Precheck = Callable[[bytes], bool]
COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def prechecks(raw: dict) -> tuple[Precheck, ...]:
    must = raw.get("must")
    conditions = [must] if isinstance(must, dict) else must or []
    found: list[Precheck] = []
    for condition in conditions:
        if not isinstance(condition, dict):
            continue
        if set(condition) == {"key", "match"}:
            fragment = _exact_value(condition["match"])
            if fragment is not None:
                found.append(lambda stored, fragment=fragment: fragment in stored)
        elif set(condition) == {"key", "range"}:
            check = _number_at(condition["key"], condition["range"])
            if check is not None:
                found.append(check)
    return tuple(found)


def _exact_value(match: object) -> bytes | None:
    exact = isinstance(match, dict) and set(match) == {"value"}
    if exact and isinstance(match["value"], (str, bool)):
        return orjson.dumps(match["value"])
    return None


def _number_at(key: str, bounds: dict) -> Precheck | None:
    given = {op: bound for op, bound in bounds.items() if op in COMPARE and bound is not None}
    if not given or not all(_is_number(b) for b in given.values()):
        return None  # datetime ranges, or no bound: no pre-check
    path = parse_path(key)
    if len(path) != 1 or not isinstance(path[0], str):
        return None
    occurrence = re.compile(re.escape(orjson.dumps(path[0])) + rb":(\[|-?[0-9][0-9.eE+-]*)")
    tests = [(COMPARE[op], bound) for op, bound in given.items()]

    def check(stored: bytes) -> bool:
        for found in occurrence.finditer(stored):
            token = found.group(1)
            if token == b"[":
                return True
            value = float(token)
            if all(compare(value, bound) for compare, bound in tests):
                return True
        return False

    return check


def _is_number(value: object) -> bool:
    return type(value) is int or type(value) is float
