"""redis-py's Redis Cluster client, as pointlog uses it. Every command, script and
transaction pointlog sends touches one slot (keys.py), so a cluster's node can answer what a
single server answers; the client is adjusted where redis-py assumes otherwise."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import redis
from redis.cluster import ClusterPipeline

from projections.packer import Packer


def connect_cluster(
    url: str, max_connections: int, ssl_cert_reqs: str | None, socket_timeout: float
) -> redis.RedisCluster:
    """A client of the cluster of the node at `url`: as store.connect_single's, per node."""
    options: dict[str, Any] = {}
    if url.startswith("rediss://"):
        if ssl_cert_reqs and "ssl_cert_reqs=" not in url:
            options["ssl_cert_reqs"] = ssl_cert_reqs
    else:
        options["connection_class"] = _PackedConnection  # TLS keeps redis-py's packer
    return SlotCluster.from_url(
        url,
        max_connections=max_connections,
        socket_timeout=socket_timeout,
        socket_connect_timeout=2.0,
        **options,
    )


class _PackedConnection(redis.Connection):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(command_packer=Packer(), **kwargs)  # type: ignore[no-untyped-call]


class SlotPipeline(ClusterPipeline):
    """A cluster pipeline that queues the multi-key commands redis-py refuses in one (it
    cannot route keys of several slots): pointlog's pipelines touch one collection, whose
    keys share a slot, so a node answers them as a single server would."""

    mget = redis.Redis.mget
    rename = redis.Redis.rename
    sinter = redis.Redis.sinter
    sunion = redis.Redis.sunion
    sdiff = redis.Redis.sdiff
    sinterstore = redis.Redis.sinterstore
    sunionstore = redis.Redis.sunionstore
    sdiffstore = redis.Redis.sdiffstore


class SlotCluster(redis.RedisCluster):
    """redis-py's cluster client, with pipelines that are SlotPipelines."""

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> SlotPipeline:
        pipe = super().pipeline(transaction, shard_hint)  # type: ignore[no-untyped-call]
        pipe.__class__ = SlotPipeline  # the same object, with the commands unblocked
        if transaction:
            pipe.cluster_response_callbacks = self._transaction_callbacks
        return cast("SlotPipeline", pipe)

    @functools.cached_property
    def _transaction_callbacks(self) -> dict[str, Callable[..., Any]]:
        """redis-py parses a transaction's replies with the cluster's callbacks alone, so an
        XRANGE comes back as lists, a ZRANGE WITHSCORES as pairs: the node's own callbacks
        (a single server's) go first, the cluster's still win."""
        node = self.get_default_node().redis_connection  # type: ignore[no-untyped-call]
        assert node is not None
        own = {name: _as_node(parse) for name, parse in node.response_callbacks.items()}
        return {**own, **self.cluster_response_callbacks}


def _as_node(parse: Callable[..., Any]) -> Callable[..., Any]:
    """A node's reply callback called as the cluster calls its own (with the command's keys,
    which a node's callback does not take)."""

    def parsed(response: Any, **options: Any) -> Any:
        options.pop("keys", None)
        return parse(response, **options)

    return parsed


def node_of(r: redis.Redis | redis.RedisCluster, key: str) -> str:
    """host:port of the cluster node holding `key` (the primary of its slot)."""
    assert isinstance(r, redis.RedisCluster)
    return str(r.get_node_from_key(key).name)
