"""The Redis connection every process uses."""

from __future__ import annotations

from typing import cast

import redis
from redis.commands.core import Script

# Blocking reads in pointlog stay far below this; it only bounds a hung connection.
SOCKET_TIMEOUT = 10.0


def connect(url: str, max_connections: int = 64) -> redis.Redis:
    """A client whose pool blocks (instead of failing) when every connection is busy."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=SOCKET_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    return redis.Redis(connection_pool=pool)


def script(source: bytes) -> Script:
    """A Lua script bound to no client: every call names the one to run on (`client=`), the
    process's connection or a pipeline."""
    # redis-py's stubs require a client here, but a Script only uses it when a call names none
    # (or to encode a `str` source).
    return Script(None, source)  # type: ignore[arg-type]


def hash_fields(r: redis.Redis, key: str) -> list[str]:
    """The field names of a hash."""
    return [f.decode() for f in cast("list[bytes]", r.hkeys(key))]


def reachable(r: redis.Redis) -> bool:
    """Whether the store answers (readiness)."""
    try:
        return bool(r.ping())
    except redis.RedisError:
        return False
