"""The distance matrix (Qdrant's `/points/search/matrix/pairs` and `/offsets`): a random sample
of the points that pass a filter and have a vector, and for each sampled point its nearest
among the others of the sample, scored as a query with its vector would score them.

As Qdrant does it (lib/collection/src/collection/distance_matrix.rs): the sample is ordered by
id; fewer than two sampled points make an empty matrix; a point's neighbours are the best
`limit` of the others, best first. Dense vectors are scored in one numpy product over the
sample; a sparse vector is a sparse search among the sample (so `idf` weights come from the
whole collection, and a point that shares no index with another is not its neighbour).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import cast

import numpy as np

from projections import ids, reads, search
from projections.collections import VectorSpec
from projections.errors import WrongInput
from projections.filters import Filter, compile_filter
from projections.ids import PointId
from projections.reads import Projection, Reader
from projections.scorers import SparseNearest
from projections.search import Query
from projections.sparse_table import decoded
from projections.vector_model import CollectionVectors
from projections.vector_table import SIMILARITIES, max_sim, pairwise
from projections.vectors import Floats


@dataclass(frozen=True)
class Neighbours:
    """The sampled points (in id order) and, for each, its nearest others: `rows[i]` is the
    sampled point (an index of `ids`), `cols[i]` its neighbour, `scores[i]` their score."""

    ids: list[PointId]
    rows: list[int]
    cols: list[int]
    scores: Floats


IDS_ONLY = Projection(payload=None, vectors=())


def neighbours(
    parts: list[tuple[Reader, CollectionVectors | None]],
    using: str,
    sample: int,
    limit: int,
    raw: object,
) -> Neighbours:
    """The matrix of `sample` points drawn from those the filter `raw` (its JSON, or None)
    passes that have the vector `using`, `limit` neighbours each. `parts`: each shard's
    reader and vector read model (which sparse searches use when it is current)."""
    spec = parts[0][0].collection.vectors.get(using)
    if spec is None:
        raise WrongInput(f"Not existing vector name error: {using}")
    drawn: dict[str, bytes] = {}
    for reader, _ in parts:
        drawn.update(_draw(reader, using, sample, raw))
    if len(drawn) > sample:  # several shards' draws: as many again, at random
        drawn = dict(random.sample(sorted(drawn.items()), sample))
    if len(drawn) < 2:
        return Neighbours([], [], [], np.zeros(0, dtype=np.float32))
    keys = sorted(drawn)  # point keys sort in id order
    if spec.sparse:
        rows, cols, scores = sparse_nearest(parts, spec, keys, drawn, limit)
    else:
        rows, cols, scores = nearest(spec, [_decoded(spec, drawn[key]) for key in keys], limit)
    return Neighbours([ids.from_key(key) for key in keys], rows, cols, scores)


def nearest(
    spec: VectorSpec, vectors: list[Floats], limit: int
) -> tuple[list[int], list[int], Floats]:
    """For each vector, the `limit` best others (by position), best first, a tie in position
    order; and their scores."""
    higher_first = spec.distance in SIMILARITIES
    matrix = None if spec.multi else np.stack(vectors)
    rows: list[int] = []
    cols: list[int] = []
    found: list[Floats] = []
    for row, query in enumerate(vectors):
        if matrix is None:
            scores = np.array([max_sim(spec.distance, v, query) for v in vectors], np.float32)
        else:
            scores = pairwise(spec.distance, matrix, query)
        order = np.argsort(-scores if higher_first else scores, kind="stable")
        best = order[order != row][:limit]
        rows += [row] * len(best)
        cols += best.tolist()
        found.append(scores[best])
    return rows, cols, np.concatenate(found)


def sparse_nearest(
    parts: list[tuple[Reader, CollectionVectors | None]],
    spec: VectorSpec,
    keys: list[str],
    drawn: dict[str, bytes],
    limit: int,
) -> tuple[list[int], list[int], Floats]:
    """For each sampled point (`keys`, in order), its `limit` best others by a sparse search
    among the sample on each shard, as `nearest` gives them."""
    position = {ids.from_key(key): at for at, key in enumerate(keys)}
    among = compile_filter({"must": [{"has_id": list(position)}]})
    rows: list[int] = []
    cols: list[int] = []
    scores: list[float] = []
    for row, key in enumerate(keys):
        scorer = SparseNearest(*decoded(drawn[key]), spec.idf)
        query = Query(spec.name, scorer, limit, exclude=frozenset({key}))
        hits = [h for reader, m in parts for h in search.nearest(reader, query, among, IDS_ONLY, m)]
        hits.sort(key=lambda hit: -cast("float", hit["score"]))
        for hit in hits[:limit]:
            rows.append(row)
            cols.append(position[cast("PointId", hit["id"])])
            scores.append(cast("float", hit["score"]))
    return rows, cols, np.array(scores, np.float32)


def _draw(reader: Reader, using: str, sample: int, raw: object) -> dict[str, bytes]:
    """Up to `sample` distinct points drawn at random, key -> stored vector `using`. Without a
    filter, straight from the vectors' hash (one round trip); with one, from the points it
    passes, "has the vector" added to its `must` as Qdrant merges it."""
    if raw is None:
        hash_key = reader.collection.keys.vectors(using)
        drawn = reader.run(lambda pipe: pipe.hrandfield(hash_key, sample, withvalues=True))[0]
        # A flat list of fields and values; (field, value) pairs from a cluster's pipeline.
        paired = bool(drawn) and isinstance(drawn[0], list)
        pairs = drawn if paired else zip(drawn[::2], drawn[1::2], strict=True)
        return {field.decode(): value for field, value in pairs}
    keys = reads.sample_keys(reader, sample, _with_vector(raw, using))
    stored = reads.vectors_of(reader, using, keys)
    return {key: data for key, data in zip(keys, stored, strict=True) if data is not None}


def _with_vector(raw: object, using: str) -> Filter:
    if not isinstance(raw, dict):
        return compile_filter(raw)  # refused as the filter it is
    must = raw.get("must")
    given = [] if must is None else must if isinstance(must, list) else [must]
    return compile_filter({**raw, "must": [*given, {"has_vector": using}]})


def _decoded(spec: VectorSpec, data: bytes) -> Floats:
    vector = np.frombuffer(data, dtype=np.float32)
    return vector.reshape(-1, spec.size) if spec.multi else vector
