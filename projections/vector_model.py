"""The vector read model: each web process holds a collection's dense vectors in memory.

It is a projection of the Redis projection: loaded once (in chunks, in a background thread,
while requests keep being served by reading Redis), then kept current by following the change
feed (changes.py) with its own checkpoint. It can always be dropped and reloaded.

Consistency. Loading starts from a change-feed position read together with the checkpoint,
then follows every record after it, re-reading the vectors of the points each one names: a
vector seen during the load that changed later is read again, so the model converges on the
projection, and its checkpoint is that of the last record it followed. A query that must see
operation `seq` waits, push-based and bounded, until the checkpoint reaches it, exactly as
reads of the projection do: read-your-writes holds across pods. A gap in the feed (this reader
fell further behind than the feed keeps), a reset record (a replay switched the projection)
or a config record (a vector name added or removed, a new HNSW config) makes it load afresh.

Memory. A process holds at most `VECTOR_CACHE_MB` of vectors; a collection that does not fit
is not held, and its queries read Redis as before (correct, slower).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

import numpy as np
import numpy.typing as npt
import redis

from projections import changes, collections, store
from projections.collections import Collection
from projections.filter_rows import FILTER_SHARE, filter_rows
from projections.hnsw import Graph, HnswConfig
from projections.keys import Keys
from projections.sparse_table import SparseTable
from projections.vector_table import GROWTH, VectorTable
from projections.vectors import Floats

Table = VectorTable | SparseTable

logger = logging.getLogger("pointlog.vectors")
LOAD_CHUNK = 2000  # vectors per HSCAN call while loading
FOLLOW_BLOCK_MS = 1000
FEED_BATCH = 100  # change records read per call
RETRY_SECONDS = 0.5
COMPLETED_KEPT = 16  # graph builds remembered (Qdrant's completed optimizations)
# How long a query that found the model behind an acknowledged write makes the queries after
# it check the model at each stage: while writes stream in, a check deferred to the end of a
# plan would mostly fail and run the plan twice.
LAGGING_SECONDS = 1.0


class ReadersWriterLock:
    """Many queries score at once (numpy releases the GIL); an update waits for them and
    holds them off while it changes rows."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass(frozen=True)
class Build:
    """A graph being built: its vector name, the rows it holds, when it started."""

    vector: str
    rows: int
    started: datetime
    finished: datetime | None = None


@dataclass(frozen=True)
class Figures:
    """What /metrics shows of one held collection."""

    name: str
    vectors: int
    nbytes: int
    checkpoint: int
    load_seconds: float | None  # None while loading


class CollectionVectors:
    """The vectors of one collection, one table per vector name, following the feed."""

    def __init__(self, r: redis.Redis, collection: Collection) -> None:
        self._r = r
        self.collection = collection
        self.lock = ReadersWriterLock()
        self.tables: dict[str, VectorTable] = {}  # dense vectors
        self.sparse: dict[str, SparseTable] = {}
        self.graphs: dict[str, Graph] = {}  # vector name -> its HNSW graph, once built
        # Vector name -> rows changed while its graph is being built (None: removed).
        self._building: dict[str, dict[int, Floats | None]] = {}
        self._builds: dict[str, Build] = {}  # what each graph being built started from
        self.completed: deque[Build] = deque(maxlen=COMPLETED_KEPT)  # the latest graphs built
        self._failed: set[str] = set()  # vector names whose graph build failed
        self._generation = 0  # bumped on each load: a build for older tables is void
        # Bumped, under the writer lock, by every load and every followed commit that changed
        # a point, a vector or an index: what is derived from the tables and payloads at one
        # version (the rows a filter matches) is valid while it stays.
        self.version = 0
        self.filter_rows = filter_rows()
        self.checkpoint = -1  # -1: not loaded yet
        self._behind_at = -LAGGING_SECONDS  # when a query last found the model behind
        self.load_seconds: float | None = None
        self._position = changes.START
        self._advanced = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"pointlog-vectors-{collection.cid}", daemon=True
        )

    def start(self) -> None:
        """Load (unless loaded already) and follow the feed, in a thread of its own."""
        self._thread.start()

    @property
    def keys(self) -> Keys:
        return self.collection.keys

    @property
    def nbytes(self) -> int:
        """Memory held: the vectors, and the copies kept for filters (filter_rows.py)."""
        return self.vector_bytes + self.filter_rows.nbytes

    @property
    def vector_bytes(self) -> int:
        return sum(table.nbytes for table in self._every_table())

    def table(self, name: str) -> Table | None:
        return self.tables.get(name) or self.sparse.get(name)

    def _every_table(self) -> list[Table]:
        return [*self.tables.values(), *self.sparse.values()]

    @property
    def indexing(self) -> bool:
        """Whether the vectors are being loaded or a graph built: Qdrant's `yellow`."""
        return self.checkpoint < 0 or bool(self._building)

    def using_graph(self, name: str) -> bool | None:
        """Whether the name's graph serves its queries: True; a graph is due but not usable
        yet: False; no graph is due (an exact scan is as fast): None."""
        if name in self.graphs and self.graphs[name].usable:
            return True
        return False if name in self._building else None

    def builds(self) -> list[Build]:
        """The graphs being built now (Qdrant's running optimizations)."""
        with self.lock.reading():
            return [self._builds[name] for name in self._building if name in self._builds]

    @property
    def indexed(self) -> int:
        """Vectors in usable graphs (Qdrant's `indexed_vectors_count`)."""
        return sum(graph.count for graph in self.graphs.values() if graph.usable)

    def figures(self) -> Figures:
        held = sum(len(table) for table in self._every_table())
        return Figures(self.collection.name, held, self.nbytes, self.checkpoint, self.load_seconds)

    def wait_for(self, checkpoint: int, timeout: float) -> bool:
        """Block until the model has followed the feed to `checkpoint` (loaded, at least);
        False if it has not within `timeout` seconds."""
        with self._advanced:
            return self._advanced.wait_for(
                lambda: self.checkpoint >= max(checkpoint, 0), timeout=timeout
            )

    def fell_behind(self) -> None:
        """A query found the model behind an operation acknowledged already."""
        self._behind_at = time.monotonic()

    @property
    def lagging(self) -> bool:
        """Whether a query found the model behind within the last LAGGING_SECONDS."""
        return time.monotonic() - self._behind_at < LAGGING_SECONDS

    def wait_indexed(self, timeout: float) -> bool:
        """Block until no graph is being built (True), or `timeout` seconds passed."""
        with self._advanced:
            return self._advanced.wait_for(lambda: not self._building, timeout=timeout)

    def stop(self, wait: float = 0.0) -> None:
        """Stop following the feed; with `wait`, wait up to that many seconds for the follower
        to end (it applies no record after)."""
        self._stop.set()
        if wait and self._thread.is_alive():
            self._thread.join(wait)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # ---- the follower thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.checkpoint < 0:
                    self.load()
                self._follow()
            except store.FAILURES as error:
                logger.warning("vector model of %s: %s", self.collection.name, error)
                self._stop.wait(RETRY_SECONDS)

    def load(self) -> None:
        """Read every vector of the collection, chunk by chunk, into fresh tables."""
        started = time.perf_counter()
        position = changes.position(self._r, self.keys)
        if position is None:
            self._stop.set()  # the collection is gone
            return
        specs = self.collection.vectors.values()
        tables = {spec.name: VectorTable(spec) for spec in specs if not spec.sparse}
        sparse = {spec.name: SparseTable(spec) for spec in specs if spec.sparse}
        for name, dense in tables.items():
            dense.reserve(self._r.hlen(self.keys.vectors(name)))
        every: list[Table] = [*tables.values(), *sparse.values()]
        for table in every:
            for keys, data in _chunks(self._r, self.keys.vectors(table.spec.name)):
                table.put_many(keys, data)
        for held in sparse.values():
            held.commit()
        with self.lock.writing():
            self.tables, self.sparse = tables, sparse
            self.graphs, self._building, self._failed = {}, {}, set()
            self._generation += 1
            self.version += 1
        self._position = position.entry_id
        self.load_seconds = time.perf_counter() - started
        self._start_builds()  # before the checkpoint shows: a waiter then sees `indexing`
        self._advance(position.checkpoint)
        logger.info(
            "vectors loaded",
            extra={"collection": self.collection.name, "seconds": self.load_seconds},
        )

    def _follow(self) -> None:
        """Apply change records until a reload is due (or the model is stopped)."""
        while not self._stop.is_set():
            records = changes.read(
                self._r, self.keys, self._position, FEED_BATCH, block_ms=FOLLOW_BLOCK_MS
            )
            for record in records:
                if record.reset or record.before != self.checkpoint:
                    self.checkpoint = -1  # replaced, or fell behind the feed: load again
                    return
                if record.config:
                    self._reconfigure()
                    return
                self._apply(record)
                self._position = record.entry_id
                self._advance(record.after)
            if not records and not self._r.exists(self.keys.applied):
                self._stop.set()  # the collection was deleted
                return

    def _reconfigure(self) -> None:
        """The collection's config changed (a vector name added or removed, a new HNSW
        config): load again with the config as it is now."""
        found = collections.find(self._r, self.collection.name)
        fresh = None if found is None else found.part(self.collection.cid)
        if fresh is None:
            self._stop.set()  # the collection (or this shard of it) is gone
            return
        self.collection = fresh
        self.checkpoint = -1

    def _apply(self, record: changes.Change) -> None:
        """Re-read, in one round trip, the vectors a commit may have changed."""
        wanted = {name: record.vector_keys(name) for name in [*self.tables, *self.sparse]}
        wanted = {name: keys for name, keys in wanted.items() if keys}
        if not wanted:
            if record.payload or record.indexes:
                with self.lock.writing():
                    self.version += 1
            return
        with self._r.pipeline(transaction=False) as pipe:
            for name, keys in wanted.items():
                pipe.hmget(self.keys.vectors(name), keys)
            found = cast("list[list[bytes | None]]", pipe.execute())
        with self.lock.writing():
            self.version += 1
            for (name, keys), values in zip(wanted.items(), found, strict=True):
                if name in self.sparse:
                    _put_sparse(self.sparse[name], keys, values)
                else:
                    self._follow_graph(name, _put_dense(self.tables[name], keys, values))
        self._start_builds()

    def _follow_graph(self, name: str, changed: dict[int, Floats | None]) -> None:
        """Carry row changes to the name's graph, or keep them for the one being built."""
        if name in self._building:
            self._building[name].update(
                {row: None if v is None else v.copy() for row, v in changed.items()}
            )
        graph = self.graphs.get(name)
        if graph is not None:
            graph.apply(changed)

    # ---- approximate search ---------------------------------------------------------------

    def _start_builds(self) -> None:
        """Start building a graph for each vector name past its full-scan threshold."""
        for name, table in self.tables.items():
            config = HnswConfig.of(self.collection.config, self.vector_config(name))
            busy = name in self.graphs or name in self._building or name in self._failed
            if busy or not config.wants_graph(table):
                continue
            with self.lock.reading():
                matrix = table.matrix[: table.high].copy()
                rows = np.flatnonzero(table.live[: table.high]).astype(np.int64)
                self._building[name] = {}
                self._builds[name] = Build(name, len(rows), datetime.now(UTC))
                generation = self._generation
            threading.Thread(
                target=self._build,
                args=(name, table, config, matrix, rows, generation),
                name=f"pointlog-hnsw-{self.collection.cid}",
                daemon=True,
            ).start()

    def _build(
        self,
        name: str,
        table: VectorTable,
        config: HnswConfig,
        matrix: Floats,
        rows: npt.NDArray[np.int64],
        generation: int,
    ) -> None:
        started = time.perf_counter()
        graph = Graph(table, config)
        try:
            graph.build(matrix, rows)
        except Exception:  # never leave the collection `yellow`: queries stay exact instead
            logger.exception("graph build failed", extra={"collection": self.collection.name})
            with self.lock.writing():
                if generation == self._generation:
                    self._building.pop(name, None)
                    self._failed.add(name)  # not again until the next load
            with self._advanced:
                self._advanced.notify_all()
            return
        with self.lock.writing():
            if generation != self._generation:
                return  # the tables were reloaded meanwhile
            graph.apply(self._building.pop(name))
            self.graphs[name] = graph
            build = self._builds.pop(name, None)
            if build is not None:
                self.completed.append(replace(build, finished=datetime.now(UTC)))
        with self._advanced:
            self._advanced.notify_all()
        logger.info(
            "graph built",
            extra={
                "collection": self.collection.name,
                "vector": name,
                "points": len(rows),
                "seconds": time.perf_counter() - started,
                "recall": graph.recall,
                "ef": graph.ef,
            },
        )

    def vector_config(self, name: str) -> dict[str, object]:
        """The vector name's own part of the collection's config."""
        vectors = self.collection.config.get("vectors", {})
        given = vectors if "size" in vectors else vectors.get(name, {})
        return cast("dict[str, object]", given)

    def _advance(self, checkpoint: int) -> None:
        with self._advanced:
            self.checkpoint = checkpoint
            self._advanced.notify_all()


def _put_dense(
    table: VectorTable, keys: list[str], values: list[bytes | None]
) -> dict[int, Floats | None]:
    """Write the points' vectors (None: removed); the rows changed, with their vectors."""
    changed: dict[int, Floats | None] = {}
    for key, data in zip(keys, values, strict=True):
        if data is None:
            row = table.remove(key)
            if row is not None:
                changed[row] = None
        else:
            row = table.put(key, data)
            if row >= 0:  # multivectors have no row (and no graph)
                changed[row] = table.matrix[row]
    return changed


def _put_sparse(table: SparseTable, keys: list[str], values: list[bytes | None]) -> None:
    for key, data in zip(keys, values, strict=True):
        if data is None:
            table.remove(key)
        else:
            table.put(key, data)
    table.commit()


def _chunks(r: redis.Redis, key: str) -> Iterator[tuple[list[str], list[bytes]]]:
    cursor = 0
    while True:
        cursor, found = cast(
            "tuple[int, dict[bytes, bytes]]", r.hscan(key, cursor, count=LOAD_CHUNK)
        )
        if found:
            yield [k.decode() for k in found], list(found.values())
        if cursor == 0:
            return


class VectorModels:
    """The read models of one web process, one per collection it has queried, within a
    memory budget."""

    def __init__(self, r: redis.Redis, budget_bytes: int) -> None:
        self._r = r
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._held: dict[int, CollectionVectors] = {}  # by cid
        self._refused: set[int] = set()

    def of(self, collection: Collection) -> CollectionVectors | None:
        """The collection's model, started on first use; None when it does not fit."""
        with self._lock:
            self._forget_stopped()
            held = self._held.get(collection.cid)
            if held is not None and self._over_budget():
                held.stop()  # it grew past the budget: let it go, read Redis instead
                del self._held[collection.cid]
                self._refused.add(collection.cid)
                return None
            if held is not None or collection.cid in self._refused:
                return held
            if self._budget <= 0 or not self._fits(collection):
                self._refused.add(collection.cid)
                logger.info("not held: over VECTOR_CACHE_MB", extra={"collection": collection.name})
                return None
            held = self._held[collection.cid] = CollectionVectors(self._r, collection)
            held.start()
            return held

    def figures(self) -> list[Figures]:
        with self._lock:
            self._forget_stopped()
            return [held.figures() for held in self._held.values()]

    def _forget_stopped(self) -> None:
        """Drop the models of deleted collections (their followers have stopped)."""
        for cid in [cid for cid, held in self._held.items() if held.stopped]:
            del self._held[cid]

    def _over_budget(self) -> bool:
        return sum(model.nbytes for model in self._held.values()) > self._budget

    def _fits(self, collection: Collection) -> bool:
        """Whether the collection's dense vectors, as many as are stored now, with the growth
        room a table keeps and the copies kept for filters, fit beside what is held already."""
        dense = [spec for spec in collection.vectors.values() if not spec.sparse]
        with self._r.pipeline(transaction=False) as pipe:
            for spec in dense:
                pipe.hlen(collection.keys.vectors(spec.name))
            counts = pipe.execute()
        needed = sum(int(n) * spec.size * 4 for n, spec in zip(counts, dense, strict=True))
        held = sum(model.nbytes for model in self._held.values())
        return held + needed * (GROWTH + FILTER_SHARE) <= self._budget
