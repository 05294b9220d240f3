"""What a payload index keeps beside its definition, and how a commit keeps it equal to the
payloads. The worker queues all of it in the commit's MULTI/EXEC, with the projection's writes.

Per kind, for the index on field `f` (key names in keys.py):
- keyword, uuid, bool, text, and integer with `lookup` (the default): a set of point keys per
  term, `term:f:<term>`, a term being the JSON of a value the index takes (a uuid in canonical
  form) or, for text, of a token (`Tokenizer.indexed`); `terms:f` holds the terms whose set is
  not empty, so the sets can be enumerated without SCAN.
- integer with `range` (the default), float, datetime: `range:f`, `<point key>|<n>` scored by
  the n-th value (a datetime in microseconds). An integer index also keeps the field's floats,
  which it does not index, in `strays:f`, so that range filters can use it.
- geo: `geo:f`, a GEO set of `<point key>|<n>` at the n-th location; the locations it cannot
  place (geo_index.py) are `<point key>|<n>` members of `geo_outside:f`.

Invariant, after every commit: an index's data is exactly what `holder(index)` says of every
stored payload (`Held`), `terms:f` names exactly the non-empty term sets, and `index_points`
counts the points it counts. An index being built holds that for the points up to its cursor
(`builds`), a slice per commit, and has no definition until the last slice: nothing reads it
before. The last slice also puts the field in `indexed`, which an index whose definition an
older layout wrote (without this data) is not in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, cast

import orjson
import redis

from projections import geo_index
from projections.geo import stored_point
from projections.indexes import Index
from projections.jsonpath import get_values, parse_path
from projections.jsontypes import JsonObject
from projections.keys import Keys
from projections.text import Tokenizer

BUILD_SLICE = 4096  # points an index build adds per commit
Place = tuple[float, float]  # (lon, lat)


class Held(NamedTuple):
    """What one payload puts in an index's data."""

    counted: bool = False  # it has a value of the index's type (`index_points`)
    terms: frozenset[str] = frozenset()
    scores: tuple[float, ...] = ()  # `range:f`, by member number
    strays: tuple[float, ...] = ()  # `strays:f`, by member number
    places: tuple[Place, ...] = ()  # `geo:f` or `geo_outside:f`, by member number


NOTHING = Held()
Holder = Callable[[JsonObject], Held]


def holder(index: Index) -> Holder:
    """What a payload puts in the index's data, as a function made once per index (a commit
    calls it for every point it changes)."""
    values, kind = index.values, index.data_type
    if kind == "text":
        tokens = Tokenizer.of(index.text_params or {}).indexed

        def text(payload: JsonObject) -> Held:
            found = cast("list[str]", values(payload))
            return (
                Held(True, frozenset(_term(t) for v in found for t in tokens(v)))
                if found
                else NOTHING
            )

        return text
    if kind == "geo":

        def geo(payload: JsonObject) -> Held:
            found = values(payload)
            places = tuple(p for v in found if (p := stored_point(v)) is not None)
            return Held(True, places=places) if found else NOTHING

        return geo
    lookup, ranged, field = index.lookup, index.ranged, index.field
    strays = ranged and kind == "integer"

    def value(payload: JsonObject) -> Held:
        found = values(payload)
        floats = _floats(field, payload) if strays else ()
        if not found and not floats:
            return NOTHING
        terms = frozenset(map(_term, found)) if lookup else frozenset()
        return Held(bool(found), terms, tuple(cast("list[float]", found)) if ranged else (), floats)

    return value


def holds_same(index: Index, a: JsonObject, b: JsonObject) -> bool:
    """Whether two payloads put the same in the index's data: the same JSON at its path (which
    is all a holder reads). JSON, not `==`, as `1 == 1.0 == True` to Python."""
    path = parse_path(index.field)
    found_a, found_b = get_values(a, path), get_values(b, path)
    return found_a == found_b and orjson.dumps(found_a) == orjson.dumps(found_b)


def _term(value: object) -> str:
    return orjson.dumps(value).decode()


def _floats(path: str, payload: JsonObject) -> tuple[float, ...]:
    """The distinct floats at the path (array elements one level deep), in order."""
    found: dict[float, None] = {}
    for value in get_values(payload, parse_path(path)):
        for item in value if isinstance(value, list) else [value]:
            if type(item) is float:
                found.setdefault(item)
    return tuple(found)


Diffs = Mapping[str, tuple[Held, Held]]  # point key -> (what its old payload held, new one's)


@dataclass
class _Scored:
    """Queued changes of one sorted set (removals go first: a member may come back)."""

    removed: list[str] = field(default_factory=list)
    added: dict[str, float] = field(default_factory=dict)

    def change(self, key: str, old: tuple[float, ...], new: tuple[float, ...]) -> None:
        if old != new:
            self.removed += [f"{key}|{n}" for n in range(len(old))]
            self.added.update({f"{key}|{n}": score for n, score in enumerate(new)})


@dataclass
class _Changes:
    """One index's queued changes."""

    gained: int = 0  # points counted
    added: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # term -> keys
    removed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    scores: _Scored = field(default_factory=_Scored)
    strays: _Scored = field(default_factory=_Scored)
    unplaced: list[str] = field(default_factory=list)  # geo members to remove
    placed: list[float | str] = field(default_factory=list)  # GEOADD's lon, lat, member, ...
    outside: list[str] = field(default_factory=list)

    def change(self, key: str, old: Held, new: Held) -> None:
        self.gained += new.counted - old.counted
        for term in old.terms - new.terms:
            self.removed[term].append(key)
        for term in new.terms - old.terms:
            self.added[term].append(key)
        self.scores.change(key, old.scores, new.scores)
        self.strays.change(key, old.strays, new.strays)
        if old.places != new.places:
            self.unplaced += [f"{key}|{n}" for n in range(len(old.places))]
            for n, (lon, lat) in enumerate(new.places):
                if geo_index.placeable(lon, lat):
                    self.placed += [lon, lat, f"{key}|{n}"]
                else:
                    self.outside.append(f"{key}|{n}")


def queue_updates(
    r: redis.Redis, pipe: redis.client.Pipeline, keys: Keys, updates: Iterable[tuple[Index, Diffs]]
) -> dict[str, int]:
    """Queue the changes of the indexes' data for the points whose held data changed; returns
    the points each index gained. Reads (on `r`, in one round trip) the size of the term sets
    that may become empty, so that `terms:f` stays exact; the commit WATCHes the checkpoint,
    and only commits change these sets, so what it reads holds until its EXEC."""
    changes: dict[str, _Changes] = {}
    for index, diffs in updates:
        found = changes[index.field] = _Changes()
        for key, (old, new) in diffs.items():
            if old != new:
                found.change(key, old, new)
    maybe_empty = [
        (f, term)
        for f, found in changes.items()
        for term in found.removed
        if term not in found.added
    ]
    with r.pipeline(transaction=False) as sizes:
        for f, term in maybe_empty:
            sizes.scard(keys.term(f, term))
        emptied = {
            pair
            for pair, size in zip(maybe_empty, sizes.execute(), strict=True)
            if size <= len(changes[pair[0]].removed[pair[1]])
        }
    for f, found in changes.items():
        _queue(pipe, keys, f, found, [term for g, term in emptied if g == f])
    return {f: found.gained for f, found in changes.items()}


def _queue(
    pipe: redis.client.Pipeline, keys: Keys, f: str, found: _Changes, emptied: list[str]
) -> None:
    for term, points in found.removed.items():
        pipe.srem(keys.term(f, term), *points)
    for term, points in found.added.items():
        pipe.sadd(keys.term(f, term), *points)
    if emptied:
        pipe.srem(keys.terms(f), *emptied)
    if found.added:
        pipe.sadd(keys.terms(f), *found.added)
    for zset, scored in ((keys.ranged(f), found.scores), (keys.strays(f), found.strays)):
        if scored.removed:
            pipe.zrem(zset, *scored.removed)
        if scored.added:
            pipe.zadd(zset, scored.added)
    if found.unplaced:
        pipe.zrem(keys.geo(f), *found.unplaced)
        pipe.srem(keys.geo_outside(f), *found.unplaced)
    if found.placed:
        pipe.geoadd(keys.geo(f), found.placed)
    if found.outside:
        pipe.sadd(keys.geo_outside(f), *found.outside)


def queue_clear(
    r: redis.Redis, pipe: redis.client.Pipeline, keys: Keys, fields: Collection[str]
) -> None:
    """Queue the removal of these indexes' data (their definitions and counts are the caller's)."""
    terms = stored_terms(r, keys, fields)
    for f in fields:
        pipe.unlink(*keys.index_keys(f, terms[f]))


def stored_indexes(r: redis.Redis, keys: Keys) -> dict[str, list[str]]:
    """Each field with index data (defined, or being built) -> its terms."""
    return stored_terms(r, keys, index_fields(r, keys))


def stored_terms(r: redis.Redis, keys: Keys, fields: Iterable[str]) -> dict[str, list[str]]:
    """Each field's terms (the members of `terms:f`), in one round trip."""
    fields = list(fields)
    with r.pipeline(transaction=False) as pipe:
        for f in fields:
            pipe.smembers(keys.terms(f))
        found = pipe.execute()
    return {f: sorted(t.decode() for t in terms) for f, terms in zip(fields, found, strict=True)}


def index_fields(r: redis.Redis, keys: Keys) -> list[str]:
    """The fields with index data: those defined and those being built."""
    with r.pipeline(transaction=False) as pipe:
        pipe.hkeys(keys.indexes)
        pipe.hkeys(keys.builds)
        defined, building = pipe.execute()
    return sorted({f.decode() for f in [*defined, *building]})


# ---- building an index over existing points, a slice per commit ------------------------------


@dataclass(frozen=True)
class Build:
    """One commit's part of building an index over the points committed before its event."""

    index: Index
    keys: list[str]  # this slice's points, in id order
    fresh: bool  # the build's first slice: the field's old definition and data go first
    points: int  # points the slices before counted
    complete: bool  # the last slice: the index gets its definition

    def queue_progress(self, pipe: redis.client.Pipeline, keys: Keys, gained: int) -> None:
        """After the slice's data: the build's cursor, or, with the last slice, the index's
        definition and its count."""
        f, points = self.index.field, self.points + gained
        if self.complete:
            pipe.hset(keys.indexes, f, orjson.dumps(self.index.schema))
            pipe.hset(keys.index_points, f, points)
            pipe.sadd(keys.indexed, f)
            pipe.hdel(keys.builds, f)
        else:
            pipe.hset(keys.builds, f, orjson.dumps([self.keys[-1], points]))


def next_slice(r: redis.Redis, keys: Keys, index: Index) -> Build:
    """The next BUILD_SLICE points (in id order) the build of `index` has to add."""
    stored = cast("bytes | None", r.hget(keys.builds, index.field))
    cursor, points = (None, 0) if stored is None else orjson.loads(stored)
    low = "-" if cursor is None else f"({cursor}"
    found = cast("list[bytes]", r.zrangebylex(keys.ids, low, "+", 0, BUILD_SLICE))
    complete = len(found) < BUILD_SLICE
    return Build(index, [k.decode() for k in found], stored is None, points, complete)
