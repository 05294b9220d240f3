"""Read queries, served from the projection.

Every query starts with the collection's `seq` and checkpoint in the same transaction as its
first reads. When the checkpoint is behind (writes acknowledged but not applied yet) and
read-your-writes is on, it waits, push-based and bounded, for the checkpoint to reach that
`seq`, then reads again: a read sees every write acknowledged before it began, on any pod.

A filter is served by payload indexes when the planner (planner.py) has a plan for it and the
plan is worth it: its candidates are read (in id order) and checked, instead of every point.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import redis

from projections import ids, planner, store
from projections.collections import Collection, CollectionGone, check_version
from projections.consistency import Consistency
from projections.errors import WrongInput
from projections.filters import Filter
from projections.indexes import Index, IndexInfo, text_indexes
from projections.jsontypes import JsonObject
from projections.kept import Kept
from projections.payloads import Selector
from projections.progress import Progress
from projections.vectors import decode

SCAN_CHUNK = 512
# Reading a candidate's key costs about 1/KEY_COST of reading and checking its payload.
KEY_COST = 16
PAGED_CANDIDATES = 1_000_000  # the most candidates read at once for a scroll's next pages
CHECKED_CANDIDATES = 4 * SCAN_CHUNK  # the most payloads `matching` checks
QueuedReads = Callable[[redis.client.Pipeline], object]  # queues reads on a pipeline


CandidateKey = tuple[int, bytes]  # a collection's cid, a filter's canonical JSON
KEPT_PLANS = 32


def kept_candidates() -> Kept[CandidateKey, list[str]]:
    """What a web process keeps of recent plans' candidates (see `_candidates`)."""
    return Kept(KEPT_PLANS)


@dataclass(frozen=True)
class Reader:
    """Runs read queries on one collection with the configured consistency. One per request
    (`consistency` is what this request has learnt so far)."""

    r: redis.Redis
    collection: Collection
    progress: Progress | None  # None: serve straight from the projection
    wait_seconds: float
    kept: Kept[CandidateKey, list[str]] | None = None
    consistency: Consistency = field(default_factory=Consistency)

    def run(self, queue: QueuedReads) -> list[Any]:
        """Execute the queued reads after the consistency check; returns their results."""
        results = self._once(queue)
        seq, applied = _seq(self, results[0]), int(results[1] or 0)
        if self.progress is not None and self.waits and applied < seq:
            self.progress.wait(self.collection.keys, seq, self.wait_seconds)
            results = self._once(queue)
            applied = int(results[1] or 0)
            if applied < seq:
                self.consistency.ran_out(seq, applied, self.wait_seconds)
        return results[2:]

    @property
    def waits(self) -> bool:
        """Whether reads wait for acknowledged writes (not once a wait ran out)."""
        return self.progress is not None and not self.consistency.stale

    def ran_out(self, seq: int) -> None:
        """A read model's wait for `seq` ran out: refuse (or warn) when the projection is
        behind too, else the projection answers."""
        applied = int(cast("bytes | None", self.r.get(self.collection.keys.applied)) or 0)
        if applied < seq:
            self.consistency.ran_out(seq, applied, self.wait_seconds)

    def seq(self) -> int:
        """The operations acknowledged so far: what a read must see (read-your-writes)."""
        return _seq(self, self._position())

    def check_seen(self, seen: int) -> None:
        """Raise Behind when operations were acknowledged past a read model's checkpoint (or,
        while checks are deferred, leave that to the next read)."""
        if self.consistency.deferring:
            self.consistency.defer(seen)
        else:
            _check_seen(self, self._position(), seen)

    def trusts(self, checkpoint: int) -> bool:
        """Whether an answer from a read model at `checkpoint` may stand unchecked now: the
        request reads no writes, has found the checkpoint current, or defers the check."""
        if not self.waits or self.consistency.covers(checkpoint):
            return True
        if not self.consistency.deferring:
            return False
        self.consistency.defer(checkpoint)
        return True

    @contextmanager
    def deferred_checks(self) -> Iterator[None]:
        """Read models' checks within this block wait for the next read of `seq`, which raises
        Replan if they fail; what none followed is checked at the end, against the position
        asked for as the block began (any write acknowledged before the request is in it) so
        that its round trip overlaps the block's work."""
        consistency = self.consistency
        consistency.deferring = True
        asked = _AskedPosition(self) if self.waits else None
        try:
            yield
            consistency.deferring = False
            if consistency.unchecked is not None:
                _seq(self, self._position() if asked is None else asked.read())
        finally:
            consistency.deferring, consistency.unchecked = False, None
            if asked is not None:
                asked.close()

    def _position(self) -> Position:
        keys = self.collection.keys
        return cast("Position", self.r.mget(keys.seq, keys.version))

    def _once(self, queue: QueuedReads) -> list[Any]:
        keys = self.collection.keys
        with self.r.pipeline(transaction=True) as pipe:
            pipe.mget(keys.seq, keys.version)
            pipe.get(keys.applied)
            queue(pipe)
            return pipe.execute()


Position = list[bytes | None]  # a collection's `seq` and config `version`, as stored


class _AskedPosition:
    """A collection's position, asked for on a connection of its own and read when needed
    (or never): the request does its work while the reply travels. Should that connection
    fail, `read` asks again the usual way (with the client's retries and redirections)."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        keys = reader.collection.keys
        self._pool = store.pool_of(reader.r, keys.seq)
        self._connection: redis.connection.Connection | None = None
        try:
            self._connection = self._pool.get_connection()
            self._connection.send_command("MGET", keys.seq, keys.version)
        except redis.ConnectionError:  # `read` asks the usual way
            self._give_back(broken=True)

    def read(self) -> Position:
        if self._connection is None:
            return self._reader._position()
        try:
            reply = cast("Position", self._connection.read_response())
        except redis.RedisError:  # lost, or moved (a cluster's slot): ask the usual way
            self._give_back(broken=True)
            return self._reader._position()
        except BaseException:
            self._give_back(broken=True)
            raise
        self._give_back(broken=False)
        return reply

    def close(self) -> None:
        """Take an unread reply off the connection, and give the connection back."""
        if self._connection is None:
            return
        try:
            self._connection.read_response()
        except redis.RedisError:
            self._give_back(broken=True)
        else:
            self._give_back(broken=False)

    def _give_back(self, broken: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if broken:
                connection.disconnect()
            self._pool.release(connection)


def _seq(reader: Reader, stored: Position) -> int:
    """The collection's `seq`, once it is known to exist still with the config the reader
    plans with (CollectionGone, ConfigChanged: the Cache runs the request again) and the
    request's unchecked read-model answers are known to stand (Replan)."""
    seq, version = stored
    if seq is None:
        raise CollectionGone(reader.collection.name)
    check_version(reader.collection, version)
    reader.consistency.settle(int(seq))
    return int(seq)


def _check_seen(reader: Reader, stored: Position, seen: int) -> None:
    seq = _seq(reader, stored)
    if seq > seen:
        raise Behind(seq)
    reader.consistency.note(seq)


# ---- what to return of a point ------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The parts of a point a query returns: payload (all, selected, or None), which vectors.
    `stored` False: ids and scores only, as the read model has them, without reading the
    projection (a prefetch's points, which the stage above reads again and drops if gone)."""

    payload: Selector | None
    vectors: tuple[str, ...]
    stored: bool = True

    @property
    def ids_only(self) -> bool:
        """Nothing but ids and scores: no part of a point to read."""
        return self.payload is None and not self.vectors

    def queue(self, pipe: redis.client.Pipeline, collection: Collection, keys: list[str]) -> None:
        pipe.hmget(collection.keys.payload, keys)
        for name in self.vectors:
            pipe.hmget(collection.keys.vectors(name), keys)

    def records(
        self, collection: Collection, keys: list[str], results: list[Any]
    ) -> Iterable[tuple[str, JsonObject]]:
        """(key, record) for each point that exists, from the results of `queue`."""
        payloads, vector_columns = results[0], results[1:]
        for i, key in enumerate(keys):
            raw = payloads[i]
            if raw is None:
                continue
            record: JsonObject = {"id": ids.from_key(key)}
            if self.payload is not None and self.payload.keeps_all:
                record["payload"] = orjson.Fragment(raw)  # as stored: no parsing
            elif self.payload is not None:
                record["payload"] = self.payload.apply(orjson.loads(raw))
            if self.vectors:
                found = {
                    name: decode(collection.vectors[name], column[i])
                    for name, column in zip(self.vectors, vector_columns, strict=True)
                    if column[i] is not None
                }
                record["vector"] = found[""] if list(found) == [""] else found
            yield key, record


def vector_selection(collection: Collection, raw: object) -> tuple[str, ...]:
    """`with_vector`: true (all), false (none) or a list of names."""
    if raw is True:
        return tuple(collection.vectors)
    if raw is False or raw is None:
        return ()
    if isinstance(raw, list) and all(isinstance(n, str) for n in raw):
        for name in raw:
            if name not in collection.vectors:
                raise WrongInput(f"Not existing vector name error: {name}")
        return tuple(dict.fromkeys(raw))
    raise WrongInput("with_vector: expected a boolean or a list of vector names")


# ---- queries --------------------------------------------------------------------------------


def retrieve(reader: Reader, keys: list[str], projection: Projection) -> list[JsonObject]:
    """Points by key, in the order asked, missing ones skipped, duplicates once."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    results = reader.run(lambda pipe: projection.queue(pipe, reader.collection, keys))
    return [record for _, record in projection.records(reader.collection, keys, results)]


def vectors_of(reader: Reader, name: str, keys: list[str]) -> list[bytes | None]:
    """The stored vectors `name` of these points, as bytes (None where a point has none)."""
    if not keys:
        return []
    stored: list[bytes | None]
    stored = reader.run(lambda pipe: pipe.hmget(reader.collection.keys.vectors(name), keys))[0]
    return stored


def sample_keys(reader: Reader, n: int, flt: Filter | None) -> list[str]:
    """Up to `n` distinct points that pass the filter, drawn at random."""
    if flt is None:
        drawn = reader.run(lambda pipe: pipe.zrandmember(reader.collection.keys.ids, n))[0]
        return [key.decode() for key in drawn or []]
    keys = matching(reader, flt)
    if keys is None:
        keys = [key for passed in _scanned(reader, flt) for key in passed]
    return random.sample(keys, min(n, len(keys)))


def bind_text_indexes(reader: Reader, flt: Filter | None) -> None:
    """Make the filter read text matches as this collection does: tokenized on a field with
    a full-text index (one more round trip, only for filters with a text match)."""
    if flt is None or not flt.uses_text:
        return
    stored = reader.run(lambda pipe: pipe.hgetall(reader.collection.keys.indexes))[0]
    flt.bind_text_indexes(text_indexes(_definitions(stored).values()))


@dataclass(frozen=True)
class Planned:
    """A read's view of the payload indexes: their definitions, the collection's number of
    points, and the plan of the read's filter (None: no filter, or no index serves it)."""

    indexes: dict[str, Index]
    points: int
    plan: planner.Plan | None


def plan_filter(reader: Reader, flt: Filter | None) -> Planned:
    """Read the payload indexes (with the read's consistency check: one round trip), bind the
    filter's text matches to them and plan it with them."""
    keys = reader.collection.keys
    stored, points = reader.run(lambda pipe: (pipe.hgetall(keys.indexes), pipe.zcard(keys.ids)))
    indexes = _definitions(stored)
    if flt is None:
        return Planned(indexes, int(points), None)
    flt.bind_text_indexes(text_indexes(indexes.values()))
    return Planned(indexes, int(points), planner.plan(reader.r, keys, indexes, flt))


def sizes(r: redis.Redis, collection: Collection) -> tuple[int, int, int]:
    """The collection's points, and the bytes of its dense vectors and of its payloads (as
    Redis estimates a hash's memory), summed over its shards, in one round trip."""
    dense = [spec for spec in collection.vectors.values() if not spec.sparse]
    with r.pipeline(transaction=False) as pipe:
        for part in collection.parts:
            keys = part.keys
            pipe.zcard(keys.ids)
            pipe.memory_usage(keys.payload, samples=5)
            for spec in dense:
                pipe.hlen(keys.vectors(spec.name))
        found = iter(pipe.execute())
    points = vector_bytes = payload = 0
    for _ in collection.parts:
        points += int(next(found))
        payload += int(next(found) or 0)
        vector_bytes += sum(int(next(found)) * spec.size * 4 for spec in dense)
    return points, vector_bytes, payload


def index_definitions(r: redis.Redis, collection: Collection) -> dict[str, Index]:
    """The collection's payload indexes, by field."""
    return _definitions(cast("dict[bytes, bytes]", r.hgetall(collection.keys.indexes)))


def _definitions(stored: dict[bytes, bytes]) -> dict[str, Index]:
    return {f.decode(): Index(f.decode(), orjson.loads(raw)) for f, raw in stored.items()}


def count_all(reader: Reader) -> int:
    return int(reader.run(lambda pipe: pipe.zcard(reader.collection.keys.ids))[0])


def overview(reader: Reader) -> tuple[int, dict[str, IndexInfo]]:
    """The number of points and the payload schema (each index with its point count)."""
    keys = reader.collection.keys

    def queue(pipe: redis.client.Pipeline) -> None:
        pipe.zcard(keys.ids)
        pipe.hgetall(keys.indexes)
        pipe.hgetall(keys.index_points)

    count, definitions, counts = reader.run(queue)
    schema = {
        field.decode(): Index(field.decode(), orjson.loads(raw)).info(int(counts.get(field, 0)))
        for field, raw in definitions.items()
    }
    return int(count), schema


@dataclass(frozen=True)
class OrderBy:
    key: str
    descending: bool = False
    start_from: float | None = None  # a number, or a datetime as microseconds


def scroll_ordered(
    reader: Reader, order: OrderBy, limit: int, flt: Filter | None, projection: Projection
) -> list[JsonObject]:
    """Points by a payload value, read from its range index; a point appears once per value.
    A selective filter's candidates are ordered by their own entries of the range index."""
    planned = plan_filter(reader, flt)
    index = planned.indexes.get(order.key)
    if index is None or not index.ranged:
        raise WrongInput(
            f"No range index for `order_by` key: `{order.key}`. Please create one to use "
            "`order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index "
            "to see which payload schemas support Range conditions"
        )
    plan = planned.plan
    # Ordering the candidates reads each one's payload; walking the range index reads about
    # limit * points / matches of them.
    if flt is not None and plan is not None and plan.estimate**2 <= limit * planned.points:
        candidates = _candidates(reader, flt, plan)
        if candidates is not None:
            return _ordered(reader, index, order, limit, candidates, flt, projection)
    found: list[JsonObject] = []
    skip, chunk = 0, max(limit, SCAN_CHUNK)
    while len(found) < limit:
        entries = _ranged(reader, order, skip, chunk)
        skip += len(entries)
        point_keys = [member.rsplit(b"|", 1)[0].decode() for member, _ in entries]
        records = dict(page(reader, list(dict.fromkeys(point_keys)), flt, projection))
        for key, (_, score) in zip(point_keys, entries, strict=True):
            if key in records and len(found) < limit:
                value = score if index.data_type == "float" else int(score)
                found.append({**records[key], "order_value": value})
        if len(entries) < chunk:
            break
    return found


def _ordered(
    reader: Reader,
    index: Index,
    order: OrderBy,
    limit: int,
    candidates: list[str],
    flt: Filter | None,
    projection: Projection,
) -> list[JsonObject]:
    """`scroll_ordered` over the candidates: those that match, by their range index entries in
    the index's own order (score, then member; both reversed when descending)."""
    records: dict[str, JsonObject] = {}
    for at in range(0, len(candidates), SCAN_CHUNK):
        records.update(page(reader, candidates[at : at + SCAN_CHUNK], flt, projection))
    entries = _entries(reader, reader.collection.keys.ranged(order.key), list(records))
    start = order.start_from
    if start is not None:
        down = order.descending
        entries = [e for e in entries if (e[0] <= start if down else e[0] >= start)]
    entries.sort(reverse=order.descending)
    return [
        {**records[key], "order_value": score if index.data_type == "float" else int(score)}
        for score, _, key in entries[:limit]
    ]


def _entries(reader: Reader, zset: str, keys: list[str]) -> list[tuple[float, bytes, str]]:
    """(score, member, point key) of every `<point key>|<n>` member of the points: their n
    run from 0, so members are probed a few n at a time until one is missing."""
    found: list[tuple[float, bytes, str]] = []
    first, width = 0, 4
    while keys:
        members = [f"{key}|{n}" for key in keys for n in range(first, first + width)]
        scores = reader.r.zmscore(zset, members)
        more = []
        for i, key in enumerate(keys):
            row = scores[i * width : (i + 1) * width]
            found += [
                (score, members[i * width + j].encode(), key)
                for j, score in enumerate(row)
                if score is not None
            ]
            if row[-1] is not None:
                more.append(key)
        keys, first = more, first + width
    return found


def _ranged(reader: Reader, order: OrderBy, skip: int, n: int) -> list[tuple[bytes, float]]:
    zset = reader.collection.keys.ranged(order.key)
    start = order.start_from
    if order.descending:
        high = "+inf" if start is None else start
        found = reader.r.zrevrangebyscore(zset, high, "-inf", start=skip, num=n, withscores=True)
    else:
        low = "-inf" if start is None else start
        found = reader.r.zrangebyscore(zset, low, "+inf", start=skip, num=n, withscores=True)
    return cast("list[tuple[bytes, float]]", found)


def scroll(
    reader: Reader,
    start: str | None,
    limit: int,
    flt: Filter | None,
    projection: Projection,
) -> tuple[list[JsonObject], str | None]:
    """Up to `limit` points from key `start` (inclusive) in id order, and the next page's key."""
    if flt is not None:
        planned = plan_filter(reader, flt)
        plan = planned.plan
        # The candidates' keys are read whole, then about `limit` payloads; a scan reads about
        # limit * points / matches payloads. A scroll that goes on from an offset is paging
        # through the filter: the candidates, read once, are kept for its next pages.
        paging = start is not None and reader.kept is not None
        cheap = plan is not None and plan.estimate**2 <= KEY_COST * limit * planned.points
        if plan is not None and (cheap or (paging and plan.estimate <= PAGED_CANDIDATES)):
            candidates = _candidates(reader, flt, plan)
            if candidates is not None:
                return _scroll_candidates(reader, start, limit, candidates, flt, projection)
    found: list[JsonObject] = []
    low = f"[{start}" if start else "-"
    chunk = max(limit + 1, SCAN_CHUNK) if flt is not None else limit + 1
    first = True
    while True:
        keys = _id_range(reader, low, chunk, first)
        first = False
        for key, record in page(reader, keys, flt, projection):
            if len(found) == limit:
                return found, key
            found.append(record)
        if len(keys) < chunk:
            return found, None
        low = f"({keys[-1]}"


def _scroll_candidates(
    reader: Reader,
    start: str | None,
    limit: int,
    candidates: list[str],
    flt: Filter,
    projection: Projection,
) -> tuple[list[JsonObject], str | None]:
    """`scroll` over a filter's candidates (in id order), checked a growing chunk at a time."""
    found: list[JsonObject] = []
    at = bisect_left(candidates, start) if start else 0
    chunk = limit + 1  # the candidates are likely matches
    while at < len(candidates):
        for key, record in page(reader, candidates[at : at + chunk], flt, projection):
            if len(found) == limit:
                return found, key
            found.append(record)
        at, chunk = at + chunk, chunk * 2
    return found, None


def count(reader: Reader, flt: Filter | None) -> int:
    if flt is None:
        return count_all(reader)
    plan = plan_filter(reader, flt).plan
    if plan is not None:
        exact = plan.count()
        if exact is not None:
            return exact
        candidates = _candidates(reader, flt, plan)
        if candidates is not None:
            return len(_passing(reader, candidates, flt))
    return sum(len(passed) for passed in _scanned(reader, flt))


def _scanned(reader: Reader, flt: Filter) -> Iterator[list[str]]:
    """The points that pass the filter, checking every point a chunk at a time (id order)."""
    return (_passing(reader, keys, flt) for keys in _id_chunks(reader))


def _id_chunks(reader: Reader) -> Iterator[list[str]]:
    """Every point's key, SCAN_CHUNK at a time, in id order."""
    low, first = "-", True
    while True:
        keys = _id_range(reader, low, SCAN_CHUNK, first)
        first = False
        yield keys
        if len(keys) < SCAN_CHUNK:
            return
        low = f"({keys[-1]}"


def passing_records(
    reader: Reader, flt: Filter | None, plan: planner.Plan | None, projection: Projection
) -> Iterator[JsonObject]:
    """Every point that passes the filter (every point, without one), with the parts the
    projection asks for: the plan's candidates when it has one, else every point; a chunk
    at a time, in id order."""
    candidates = None if flt is None or plan is None else _candidates(reader, flt, plan)
    chunks = _id_chunks(reader) if candidates is None else _chunked(candidates)
    for keys in chunks:
        for _, record in page(reader, keys, flt, projection):
            yield record


def matching(reader: Reader, flt: Filter) -> list[str] | None:
    """Every point the filter matches, when payload indexes serve it: the plan's candidates,
    their payloads checked unless the plan is exact; None when no plan serves it, or it would
    check more than CHECKED_CANDIDATES payloads."""
    plan = plan_filter(reader, flt).plan
    if plan is None or (not plan.exact and plan.estimate > CHECKED_CANDIDATES):
        return None
    candidates = plan.candidates()
    if candidates is None or plan.exact:
        return candidates
    return _passing(reader, candidates, flt)


def _passing(reader: Reader, keys: list[str], flt: Filter) -> list[str]:
    """The keys whose points pass the filter, a chunk at a time."""
    plain = Projection(payload=None, vectors=())
    return [key for chunk in _chunked(keys) for key, _ in page(reader, chunk, flt, plain)]


def _chunked(keys: list[str]) -> Iterator[list[str]]:
    return (keys[at : at + SCAN_CHUNK] for at in range(0, len(keys), SCAN_CHUNK))


def _candidates(reader: Reader, flt: Filter, plan: planner.Plan) -> list[str] | None:
    """The plan's candidates. A web process keeps them while the checkpoint stands (any
    change to the points or the indexes moves it), so paging through a filter reads its index
    once, not once a page."""
    source = flt.source
    if reader.kept is None or source is None:
        return plan.candidates()
    key = (reader.collection.cid, source)
    checkpoint = int(cast("bytes | None", reader.r.get(reader.collection.keys.applied)) or 0)
    found = reader.kept.get(key, checkpoint)
    if found is None:
        found = plan.candidates()
        if found is not None:
            reader.kept.put(key, checkpoint, found)
    return found


def _id_range(reader: Reader, low: str, n: int, consistent: bool) -> list[str]:
    ids_key = reader.collection.keys.ids
    raw: list[bytes]
    if consistent:
        raw = reader.run(lambda pipe: pipe.zrangebylex(ids_key, low, "+", 0, n))[0]
    else:
        raw = cast("list[bytes]", reader.r.zrangebylex(ids_key, low, "+", 0, n))
    return [k.decode() for k in raw]


class Behind(Exception):  # a signal to the caller, not a failure
    """A read model answered at a checkpoint older than an operation acknowledged already."""

    def __init__(self, seq: int) -> None:
        super().__init__(seq)
        self.seq = seq


def page(
    reader: Reader,
    keys: list[str],
    flt: Filter | None,
    projection: Projection,
    seen: int | None = None,
) -> Iterable[tuple[str, JsonObject]]:
    """The records of `keys` that match the filter (all of them without one), one round trip.

    `seen`: the checkpoint of the read model that chose the keys. The same transaction reads
    `seq` and raises Behind when operations were acknowledged past it: the answer would miss
    a write acknowledged before the query (read-your-writes; the caller waits and asks again)."""
    if not keys:
        return
    collection = reader.collection
    uses_vectors = flt is not None and flt.uses_vectors
    extra = [n for n in collection.vector_names if uses_vectors and n not in projection.vectors]
    with reader.r.pipeline(transaction=True) as pipe:
        projection.queue(pipe, collection, keys)
        for name in extra:
            pipe.hmget(collection.keys.vectors(name), keys)
        if seen is not None:
            pipe.mget(collection.keys.seq, collection.keys.version)
        results = pipe.execute()
    if seen is not None:
        _check_seen(reader, results.pop(), seen)
    wanted = results[: 1 + len(projection.vectors)]
    keep = None
    if flt is not None:
        payloads = results[0]
        columns = dict(zip(projection.vectors + tuple(extra), results[1:], strict=True))
        keep = {
            key
            for i, key in enumerate(keys)
            if payloads[i] is not None
            and flt.may_match(payloads[i])
            and flt.matches(
                ids.from_key(key),
                orjson.loads(payloads[i]),
                [n for n, column in columns.items() if column[i] is not None],
            )
        }
    for key, record in projection.records(collection, keys, wanted):
        if keep is None or key in keep:
            yield key, record
