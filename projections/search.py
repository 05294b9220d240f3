"""Nearest-neighbour queries, exact: every stored vector of the queried name is scored with
numpy. Scores as Qdrant's: Cosine and Dot are similarities (higher first), Euclid and
Manhattan distances (lower first); a multivector scores the sum over the query's rows of the
best similarity to any of the point's rows (max_sim)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from projections.collections import VectorSpec
from projections.filters import Filter
from projections.jsontypes import JsonObject
from projections.reads import SCAN_CHUNK, Projection, Reader, bind_text_indexes, page
from projections.vectors import Floats

SIMILARITIES = ("Cosine", "Dot")


@dataclass(frozen=True)
class Query:
    using: str
    vector: Floats  # the query as stored vectors are (normalised for Cosine); 2-D for multi
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    exclude: str | None = None  # the point a query by id came from


def nearest(
    reader: Reader, query: Query, flt: Filter | None, projection: Projection
) -> list[JsonObject]:
    """The best `limit` points after `offset`, each with `score` (and `version`, always 0)."""
    spec = reader.collection.vectors[query.using]
    bind_text_indexes(reader, flt)
    stored = reader.run(lambda pipe: pipe.hgetall(reader.collection.keys.vectors(query.using)))[0]
    points = [(key.decode(), data) for key, data in stored.items()]
    points = [(key, data) for key, data in points if key != query.exclude]
    if not points:
        return []
    keys = [key for key, _ in points]
    scores = _scores(spec, [data for _, data in points], query.vector)
    order = np.argsort(-scores if spec.distance in SIMILARITIES else scores, kind="stable")
    if query.score_threshold is not None:
        order = order[_passes(spec, scores[order], query.score_threshold)]
    wanted = query.offset + query.limit
    found: list[JsonObject] = []
    for start in range(0, len(order), SCAN_CHUNK):
        chunk = [keys[i] for i in order[start : start + SCAN_CHUNK]]
        score_of = dict(zip(chunk, scores[order[start : start + SCAN_CHUNK]], strict=True))
        for key, record in page(reader, chunk, flt, projection):
            found.append({**record, "version": 0, "score": score_of[key]})
            if len(found) == wanted:
                return found[query.offset :]
    return found[query.offset :]


def _scores(spec: VectorSpec, stored: list[bytes], query: Floats) -> Floats:
    if spec.multi:
        return np.array([_max_sim(spec, data, query) for data in stored], dtype=np.float32)
    matrix = np.frombuffer(b"".join(stored), dtype=np.float32).reshape(len(stored), spec.size)
    return _pairwise(spec.distance, matrix, query)


def _pairwise(distance: str, matrix: Floats, query: Floats) -> Floats:
    if distance in SIMILARITIES:
        return matrix @ query
    if distance == "Euclid":
        squared: Floats = ((matrix - query) ** 2).sum(axis=-1)
        return np.sqrt(squared)
    manhattan: Floats = np.abs(matrix - query).sum(axis=-1)
    return manhattan


def _max_sim(spec: VectorSpec, data: bytes, query: Floats) -> np.float32:
    rows = np.frombuffer(data, dtype=np.float32).reshape(-1, spec.size)
    per_row = np.stack([_pairwise(spec.distance, rows, q) for q in query])
    best = per_row.max(axis=1) if spec.distance in SIMILARITIES else per_row.min(axis=1)
    return np.float32(best.sum())


def _passes(spec: VectorSpec, scores: Floats, threshold: float) -> NDArray[np.bool_]:
    """Qdrant keeps scores strictly better than the threshold."""
    return scores > threshold if spec.distance in SIMILARITIES else scores < threshold
