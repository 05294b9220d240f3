"""Filters served by payload indexes. Given a compiled filter (its hint, hints.py) and the
collection's index definitions, a plan reads candidate points from the indexes' data
(index_data.py); the caller checks the whole filter on those only. No plan: the caller scans.

The rule: candidates are a SUPERSET of the points the filter matches. So a condition is served
by an index only when the index provably holds every value the condition can match:
- match.value / match.any: a keyword index for strings, an integer index with `lookup` for
  integers, a bool index for a boolean, a uuid index for strings that all parse as UUIDs (a
  match is an equal string, so it is the same UUID, which the index keeps in canonical form).
  The points of that value (SMEMBERS), or of any of the values (SUNION).
- a numeric range: a float index, or an integer index with `range` (its strays hold the
  floats): ZRANGEBYSCORE, which compares the f64 scores the filter compares. A datetime range:
  a datetime index (microseconds; f64 scores round them above 2**53, and ranges are made
  inclusive, so none is lost).
- match.text / text_any / phrase bound to the field's text index: the points of every query
  token (SINTER; a phrase needs them all too) or of any of them (SUNION).
- geo_radius / geo_bounding_box / geo_polygon: a geo index, by an enlarged GEOSEARCH
  (geo_index.py), plus every location the GEO set cannot place.
- has_id: the ids themselves.
- `must` (All): its most selective served part, the term sets it can intersect counting as one
  (SINTER); `should` and `min_should` (Either): the union, when every part is served.

Sizes are estimated (SCARD, ZCOUNT; a GEOSEARCH counts what it finds) in one pipelined round
trip, when a `must` offers a choice or a caller asks for the `estimate`. A plan is `exact` when
its candidates are precisely the matches (a whole filter of keyword, integer or bool matches):
`count` then answers from the index without reading a payload.

Reading the candidates also reads, in the same transaction, the definitions of the indexes the
plan used: if one changed since the plan was made, or its data is not complete (`indexed` in
keys.py), `candidates` says None (scan instead).
"""

from __future__ import annotations

import math
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any, cast

import orjson
import redis

from projections import geo_index
from projections.filters import Filter
from projections.hints import All, Either, Hint, Ids, Moments, Numbers, Place, Text, Values
from projections.indexes import Index
from projections.jsonpath import JsonPath, parse_path
from projections.keys import Keys
from projections.text import Tokenizer

Results = Iterator[Any]  # a pipeline's results, each source taking its own in turn


class _Source(ABC):
    """Where candidates come from. `exact`: they are precisely the points of the hint."""

    fields: frozenset[str] = frozenset()
    exact = False

    @abstractmethod
    def queue_size(self, pipe: redis.client.Pipeline) -> None: ...

    @abstractmethod
    def take_size(self, results: Results) -> int: ...

    @abstractmethod
    def queue_read(self, pipe: redis.client.Pipeline) -> None: ...

    @abstractmethod
    def take_read(self, results: Results) -> set[str]: ...


class _Terms(_Source):
    """The points of every term set (`every`) or of any."""

    def __init__(self, fields: frozenset[str], keys: tuple[str, ...], every: bool, exact: bool):
        self.fields, self.keys, self.every, self.exact = fields, keys, every, exact

    @property
    def intersectable(self) -> bool:
        return self.every or len(self.keys) == 1

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        for key in self.keys:
            pipe.scard(key)

    def take_size(self, results: Results) -> int:
        sizes = [int(next(results)) for _ in self.keys]
        return (min(sizes) if self.every else sum(sizes)) if sizes else 0

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        if len(self.keys) == 1:
            pipe.smembers(self.keys[0])
        elif self.keys:
            (pipe.sinter if self.every else pipe.sunion)(list(self.keys))

    def take_read(self, results: Results) -> set[str]:
        return {k.decode() for k in next(results)} if self.keys else set()


class _Scores(_Source):
    """The points with a member scored within `low` and `high` (ZRANGEBYSCORE's bounds: a
    number, `(` before it when exclusive) in any of the sorted sets."""

    def __init__(self, field: str, zsets: tuple[str, ...], low: str, high: str) -> None:
        self.fields, self.zsets, self.low, self.high = frozenset([field]), zsets, low, high

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        for zset in self.zsets:
            pipe.zcount(zset, self.low, self.high)

    def take_size(self, results: Results) -> int:
        return sum(int(next(results)) for _ in self.zsets)

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        for zset in self.zsets:
            pipe.zrangebyscore(zset, self.low, self.high)

    def take_read(self, results: Results) -> set[str]:
        return {point for _ in self.zsets for point in _points(next(results))}


class _Places(_Source):
    """The points with a location the search finds, or one the GEO set cannot place."""

    def __init__(self, field: str, keys: Keys, search: geo_index.Search) -> None:
        self.fields, self.search = frozenset([field]), search
        self.geo, self.outside = keys.geo(field), keys.geo_outside(field)

    def _queue(self, pipe: redis.client.Pipeline) -> None:
        s = self.search
        pipe.geosearch(
            self.geo, longitude=s.lon, latitude=s.lat, radius=s.radius, width=s.width,
            height=s.height, unit="m",
        )  # fmt: skip

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        self._queue(pipe)
        pipe.scard(self.outside)

    def take_size(self, results: Results) -> int:
        return len(next(results)) + int(next(results))

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        self._queue(pipe)
        pipe.smembers(self.outside)

    def take_read(self, results: Results) -> set[str]:
        return _points(next(results)) | _points(next(results))


class _Ids(_Source):
    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        pass

    def take_size(self, results: Results) -> int:
        return len(self.keys)

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        pass

    def take_read(self, results: Results) -> set[str]:
        return set(self.keys)


class _Smallest(_Source):
    """A `must`'s served parts: the smallest of them, once their sizes are known."""

    def __init__(self, options: list[_Source]) -> None:
        self.options = options
        self.fields = frozenset().union(*(option.fields for option in options))
        self.chosen: _Source | None = None

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        for option in self.options:
            option.queue_size(pipe)

    def take_size(self, results: Results) -> int:
        sizes = [option.take_size(results) for option in self.options]
        size, at = min((size, at) for at, size in enumerate(sizes))
        self.chosen = self.options[at]
        return size

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        assert self.chosen is not None, "sizes first"
        self.chosen.queue_read(pipe)

    def take_read(self, results: Results) -> set[str]:
        assert self.chosen is not None
        return self.chosen.take_read(results)


class _Union(_Source):
    def __init__(self, parts: list[_Source]) -> None:
        self.parts = parts
        self.fields = frozenset().union(*(part.fields for part in parts))
        self.exact = all(part.exact for part in parts)

    def queue_size(self, pipe: redis.client.Pipeline) -> None:
        for part in self.parts:
            part.queue_size(pipe)

    def take_size(self, results: Results) -> int:
        return sum(part.take_size(results) for part in self.parts)

    def queue_read(self, pipe: redis.client.Pipeline) -> None:
        for part in self.parts:
            part.queue_read(pipe)

    def take_read(self, results: Results) -> set[str]:
        return set().union(*(part.take_read(results) for part in self.parts))


def _points(members: Any) -> set[str]:
    """The point keys of `<point key>|<n>` members."""
    return {member.rsplit(b"|", 1)[0].decode() for member in members}


# ---- plans --------------------------------------------------------------------------------------


class Plan:
    """How indexes serve one filter: `estimate` (an upper bound of the candidates, cheap) and
    `candidates` (sorted point keys: id order), `exact` and `count`."""

    def __init__(
        self, r: redis.Redis, keys: Keys, indexes: Mapping[str, Index], source: _Source, exact: bool
    ) -> None:
        self._r, self._keys, self._source, self.exact = r, keys, source, exact
        self._fields = sorted(source.fields)
        self._schemas = [indexes[f].schema for f in self._fields]

    @cached_property
    def estimate(self) -> int:
        with self._r.pipeline(transaction=False) as pipe:
            self._source.queue_size(pipe)
            return self._source.take_size(iter(pipe.execute()))

    def candidates(self) -> list[str] | None:
        """A superset of the points the filter matches (exactly them if `exact`), in id order;
        None when an index the plan used has changed since."""
        if isinstance(self._source, _Smallest):
            self.estimate  # noqa: B018  # the choice needs the sizes
        found = self._checked(self._source.queue_read)
        return None if found is None else sorted(self._source.take_read(found))

    def count(self) -> int | None:
        """The number of matches, from the index alone: only for an exact plan (else None, as
        when an index changed since the plan was made)."""
        if not self.exact:
            return None
        if isinstance(self._source, _Terms) and len(self._source.keys) == 1:
            found = self._checked(self._source.queue_size)
            return None if found is None else self._source.take_size(found)
        candidates = self.candidates()
        return None if candidates is None else len(candidates)

    def _checked(self, queue: Callable[[redis.client.Pipeline], None]) -> Results | None:
        """Run the queued reads in one transaction with the plan's index definitions; None if
        one of them is no longer what the plan was made with, or its data is not complete."""
        with self._r.pipeline(transaction=True) as pipe:
            if self._fields:
                pipe.hmget(self._keys.indexes, self._fields)
                pipe.smismember(self._keys.indexed, self._fields)
            queue(pipe)
            results = iter(pipe.execute())
        if self._fields:
            stored = cast("list[bytes | None]", next(results))
            complete = cast("list[int]", next(results))
            if [None if s is None else orjson.loads(s) for s in stored] != self._schemas:
                return None
            if not all(complete):
                return None
        return results


def plan(r: redis.Redis, keys: Keys, indexes: Mapping[str, Index], flt: Filter) -> Plan | None:
    """How the complete indexes `indexes` (field -> definition, as the filter's text matches
    were bound with) serve the filter; None when they do not (scan)."""
    if flt.hint is None or not indexes:
        return None
    by_path = {parse_path(f): index for f, index in indexes.items()}
    source = _Resolver(keys, by_path).source(flt.hint)
    if source is None:
        return None
    return Plan(r, keys, indexes, source, flt.complete and source.exact)


class _Resolver:
    def __init__(self, keys: Keys, by_path: Mapping[JsonPath, Index]) -> None:
        self._keys = keys
        self._by_path = by_path

    def source(self, hint: Hint) -> _Source | None:
        if isinstance(hint, All):
            return self._all([self.source(part) for part in hint.parts])
        if isinstance(hint, Either):
            parts = [self.source(part) for part in hint.parts]
            served = [part for part in parts if part is not None]
            return _Union(served) if len(served) == len(parts) else None
        if isinstance(hint, Ids):
            return _Ids(hint.keys)
        index = self._by_path.get(hint.path)
        if index is None:
            return None
        if isinstance(hint, Values):
            return self._values(index, hint.values)
        if isinstance(hint, Numbers | Moments):
            return self._range(index, hint)
        if isinstance(hint, Text):
            return self._text(index, hint)
        return self._place(index, hint)

    def _all(self, parts: list[_Source | None]) -> _Source | None:
        served = [part for part in parts if part is not None]
        terms = [p for p in served if isinstance(p, _Terms) and p.intersectable]
        options: list[_Source] = [p for p in served if p not in terms]
        if len(terms) == 1:
            options.append(terms[0])
        elif terms:
            fields = frozenset().union(*(t.fields for t in terms))
            keys = tuple(dict.fromkeys(key for t in terms for key in t.keys))
            options.append(_Terms(fields, keys, True, all(t.exact for t in terms)))
        if not options:
            return None
        if len(options) > 1:
            return _Smallest(options)
        (only,) = options
        only.exact = only.exact and len(served) == len(parts)
        return only

    def _terms(self, index: Index, terms: list[str], every: bool, exact: bool) -> _Terms:
        keys = tuple(dict.fromkeys(self._keys.term(index.field, t) for t in terms))
        return _Terms(frozenset([index.field]), keys, every, exact)

    def _values(self, index: Index, values: tuple[str | int | bool, ...]) -> _Source | None:
        kind = index.data_type
        if kind == "uuid":
            canonical = [_uuid(v) if isinstance(v, str) else None for v in values]
            if None in canonical:
                return None  # it matches strings that are no UUIDs, which the index lacks
            terms = [_dumps(cast("str", v)) for v in canonical]
            return self._terms(index, terms, every=False, exact=False)
        takes = {"keyword": str, "integer": int, "bool": bool}.get(kind)
        if takes is None or not index.lookup or not all(type(v) is takes for v in values):
            return None
        return self._terms(index, [_dumps(v) for v in values], every=False, exact=True)

    def _range(self, index: Index, hint: Numbers | Moments) -> _Source | None:
        kind = index.data_type
        if isinstance(hint, Moments) != (kind == "datetime") or not index.ranged:
            return None
        zsets = [self._keys.ranged(index.field)]
        if kind == "integer":
            zsets.append(self._keys.strays(index.field))
        # A number's f64 is its score, and compares as the filter compares it; a datetime's
        # microseconds may round to the f64 of a neighbour: its bounds are made inclusive.
        exact = isinstance(hint, Numbers)
        lows = [(float(v), exact and op == "gt") for op, v in hint.bounds.items() if op[0] == "g"]
        highs = [(float(v), exact and op == "lt") for op, v in hint.bounds.items() if op[0] == "l"]
        low = max(lows, default=(-math.inf, False))  # the tightest: exclusive wins a tie
        high = min(highs, key=lambda bound: (bound[0], not bound[1]), default=(math.inf, False))
        return _Scores(index.field, tuple(zsets), _score(*low), _score(*high))

    def _text(self, index: Index, hint: Text) -> _Source | None:
        params = index.text_params
        if params is None or hint.binding.params != params:
            return None  # the match is not bound to this index: substrings, which it lacks
        tokens = Tokenizer.of(params).tokens(hint.query)
        return self._terms(index, [_dumps(t) for t in tokens], hint.form != "text_any", False)

    def _place(self, index: Index, hint: Place) -> _Source | None:
        search = geo_index.search(hint.area) if index.data_type == "geo" else None
        return None if search is None else _Places(index.field, self._keys, search)


def _score(value: float, exclusive: bool) -> str:
    return f"({value!r}" if exclusive else repr(value)


def _dumps(value: str | int | bool) -> str:
    return orjson.dumps(value).decode()


def _uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
