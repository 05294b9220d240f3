"""Nearest-neighbour queries, exact: every vector of the queried name is scored with numpy.

The vectors come from the process's vector read model (vector_model.py) once it is loaded and
has followed the change feed to the operation the query must see; until then (or when the
collection is not held) they are read from the Redis projection. Scores as Qdrant's: Cosine and
Dot are similarities (higher first), Euclid and Manhattan distances (lower first); a
multivector scores the sum over the query's rows of the best similarity to any of the point's
rows (max_sim). Equal scores are ordered by point id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from projections.collections import VectorSpec
from projections.filters import Filter
from projections.jsontypes import JsonObject
from projections.reads import SCAN_CHUNK, Projection, Reader, bind_text_indexes, page
from projections.vector_model import CollectionVectors
from projections.vector_table import SIMILARITIES, VectorTable, passes, worst
from projections.vectors import Floats


@dataclass(frozen=True)
class SearchParams:
    hnsw_ef: int | None = None  # None: the graph's own, tuned for recall
    exact: bool = False
    indexed_only: bool = False  # skip what a graph should serve but does not yet


@dataclass(frozen=True)
class Query:
    using: str
    vector: Floats  # the query as stored vectors are (normalised for Cosine); 2-D for multi
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    exclude: str | None = None  # the point a query by id came from
    params: SearchParams = SearchParams()


def nearest(
    reader: Reader,
    query: Query,
    flt: Filter | None,
    projection: Projection,
    model: CollectionVectors | None = None,
) -> list[JsonObject]:
    """The best `limit` points after `offset`, each with `score` (and `version`, always 0)."""
    bind_text_indexes(reader, flt)
    held = model if model is not None and _caught_up(reader, model) else None
    if held is not None and flt is None and not query.params.exact:
        found = _approximate(reader, query, projection, held)
        if found is not None:
            return found
    if held is not None and query.params.indexed_only and held.using_graph(query.using) is False:
        return []  # a graph should serve this vector and is not built yet
    scores, row_keys = _scored(reader, query, held)
    return _ranked(reader, query, flt, projection, scores, row_keys)


def _ranked(
    reader: Reader,
    query: Query,
    flt: Filter | None,
    projection: Projection,
    scores: Floats,
    row_keys: list[str | None],
) -> list[JsonObject]:
    """The best points among the scored ones, that exist and pass the filter, with their
    records."""
    spec = reader.collection.vectors[query.using]
    rows = np.arange(len(scores))
    if query.score_threshold is not None:
        rows = rows[passes(spec.distance, scores, query.score_threshold)]
    wanted = query.offset + query.limit
    found: list[JsonObject] = []
    # Without a filter the best `wanted` points are the answer (unless some were deleted since);
    # with one, a larger chunk saves round trips.
    chunk = wanted if flt is None else max(wanted, SCAN_CHUNK)
    for chunk_rows in _best_first(spec, scores, rows, row_keys, chunk):
        score_of = {row_keys[row]: scores[row] for row in chunk_rows}
        keys = cast("list[str]", list(score_of))
        for key, record in page(reader, keys, flt, projection):
            found.append({**record, "version": 0, "score": score_of[key]})
            if len(found) == wanted:
                return found[query.offset :]
    return found[query.offset :]


def _approximate(
    reader: Reader, query: Query, projection: Projection, model: CollectionVectors
) -> list[JsonObject] | None:
    """The answer from the vector's HNSW graph, the candidates scored exactly; None when
    there is no usable graph, or it found too few points (then the query is exact)."""
    wanted = query.offset + query.limit + (query.exclude is not None)
    with model.lock.reading():
        table, graph = model.tables.get(query.using), model.graphs.get(query.using)
        if table is None or graph is None or not graph.usable:
            return None
        rows = graph.search(query.vector, wanted, query.params.hnsw_ef)
        if rows is None:
            return None
        scores, row_keys = table.scores_of(rows, query.vector)
    if query.exclude in row_keys:
        row_keys[row_keys.index(query.exclude)] = None
    found = _ranked(reader, query, None, projection, scores, row_keys)
    complete = len(found) == query.limit or len(rows) >= len(table)  # or all there is
    return found if complete else None


def _scored(
    reader: Reader, query: Query, model: CollectionVectors | None
) -> tuple[Floats, list[str | None]]:
    """Every row's score and the key of each row (None for a free row of the read model,
    whose score is the worst possible, as is the excluded point's)."""
    if model is not None:
        with model.lock.reading():
            table = model.tables.get(query.using)
            if table is not None:
                return _scores_of(table, query)
    spec = reader.collection.vectors[query.using]
    key = reader.collection.keys.vectors(query.using)
    stored = cast("dict[bytes, bytes]", reader.run(lambda pipe: pipe.hgetall(key))[0])
    table = VectorTable(spec)
    if stored:
        table.put_many([k.decode() for k in stored], list(stored.values()))
    return _scores_of(table, query)


def _scores_of(table: VectorTable, query: Query) -> tuple[Floats, list[str | None]]:
    scores, row_keys = table.scores(query.vector)
    excluded = None if query.exclude is None else table.row_of(query.exclude)
    if excluded is not None:
        scores[excluded] = worst(table.spec.distance)
        row_keys[excluded] = None
    return scores, row_keys


def _caught_up(reader: Reader, model: CollectionVectors) -> bool:
    """Whether the read model has reached what the query must see (it waits, bounded, when
    it is close behind); False while it is still loading."""
    if model.checkpoint < 0:
        return False
    if reader.progress is None:  # read-your-writes off: serve what the model holds
        return True
    return model.wait_for(reader.seq(), reader.wait_seconds)


def _best_first(
    spec: VectorSpec,
    scores: Floats,
    rows: npt.NDArray[np.intp],
    row_keys: list[str | None],
    chunk: int,
) -> Iterator[list[int]]:
    """Chunks of the rows that hold a point, from the best score to the worst, ties by key
    (id order). The first chunk is picked out with a partial sort: a query seldom needs more."""
    ranked = -scores[rows] if spec.distance in SIMILARITIES else scores[rows]
    if len(rows) > chunk:
        cut = np.partition(ranked, chunk - 1)[chunk - 1]
        parts = [rows[ranked <= cut], rows[ranked > cut]]  # ties at the cut stay together
    else:
        parts = [rows]
    sign = -1.0 if spec.distance in SIMILARITIES else 1.0
    for part in parts:
        held = [int(row) for row in part if row_keys[row] is not None]
        held.sort(key=lambda row: (sign * float(scores[row]), row_keys[row]))
        for start in range(0, len(held), chunk):
            yield held[start : start + chunk]
