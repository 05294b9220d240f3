"""The Redis connection every process uses."""

from __future__ import annotations

import redis

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
