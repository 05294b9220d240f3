"""The projection as a batch of events changes it: reads fall through to Redis (and are cached),
writes stay here until the batch commits them all at once with the new checkpoint, index data
included (index_data.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import cast

import orjson
import redis

from projections import ids, index_data, planner
from projections.changes import Change
from projections.collections import Collection
from projections.filters import Filter, VectorNames, compile_filter
from projections.ids import PointId
from projections.index_data import NOTHING, Held, Holder
from projections.indexes import Index, text_indexes
from projections.jsontypes import JsonObject
from projections.keys import Keys

Payload = bytes | JsonObject  # stored JSON, or parsed once an operation needed it


class Staging:
    def __init__(
        self, r: redis.Redis, collection: Collection, keys: Keys, indexes: dict[bytes, bytes]
    ) -> None:
        self._r = r
        self._keys = keys
        self.vector_names = collection.vector_names
        # Point key -> its payload as this batch sees it; None: the point does not exist.
        self._payloads: dict[str, Payload | None] = {}
        self._dirty: set[str] = set()  # payloads to write
        # Changed point -> the only top-level keys under which its payload can differ from the
        # stored one (None: anywhere); an index under another key holds the same for it.
        self._roots: dict[str, set[str] | None] = {}
        self._created: set[str] = set()  # to add to the id index
        self._removed: set[str] = set()
        self._vec_set: dict[str, dict[str, bytes]] = {n: {} for n in self.vector_names}
        self._vec_del: dict[str, set[str]] = {n: set() for n in self.vector_names}
        self._all_loaded = False
        self._has_vector: dict[str, set[str]] | None = None
        # Payloads as stored before this batch, for the points it loaded (index upkeep).
        self._original: dict[str, bytes | None] = {}
        self._parsed_original: dict[str, JsonObject] = {}
        self.indexes: dict[str, Index] = {
            field.decode(): Index(field.decode(), orjson.loads(schema))
            for field, schema in indexes.items()
        }
        self._built: set[str] = set()  # indexes whose build this batch completes
        self._dropped: set[str] = set()  # fields whose stored definition and data go
        self._build: index_data.Build | None = None  # the slice of an index build it adds
        self._schema: JsonObject | None = None  # the config a config change leaves
        self._dropped_vectors: list[str] = []  # vector names removed from the collection
        # Operation id -> the points it touched, in order (for the change feed).
        self._touched: dict[int, dict[str, None]] = {}
        self._current: dict[str, None] = {}

    # ---- reads ------------------------------------------------------------------------------

    def prefetch(self, keys: Iterable[str]) -> None:
        """Load the payloads (and so the existence) of these points in one round trip."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._payloads]
        if missing:
            values = cast("list[bytes | None]", self._r.hmget(self._keys.payload, missing))
            self._payloads.update(zip(missing, values, strict=True))
            for key, value in zip(missing, values, strict=True):
                self._original.setdefault(key, value)

    def exists(self, key: str) -> bool:
        if key not in self._payloads:  # called once a point by operations on many points
            self.prefetch([key])
        return self._payloads[key] is not None

    def payload(self, key: str) -> JsonObject:
        """The payload of an existing point, parsed (and kept parsed for later operations)."""
        value = self._payloads[key]
        if isinstance(value, bytes):
            value = self._payloads[key] = orjson.loads(value)
        assert value is not None
        return value

    def compile(self, raw: object) -> Filter:
        """A filter as it reads here: text matches use the batch's current text indexes."""
        return compile_filter(raw, text_indexes(self.indexes.values()))

    def matching(self, flt: Filter) -> list[str]:
        """The existing points the filter matches, in id order (operations by filter visit
        points in this order). Sorted after filtering: a selective filter sorts few keys.
        When indexes committed before this batch serve the filter (planner.py), only their
        candidates and the points this batch changed are loaded and checked."""
        candidates, sure = self._candidates(flt)
        if candidates is None:
            self._load_all()
            candidates = list(self._payloads)
        else:
            self.prefetch(candidates)
        keys = [k for k in candidates if self._payloads[k] is not None and k not in sure]
        if flt.prefilters:
            keys = [k for k in keys if self._may_match(k, flt)]
        present: Callable[[str], VectorNames]
        present = self._vectors_present() if flt.uses_vectors else lambda _: ()
        of: Callable[[str], PointId | None] = ids.from_key if flt.uses_ids else lambda _: None
        found = [k for k in keys if flt.matches(of(k), self.payload(k), present(k))]
        return sorted([*found, *(k for k in sure if self._payloads[k] is not None)])

    def _candidates(self, flt: Filter) -> tuple[list[str] | None, set[str]]:
        """A superset of the points the filter matches, from the committed indexes (those this
        batch did not rebuild), or None when they do not serve it; and those of them that
        surely match: all the points this batch has not changed when the plan is exact."""
        committed = {f: index for f, index in self.indexes.items() if f not in self._built}
        plan = planner.plan(self._r, self._keys, committed, flt)
        found = None if plan is None else plan.candidates()
        if plan is None or found is None:
            return None, set()
        sure = set(found) - self._dirty - self._removed if plan.exact else set()
        return list(dict.fromkeys([*found, *sorted(self._dirty)])), sure

    def _may_match(self, key: str, flt: Filter) -> bool:
        stored = self._payloads[key]
        return not isinstance(stored, bytes) or flt.may_match(stored)

    def matches(self, key: str, flt: Filter) -> bool:
        """Whether one existing point matches the filter as this batch sees it."""
        names = self._vectors_present()(key) if flt.uses_vectors else ()
        return flt.matches(ids.from_key(key), self.payload(key), names)

    def _load_all(self) -> None:
        if self._all_loaded:
            return
        stored = cast("dict[bytes, bytes]", self._r.hgetall(self._keys.payload))
        loaded = dict(zip(map(bytes.decode, stored), stored.values(), strict=True))
        # What this batch already loaded or changed takes precedence over the store.
        self._payloads = {**loaded, **self._payloads}
        self._original = {**loaded, **self._original}
        self._all_loaded = True

    def _vectors_present(self) -> Callable[[str], set[str]]:
        if self._has_vector is None:
            self._has_vector = {
                name: {
                    k.decode() for k in cast("list[bytes]", self._r.hkeys(self._keys.vectors(name)))
                }
                for name in self.vector_names
            }
        stored = self._has_vector

        def present(key: str) -> set[str]:
            return {
                n
                for n in self.vector_names
                if key in self._vec_set[n] or (key in stored[n] and key not in self._vec_del[n])
            }

        return present

    # ---- writes -----------------------------------------------------------------------------

    def begin(self, op_id: int) -> None:
        """What follows is operation `op_id`'s doing."""
        self._current = self._touched.setdefault(op_id, {})

    def upsert(self, key: str, payload: Payload, vectors: dict[str, bytes]) -> None:
        """Replace the point whole: vectors not given are gone."""
        self._current[key] = None
        self._remember(key)
        self._payloads[key] = payload
        self._roots[key] = None
        self._dirty.add(key)
        self._created.add(key)
        self._removed.discard(key)
        for name in self.vector_names:
            if name in vectors:
                self.set_vector(key, name, vectors[name])
            else:
                self.delete_vector(key, name)

    def remove(self, key: str) -> None:
        self._current[key] = None
        self._remember(key)
        self._payloads[key] = None
        self._roots[key] = None
        self._dirty.discard(key)
        self._created.discard(key)
        self._removed.add(key)
        for name in self.vector_names:
            self.delete_vector(key, name)

    def _remember(self, key: str) -> None:
        """Indexes need a changed point's old payload: load it before it is overwritten."""
        if self.indexes and key not in self._payloads:
            self.prefetch([key])

    def create_index(self, index: Index) -> None:
        """Build the index over the points committed before, a slice of them per commit: an
        event creating an index starts a batch (apply.py), and ends it until the last slice
        (`building`). The first slice drops what the field had; the last defines the index."""
        build = self._build = index_data.next_slice(self._r, self._keys, index)
        self.prefetch(build.keys)
        if build.fresh and self.indexes.pop(index.field, None) is not None:
            self._dropped.add(index.field)  # re-created: the old index goes first
        if build.complete:
            self.indexes[index.field] = index
            self._built.add(index.field)

    @property
    def building(self) -> bool:
        """An index build goes on after this commit: the batch ends before its event."""
        return self._build is not None and not self._build.complete

    def drop_index(self, field: str) -> None:
        self.indexes.pop(field, None)
        self._built.discard(field)
        self._dropped.add(field)
        if self._build is not None and self._build.index.field == field:
            self._build = None

    def reconfigure(self, config: JsonObject) -> None:
        """The collection's config from this commit on (an event changing it is applied in a
        batch of its own, so nothing else in the batch depends on it)."""
        self._schema = config

    def drop_vector(self, name: str) -> None:
        """Remove a vector name from every point."""
        self._dropped_vectors.append(name)

    def set_payload(self, key: str, payload: JsonObject, roots: set[str] | None = None) -> None:
        """The point's new payload, which differs from its current one only under the top-level
        keys `roots` (None: anywhere)."""
        self._current[key] = None
        self._payloads[key] = payload
        self._dirty.add(key)
        known = self._roots.get(key, set())
        self._roots[key] = None if roots is None or known is None else known | roots

    def set_vector(self, key: str, name: str, data: bytes) -> None:
        self._current[key] = None
        self._vec_set[name][key] = data
        self._vec_del[name].discard(key)

    def delete_vector(self, key: str, name: str) -> None:
        self._current[key] = None
        self._vec_set[name].pop(key, None)
        self._vec_del[name].add(key)

    def change(self, before: int, after: int) -> Change:
        """What the batch changed, point by point, for the change feed."""
        whole = self._created | self._removed
        return Change(
            before,
            after,
            upserted=sorted(self._created),
            deleted=sorted(self._removed),
            payload=sorted(self._dirty - whole),
            vectors={
                name: changed
                for name in self.vector_names
                if (changed := sorted((self._vec_set[name].keys() | self._vec_del[name]) - whole))
            },
            ops={op: list(keys) for op, keys in self._touched.items() if keys},
            indexes=sorted(self._built | self._dropped),
            config=self._schema is not None,
        )

    def write(self, pipe: redis.client.Pipeline) -> None:
        """Queue every staged change on a pipeline (inside the commit's MULTI)."""
        k = self._keys
        if self._dirty:
            pipe.hset(k.payload, mapping={key: _dump(self._payloads[key]) for key in self._dirty})
        if self._created:
            pipe.zadd(k.ids, dict.fromkeys(self._created, 0))
        if self._removed:
            pipe.hdel(k.payload, *self._removed)
            pipe.zrem(k.ids, *self._removed)
        for name in self.vector_names:
            if self._vec_set[name]:
                # redis-py types `mapping` as Mapping[FieldT, ...], whose key type no dict of
                # str keys matches (Mapping is invariant in its keys).
                pipe.hset(k.vectors(name), mapping=self._vec_set[name])  # type: ignore[arg-type]
            if self._vec_del[name]:
                pipe.hdel(k.vectors(name), *self._vec_del[name])
        for name in self._dropped_vectors:
            pipe.unlink(k.vectors(name))
        if self._schema is not None:
            pipe.set(k.schema, orjson.dumps(self._schema))
        self._write_indexes(pipe)

    def _write_indexes(self, pipe: redis.client.Pipeline) -> None:
        """Dropped fields first, then each index's changes: for the points this batch changed,
        and the points of the build's slice (which held nothing before)."""
        k, build = self._keys, self._build
        for field in self._dropped:
            pipe.hdel(k.indexes, field)
            pipe.hdel(k.index_points, field)
            pipe.srem(k.indexed, field)
            pipe.hdel(k.builds, field)
        if self._dropped:
            index_data.queue_clear(self._r, pipe, k, self._dropped)
        changed = self._dirty | self._removed
        fresh = set() if build is None else set(build.keys)
        building = None if build is None else build.index.field
        updates = [
            (index, self._diffs(index, changed, fresh if field == building else set()))
            for field, index in self.indexes.items()
        ]
        if build is not None and not build.complete:
            updates.append((build.index, self._diffs(build.index, set(), fresh)))
        gained = index_data.queue_updates(self._r, pipe, k, [u for u in updates if u[1]])
        for index, _ in updates:
            if build is not None and index.field == build.index.field:
                build.queue_progress(pipe, k, gained.get(index.field, 0))
            elif index.field in gained:
                pipe.hincrby(k.index_points, index.field, gained[index.field])

    def _diffs(
        self, index: Index, changed: set[str], fresh: set[str]
    ) -> dict[str, tuple[Held, Held]]:
        """(what the stored payload held, what the payload holds now) of the changed points
        and the `fresh` ones, which an index build adds (the index held nothing of them)."""
        hold, root = index_data.holder(index), index.root
        diffs = {key: (NOTHING, self._held(hold, self._now(key))) for key in fresh}
        for key in changed - fresh:
            roots = self._roots.get(key)
            if roots is not None and root not in roots:
                continue  # changed under other keys only
            before, now = self._before(key), self._now(key)
            if before is None or now is None or not index_data.holds_same(index, before, now):
                diffs[key] = (self._held(hold, before), self._held(hold, now))
        return diffs

    def _before(self, key: str) -> JsonObject | None:
        """The payload as stored before this batch (None: the point did not exist)."""
        stored = self._original.get(key)
        if stored is None:
            return None
        if key not in self._parsed_original:
            self._parsed_original[key] = orjson.loads(stored)
        return self._parsed_original[key]

    def _now(self, key: str) -> JsonObject | None:
        return None if self._payloads.get(key) is None else self.payload(key)

    @staticmethod
    def _held(hold: Holder, payload: JsonObject | None) -> Held:
        return NOTHING if payload is None else hold(payload)


def _dump(payload: Payload | None) -> bytes:
    assert payload is not None
    return payload if isinstance(payload, bytes) else orjson.dumps(payload)
