"""Collections: validating a create request, and the registry of collections in Redis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar, cast

import orjson
import redis

from projections import index_data, shard_placement
from projections import keys as K
from projections.errors import (
    AlreadyExists,
    FormatError,
    NotFound,
    QdrantError,
    ValidationFailed,
    WrongInput,
)
from projections.jsontypes import JsonObject
from projections.keys import Keys
from projections.store import hash_fields, script

T = TypeVar("T")
DISTANCES = ("Cosine", "Euclid", "Dot", "Manhattan")
DATATYPES = ("float32", "uint8", "float16")
MAX_DIM = 65536
FORBIDDEN_NAME_CHARS = '<>:"\\|?*\x1f'
# Keys of a create request that Qdrant accepts and pointlog keeps (echoed as given or ignored).
ACCEPTED_FIELDS = {
    "vectors", "sparse_vectors", "shard_number", "sharding_method", "replication_factor",
    "write_consistency_factor", "on_disk_payload", "hnsw_config", "wal_config",
    "optimizers_config", "quantization_config", "strict_mode_config", "metadata", "init_from",
}  # fmt: skip
COUNTS = ("shard_number", "replication_factor", "write_consistency_factor")  # u32, at least 1
# Each shard is a keyspace, a log for a worker, and a read model (a thread) in each web process.
MAX_SHARDS = 64
VECTOR_PARAM_FIELDS = {
    "size", "distance", "hnsw_config", "quantization_config", "on_disk", "datatype",
    "multivector_config",
}  # fmt: skip


@dataclass(frozen=True)
class VectorSpec:
    """One vector of a collection: dense (maybe multi-row) or sparse."""

    name: str
    distance: str = "Dot"
    size: int = 0
    multi: bool = False
    sparse: bool = False
    idf: bool = False  # a sparse vector's `modifier: idf`
    datatype: str = "float32"  # what a dense vector's values are stored as (vectors.py)


@dataclass(frozen=True)
class Collection:
    name: str
    cid: int
    config: JsonObject  # as validate_create keeps it, with the changes since (config_changes.py)
    vectors: dict[str, VectorSpec]
    version: int = 0  # how many times the config changed since creation (keys.version)
    created: JsonObject | None = None  # the config it was created with, when it changed since
    # A collection recovered from a snapshot: that snapshot (snapshots.py), its log's start.
    base: str | None = None
    # With `shard_number` > 1: each shard, a collection of its own cid (and log, projection,
    # config) under the same name. The collection itself is then its first shard's view.
    shards: tuple[Collection, ...] = ()

    @property
    def keys(self) -> Keys:
        return Keys(self.cid)

    @property
    def parts(self) -> tuple[Collection, ...]:
        """Its shards, or itself alone."""
        return self.shards or (self,)

    @property
    def sharded(self) -> bool:
        return len(self.shards) > 1

    def part(self, cid: int) -> Collection | None:
        """The shard of this cid, None if it has none."""
        return next((part for part in self.parts if part.cid == cid), None)

    @property
    def vector_names(self) -> list[str]:
        return list(self.vectors)


# ---- validation of a create request -------------------------------------------------------


def validate_name(name: str, creating: bool = False) -> None:
    if not 1 <= len(name) <= 255:
        raise ValidationFailed(
            "collection_name: length must be between 1 and 255", where="path parameters"
        )
    bad = FORBIDDEN_NAME_CHARS + "/\0" if creating else "/\0"
    for char in bad:
        if char in name:
            raise ValidationFailed(
                f'collection_name: collection name cannot contain "{char}" char',
                where="path parameters",
            )


def validate_create(body: object) -> JsonObject:
    """The config to keep for a create request: only the fields Qdrant knows, vectors checked."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise FormatError("invalid type: expected struct CreateCollection")
    config = {k: v for k, v in body.items() if k in ACCEPTED_FIELDS and v is not None}
    for field in COUNTS:
        if field in config:
            validate_count(config[field], field)
    if config.get("shard_number", 1) > MAX_SHARDS:
        raise ValidationFailed(
            f"shard_number: value {config['shard_number']} invalid, must be {MAX_SHARDS} or less"
        )
    config["vectors"] = _validate_vectors(config.get("vectors", {}))
    if "sparse_vectors" in config:
        config["sparse_vectors"] = _validate_sparse(config["sparse_vectors"])
        dense = config["vectors"] if "size" not in config["vectors"] else {"": None}
        for name in sorted(set(dense) & set(config["sparse_vectors"])):
            raise WrongInput(f"Vector name `{name}` is given to both a dense and a sparse vector")
    return config


def validate_count(raw: object, field: str) -> None:
    """A u32 of at least 1, as Qdrant's `shard_number` and its kin: 400 for what is not a
    u32, 422 for 0."""
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw < 2**32:
        raise FormatError(f"{field}: invalid value: {raw!r}, expected u32")
    if raw == 0:
        raise ValidationFailed(f"{field}: value 0 invalid, must be 1 or larger")


def _validate_vectors(raw: object) -> JsonObject:
    if not isinstance(raw, dict):
        raise FormatError("vectors: data did not match any variant of untagged enum VectorsConfig")
    if "size" in raw or "distance" in raw:
        return validate_vector_params(raw, "vectors")
    return {name: validate_vector_params(p, f"vectors.{name}") for name, p in raw.items()}


def validate_vector_params(raw: object, where: str) -> JsonObject:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: invalid type, expected struct VectorParams")
    size, distance = raw.get("size"), raw.get("distance")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise FormatError(f"{where}.size: expected an unsigned integer")
    if not 1 <= size <= MAX_DIM:
        raise ValidationFailed(f"{where}.size: value {size} invalid, must be from 1 to {MAX_DIM}")
    if distance not in DISTANCES:
        raise FormatError(
            f"{where}.distance: unknown variant `{distance}`, expected one of "
            "`Cosine`, `Euclid`, `Dot`, `Manhattan`"
        )
    if raw.get("datatype", "float32") not in DATATYPES:
        raise FormatError(f"{where}.datatype: unknown variant `{raw['datatype']}`")
    multi = raw.get("multivector_config")
    if multi is not None and (not isinstance(multi, dict) or multi.get("comparator") != "max_sim"):
        raise FormatError(f'{where}.multivector_config: expected {{"comparator": "max_sim"}}')
    return {k: v for k, v in raw.items() if k in VECTOR_PARAM_FIELDS and v is not None}


def _validate_sparse(raw: object) -> JsonObject:
    if not isinstance(raw, dict) or not all(isinstance(p, dict) for p in raw.values()):
        raise FormatError("sparse_vectors: expected a map of name to SparseVectorParams")
    for name, params in raw.items():
        if params.get("modifier", "none") not in ("none", "idf"):
            raise FormatError(f"sparse_vectors.{name}.modifier: unknown variant")
    return {
        name: {k: v for k, v in p.items() if k in ("index", "modifier")} for name, p in raw.items()
    }


def vector_specs(config: JsonObject) -> dict[str, VectorSpec]:
    vectors = config.get("vectors", {})
    named = {"": vectors} if "size" in vectors else vectors
    specs = {
        name: VectorSpec(
            name,
            p["distance"],
            p["size"],
            multi=p.get("multivector_config") is not None,
            datatype=p.get("datatype", "float32"),
        )
        for name, p in named.items()
    }
    for name, params in config.get("sparse_vectors", {}).items():
        specs[name] = VectorSpec(name, sparse=True, idf=params.get("modifier") == "idf")
    return specs


# ---- the registry ------------------------------------------------------------------------


class CollectionGone(NotFound):
    """The collection this request looked up has been deleted (maybe re-created) since."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Collection `{name}` doesn't exist!")


class ConfigChanged(QdrantError):
    """The collection's config changed since this request looked it up: its work runs again
    on the fresh config (Cache)."""

    http_status = 409
    prefix = "Conflict: "

    def __init__(self, name: str) -> None:
        super().__init__(f"The config of collection `{name}` changed meanwhile, try again")


def check_version(collection: Collection, stored: bytes | None) -> None:
    """Raise ConfigChanged unless the stored `version` is the collection's."""
    if int(stored or 0) != collection.version:
        raise ConfigChanged(collection.name)


@lru_cache(maxsize=1024)
def _parse(
    name: str, raw: bytes, changed: bytes | None = None, shard: int | None = None
) -> Collection:
    """A collection (or, given a `shard`'s cid, that shard) from its registry entry and, when
    its config changed since creation, its `config` key (which the registry cannot hold: it
    lives in the collection's own slot)."""
    stored = orjson.loads(raw)
    created, base = stored["config"], stored.get("base")
    cid = stored["cid"] if shard is None else shard
    if changed is None:
        return Collection(name, cid, created, vector_specs(created), base=base)
    latest = orjson.loads(changed)
    config = latest["config"]
    return Collection(name, cid, config, vector_specs(config), latest["version"], created, base)


def shard_cids(raw: bytes) -> list[int]:
    """The cids of a registry entry's shards (its own cid alone when it has one shard)."""
    stored = orjson.loads(raw)
    return list(stored.get("shards") or [stored["cid"]])


def _whole(name: str, raw: bytes, changed: list[bytes | None]) -> Collection:
    """The collection of a registry entry, given each shard's `config` key."""
    cids = shard_cids(raw)
    if len(cids) == 1:
        return _parse(name, raw, changed[0])
    parts = tuple(_parse(name, raw, c, cid) for cid, c in zip(cids, changed, strict=True))
    return replace(parts[0], shards=parts)


def parse_entry(name: str, raw: bytes) -> Collection:
    """The collection a registry entry describes, as created."""
    return _whole(name, raw, [None] * len(shard_cids(raw)))


def at_checkpoint(collection: Collection, schema: bytes | None) -> Collection:
    """The collection as a projection's `schema` key says it was at its checkpoint (absent:
    as created): what the events after the checkpoint are applied with."""
    config = orjson.loads(schema) if schema is not None else collection.created
    if config is None or config == collection.config:
        return collection
    return replace(collection, config=config, vectors=vector_specs(config))


def _entry(r: redis.Redis, name: str) -> bytes | None:
    """The registry's entry of a collection: its cid and config as created, as JSON."""
    return cast("bytes | None", r.hget(K.COLLECTIONS, name))


def _complete(r: redis.Redis, name: str, raw: bytes) -> Collection:
    """The collection of a registry entry, with its config's changes since creation."""
    cids = shard_cids(raw)
    if len(cids) == 1:
        return _whole(name, raw, [cast("bytes | None", r.get(Keys(cids[0]).config))])
    with r.pipeline(transaction=False) as pipe:
        for cid in cids:
            pipe.get(Keys(cid).config)
        return _whole(name, raw, pipe.execute())


def load(r: redis.Redis, name: str) -> Collection:
    raw = _entry(r, name)
    if raw is None:
        raise NotFound(f"Collection `{name}` doesn't exist!")
    return _complete(r, name, raw)


def exists(r: redis.Redis, name: str) -> bool:
    """Whether a collection, or an alias, has the name."""
    with r.pipeline(transaction=False) as pipe:
        pipe.hexists(K.COLLECTIONS, name)
        pipe.hexists(K.ALIASES, name)
        return any(pipe.execute())


def find(r: redis.Redis, name: str) -> Collection | None:
    raw = _entry(r, name)
    return None if raw is None else _complete(r, name, raw)


def create(r: redis.Redis, name: str, config: JsonObject) -> Collection:
    """Register a collection under fresh cids, one a shard. Its keyspaces exist before its
    name does."""
    cids = shard_placement.fresh_cids(r, config.get("shard_number", 1))
    for cid in cids:
        keys = Keys(cid)
        r.mset({keys.seq: 0, keys.applied: 0})
    entry: JsonObject = {"cid": cids[0], "config": config}
    if len(cids) > 1:
        entry["shards"] = cids
    raw = orjson.dumps(entry)
    registered = _register(keys=[K.COLLECTIONS, K.ALIASES], args=[name, raw], client=r)
    if registered != 1:
        for cid in cids:
            r.delete(Keys(cid).seq, Keys(cid).applied)
    if registered == 0:
        raise AlreadyExists(f"Collection `{name}` already exists!")
    if registered == -1:
        raise WrongInput(
            f"Can't create collection with name {name}. Alias with the same name already exists"
        )
    return parse_entry(name, raw)


# KEYS: the registry, the aliases. ARGV: name, entry. 1: registered; 0: the name is taken by a
# collection, -1: by an alias (checked in the same step, so an alias change cannot slip in).
_register = script(
    b"""
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""
)


def delete(r: redis.Redis, name: str) -> bool:
    """Forget the name (and its aliases), then drop its keyspace."""
    raw = _entry(r, name)
    if raw is None or not _delete_if_same(keys=[K.COLLECTIONS], args=[name, raw], client=r):
        return False
    _drop_aliases(keys=[K.ALIASES], args=[name], client=r)
    drop_keyspaces(r, parse_entry(name, raw))
    return True


def replace_collection(r: redis.Redis, name: str, raw: bytes) -> None:
    """Register `name` as the entry `raw` (a keyspace made beforehand), in place of the
    collection of that name if there is one, whose keyspace then goes. Its aliases stay."""
    old = _entry(r, name)
    if _replace(keys=[K.COLLECTIONS, K.ALIASES], args=[name, raw], client=r) == -1:
        raise WrongInput(
            f"Can't create collection with name {name}. Alias with the same name already exists"
        )
    if old is not None:
        drop_keyspaces(r, parse_entry(name, old))


# KEYS: the registry, the aliases. ARGV: name, entry. -1 when the name is an alias's.
_replace = script(
    b"""
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
"""
)


def drop_keyspaces(r: redis.Redis, collection: Collection) -> None:
    """Drop the keyspace of each of its shards."""
    for part in collection.parts:
        drop_keyspace(r, part)


def drop_keyspace(r: redis.Redis, collection: Collection) -> None:
    """Removing `seq` makes further appends fail and removing `applied` aborts any worker's
    commit in flight (it WATCHes the checkpoint): they go first, so the index data enumerated
    next is all there will be."""
    keys, rebuild = collection.keys, collection.keys.rebuild()
    r.unlink(keys.seq, keys.applied, rebuild.applied)
    names = collection.vector_names
    r.unlink(*keys.all_keys(names, index_data.stored_indexes(r, keys)))
    # and what an unfinished replay left
    r.unlink(*rebuild.projection_keys(names, index_data.stored_indexes(r, rebuild)))


# KEYS: the aliases. ARGV: a collection name. Drops every alias of the collection, as Qdrant
# does when it deletes one.
_drop_aliases = script(
    b"""
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if flat[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[1], flat[i]) end
end
return 0
"""
)

_DELETE_IF_SAME_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""
_delete_if_same = script(_DELETE_IF_SAME_LUA.encode())


class Cache:
    """Each web process keeps the collections it has seen, saving a round trip per request.
    A name that is an alias (aliases.py) is looked up on every request, so a switch shows at
    once on every pod; the collection it names is kept as any other.
    A stale entry cannot do harm: an append or read on a deleted collection's cid finds no
    `seq` and raises CollectionGone, one whose config changed since finds another `version`
    and raises ConfigChanged, and any other error met with a cached entry is checked
    against a fresh look-up; either way the work runs again on the fresh collection. `work`
    must therefore be safe to run twice: a read, or checking a write before it is appended."""

    def __init__(self, r: redis.Redis) -> None:
        self._r = r
        self._known: dict[str, Collection] = {}

    def using(self, name: str, work: Callable[[Collection], T]) -> T:
        known = self._known.get(name)
        if known is not None:
            try:
                return work(known)
            except QdrantError:
                if find(self._r, name) == known:
                    raise  # a real error, not a stale entry
                self._known.pop(name, None)
        with self._r.pipeline(transaction=False) as pipe:
            pipe.hget(K.COLLECTIONS, name)
            pipe.hget(K.ALIASES, name)
            raw, target = pipe.execute()
        if raw is None and target is not None:
            return self.using(target.decode(), work)  # an alias: resolved again next time
        if raw is None:
            raise NotFound(f"Collection `{name}` doesn't exist!")
        collection = _complete(self._r, name, raw)
        self._known[name] = collection
        return work(collection)

    def forget(self, name: str) -> None:
        self._known.pop(name, None)


def names(r: redis.Redis) -> list[str]:
    return sorted(hash_fields(r, K.COLLECTIONS))


def registered(r: redis.Redis) -> list[Collection]:
    """Every collection, by name."""
    registry = cast("dict[bytes, bytes]", r.hgetall(K.COLLECTIONS))
    entries = [(name.decode(), raw, shard_cids(raw)) for name, raw in registry.items()]
    with r.pipeline(transaction=False) as pipe:
        for _, _, cids in entries:
            for cid in cids:
                pipe.get(Keys(cid).config)
        changed = iter(pipe.execute())
    found = [_whole(n, raw, [next(changed) for _ in cids]) for n, raw, cids in entries]
    return sorted(found, key=_name_of)


def _name_of(collection: Collection) -> str:
    return collection.name
