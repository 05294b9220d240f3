"""What a compiled filter tells the planner (planner.py): the conditions an index might serve
and how they combine.

A hint is a necessary condition of the filter part it stands for: every point that part
matches satisfies the hint. So points read from indexes for a hint are a superset of the
matches, and the caller still checks the whole filter on them. Hints are made for conditions
on the point's own payload only (never inside `nested`, whose paths are an array element's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from projections.geo import Area
from projections.jsonpath import JsonPath
from projections.jsontypes import JsonObject


@dataclass(frozen=True)
class Values:
    """Some value at `path` equals one of `values`, of the same JSON type (match.value: one
    value, match.any: the list, all strings or all integers; booleans come alone)."""

    path: JsonPath
    values: tuple[str | int | bool, ...]


@dataclass(frozen=True)
class Numbers:
    """Some number (int or float, never a boolean) at `path` is within `bounds`, compared as
    f64 (ranges.py)."""

    path: JsonPath
    bounds: Mapping[str, float]


@dataclass(frozen=True)
class Moments:
    """Some string at `path` parses as a datetime within `bounds`, given as microseconds since
    the epoch (datetimes.to_micros) and compared exactly."""

    path: JsonPath
    bounds: Mapping[str, int]


class TextBinding(Protocol):
    """A text match's current meaning: the tokenizer params of the text index it is bound to,
    or None for substring matching."""

    @property
    def params(self) -> JsonObject | None: ...


@dataclass(frozen=True)
class Text:
    """`match.text`, `text_any` or `phrase` (the `form`) of `query` at `path`."""

    path: JsonPath
    form: str
    query: str
    binding: TextBinding


@dataclass(frozen=True)
class Place:
    """Some geo point at `path` lies in `area`."""

    path: JsonPath
    area: Area


@dataclass(frozen=True)
class Ids:
    """The point is one of `keys` (point keys)."""

    keys: frozenset[str]


@dataclass(frozen=True)
class All:
    parts: tuple[Hint, ...]


@dataclass(frozen=True)
class Either:
    """At least one of the parts holds."""

    parts: tuple[Hint, ...]


Hint = Values | Numbers | Moments | Text | Place | Ids | All | Either
