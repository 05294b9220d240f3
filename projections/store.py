"""The Redis connection every process uses: one server's, or a Redis Cluster's."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import redis
from redis.cluster import ClusterPipeline
from redis.commands.core import Script
from redis.exceptions import RedisClusterException
from redis.typing import EncodableT, KeyT

from projections import keys as K
from projections.cluster_client import connect_cluster
from projections.packer import Packer

logger = logging.getLogger("pointlog.store")

# What a failing store raises: a cluster's client raises RedisClusterException, which is not
# a RedisError, when no node of the cluster answers.
FAILURES = (redis.RedisError, RedisClusterException)

# Blocking reads in pointlog stay far below this; it only bounds a hung connection.
SOCKET_TIMEOUT = 10.0


def connect(url: str, max_connections: int = 64, ssl_cert_reqs: str | None = None) -> redis.Redis:
    """A client of the server at `url`, or of the Redis Cluster it is a node of (asked with
    `INFO cluster`; a server that does not answer yet is taken for a single one). Typed as a
    single server's client: a cluster's answers the same commands, every one pointlog sends
    touching one slot (see keys.py)."""
    single = connect_single(url, max_connections, ssl_cert_reqs)
    try:
        clustered = is_cluster(single)
    except redis.ConnectionError as error:
        logger.info("%s does not answer (%s): taken for a single server", _host(url), error)
        return single
    if not clustered:
        return single
    single.close()
    clustered_client = connect_cluster(url, max_connections, ssl_cert_reqs, SOCKET_TIMEOUT)
    return cast("redis.Redis", clustered_client)


def connect_single(
    url: str, max_connections: int = 64, ssl_cert_reqs: str | None = None
) -> redis.Redis:
    """A client whose pool blocks (instead of failing) when every connection is busy. A
    `rediss://` URL connects over TLS; `ssl_cert_reqs` (none, optional, required) says how
    its server's certificate is checked unless the URL says so itself (Heroku's Redis hands
    out such URLs with self-signed certificates: `none`)."""
    tls: dict[str, Any] = {}
    if url.startswith("rediss://") and ssl_cert_reqs and "ssl_cert_reqs=" not in url:
        tls["ssl_cert_reqs"] = ssl_cert_reqs
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=SOCKET_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=2.0,
        health_check_interval=30,
        command_packer=Packer(),
        **tls,
    )
    return redis.Redis(connection_pool=pool)


def _host(url: str) -> str:
    """The URL without its credentials, for a log line."""
    return url.rsplit("@", 1)[-1]


CLUSTER_PROBLEM = (
    "pointlog: {setting} names a node of a Redis Cluster (INFO cluster: cluster_enabled:1)."
    " RQ's queue cannot live on a cluster: give it a plain Redis or Valkey server of its own"
    " (QUEUE_URL)"
)


def refuse_cluster(r: redis.Redis, setting: str) -> None:
    """At a process's start: exit with the problem when the server that `setting` names is a
    cluster node. One that does not answer yet, or knows no `INFO cluster`, is not refused."""
    try:
        clustered = is_cluster(r)
    except redis.ConnectionError:
        return
    if clustered:
        raise SystemExit(CLUSTER_PROBLEM.format(setting=setting))


def is_cluster(r: redis.Redis | redis.RedisCluster) -> bool:
    """Whether the client's server is a Redis Cluster node (`INFO cluster`; a server that
    knows no such section is not)."""
    if isinstance(r, redis.RedisCluster):
        return True
    try:
        info = r.info("cluster")
    except redis.ResponseError:
        return False
    return bool(int(info.get("cluster_enabled", 0)))


def memory_infos(r: redis.Redis | redis.RedisCluster) -> list[dict[str, object]]:
    """INFO memory of the server, or of each primary of a cluster."""
    if isinstance(r, redis.RedisCluster):
        primaries = r.get_primaries()
        return [r.info("memory", target_nodes=node) for node in primaries]
    return [r.info("memory")]


def pool_of(r: redis.Redis | redis.RedisCluster, key: str) -> redis.ConnectionPool:
    """The connection pool of the server holding `key` (on a cluster, its slot's primary)."""
    if isinstance(r, redis.RedisCluster):
        node: redis.Redis | None = r.get_node_from_key(key).redis_connection
        assert node is not None
        return node.connection_pool
    return r.connection_pool


def queue_announce(pipe: redis.client.Pipeline, channel: str, message: int) -> None:
    """Queue a message to a collection's channel: sharded (SPUBLISH, to the node of the
    channel's slot) on a cluster, where a broadcast would reach every node; PUBLISH on one
    server, whose subscribers listen by pattern (progress.py)."""
    sharded = isinstance(pipe, ClusterPipeline)
    pipe.execute_command("SPUBLISH" if sharded else "PUBLISH", channel, message)


def script(source: bytes) -> Script:
    """A Lua script bound to no client: every call names the one to run on (`client=`), the
    process's connection or a pipeline."""
    # redis-py's stubs require a client here, but a Script only uses it when a call names none
    # (or to encode a `str` source).
    return _Script(None, source)  # type: ignore[arg-type]


class _Script(Script):
    def __call__(
        self,
        keys: Sequence[KeyT] | None = None,
        args: Iterable[EncodableT] | None = None,
        client: Any = None,
    ) -> Any:
        # A cluster's pipeline cannot load a script the node lacks (NOSCRIPT is left to the
        # caller): it sends the source, which the node caches as it would a loaded script.
        if isinstance(client, ClusterPipeline):
            keys = keys or []
            return client.execute_command("EVAL", self.script, len(keys), *keys, *(args or []))
        return super().__call__(keys, args, client)


def hash_fields(r: redis.Redis, key: str) -> list[str]:
    """The field names of a hash."""
    return [f.decode() for f in cast("list[bytes]", r.hkeys(key))]


def instance_id(r: redis.Redis) -> str:
    """The deployment's id, made on first use: every pod of one deployment shows the same."""
    r.set(K.INSTANCE, str(uuid.uuid4()), nx=True)
    return cast("bytes", r.get(K.INSTANCE)).decode()


def reachable(r: redis.Redis) -> bool:
    """Whether the store answers (readiness)."""
    try:
        return bool(r.ping())
    except redis.RedisError:
        return False
