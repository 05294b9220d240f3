"""Collection endpoints."""

from __future__ import annotations

import falcon
import redis

from api.config import change_config
from api.context import Context
from api.http import ok, read_json
from api.params import WriteParams, collection_timeout
from api.unsupported import refuse
from projections import collections, config_changes, reads, shard_reads
from projections.cluster_client import node_of
from projections.collections import Collection
from projections.indexes import IndexInfo
from projections.jsontypes import JsonObject

HNSW_DEFAULTS = {
    "m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
    "on_disk": False,
}  # fmt: skip
OPTIMIZER_DEFAULTS = {
    "deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
    "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
    "flush_interval_sec": 5, "max_optimization_threads": None,
}  # fmt: skip
WAL_DEFAULTS = {"wal_capacity_mb": 32, "wal_segments_ahead": 0}


class CollectionList:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        names = collections.names(self._ctx.r)
        ok(req, resp, {"collections": [{"name": n} for n in names]})


class CollectionItem:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        collections.validate_name(name, creating=True)
        collection_timeout(req)
        config = collections.validate_create(read_json(req, self._ctx.settings.max_body_bytes))
        collections.create(self._ctx.r, name, config)
        ok(req, resp, True)

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        def describe(collection: Collection) -> JsonObject:
            points, schema = shard_reads.overview(self._ctx.readers(collection))
            # This process's vector read models (started here if need be) say how far
            # indexing has come: the pod a client asks is the pod that will serve its queries.
            models = [self._ctx.vectors.of(part) for part in collection.parts]
            indexing = any(model is not None and model.indexing for model in models)
            indexed = sum(model.indexed for model in models if model is not None)
            return info(collection, points, schema, indexing, indexed)

        ok(req, resp, self._ctx.using(name, describe))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Change the config: answered once the change is applied, as Qdrant's blocks."""
        collection_timeout(req)
        body = read_json(req, self._ctx.settings.max_body_bytes)

        def patch(config: JsonObject) -> JsonObject:
            return config_changes.patched(config, body)

        applied = WriteParams(wait=True, ordering="weak", timeout=None)
        change_config(self._ctx, name, applied, "update_collection", patch)
        ok(req, resp, True)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        collection_timeout(req)
        ok(req, resp, collections.delete(self._ctx.r, name))


class CollectionExists:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        ok(req, resp, {"exists": collections.exists(self._ctx.r, name)})


def info(
    collection: Collection,
    points: int,
    payload_schema: dict[str, IndexInfo],
    indexing: bool,
    indexed: int,
) -> JsonObject:
    """Collection info in the shape qdrant-client's models require: `yellow` while a vector
    index is being built, and how many vectors the usable indexes hold."""
    config = collection.config
    return {
        "status": "yellow" if indexing else "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": indexed,
        "points_count": points,
        "segments_count": 1,
        "config": {
            "params": params(collection),
            "hnsw_config": _merged(HNSW_DEFAULTS, config.get("hnsw_config")),
            "optimizer_config": _merged(OPTIMIZER_DEFAULTS, config.get("optimizers_config")),
            "wal_config": _merged(WAL_DEFAULTS, config.get("wal_config")),
            "quantization_config": config.get("quantization_config"),
            **{k: config[k] for k in ("strict_mode_config", "metadata") if k in config},
        },
        "payload_schema": payload_schema,
    }


def params(collection: Collection) -> JsonObject:
    """Qdrant's `CollectionParams` of a collection."""
    config = collection.config
    shown = {
        "vectors": config["vectors"],
        "shard_number": config.get("shard_number", 1),
        "replication_factor": config.get("replication_factor", 1),
        "write_consistency_factor": config.get("write_consistency_factor", 1),
        "on_disk_payload": config.get("on_disk_payload", True),
    }
    if "sparse_vectors" in config:
        shown["sparse_vectors"] = config["sparse_vectors"]
    return shown


def _merged(defaults: JsonObject, given: object) -> JsonObject:
    """Defaults overridden by the known keys the user gave at creation."""
    if not isinstance(given, dict):
        return dict(defaults)
    return {**defaults, **{k: v for k, v in given.items() if k in defaults and v is not None}}


class CollectionCluster:
    """`GET /collections/{name}/cluster`: the collection's shards, as Qdrant describes a
    collection's shards on one peer; on a Redis Cluster each says the node holding it."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        def describe(collection: Collection) -> JsonObject:
            clustered = isinstance(self._ctx.r, redis.RedisCluster)
            shards = []
            for number, part in enumerate(collection.parts):
                points, _ = reads.overview(self._ctx.reader(part))
                shard: JsonObject = {"shard_id": number, "points_count": points, "state": "Active"}
                if clustered:
                    shard["node"] = node_of(self._ctx.r, part.keys.seq)
                shards.append(shard)
            return {
                "peer_id": 0,
                "shard_count": len(shards),
                "local_shards": shards,
                "remote_shards": [],
                "shard_transfers": [],
            }

        ok(req, resp, self._ctx.using(name, describe))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        refuse(req, "shard operations (a collection's shards are placed when it is created)")
