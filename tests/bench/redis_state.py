"""What the benchmark reads straight from pointlog's Redis: the server's version, the memory a
collection takes per point, and whether a collection waits for a worker's sweep."""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson
import redis
from rq import Worker
from rq.serializers import JSONSerializer

from tests.bench.data import Data

# The keys of a collection that belong to its log; every other key is the projection.
LOG_KEYS = {"log", "seq", "kick", "lease", "pause"}


@dataclass
class RedisMemory:
    """Bytes per point of a bulk-loaded collection, by MEMORY USAGE of its keys and by the
    server's INFO used_memory over the load; `raw` is the point itself."""

    keys: dict[str, int]  # key (without the collection's prefix) -> bytes
    projection: float
    log: float
    used_delta: float
    raw: float
    vector_raw: float


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=30)


def server_version(url: str) -> str:
    info = connect(url).info("server")
    if "valkey_version" in info:
        return f"valkey {info['valkey_version']}"
    return f"redis {info.get('redis_version', '?')}"


def used_memory(url: str) -> int:
    return connect(url).info("memory")["used_memory"]


def memory_per_point(url: str, coll: str, used_before: int, data: Data) -> RedisMemory:
    used = used_memory(url)
    r = connect(url)
    cid = _cid(r, coll)
    if cid is None:
        raise RuntimeError(f"collection {coll} not in pl:collections")
    prefix = f"pl:{{{cid}}}:"
    sizes: dict[str, int] = {}
    for key in r.scan_iter(match=f"{prefix}*", count=1000):
        sizes[key.decode()[len(prefix) :]] = int(r.memory_usage(key, samples=0) or 0)
    n = len(data)
    return RedisMemory(
        keys=sizes,
        projection=sum(v for k, v in sizes.items() if k not in LOG_KEYS) / n,
        log=sum(v for k, v in sizes.items() if k in LOG_KEYS) / n,
        used_delta=(used - used_before) / n,
        raw=data.raw_bytes_per_point(),
        vector_raw=data.vectors.shape[1] * 4,
    )


def stale_kick(url: str, coll: str) -> str | None:
    """Is the collection's kick flag up while no worker holds its lease? Then a write queues
    no job and waits for a worker's sweep: says so, and what the queue and workers are doing."""
    r = connect(url)
    cid = _cid(r, coll)
    if cid is None:
        return None
    kick, lease = (r.exists(f"pl:{{{cid}}}:{k}") for k in ("kick", "lease"))
    if not kick or lease:
        return None
    queue = os.environ.get("POINTLOG_QUEUE", "pointlog")
    queued = r.llen(f"rq:queue:{queue}")
    why = "no job queued: it waits for a sweep" if queued == 0 else _busy_workers(r, queued)
    return f"pl:{{{cid}}}:kick is set, no worker holds pl:{{{cid}}}:lease; {why}"


def _busy_workers(r: redis.Redis, queued: int) -> str:
    busy = []
    for worker in Worker.all(connection=r, serializer=JSONSerializer):
        job = worker.get_current_job()
        busy.append("idle" if job is None else f"catch_up{tuple(job.args)}")
    return f"{queued} job(s) queued; the workers are running: {', '.join(busy)}"


def _cid(r: redis.Redis, coll: str) -> int | None:
    """The collection's number, which tags its keys; None if there is no such collection."""
    config = r.hget("pl:collections", coll)
    return None if config is None else orjson.loads(config)["cid"]
