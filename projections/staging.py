"""The projection as a batch of events changes it: reads fall through to Redis (and are cached),
writes stay here until the batch commits them all at once with the new checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import cast

import orjson
import redis

from projections import ids
from projections.changes import Change
from projections.collections import Collection
from projections.filters import Filter, VectorNames, compile_filter
from projections.ids import PointId
from projections.indexes import Index, IndexValue, text_indexes
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
        self._created: set[str] = set()  # to add to the id index
        self._removed: set[str] = set()
        self._vec_set: dict[str, dict[str, bytes]] = {n: {} for n in self.vector_names}
        self._vec_del: dict[str, set[str]] = {n: set() for n in self.vector_names}
        self._all_loaded = False
        self._has_vector: dict[str, set[str]] | None = None
        # Payloads as stored before this batch, for the points it loaded (index upkeep).
        self._original: dict[str, bytes | None] = {}
        self.indexes: dict[str, Index] = {
            field.decode(): Index(field.decode(), orjson.loads(schema))
            for field, schema in indexes.items()
        }
        self._built: set[str] = set()  # indexes created in this batch: built whole at commit
        self._dropped: set[str] = set()
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
        self.prefetch([key])
        return self._payloads[key] is not None

    def payload(self, key: str) -> JsonObject:
        """The payload of an existing point, parsed (and kept parsed for later operations)."""
        value = self._payloads[key]
        if isinstance(value, bytes):
            value = self._payloads[key] = orjson.loads(value)
        assert value is not None
        return value

    def live_keys(self) -> list[str]:
        """Every existing point, in id order."""
        self._load_all()
        return sorted(k for k, v in self._payloads.items() if v is not None)

    def compile(self, raw: object) -> Filter:
        """A filter as it reads here: text matches use the batch's current text indexes."""
        return compile_filter(raw, text_indexes(self.indexes.values()))

    def matching(self, flt: Filter) -> list[str]:
        """The existing points the filter matches, in id order (operations by filter visit
        points in this order). Sorted after filtering: a selective filter sorts few keys."""
        self._load_all()
        keys = [k for k, v in self._payloads.items() if v is not None]
        if flt.prefilters:
            keys = [k for k in keys if self._may_match(k, flt)]
        present: Callable[[str], VectorNames]
        present = self._vectors_present() if flt.uses_vectors else lambda _: ()
        of: Callable[[str], PointId | None] = ids.from_key if flt.uses_ids else lambda _: None
        return sorted(k for k in keys if flt.matches(of(k), self.payload(k), present(k)))

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
        self.indexes[index.field] = index
        self._built.add(index.field)
        self._dropped.discard(index.field)

    def drop_index(self, field: str) -> None:
        self.indexes.pop(field, None)
        self._built.discard(field)
        self._dropped.add(field)

    def set_payload(self, key: str, payload: JsonObject) -> None:
        self._current[key] = None
        self._payloads[key] = payload
        self._dirty.add(key)

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
        self._write_indexes(pipe)

    def _write_indexes(self, pipe: redis.client.Pipeline) -> None:
        k = self._keys
        for field in self._dropped | self._built:
            pipe.hdel(k.indexes, field)
            pipe.hdel(k.index_points, field)
            pipe.delete(k.ranged(field))
        for field in self._built:
            index = self.indexes[field]
            pipe.hset(k.indexes, field, orjson.dumps(index.schema))
            entries = {key: index.values(self.payload(key)) for key in self.live_keys()}
            _index_changes(pipe, k, index, {key: ([], new) for key, new in entries.items()})
        changed = self._dirty | self._removed
        for field, index in self.indexes.items():
            if field not in self._built and changed:
                diffs = {
                    key: (self._old_values(index, key), self._new_values(index, key))
                    for key in changed
                }
                _index_changes(pipe, k, index, diffs)

    def _old_values(self, index: Index, key: str) -> list[IndexValue]:
        stored = self._original.get(key)
        return [] if stored is None else index.values(orjson.loads(stored))

    def _new_values(self, index: Index, key: str) -> list[IndexValue]:
        return [] if self._payloads.get(key) is None else index.values(self.payload(key))


def _index_changes(
    pipe: redis.client.Pipeline,
    keys: Keys,
    index: Index,
    diffs: dict[str, tuple[list[IndexValue], list[IndexValue]]],
) -> None:
    """Queue an index's changes: (old values, new values) of each changed point."""
    gained = 0
    removals: list[str] = []
    additions: dict[str, float] = {}
    for key, (old, new) in diffs.items():
        if old == new:
            continue
        gained += bool(new) - bool(old)
        if index.ranged:  # its values are numbers
            removals += [f"{key}|{i}" for i in range(len(old))]
            scores = cast("list[float]", new)
            additions.update({f"{key}|{i}": value for i, value in enumerate(scores)})
    if removals:
        pipe.zrem(keys.ranged(index.field), *removals)
    if additions:
        pipe.zadd(keys.ranged(index.field), additions)
    pipe.hincrby(keys.index_points, index.field, gained)


def _dump(payload: Payload | None) -> bytes:
    assert payload is not None
    return payload if isinstance(payload, bytes) else orjson.dumps(payload)
