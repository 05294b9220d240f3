"""Bounds of `range` and `values_count` conditions: which are given, and the test they make.

Numeric ranges compare as f64, as Qdrant does (its `Range` holds f64 bounds and takes a payload
number `as_f64`, see lib/segment/src/payload_storage/condition_checker.rs in
https://github.com/qdrant/qdrant): bounds are converted once by `f64_bounds`, and every caller
converts a value with `float()` before testing it. Above 2**53 that differs from comparing
Python integers exactly: 2**53 + 1 is the f64 2**53, so `gt: 2**53` does not match it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from projections.jsontypes import is_number

BOUNDS = ("gt", "gte", "lt", "lte")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

T = TypeVar("T")


def given_bounds(raw: Mapping[str, object]) -> dict[str, object]:
    """The bounds a range object sets (a null bound is no bound); other keys are ignored."""
    return {op: raw[op] for op in BOUNDS if raw.get(op) is not None}


def f64_bounds(given: Mapping[str, object]) -> dict[str, float] | None:
    """Numeric bounds as the f64s they are compared as; None unless every bound is a number."""
    numbers = {op: float(bound) for op, bound in given.items() if is_number(bound)}
    return numbers if len(numbers) == len(given) else None


def within(bounds: Mapping[str, T]) -> Callable[[T], bool]:
    """A test of the given bounds only (a scan calls it once per value)."""
    tests = [(COMPARE[op], bound) for op, bound in bounds.items()]
    if len(tests) == 1:
        ((compare, bound),) = tests
        return lambda x: compare(x, bound)
    return lambda x: all(compare(x, bound) for compare, bound in tests)
