"""The Redis connection every process uses."""

from __future__ import annotations

import uuid
from typing import Any, cast

import hiredis
import redis
from redis._parsers.encoders import Encoder
from redis.commands.core import Script
from redis.connection import HiredisRespSerializer

from projections import keys as K

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


CLUSTER_PROBLEM = (
    "pointlog: {setting} names a node of a Redis Cluster (INFO cluster: cluster_enabled:1)."
    " pointlog runs on one Redis or Valkey server, with cluster mode off; on a cluster, most"
    " of its keys would live on other nodes. Give it a server of its own"
)


def refuse_cluster(r: redis.Redis, setting: str = "REDIS_URL") -> None:
    """At a process's start: exit with the problem when the server that `setting` names is a
    cluster node. One that does not answer yet, or knows no `INFO cluster`, is not refused."""
    try:
        info = r.info("cluster")
    except (redis.ConnectionError, redis.ResponseError):
        return
    if int(info.get("cluster_enabled", 0)):
        raise SystemExit(CLUSTER_PROBLEM.format(setting=setting))


def script(source: bytes) -> Script:
    """A Lua script bound to no client: every call names the one to run on (`client=`), the
    process's connection or a pipeline."""
    # redis-py's stubs require a client here, but a Script only uses it when a call names none
    # (or to encode a `str` source).
    return Script(None, source)  # type: ignore[arg-type]


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
