"""The Redis connection every process uses: one server's, or a Redis Cluster's."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import hiredis
import redis
from redis._parsers.encoders import Encoder
from redis.cluster import ClusterPipeline
from redis.commands.core import Script
from redis.connection import HiredisRespSerializer
from redis.exceptions import NoScriptError, RedisClusterException
from redis.typing import EncodableT, KeyT

from projections import keys as K

logger = logging.getLogger("pointlog.store")

# What a failing store raises: a cluster's client raises RedisClusterException, which is not
# a RedisError, when no node of the cluster answers.
FAILURES = (redis.RedisError, RedisClusterException)

# Blocking reads in pointlog stay far below this; it only bounds a hung connection.
SOCKET_TIMEOUT = 10.0


class Packer:
    """Packs a command with hiredis in one call. redis-py's own packer encodes every argument
    in Python first, a large part of a big commit's cost (an HSET of 20,000 fields:
    17 ms against 2.7 ms). hiredis writes str, int and float as redis-py does (floats by
    `repr`); anything else, and the commands whose name holds a space, go to redis-py's."""

    def __init__(self) -> None:
        self._fallback = HiredisRespSerializer(None, Encoder("utf-8", "strict", False).encode)

    def pack(self, *args: Any) -> list[bytes]:
        name = args[0]
        if isinstance(name, str) and " " not in name:
            try:
                return [hiredis.pack_command(args)]
            except TypeError:
                pass  # a memoryview or a bool, say: redis-py knows what to do with it
        packed: list[bytes] = self._fallback.pack(*args)
        return packed


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
    return cast("redis.Redis", connect_cluster(url, max_connections, ssl_cert_reqs))


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


def connect_cluster(
    url: str, max_connections: int = 64, ssl_cert_reqs: str | None = None
) -> redis.RedisCluster:
    """A Redis Cluster client, from the URL of any of its nodes: as `connect`'s, per node."""
    options: dict[str, Any] = {}
    if url.startswith("rediss://"):
        if ssl_cert_reqs and "ssl_cert_reqs=" not in url:
            options["ssl_cert_reqs"] = ssl_cert_reqs
    else:
        options["connection_class"] = _PackedConnection  # TLS keeps redis-py's packer
    return SlotCluster.from_url(
        url,
        max_connections=max_connections,
        socket_timeout=SOCKET_TIMEOUT,
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


def _host(url: str) -> str:
    """The URL without its credentials, for a log line."""
    return url.rsplit("@", 1)[-1]


def _as_node(parse: Callable[..., Any]) -> Callable[..., Any]:
    """A node's reply callback called as the cluster calls its own (with the command's keys,
    which a node's callback does not take)."""

    def parsed(response: Any, **options: Any) -> Any:
        options.pop("keys", None)
        return parse(response, **options)

    return parsed


CLUSTER_PROBLEM = (
    "pointlog: {setting} names a node of a Redis Cluster (INFO cluster: cluster_enabled:1)."
    " RQ's queue cannot live on a cluster: give it a plain Redis or Valkey server of its own"
    " (QUEUE_URL)"
)


def refuse_cluster(r: redis.Redis, setting: str = "REDIS_URL") -> None:
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


def node_of(r: redis.Redis | redis.RedisCluster, key: str) -> str:
    """host:port of the cluster node holding `key` (the primary of its slot)."""
    assert isinstance(r, redis.RedisCluster)
    return str(r.get_node_from_key(key).name)


def pool_of(r: redis.Redis | redis.RedisCluster, key: str) -> redis.ConnectionPool:
    """The connection pool of the server holding `key` (on a cluster, its slot's primary)."""
    if isinstance(r, redis.RedisCluster):
        node: redis.Redis | None = r.get_node_from_key(key).redis_connection
        assert node is not None
        return node.connection_pool
    return r.connection_pool


def run_and_wait(
    r: redis.Redis, lua: Script, keys: list[str], args: list[Any], replicas: int, timeout_ms: int
) -> tuple[Any, int]:
    """Run the script, then WAIT until `replicas` replicas of its server have its writes (or
    the timeout passes): the script's reply, and how many replicas have them. One connection
    for both, taken from the pool of the server holding `keys[0]`, since WAIT waits for the
    writes of its own connection."""
    pool = pool_of(r, keys[0])
    connection = pool.get_connection()
    try:
        reply, confirmed = _sent_with_wait(
            connection, ("EVALSHA", lua.sha), keys, args, replicas, timeout_ms
        )
        if isinstance(reply, NoScriptError):  # the server lacks it: send the source this once
            source = ("EVAL", lua.script)
            reply, confirmed = _sent_with_wait(connection, source, keys, args, replicas, timeout_ms)
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)
    if isinstance(reply, redis.ResponseError):
        raise reply
    return reply, int(confirmed)


def _sent_with_wait(
    connection: redis.connection.Connection,
    call: tuple[str, Any],
    keys: list[str],
    args: list[Any],
    replicas: int,
    timeout_ms: int,
) -> tuple[Any, Any]:
    """Send the script's call and a WAIT in one write, then read both replies (a script's
    error reply is returned, not raised, so the WAIT's is still read)."""
    connection.send_packed_command(
        connection.pack_commands([(*call, len(keys), *keys, *args), ("WAIT", replicas, timeout_ms)])
    )
    try:
        reply: Any = connection.read_response()
    except redis.ResponseError as error:
        reply = error
    return reply, connection.read_response()


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
