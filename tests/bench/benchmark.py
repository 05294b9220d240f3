"""Benchmark pointlog against Qdrant's own engine and qdrant-client's local mode.

    python -m tests.bench.benchmark [--points N] [--dim D] [--workers W] [--systems a,b]
                                    [--redis-url URL] [--quick] [--scale] [--py-spy DIR]

Starts pointlog itself (an embedded valkey-server in a temporary folder unless --redis-url, the
Procfile's `web` line with WEB_THREADS=16 and --workers processes of its `worker` line), loads
the same generated points into every system, runs the workloads of the performance issue one
system after another and prints a Markdown table, then pointlog's Redis memory per point.

Systems:
  pointlog  over HTTP: one keep-alive `http.client.HTTPConnection` per client, orjson bodies
  engine    Qdrant's engine in this process: a qdrant-edge-py `EdgeShard` in a temporary folder
  local     qdrant-client's local mode, `QdrantClient(":memory:")`, in this process

Not a test: pytest does not collect it (no test_ functions, not a test_ file).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import redis

from tests.support import ROOT, free_port, procfile, spawn, stop, wait_for_port
from workers.embedded import EmbeddedServer

SEED = 42
BATCH = 256
CLIENTS = 4
CITIES = ["Berlin", "London", "Paris", "Madrid", "Rome"]
TAGS = ["red", "green", "blue", "new", "used", "sale", "eco", "vip"]
SCROLL_CITY = CITIES[0]
SET_PAYLOAD_CITY = CITIES[1]
DELETE_PRICE_BELOW = 10.0
HTTP_TIMEOUT = 120.0
SYSTEMS = ("pointlog", "engine", "local")
LABELS = {
    "pointlog": "pointlog",
    "engine": "engine (qdrant-edge)",
    "local": "local (qdrant-client :memory:)",
}
DUMPS = orjson.OPT_SERIALIZE_NUMPY

NA = None  # the operation does not exist on that system
ERROR = "error"


# ---- data -----------------------------------------------------------------------------------


@dataclass
class Data:
    ids: list[int]
    vectors: np.ndarray  # (n, dim) float32
    payloads: list[dict]

    def __len__(self) -> int:
        return len(self.ids)

    def batches(self, size: int = BATCH) -> Iterator[tuple[list[int], np.ndarray, list[dict]]]:
        for start in range(0, len(self.ids), size):
            end = start + size
            yield self.ids[start:end], self.vectors[start:end], self.payloads[start:end]

    def raw_bytes_per_point(self) -> float:
        payload = sum(len(orjson.dumps(p)) for p in self.payloads) / len(self.payloads)
        return self.vectors.shape[1] * 4 + payload


def make_data(n: int, dim: int, seed: int = SEED) -> Data:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    cities = rng.integers(0, len(CITIES), n)
    prices = rng.random(n) * 100.0
    tags = rng.integers(0, len(TAGS), (n, 2))
    payloads = [
        {
            "city": CITIES[int(cities[i])],
            "price": round(float(prices[i]), 2),
            "n": i,
            "tags": [TAGS[int(tags[i, 0])], TAGS[int(tags[i, 1])]],
        }
        for i in range(n)
    ]
    return Data(list(range(1, n + 1)), vectors, payloads)


# ---- pointlog over HTTP ------------------------------------------------------------------------


class ServerError(Exception):
    """pointlog answered badly (status, envelope) or not at all; carries the exact request."""

    def __init__(self, method: str, path: str, body: bytes | None, problem: str) -> None:
        self.method, self.path, self.body, self.problem = method, path, body, problem
        shown = b"" if body is None else body[:300]
        more = "" if body is None or len(body) <= 300 else f"... ({len(body)} bytes in all)"
        super().__init__(f"{method} {path} body={shown!r}{more} -> {problem}")


class Http:
    """One keep-alive connection; orjson in and out; raises ServerError on anything but 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reconnects = 0
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else orjson.dumps(body, option=DUMPS)
        headers = {} if data is None else {"Content-Type": "application/json"}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=HTTP_TIMEOUT
                )
            try:
                self._conn.request(method, path, body=data, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except TimeoutError as exc:
                self.close()
                raise ServerError(method, path, data, f"no answer in {HTTP_TIMEOUT:.0f}s") from exc
            except (http.client.HTTPException, ConnectionError) as exc:
                # A keep-alive connection the server closed: reconnect once, and count it.
                self.close()
                if attempt == 2:
                    raise ServerError(method, path, data, f"connection failed: {exc!r}") from exc
                self.reconnects += 1
        if response.status != 200:
            raise ServerError(method, path, data, f"HTTP {response.status}: {raw[:500]!r}")
        try:
            return orjson.loads(raw)["result"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ServerError(method, path, data, f"not an envelope: {raw[:500]!r}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _city(city: str) -> dict:
    return {"must": [{"key": "city", "match": {"value": city}}]}


class Pointlog:
    name = "pointlog"
    supports = frozenset({"concurrent", "nowait"})

    def __init__(self, port: int, redis_url: str) -> None:
        self.port = port
        self.redis_url = redis_url
        self.http = Http(port)
        self.memory: dict[str, float] = {}
        self._used_before = 0

    def fork(self) -> Pointlog:
        """Another client with its own connection (for concurrent clients)."""
        return Pointlog(self.port, self.redis_url)

    def close(self) -> None:
        self.http.close()

    def create(self, coll: str, dim: int) -> None:
        self.http.request(
            "PUT", f"/collections/{coll}", {"vectors": {"size": dim, "distance": "Cosine"}}
        )

    def drop(self, coll: str) -> None:
        self.http.request("DELETE", f"/collections/{coll}")

    def _write(self, method: str, path: str, body: dict, wait: bool) -> None:
        path = f"{path}?wait={'true' if wait else 'false'}"
        result = self.http.request(method, path, body)
        expected = "completed" if wait else "acknowledged"
        status = result.get("status") if isinstance(result, dict) else None
        if status != expected:
            data = orjson.dumps(body, option=DUMPS)
            raise ServerError(
                method, path, data, f"status {status!r}, expected {expected!r}: {result}"
            )

    def upsert(
        self,
        coll: str,
        ids: list[int],
        vectors: np.ndarray,
        payloads: list[dict],
        wait: bool = True,
    ) -> None:
        points = [
            {"id": i, "vector": v, "payload": p}
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self._write("PUT", f"/collections/{coll}/points", {"points": points}, wait)

    def get(self, coll: str, point_id: int) -> dict:
        return self.http.request("GET", f"/collections/{coll}/points/{point_id}")

    def get_many(self, coll: str, ids: list[int]) -> list:
        body = {"ids": ids, "with_payload": True, "with_vector": True}
        return self.http.request("POST", f"/collections/{coll}/points", body)

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        seen, offset = 0, None
        while True:
            body = {
                "filter": _city(city),
                "limit": limit,
                "with_payload": True,
                "with_vector": False,
            }
            if offset is not None:
                body["offset"] = offset
            page = self.http.request("POST", f"/collections/{coll}/points/scroll", body)
            seen += len(page["points"])
            offset = page["next_page_offset"]
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: dict) -> None:
        body = {"payload": payload, "filter": _city(city)}
        self._write("POST", f"/collections/{coll}/points/payload", body, wait=True)

    def delete_price_below(self, coll: str, price: float) -> None:
        body = {"filter": {"must": [{"key": "price", "range": {"lt": price}}]}}
        self._write("POST", f"/collections/{coll}/points/delete", body, wait=True)

    def count(self, coll: str) -> int:
        return self.http.request("POST", f"/collections/{coll}/points/count", {"exact": True})[
            "count"
        ]

    def count_flag(self, coll: str) -> int:
        body = {"exact": True, "filter": {"must": [{"key": "flag", "match": {"value": True}}]}}
        return self.http.request("POST", f"/collections/{coll}/points/count", body)["count"]

    def stale_kick(self, coll: str) -> str | None:
        """Before a timed write: is the collection's kick flag up while no worker holds its
        lease? Then the write queues no job and waits for a worker's sweep."""
        r = _redis(self.redis_url)
        config = r.hget("pl:collections", coll)
        if config is None:
            return None
        cid = orjson.loads(config)["cid"]
        kick, lease = (r.exists(f"pl:{{{cid}}}:{k}") for k in ("kick", "lease"))
        if not kick or lease:
            return None
        queue = os.environ.get("POINTLOG_QUEUE", "pointlog")
        queued = r.llen(f"rq:queue:{queue}")
        if queued == 0:
            why = "no job queued: it waits for a sweep"
        else:
            from rq import Worker
            from rq.serializers import JSONSerializer

            busy = []
            for worker in Worker.all(connection=r, serializer=JSONSerializer):
                job = worker.get_current_job()
                busy.append("idle" if job is None else f"catch_up{tuple(job.args)}")
            why = f"{queued} job(s) queued; the workers are running: {', '.join(busy)}"
        return f"pl:{{{cid}}}:kick is set, no worker holds pl:{{{cid}}}:lease; {why}"

    # -- memory: MEMORY USAGE of the collection's keys, INFO memory's used_memory delta ----------

    def before_bulk(self, coll: str) -> None:
        self._used_before = _redis(self.redis_url).info("memory")["used_memory"]

    def after_bulk(self, coll: str, data: Data) -> None:
        r = _redis(self.redis_url)
        used = r.info("memory")["used_memory"]
        config = r.hget("pl:collections", coll)
        if config is None:
            raise RuntimeError(f"collection {coll} not in pl:collections")
        cid = orjson.loads(config)["cid"]
        prefix = f"pl:{{{cid}}}:"
        sizes: dict[str, int] = {}
        for key in r.scan_iter(match=f"pl:{{{cid}}}:*", count=1000):
            name = key.decode()
            sizes[name[len(prefix) :]] = int(r.memory_usage(key, samples=0) or 0)
        log_side = {"log", "seq", "kick", "lease", "pause"}
        n = len(data)
        self.memory = {
            "keys": sizes,
            "projection": sum(v for k, v in sizes.items() if k not in log_side) / n,
            "log": sum(v for k, v in sizes.items() if k in log_side) / n,
            "used_delta": (used - self._used_before) / n,
            "raw": data.raw_bytes_per_point(),
            "vector_raw": data.vectors.shape[1] * 4,
        }


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=30)


# ---- Qdrant's engine in-process (qdrant-edge-py) -----------------------------------------------


class Engine:
    name = "engine"
    supports = frozenset({"concurrent"})

    def __init__(self, root: Path) -> None:
        import qdrant_edge as qe

        self.qe = qe
        self.root = root
        self.shards: dict[str, object] = {}
        self.memory: dict[str, float] = {}

    def fork(self) -> Engine:
        return self  # one shard, shared by the threads (its calls are thread-safe)

    def close(self) -> None:
        for coll in list(self.shards):
            self.drop(coll)

    def create(self, coll: str, dim: int) -> None:
        qe = self.qe
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        self.shards[coll] = qe.EdgeShard.create(str(self.root / coll), config)

    def drop(self, coll: str) -> None:
        shard = self.shards.pop(coll)
        shard.close()
        shutil.rmtree(self.root / coll, ignore_errors=True)

    def upsert(
        self,
        coll: str,
        ids: list[int],
        vectors: np.ndarray,
        payloads: list[dict],
        wait: bool = True,
    ) -> None:
        qe = self.qe
        points = [qe.Point(i, v, p) for i, v, p in zip(ids, vectors, payloads, strict=True)]
        self.shards[coll].update(qe.UpdateOperation.upsert_points(points))

    def get(self, coll: str, point_id: int) -> object:
        return self.shards[coll].retrieve([point_id], True, True)[0]

    def get_many(self, coll: str, ids: list[int]) -> list:
        return self.shards[coll].retrieve(ids, True, True)

    def _city(self, city: str) -> object:
        qe = self.qe
        return qe.Filter(must=[qe.FieldCondition("city", match=qe.MatchValue(city))])

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        qe = self.qe
        seen, offset = 0, None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=limit,
                filter=self._city(city),
                with_payload=True,
                with_vector=False,
            )
            records, offset = self.shards[coll].scroll(request)
            seen += len(records)
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: dict) -> None:
        self.shards[coll].update(
            self.qe.UpdateOperation.set_payload_by_filter(self._city(city), payload)
        )

    def delete_price_below(self, coll: str, price: float) -> None:
        qe = self.qe
        flt = qe.Filter(must=[qe.FieldCondition("price", range=qe.RangeFloat(lt=price))])
        self.shards[coll].update(qe.UpdateOperation.delete_points_by_filter(flt))

    def count(self, coll: str) -> int:
        return self.shards[coll].count(self.qe.CountRequest(exact=True))

    def count_flag(self, coll: str) -> int:
        # Not MatchValue(True): qdrant-edge-py 0.9.0 turns the bool into the integer 1 (its
        # `.value` reads back 1), which matches no boolean. "flag is not empty" is the same here.
        qe = self.qe
        flt = qe.Filter(must_not=[qe.IsEmptyCondition("flag")])
        return self.shards[coll].count(qe.CountRequest(exact=True, filter=flt))

    def before_bulk(self, coll: str) -> None:
        pass

    def after_bulk(self, coll: str, data: Data) -> None:
        self.shards[coll].flush()
        files = [p for p in (self.root / coll).rglob("*") if p.is_file()]
        allocated = sum(p.stat().st_blocks * 512 for p in files)  # not the sparse files' size
        self.memory = {"disk": allocated / len(data)}


# ---- qdrant-client's local mode ------------------------------------------------------------


class Local:
    name = "local"
    supports: frozenset[str] = frozenset()

    def __init__(self) -> None:
        from qdrant_client import QdrantClient, models

        self.models = models
        self.client = QdrantClient(":memory:")
        self.memory: dict[str, float] = {}

    def fork(self) -> Local:
        return self

    def close(self) -> None:
        self.client.close()

    def create(self, coll: str, dim: int) -> None:
        m = self.models
        self.client.create_collection(
            coll, vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE)
        )

    def drop(self, coll: str) -> None:
        self.client.delete_collection(coll)

    def upsert(
        self,
        coll: str,
        ids: list[int],
        vectors: np.ndarray,
        payloads: list[dict],
        wait: bool = True,
    ) -> None:
        m = self.models
        points = [
            m.PointStruct(id=i, vector=v.tolist(), payload=p)
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self.client.upsert(coll, points=points, wait=wait)

    def get(self, coll: str, point_id: int) -> object:
        return self.client.retrieve(coll, [point_id], with_payload=True, with_vectors=True)[0]

    def get_many(self, coll: str, ids: list[int]) -> list:
        return self.client.retrieve(coll, ids, with_payload=True, with_vectors=True)

    def _match(self, key: str, value: object) -> object:
        m = self.models
        return m.Filter(must=[m.FieldCondition(key=key, match=m.MatchValue(value=value))])

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        seen, offset = 0, None
        while True:
            records, offset = self.client.scroll(
                coll,
                scroll_filter=self._match("city", city),
                limit=limit,
                offset=offset,
                with_payload=True,
                with_vectors=False,
            )
            seen += len(records)
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: dict) -> None:
        self.client.set_payload(coll, payload=payload, points=self._match("city", city), wait=True)

    def delete_price_below(self, coll: str, price: float) -> None:
        m = self.models
        flt = m.Filter(must=[m.FieldCondition(key="price", range=m.Range(lt=price))])
        self.client.delete(coll, points_selector=m.FilterSelector(filter=flt), wait=True)

    def count(self, coll: str) -> int:
        return self.client.count(coll, exact=True).count

    def count_flag(self, coll: str) -> int:
        return self.client.count(coll, count_filter=self._match("flag", True), exact=True).count

    def before_bulk(self, coll: str) -> None:
        pass

    def after_bulk(self, coll: str, data: Data) -> None:
        pass


# ---- the processes ---------------------------------------------------------------------------


class Cluster:
    """An embedded valkey-server (unless a URL is given), the Procfile's web line and workers."""

    def __init__(self, workdir: Path, redis_url: str | None, workers: int) -> None:
        self.workdir = workdir
        self.redis_url = redis_url
        self.n_workers = workers
        self.server: EmbeddedServer | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.port = 0

    def start(self) -> None:
        if self.redis_url is None:
            self.server = EmbeddedServer(self.workdir / "valkey", free_port())
            self.server.start()
            self.redis_url = self.server.url
        commands = procfile()
        self.port = free_port()
        env = {"REDIS_URL": self.redis_url, "PORT": str(self.port), "WEB_THREADS": "16"}
        self.web = spawn(self._logged(commands["web"], "web"), env)
        for k in range(self.n_workers):
            self.workers.append(spawn(self._logged(commands["worker"], f"worker{k + 1}"), env))
        wait_for_port(self.port, self.web)

    def _logged(self, command: str, name: str) -> str:
        """The Procfile line as is; `exec` (in spawn) applies the redirection to the process."""
        return f"{command} >{shlex.quote(str(self.log(name)))} 2>&1"

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def processes(self) -> dict[str, subprocess.Popen]:
        named = {"web": self.web} if self.web else {}
        named.update({f"worker{k + 1}": p for k, p in enumerate(self.workers)})
        return named

    def dead(self) -> list[str]:
        return [
            f"{n} exited with {p.returncode}"
            for n, p in self.processes().items()
            if p.poll() is not None
        ]

    def stop(self) -> None:
        for process in self.processes().values():
            with contextlib.suppress(Exception):
                stop(process)
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.stop()

    def server_version(self) -> str:
        info = _redis(self.redis_url).info("server")
        if "valkey_version" in info:
            return f"valkey {info['valkey_version']}"
        return f"redis {info.get('redis_version', '?')}"


class Profiler:
    """py-spy `record` (collapsed stacks) of the web process and the workers, while it runs."""

    def __init__(self, outdir: Path, targets: dict[str, int]) -> None:
        self.outdir = outdir
        self.targets = targets
        self.processes: dict[str, subprocess.Popen] = {}
        self.binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    def start(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.targets.items():
            args = [
                self.binary, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                "--output", str(self.outdir / f"{name}.txt"), "--nonblocking",
            ]  # fmt: skip
            err = (self.outdir / f"{name}.py-spy.log").open("w")
            self.processes[name] = subprocess.Popen(args, stdout=err, stderr=err)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def summary(self, top: int = 12) -> str:
        lines = []
        for name in self.targets:
            path = self.outdir / f"{name}.txt"
            if not path.exists() or path.stat().st_size == 0:
                lines.append(f"{name}: no samples (see {self.outdir / (name + '.py-spy.log')})")
                continue
            own, inclusive, total = _collapsed(path)
            lines.append(f"{name}: {total} samples while busy ({path})")
            lines.append("  self time:")
            lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
            mine = Counter({f: c for f, c in inclusive.items() if _project_frame(f)})
            lines.append("  inclusive, project code:")
            lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in mine.most_common(top)]
        return "\n".join(lines)


_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame(text: str) -> str:
    match = _FRAME.match(text.strip())
    if not match:
        return text.strip()
    file = match["file"]
    root = str(ROOT) + os.sep
    file = file[len(root) :] if file.startswith(root) else file.split("site-packages/")[-1]
    return f"{match['func']} ({file})"


def _project_frame(frame: str) -> bool:
    return any(f"({d}/" in frame for d in ("api", "projections", "workers"))


def _collapsed(path: Path) -> tuple[Counter, Counter, int]:
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")[1:]]  # the first is the thread
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    return own, inclusive, total


# ---- the workloads ---------------------------------------------------------------------------


@dataclass
class Config:
    points: int
    dim: int
    single_upserts: int = 300
    gets: int = 2000
    get_many_rounds: int = 200
    get_many_ids: int = 100
    scroll_limit: int = 1000


@dataclass
class Row:
    key: str
    label: str
    higher_is_better: bool


def rows(cfg: Config) -> list[Row]:
    return [
        Row("w1", f"1. bulk upsert, batches of {BATCH}, wait=true, 1 client (points/s)", True),
        Row(
            "w1c",
            f"1. bulk upsert, batches of {BATCH}, wait=true, {CLIENTS} clients (points/s)",
            True,
        ),
        Row("w2p50", f"2. single-point upsert wait=true x{cfg.single_upserts}: p50 (ms)", False),
        Row("w2p99", f"2. single-point upsert wait=true x{cfg.single_upserts}: p99 (ms)", False),
        Row("w2max", f"2. single-point upsert wait=true x{cfg.single_upserts}: max (ms)", False),
        Row(
            "w3ack", f"3. ingest wait=false (batches of {BATCH}): to acknowledged (points/s)", True
        ),
        Row("w3done", "3. ingest wait=false, then one wait=true: to completed (points/s)", True),
        Row("w4p50", f"4. get one point by id x{cfg.gets}: p50 (ms)", False),
        Row("w4p99", f"4. get one point by id x{cfg.gets}: p99 (ms)", False),
        Row("w5", f"5. get {cfg.get_many_ids} random ids x{cfg.get_many_rounds} (points/s)", True),
        Row("w6", f"6. scroll all, filter city == X, limit {cfg.scroll_limit} (s)", False),
        Row("w7", "7. set payload by filter (city == X: flag=true), wait=true (s)", False),
        Row("w8", f"8. delete by filter (price < {DELETE_PRICE_BELOW:g}), wait=true (s)", False),
    ]


@dataclass
class Outcome:
    values: dict[str, dict[str, object]] = field(default_factory=dict)  # row -> system -> value
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, dict[str, object]] = field(default_factory=dict)  # check -> system -> value

    def put(self, row: str, system: str, value: object) -> None:
        self.values.setdefault(row, {})[system] = value

    def check(self, what: str, system: str, value: object) -> None:
        self.checks.setdefault(what, {})[system] = value


def _ms(samples: list[float], with_max: bool = False) -> tuple[float, ...]:
    array = np.array(samples) * 1000.0
    found = float(np.percentile(array, 50)), float(np.percentile(array, 99))
    return (*found, float(array.max())) if with_max else found


def bulk(system, coll: str, data: Data) -> float:
    start = time.perf_counter()
    for ids, vectors, payloads in data.batches():
        system.upsert(coll, ids, vectors, payloads, wait=True)
    return len(data) / (time.perf_counter() - start)


def bulk_concurrent(system, coll: str, data: Data, clients: int) -> float:
    batches = list(data.batches())
    forks = [system.fork() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def run(k: int) -> None:
        client = forks[k]
        barrier.wait()
        try:
            for ids, vectors, payloads in batches[k::clients]:
                client.upsert(coll, ids, vectors, payloads, wait=True)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for client in forks:
        if client is not system:
            client.close()
    if failures:
        raise failures[0]
    return len(data) / elapsed


def single_upserts(system, coll: str, data: Data, count: int) -> tuple[float, ...]:
    """Re-upserts the first `count` points (same content), one request each."""
    samples = []
    for k in range(count):
        k %= len(data)
        started = time.perf_counter()
        system.upsert(coll, [data.ids[k]], data.vectors[k : k + 1], [data.payloads[k]], wait=True)
        samples.append(time.perf_counter() - started)
    return _ms(samples, with_max=True)


def ingest_nowait(
    system, coll: str, data: Data, before_final: Callable[[], None] | None = None
) -> tuple[float, float]:
    start = time.perf_counter()
    for ids, vectors, payloads in data.batches():
        system.upsert(coll, ids, vectors, payloads, wait=False)
    acknowledged = time.perf_counter() - start
    if before_final is not None:
        before_final()
    # The log is ordered: once this one is applied, everything before it is.
    last = len(data) - 1
    system.upsert(coll, [data.ids[last]], data.vectors[last:], [data.payloads[last]], wait=True)
    completed = time.perf_counter() - start
    return len(data) / acknowledged, len(data) / completed


def gets(system, coll: str, data: Data, count: int) -> tuple[float, float]:
    rng = np.random.default_rng(SEED + 4)
    picks = [data.ids[int(i)] for i in rng.integers(0, len(data), count)]
    samples = []
    for point_id in picks:
        started = time.perf_counter()
        system.get(coll, point_id)
        samples.append(time.perf_counter() - started)
    return _ms(samples)


def get_many(system, coll: str, data: Data, rounds: int, size: int) -> float:
    rng = np.random.default_rng(SEED + 5)
    draws = [
        [data.ids[int(i)] for i in rng.choice(len(data), size, replace=False)]
        for _ in range(rounds)
    ]
    got = 0
    start = time.perf_counter()
    for ids in draws:
        got += len(system.get_many(coll, ids))
    elapsed = time.perf_counter() - start
    if got != rounds * size:
        raise RuntimeError(f"get many: {got} points returned, expected {rounds * size}")
    return got / elapsed


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def sanity(system, coll: str, data: Data) -> str | None:
    """The first point as stored: payload equal, vector equal to the normalised input."""
    got = system.get(coll, data.ids[0])
    if isinstance(got, dict):
        payload, vector = got.get("payload"), got.get("vector")
    else:
        payload, vector = got.payload, got.vector
    expected = data.vectors[0] / np.linalg.norm(data.vectors[0])
    problems = []
    if payload != data.payloads[0]:
        problems.append(f"payload {payload!r} != {data.payloads[0]!r}")
    if vector is None or not np.allclose(np.asarray(vector, dtype=np.float32), expected, atol=1e-5):
        problems.append("vector differs from the normalised input")
    return "; ".join(problems) or None


class Runner:
    def __init__(self, cfg: Config, data: Data, outcome: Outcome, cluster: Cluster | None) -> None:
        self.cfg = cfg
        self.data = data
        self.outcome = outcome
        self.cluster = cluster
        self.tag = uuid.uuid4().hex[:8]

    def attempt(self, system, keys: list[str], fn: Callable[[], object]) -> None:
        """Run one workload; its values go in the rows `keys`, or `error` and the reason."""
        try:
            values = fn()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            for key in keys:
                self.outcome.put(key, system.name, ERROR)
            where = f"{system.name} {'/'.join(keys)}"
            dead = self.cluster.dead() if self.cluster and system.name == "pointlog" else []
            extra = f" [{'; '.join(dead)}]" if dead else ""
            self.outcome.errors.append(f"{where}: {type(exc).__name__}: {exc}{extra}")
            print(f"  ! {where}: {type(exc).__name__}: {str(exc)[:300]}{extra}", flush=True)
            if isinstance(exc, ServerError) and exc.body is not None:
                saved = (
                    Path(tempfile.gettempdir())
                    / f"pointlog-bench-request-{self.tag}-{len(self.outcome.errors)}.json"
                )
                saved.write_bytes(exc.body)
                self.outcome.errors.append(f"    full request body of the above: {saved}")
            return
        values = values if isinstance(values, tuple) else (values,)
        for key, value in zip(keys, values, strict=True):
            self.outcome.put(key, system.name, value)
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in zip(keys, values, strict=True))
        print(f"  {system.name}: {shown}", flush=True)

    def diagnose(self, system, coll: str, workload: str) -> None:
        """Note a stale kick flag (pointlog) before a timed write workload."""
        probe = getattr(system, "stale_kick", None)
        if probe is None:
            return
        with contextlib.suppress(Exception):
            found = probe(coll)
            if found:
                note = f"before workload {workload}: {found}"
                self.outcome.notes.append(f"pointlog {note}")
                print(f"  ? {note}", flush=True)

    def run(self, system, profiler: Profiler | None = None) -> None:
        cfg, data, name = self.cfg, self.data, system.name
        main, many, nowait = (f"bench-{self.tag}-{s}" for s in ("main", "c4", "nowait"))
        print(f"-- {LABELS[name]}", flush=True)
        if profiler:
            profiler.start()

        def w1() -> float:
            system.before_bulk(main)
            system.create(main, cfg.dim)
            value = bulk(system, main, data)
            system.after_bulk(main, data)
            return value

        self.attempt(system, ["w1"], w1)
        with contextlib.suppress(Exception):
            self.outcome.check("first point as sent", name, sanity(system, main, data) or "ok")

        def w1c() -> float:
            system.create(many, cfg.dim)
            try:
                value = bulk_concurrent(system, many, data, CLIENTS)
                count = system.count(many)
                if count != len(data):
                    raise RuntimeError(
                        f"{count} points after the concurrent load, expected {len(data)}"
                    )
                return value
            finally:
                system.drop(many)

        if "concurrent" in system.supports:
            self.attempt(system, ["w1c"], w1c)
        else:
            self.outcome.put("w1c", name, NA)
        self.diagnose(system, main, "2")
        self.attempt(
            system,
            ["w2p50", "w2p99", "w2max"],
            lambda: single_upserts(system, main, data, cfg.single_upserts),
        )
        if profiler:
            profiler.stop()

        def w3() -> tuple[float, float]:
            system.create(nowait, cfg.dim)
            try:
                values = ingest_nowait(
                    system, nowait, data, lambda: self.diagnose(system, nowait, "3 (final)")
                )
                count = system.count(nowait)
                if count != len(data):
                    raise RuntimeError(
                        f"{count} points after wait=false ingest, expected {len(data)}"
                    )
                return values
            finally:
                system.drop(nowait)

        if "nowait" in system.supports:
            self.attempt(system, ["w3ack", "w3done"], w3)
        else:
            self.outcome.put("w3ack", name, NA)
            self.outcome.put("w3done", name, NA)
        self.attempt(system, ["w4p50", "w4p99"], lambda: gets(system, main, data, cfg.gets))
        self.attempt(
            system,
            ["w5"],
            lambda: get_many(system, main, data, cfg.get_many_rounds, cfg.get_many_ids),
        )

        def w6() -> float:
            seconds, seen = timed(lambda: system.scroll_city(main, SCROLL_CITY, cfg.scroll_limit))
            self.outcome.check(f"scroll city == {SCROLL_CITY}: points", name, seen)
            return seconds

        def w7() -> float:
            seconds, _ = timed(
                lambda: system.set_payload_city(main, SET_PAYLOAD_CITY, {"flag": True})
            )
            self.outcome.check("points with flag=true after 7", name, system.count_flag(main))
            return seconds

        def w8() -> float:
            seconds, _ = timed(lambda: system.delete_price_below(main, DELETE_PRICE_BELOW))
            self.outcome.check("points left after 8", name, system.count(main))
            return seconds

        self.attempt(system, ["w6"], w6)
        self.diagnose(system, main, "7")
        self.attempt(system, ["w7"], w7)
        self.diagnose(system, main, "8")
        self.attempt(system, ["w8"], w8)
        with contextlib.suppress(Exception):
            system.drop(main)

    def scale(self, system, big: Data) -> None:
        """Workloads 1 and 4 at 10xN, in a collection of their own."""
        coll = f"bench-{self.tag}-scale"
        print(f"-- {LABELS[system.name]} at {len(big)} points", flush=True)

        def load() -> float:
            system.create(coll, self.cfg.dim)
            return bulk(system, coll, big)

        self.attempt(system, ["s1"], load)
        self.attempt(system, ["s4p50", "s4p99"], lambda: gets(system, coll, big, self.cfg.gets))
        with contextlib.suppress(Exception):
            system.drop(coll)


# ---- the report -----------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if value is NA:
        return "n/a"
    if not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _ratio(mine: object, other: object, higher_is_better: bool) -> str:
    if not isinstance(mine, (int, float)) or not isinstance(other, (int, float)):
        return "n/a"
    if mine <= 0 or other <= 0:
        return "n/a"
    return _fmt(mine / other if higher_is_better else other / mine)


def table(cfg: Config, outcome: Outcome, systems: list[str]) -> str:
    headers = ["workload", *[LABELS[s] for s in systems]]
    ratios = [s for s in ("engine", "local") if "pointlog" in systems and s in systems]
    headers += [f"pointlog vs {s}" for s in ratios]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" + "---:|" * (len(headers) - 1)]
    for row in rows(cfg):
        cells = outcome.values.get(row.key, {})
        line = [row.label, *[_fmt(cells[s]) if s in cells else "-" for s in systems]]
        line += [_ratio(cells.get("pointlog"), cells.get(s), row.higher_is_better) for s in ratios]
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


def scale_table(cfg: Config, outcome: Outcome, systems: list[str]) -> str:
    n, big = cfg.points, cfg.points * 10
    lines = [
        f"| workload | system | at {n:,} | at {big:,} | 10xN / N (1.0 = flat) |",
        "|---|---|---:|---:|---:|",
    ]
    for small_key, big_key, label in [
        ("w1", "s1", "1. bulk upsert, 1 client (points/s)"),
        ("w4p50", "s4p50", "4. get by id p50 (ms)"),
        ("w4p99", "s4p99", "4. get by id p99 (ms)"),
    ]:
        for s in systems:
            a = outcome.values.get(small_key, {}).get(s)
            b = outcome.values.get(big_key, {}).get(s)
            both = isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0
            ratio = _fmt(b / a) if both else "n/a"
            lines.append(f"| {label} | {LABELS[s]} | {_fmt(a)} | {_fmt(b)} | {ratio} |")
    return "\n".join(lines)


def memory_report(pointlog: Pointlog | None, engine: Engine | None) -> str:
    lines = []
    if pointlog is not None and pointlog.memory:
        m = pointlog.memory
        raw = m["raw"]
        lines += [
            "| Redis memory per point | bytes | x raw |",
            "|---|---:|---:|",
            f"| raw point (vector {m['vector_raw']:.0f} B + payload JSON"
            f" {raw - m['vector_raw']:.0f} B) | {raw:.0f} | 1.00 |",
            f"| projection (MEMORY USAGE of payload, vec, ids, ... keys) | {m['projection']:.0f} |"
            f" {m['projection'] / raw:.2f} |",
            f"| log (MEMORY USAGE of the stream + bookkeeping) | {m['log']:.0f} |"
            f" {m['log'] / raw:.2f} |",
            f"| projection + log | {m['projection'] + m['log']:.0f} |"
            f" {(m['projection'] + m['log']) / raw:.2f} |",
            f"| INFO used_memory delta over the bulk load | {m['used_delta']:.0f} |"
            f" {m['used_delta'] / raw:.2f} |",
            "",
            "keys: "
            + ", ".join(f"{k}={v:,}" for k, v in sorted(m["keys"].items(), key=lambda kv: -kv[1])),
        ]
    if engine is not None and engine.memory:
        lines.append(
            "engine shard on disk after flush (allocated blocks):"
            f" {engine.memory['disk']:.0f} bytes per point"
        )
    return "\n".join(lines)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def git_state() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(cfg: Config, args: argparse.Namespace, systems: list[str], server: str) -> str:
    nproc = os.cpu_count()
    with contextlib.suppress(AttributeError):
        nproc = len(os.sched_getaffinity(0))
    return "\n".join(
        [
            "# pointlog benchmark",
            "",
            f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- machine: nproc {nproc}, {cpu_model()}, {platform.system()} {platform.release()},"
            f" Python {platform.python_version()}; load average (1 min) at start"
            f" {args.load_at_start:.2f}, at end {os.getloadavg()[0]:.2f} (other work on the machine"
            " skews the numbers)",
            f"- N = {cfg.points:,} points, dim = {cfg.dim} (float32, Cosine), payload {{city (5),"
            f" price 0..100, n, tags [2]}}, seed {SEED}",
            f"- pointlog {git_state()}: web = Procfile `web` (WEB_THREADS=16), {args.workers}"
            f" worker(s), {server}; client: http.client keep-alive + orjson",
            f"- anchors: qdrant-edge-py {_version('qdrant-edge-py')} (EdgeShard, default config),"
            f" qdrant-client {_version('qdrant-client')} local mode; both in this process",
            f"- systems: {', '.join(systems)}",
        ]
    )


# ---- main ---------------------------------------------------------------------------------


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--points", type=int, default=20000, help="N (default 20000)")
    parser.add_argument("--dim", type=int, default=128, help="vector size (default 128)")
    parser.add_argument(
        "--workers", type=int, default=2, help="pointlog worker processes (default 2)"
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma list of {', '.join(SYSTEMS)} (default: all)",
    )
    parser.add_argument(
        "--redis-url", help="use this Redis instead of starting the embedded server"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small N and counts")
    parser.add_argument("--scale", action="store_true", help="also run workloads 1 and 4 at 10xN")
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="profile web and workers with py-spy during workloads 1-2 (pointlog)",
    )
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.systems if s not in SYSTEMS]
    if unknown or not args.systems:
        parser.error(f"--systems: unknown {unknown}; choose from {', '.join(SYSTEMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_at_start = os.getloadavg()[0]
    cfg = Config(points=args.points, dim=args.dim)
    if args.quick:
        cfg = Config(
            points=min(args.points, 2000),
            dim=args.dim,
            single_upserts=50,
            gets=200,
            get_many_rounds=20,
        )
    systems = args.systems
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    warnings.filterwarnings("ignore", message=".*[Ll]ocal mode.*")

    print(f"generating {cfg.points:,} points of dim {cfg.dim}...", flush=True)
    data = make_data(cfg.points, cfg.dim)
    big = make_data(cfg.points * 10, cfg.dim) if args.scale else None
    # The client's own cost: build and encode every upsert body (best of 3, warm).
    encode = min(
        timed(lambda: [orjson.dumps({"points": list(b)}, option=DUMPS) for b in _bodies(data)])[0]
        for _ in range(3)
    )

    workdir = Path(tempfile.mkdtemp(prefix="pointlog-bench-"))
    cluster: Cluster | None = None
    outcome = Outcome()
    instances: dict[str, object] = {}
    server = "no pointlog"
    failed = True
    try:
        if "pointlog" in systems:
            cluster = Cluster(workdir, args.redis_url, args.workers)
            cluster.start()
            server = cluster.server_version() + (
                f" at {args.redis_url}" if args.redis_url else " embedded (appendonly everysec)"
            )
            instances["pointlog"] = Pointlog(cluster.port, cluster.redis_url)
        if "engine" in systems:
            (workdir / "engine").mkdir()
            instances["engine"] = Engine(workdir / "engine")
        if "local" in systems:
            instances["local"] = Local()
        runner = Runner(cfg, data, outcome, cluster)
        for name in systems:
            profiler = None
            if args.py_spy and name == "pointlog" and cluster is not None:
                targets = {n: p.pid for n, p in cluster.processes().items()}
                profiler = Profiler(Path(args.py_spy), targets)
            try:
                runner.run(instances[name], profiler)
            finally:
                if profiler:
                    profiler.stop()  # a no-op once run() stopped it
            if profiler:
                outcome.notes.append("py-spy (workloads 1-2 of pointlog):\n" + profiler.summary())
        if big is not None:
            for name in systems:
                runner.scale(instances[name], big)
        if "pointlog" in instances:
            reconnects = instances["pointlog"].http.reconnects
            if reconnects:
                outcome.notes.append(
                    f"pointlog client reconnected {reconnects} time(s) (server closed keep-alive)"
                )
        failed = bool(outcome.errors)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr, flush=True)
        return 130
    finally:
        for instance in instances.values():
            with contextlib.suppress(Exception):
                instance.close()
        if cluster is not None:
            cluster.stop()
        if failed:
            print(f"(process logs and data kept in {workdir})", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    w1 = outcome.values.get("w1", {}).get("pointlog")
    if isinstance(w1, float):
        share = encode / (cfg.points / w1)
        outcome.notes.append(
            f"pointlog client cost: building + orjson-encoding all {cfg.points:,} points takes"
            f" {encode * 1000:.0f} ms ({100 * share:.1f}% of workload 1's time)"
        )
    print()
    print(header(cfg, args, systems, server))
    print()
    print(table(cfg, outcome, systems))
    print()
    print(
        "Ratios: above 1 = pointlog better (throughput: pointlog / other; latency and seconds:"
        " other / pointlog). n/a: no such operation in-process (in-process updates are synchronous;"
        " 4 clients only for pointlog and the engine). Reads return payload + vector (4, 5);"
        " scroll returns payload only."
    )
    checks = [
        f"- {what}: " + ", ".join(f"{s}={v}" for s, v in per.items())
        for what, per in outcome.checks.items()
    ]
    if checks:
        print()
        print("Checks (should agree across systems):")
        print("\n".join(checks))
    memory = memory_report(instances.get("pointlog"), instances.get("engine"))
    if memory:
        print()
        print(memory)
    if big is not None:
        print()
        print(scale_table(cfg, outcome, systems))
    for note in outcome.notes:
        print()
        print(note)
    if outcome.errors:
        print()
        print("Errors:")
        print("\n".join(outcome.errors))
    return 1 if outcome.errors else 0


def _bodies(data: Data) -> Iterator[Iterator[dict]]:
    for ids, vectors, payloads in data.batches():
        yield (
            {"id": i, "vector": v, "payload": p}
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        )


if __name__ == "__main__":
    sys.exit(main())
