"""Settings, read from the environment (Heroku-style): one place for every process type."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_first(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _optional_choice(name: str, allowed: tuple[str, ...]) -> str | None:
    return _choice(name, allowed[0], allowed) if os.environ.get(name) else None


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    # How a rediss:// server's certificate is checked (none, optional, required) when the URL
    # does not say (`?ssl_cert_reqs=`); None: redis-py's default, required.
    redis_ssl_cert_reqs: str | None = None
    queue_name: str = "pointlog"
    # The Redis holding the job queue (a plain server: RQ runs on no cluster); None: REDIS_URL's.
    queue_url: str | None = None
    # How many web threads share the connection pool (each wait=true holds a thread).
    web_threads: int = 16
    # A read first waits (bounded) until writes acknowledged before it are applied.
    read_your_writes: bool = True
    read_wait_seconds: float = 10.0
    # wait=true without a `timeout` gives up after this long with 408, as Qdrant does.
    default_wait_seconds: float = 60.0
    # Events a worker applies in one atomic commit.
    apply_batch_events: int = 64
    # After catching up, a worker keeps following the log this long before giving the
    # queue back, so a busy collection is not paying an RQ job per write.
    follow_seconds: float = 1.0
    # A catch-up job still busy after this long queues its successor and lets others run.
    max_job_seconds: float = 5.0
    # How often each worker looks for collections whose log is ahead of their projection
    # (a lost job, a killed worker): correctness never waits for RQ's own maintenance.
    sweep_seconds: float = 2.0
    # Commits the change feed keeps; a read model further behind reloads from the projection.
    change_feed_commits: int = 1000
    # Where log entries go once the hot log has enough of them (an fsspec URL: file://...,
    # s3://bucket/prefix); unset: the whole log stays in Redis.
    archive_url: str | None = None
    # The hot log of a collection keeps this many applied operations and megabytes of events
    # at most (retention.py): whichever is passed first moves the oldest to the archive.
    # Where snapshots are written (an fsspec URL); unset: `snapshots/` beside the archive's
    # segments, or without an archive a folder `pointlog-snapshots` in the working directory.
    snapshots_url: str | None = None
    hot_log_operations: int = 10_000
    hot_log_mb: float = 4.0
    # Memory a web process may hold in vectors (the vector read model); 0 holds none.
    vector_cache_mb: int = 1024
    # Appends stop once Redis uses this share of its maxmemory: the rest is room for the
    # workers to apply what was acknowledged (see memory.py).
    memory_write_limit: float = 0.8
    # An append is acknowledged once this many replicas of its server have it (WAIT), within
    # the timeout; 0: once the server has it (Redis replicates asynchronously).
    append_replicas: int = 0
    append_replicas_timeout_ms: int = 1000
    # Start even though Redis's maxmemory-policy may evict keys (acknowledged writes with them).
    allow_eviction: bool = False
    # A read whose read-your-writes wait runs out: "refuse" answers 503, "warn" answers what
    # is applied with a Warning header.
    stale_reads: str = "refuse"
    # The request log (api/request_log.py): "all" or "errors"; and the shortest request it
    # keeps when it is not an error (milliseconds).
    request_log: str = "all"
    request_log_min_ms: float = 0.0
    # A filtered read slower than this that filters on a key without an index is reported
    # as an issue (`GET /issues`), as Qdrant does.
    slow_query_seconds: float = 1.2
    max_body_bytes: int = 32 * 1024 * 1024
    api_key: str | None = None
    read_only_api_key: str | None = None

    @property
    def snapshot_store_url(self) -> str:
        if self.snapshots_url is not None:
            return self.snapshots_url
        if self.archive_url is not None:
            return f"{self.archive_url.rstrip('/')}/snapshots"
        return f"file://{os.path.abspath('pointlog-snapshots')}"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            redis_url=os.environ.get("REDIS_URL", cls.redis_url),
            redis_ssl_cert_reqs=_optional_choice(
                "REDIS_SSL_CERT_REQS", ("none", "optional", "required")
            ),
            queue_name=os.environ.get("POINTLOG_QUEUE", cls.queue_name),
            queue_url=os.environ.get("QUEUE_URL") or None,
            web_threads=_env_int("WEB_THREADS", cls.web_threads),
            read_your_writes=_env_bool("READ_YOUR_WRITES", cls.read_your_writes),
            read_wait_seconds=_env_float("READ_WAIT_SECONDS", cls.read_wait_seconds),
            default_wait_seconds=_env_float("DEFAULT_WAIT_SECONDS", cls.default_wait_seconds),
            apply_batch_events=_env_int("APPLY_BATCH_EVENTS", cls.apply_batch_events),
            follow_seconds=_env_float("FOLLOW_SECONDS", cls.follow_seconds),
            max_job_seconds=_env_float("MAX_JOB_SECONDS", cls.max_job_seconds),
            sweep_seconds=_env_float("SWEEP_SECONDS", cls.sweep_seconds),
            change_feed_commits=_env_int("CHANGE_FEED_COMMITS", cls.change_feed_commits),
            archive_url=os.environ.get("ARCHIVE_URL") or None,
            snapshots_url=os.environ.get("SNAPSHOTS_URL") or None,
            hot_log_operations=_env_int("HOT_LOG_OPERATIONS", cls.hot_log_operations),
            hot_log_mb=_env_float("HOT_LOG_MB", cls.hot_log_mb),
            vector_cache_mb=_env_int("VECTOR_CACHE_MB", cls.vector_cache_mb),
            memory_write_limit=_env_float("MEMORY_WRITE_LIMIT", cls.memory_write_limit),
            append_replicas=_env_int("APPEND_REPLICAS", cls.append_replicas),
            append_replicas_timeout_ms=_env_int(
                "APPEND_REPLICAS_TIMEOUT_MS", cls.append_replicas_timeout_ms
            ),
            allow_eviction=_env_bool("ALLOW_EVICTION", cls.allow_eviction),
            stale_reads=_choice("STALE_READS", cls.stale_reads, ("refuse", "warn")),
            request_log=_choice("REQUEST_LOG", cls.request_log, ("all", "errors")),
            request_log_min_ms=_env_float("REQUEST_LOG_MIN_MS", cls.request_log_min_ms),
            slow_query_seconds=_env_float("SLOW_QUERY_SECONDS", cls.slow_query_seconds),
            max_body_bytes=_env_int("MAX_BODY_BYTES", cls.max_body_bytes),
            api_key=_env_first("API_KEY", "QDRANT__SERVICE__API_KEY"),
            read_only_api_key=_env_first("READ_ONLY_API_KEY", "QDRANT__SERVICE__READ_ONLY_API_KEY"),
        )
