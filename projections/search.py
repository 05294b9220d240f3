"""Nearest-neighbour queries.

Where the vectors come from: the process's vector read model (vector_model.py) once it is
loaded; until then, or when the collection is not held, the Redis projection.

Read-your-writes on the read model, in one round trip. A query is answered at the model's
checkpoint; the records of the points it chose are then read in one transaction with the
collection's `seq`. When nothing was acknowledged past the checkpoint, the answer includes
every write acknowledged before the query began. Otherwise the query waits (push-based,
bounded) until the model has followed the feed that far, and is answered again.

Which points are scored:
- no filter: the vector's HNSW graph when it is usable (hnsw.py), else every row, exactly;
- a filter the payload indexes serve (planner.py): only the rows it matches (filter_rows.py
  keeps them per filter): scored exactly when they are few (Qdrant's plan, by the vector's
  full-scan threshold, here with FILTERED_SCAN_FACTOR), else searched in the graph with the
  filter as its acceptance test, at an `ef` raised for the filter's selectivity;
- another filter: every row, the filter checked on the best-scored points, a chunk at a time.
The records read are checked against the filter once more (a concurrent write may have
changed them). Scores as Qdrant's: Cosine and Dot are similarities (higher first), Euclid and
Manhattan distances (lower first); a multivector scores the sum over the query's rows of the
best similarity to any of the point's rows (max_sim). Equal scores are ordered by point id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from projections import ids
from projections.filter_rows import FILTER_SHARE, Matched
from projections.filters import Filter
from projections.hnsw import MAX_EF, Graph, HnswConfig
from projections.jsontypes import JsonObject
from projections.lowest import lowest
from projections.reads import (
    SCAN_CHUNK,
    Behind,
    Projection,
    Reader,
    bind_text_indexes,
    matching,
    page,
)
from projections.scorers import Scorer
from projections.sparse_table import SparseTable
from projections.vector_model import CollectionVectors, Table
from projections.vector_table import VectorTable, passes
from projections.vectors import Floats

# (point key, score, rank), best first: the rank orders best first (a distance, or a
# similarity negated), ties by key (id order).
Ranked = list[tuple[str, np.float32, float]]
# Measured with 128-d vectors: scoring a filter's rows exactly, their vectors kept together,
# takes 0.3 ms for 40,000 rows, 1 ms for 80,000, 2.2 ms for 160,000 (4x Qdrant's threshold is
# 80,000 rows there); a filtered graph walk at 95% recall, 2 to 3 ms.
FILTERED_SCAN_FACTOR = 4


@dataclass(frozen=True)
class SearchParams:
    hnsw_ef: int | None = None  # None: the graph's own, tuned for recall
    exact: bool = False
    indexed_only: bool = False  # skip what a graph should serve but does not yet
    oversampling: float | None = None  # quantization's, kept for strict mode (no effect)


@dataclass(frozen=True)
class Query:
    using: str
    scorer: Scorer
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    exclude: frozenset[str] = frozenset()  # the points a query by id or example came from
    params: SearchParams = SearchParams()

    @property
    def wanted(self) -> int:
        return self.offset + self.limit


@dataclass(frozen=True)
class _Source:
    """One vector table to search, the lock that guards it, and its graph if usable."""

    table: Table
    lock: Callable[[], AbstractContextManager[object]]
    graph: Graph | None
    config: HnswConfig | None


def nearest(
    reader: Reader,
    query: Query,
    flt: Filter | None,
    projection: Projection,
    model: CollectionVectors | None = None,
) -> list[JsonObject]:
    """The best `limit` points after `offset`, each with `score` (and `version`, always 0)."""
    bind_text_indexes(reader, flt)
    if model is not None and model.checkpoint >= 0 and model.table(query.using) is not None:
        found = _from_model(reader, query, flt, projection, model)
        if found is not None:
            return found
    table = _stored_table(reader, query.using)
    return _search(reader, query, flt, projection, _Source(table, nullcontext, None, None))


def _from_model(
    reader: Reader,
    query: Query,
    flt: Filter | None,
    projection: Projection,
    model: CollectionVectors,
) -> list[JsonObject] | None:
    """The answer from the read model; None when it does not catch up in time."""
    check = reader.waits and not reader.consistency.covers(model.checkpoint)
    while True:
        seen = model.checkpoint if check else None
        try:
            if query.params.indexed_only and model.using_graph(query.using) is False:
                if seen is not None:
                    reader.check_seen(seen)
                return []  # a graph should serve this vector and is not built yet
            with model.lock.reading():  # the table, its graph and its version, together
                table, graph = model.table(query.using), model.graphs.get(query.using)
                assert table is not None  # a model's tables are never dropped, only replaced
                version = model.version
                config = HnswConfig.of(model.collection.config, model.vector_config(query.using))
            matched = None if flt is None else _matched(reader, flt, model, table, version, config)
            usable = graph if graph is not None and graph.usable else None
            source = _Source(table, model.lock.reading, usable, config)
            return _search(reader, query, flt, projection, source, matched, seen)
        except Behind as behind:
            model.fell_behind()
            if not model.wait_for(behind.seq, reader.wait_seconds):
                reader.ran_out(behind.seq)
                return None
            check = False  # the model has seen every write the query must see


def _search(
    reader: Reader,
    query: Query,
    flt: Filter | None,
    projection: Projection,
    source: _Source,
    matched: Matched | None = None,
    seen: int | None = None,
) -> list[JsonObject]:
    """The answer from one table: the best candidates' records, more of them while too few
    exist and pass the filter. `matched`: the only rows the filter can match (None: any)."""
    checked_later = flt is not None and matched is None  # most candidates may fail the filter
    want = max(query.wanted, SCAN_CHUNK) if checked_later else query.wanted
    want += len(query.exclude)
    found: list[tuple[float, str, JsonObject]] = []  # (rank, key, record)
    done: set[str] = set()
    approximate = not query.params.exact
    while True:
        with source.lock():
            ranked, complete = _ranked(query, source, matched, want, approximate)
        ranked = [candidate for candidate in ranked if candidate[0] not in done]
        chunk = SCAN_CHUNK if checked_later else max(len(ranked), 1)
        for at in range(0, len(ranked), chunk):
            part = {key: (score, rank) for key, score, rank in ranked[at : at + chunk]}
            for key, record in _records(reader, list(part), flt, projection, seen):
                score, rank = part[key]
                found.append((rank, key, {**record, "version": 0, "score": score}))
            seen = None  # checked with the first page
            done.update(part)
            if len(found) >= query.wanted:
                return _answer(query, found)
        if seen is not None:
            reader.check_seen(seen)  # nothing was read: check on its own
            seen = None
        if complete:
            return _answer(query, found)
        want, approximate = want * 4, False


def _records(
    reader: Reader, keys: list[str], flt: Filter | None, projection: Projection, seen: int | None
) -> Iterable[tuple[str, JsonObject]]:
    """The records of `keys`, as `page` reads them. Unfiltered ids alone need no read but the
    checkpoint's check (none when this request has found the checkpoint current): a
    prefetch's, and, when reads see every acknowledged write, an answer's, whose points all
    exist as of a checkpoint at or past the request's `seq`."""
    unread = not projection.stored or (projection.ids_only and reader.waits)
    if flt is not None or not unread:
        return page(reader, keys, flt, projection, seen)
    if seen is not None:
        reader.check_seen(seen)
    return [(key, {"id": ids.from_key(key)}) for key in keys]


def _answer(query: Query, found: list[tuple[float, str, JsonObject]]) -> list[JsonObject]:
    """The page of the records found, best first (a later round, exact after the graph, may
    have found better points than an earlier one)."""
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [record for _, _, record in found[query.offset : query.wanted]]


def _ranked(
    query: Query, source: _Source, matched: Matched | None, want: int, approximate: bool
) -> tuple[Ranked, bool]:
    """About the `want` best candidates, and whether they are every candidate there is.
    Called under the source's lock."""
    table, graph = source.table, source.graph
    rows = None if matched is None else matched.rows
    graphed = approximate and graph is not None and query.scorer.vector is not None
    if graphed and graph is not None and _graph_serves(table, source.config, rows):
        assert isinstance(table, VectorTable)  # only dense vectors have graphs
        found = _from_graph(query, table, graph, rows, want)
        if found is not None:
            scores = table.score_rows(query.scorer, found)
            return _best(query, table, scores, found, want)[0], False
    if matched is None:
        scores, keys = table.scores(query.scorer)
        return _best(query, table, scores, None, want, keys)
    if matched.vectors is None:
        scores = table.score_rows(query.scorer, matched.rows)
    else:
        scores = query.scorer.score(table.spec.distance, matched.vectors)
    return _best(query, table, scores, matched.rows, want)


def _graph_serves(
    table: Table, config: HnswConfig | None, rows: npt.NDArray[np.int64] | None
) -> bool:
    """Whether the graph is the better way: always without a filter; with one, when the rows
    it matches are well past the full-scan threshold. Qdrant's plan scores fewer than the
    threshold exactly; here a filtered walk calls the acceptance test in Python for every
    point it meets, so exact scoring stays cheaper up to FILTERED_SCAN_FACTOR times that."""
    if rows is None or config is None:
        return rows is None
    threshold = config.full_scan_threshold * 1024 * FILTERED_SCAN_FACTOR
    return len(rows) * table.spec.size * 4 > threshold


def _from_graph(
    query: Query, table: VectorTable, graph: Graph, rows: npt.NDArray[np.int64] | None, want: int
) -> npt.NDArray[np.int64] | None:
    """The graph's nearest rows (among `rows`); None when it finds fewer than there are."""
    vector = cast("Floats", query.scorer.vector)
    if rows is None:
        found = graph.search(vector, want, query.params.hnsw_ef)
        return found if found is not None and len(found) >= min(want, len(table)) else None
    accept = np.zeros(table.high, dtype=bool)
    accept[rows] = True
    found = graph.search(vector, want, _filtered_ef(graph.ef, query, rows, table), accept)
    return found if found is not None and len(found) >= min(want, len(rows)) else None


def _filtered_ef(ef: int, query: Query, rows: npt.NDArray[np.int64], table: VectorTable) -> int:
    """A filtered search's `ef`: the one asked for, else the graph's tuned one divided by the
    square root of the share of points the filter matches (a filtered walk meets fewer
    acceptable neighbours, and recall falls without it)."""
    if query.params.hnsw_ef is not None:
        return query.params.hnsw_ef
    share = max(len(rows) / max(len(table), 1), 1e-6)
    return min(MAX_EF, math.ceil(ef / math.sqrt(share)))


def _best(
    query: Query,
    table: Table,
    scores: Floats,
    rows: npt.NDArray[np.int64] | npt.NDArray[np.intp] | None,
    want: int,
    keys: Sequence[str | None] | None = None,
) -> tuple[Ranked, bool]:
    """The `want` best of the scored rows (`rows`: the rows scored, None: every row), more when
    scores tie at the cut, best first, ties by key (id order), without free rows, the excluded
    point, or scores past the threshold; and whether that is all of them (a sparse query's:
    those sharing an index with it). Cut before anything else is read: a query over the whole
    table ranks one array, and only the few at the top are looked at again."""
    higher_first = query.scorer.higher_first(table.spec.distance)
    keys = table.keys if keys is None else keys
    ranked = -scores if higher_first else scores  # lower first; +inf: not a result
    if query.score_threshold is not None:
        kept = passes(higher_first, scores, query.score_threshold)
        ranked = np.where(kept, ranked, np.float32(np.inf))
    bounded = table.spec.sparse or query.score_threshold is not None  # some may be +inf
    picked = lowest(ranked, want)
    if bounded:
        picked = picked[ranked[picked] < np.inf]
    # Bounded, fewer than `want` results are all there are. Exactly `want` may be all too;
    # saying not (a count over the whole array saved) costs at most a wider round later.
    every = len(picked) < want if bounded else len(ranked) <= want
    chosen = picked if rows is None else rows[picked]
    best = [
        (cast("str", keys[row]), score, rank)
        for row, score, rank in zip(
            chosen.tolist(), scores[picked], ranked[picked].tolist(), strict=True
        )
        if keys[row] is not None and keys[row] not in query.exclude
    ]
    best.sort(key=lambda found: (found[2], found[0]))
    return best, every


def _matched(
    reader: Reader,
    flt: Filter,
    model: CollectionVectors,
    table: Table,
    version: int,
    config: HnswConfig,
) -> Matched | None:
    """The rows of the model's `table` (as of `version`) whose points the filter matches, when
    payload indexes serve it, with a copy of their vectors when they are few enough to be
    scored exactly; None: no index serves it, the filter is checked on the best-scored points
    instead."""
    if table.spec.multi:
        return None
    source = flt.source
    key = (b"" if source is None else source, table.spec.name)
    if source is not None:
        kept = model.filter_rows.get(key, version)
        if kept is not None:
            return kept
    points = matching(reader, flt)
    if points is None:
        return None
    with model.lock.reading():
        held = [row for row in map(table.rows.get, points) if row is not None]
        rows = np.array(held, dtype=np.int64)
        copied = None  # only dense rows are scored from a copy
        if isinstance(table, VectorTable) and not _graph_serves(table, config, rows):
            copied = table.matrix[rows]
        matched = Matched(rows, copied)
        if source is not None and model.version == version:
            limit = int(model.vector_bytes * FILTER_SHARE)
            model.filter_rows.put(key, version, matched, limit)
    return matched


def _stored_table(reader: Reader, name: str) -> Table:
    """The vectors of `name`, read from the Redis projection (with read-your-writes)."""
    key = reader.collection.keys.vectors(name)
    stored = cast("dict[bytes, bytes]", reader.run(lambda pipe: pipe.hgetall(key))[0])
    spec = reader.collection.vectors[name]
    table = SparseTable(spec) if spec.sparse else VectorTable(spec)
    if stored:
        table.put_many([k.decode() for k in stored], list(stored.values()))
    if isinstance(table, SparseTable):
        table.commit()
    return table
