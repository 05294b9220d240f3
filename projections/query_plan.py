"""The universal query (`POST /points/query`): a tree of stages, answered from the leaves up.

- A stage without prefetches queries the collection: the nearest points to a vector (or to a
  point's own vector), recommend, order_by, sample, or, without a query, points in id order.
- A stage with prefetches answers from the points they found: `fusion` / `rrf` fuses their
  ranked lists (fusion.py); any other query scores those points again (a dense query over
  the candidates of a sparse one, say).
- A stage's filter holds for every stage below it: Qdrant propagates filters down to the
  leaves, so a prefetch's `limit` counts points that pass every filter above it.
Only the top stage reads payloads and vectors; the stages below return ids and scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from projections import fusion, ids, reads, vectors
from projections.collections import Collection, VectorSpec
from projections.consistency import Replan
from projections.errors import BadRequest, NotFound, WrongInput
from projections.filters import Filter, compile_filter
from projections.formula import Formula, Scope
from projections.jsontypes import JsonObject
from projections.mmr import Mmr, pick, similarities
from projections.payloads import compile_selector
from projections.reads import OrderBy, Projection, Reader
from projections.scorers import (
    Discovery,
    Example,
    Examples,
    ExampleScorer,
    Feedback,
    Nearest,
    Scorer,
    SparseExamples,
    SparseNearest,
    average_vector,
    feedback_pairs,
    sparse_average,
    wrong_kind,
)
from projections.search import Query, SearchParams, nearest
from projections.sparse_table import SparseVector, decoded
from projections.vector_model import CollectionVectors
from projections.vector_table import VectorTable
from projections.vectors import Floats

# ---- what a request asks ------------------------------------------------------------------------


@dataclass(frozen=True)
class NearestQuery:
    vector: object  # as sent: a vector, a multivector, or a point id
    mmr: Mmr | None = None  # pick the nearest candidates again for diversity (mmr.py)


@dataclass(frozen=True)
class RecommendQuery:
    positive: tuple[object, ...]  # vectors or point ids, as sent
    negative: tuple[object, ...]
    strategy: str  # average_vector | best_score | sum_scores


@dataclass(frozen=True)
class DiscoverQuery:
    """discover (with a target) or context (without): vectors or point ids, as sent."""

    target: object | None
    pairs: tuple[tuple[object, object], ...]  # (positive, negative)


@dataclass(frozen=True)
class FeedbackQuery:
    """relevance_feedback, naive strategy: a target and examples scored by the user, as sent."""

    target: object
    examples: tuple[tuple[object, float], ...]  # (vector or point id, feedback score)
    a: float
    b: float
    c: float


@dataclass(frozen=True)
class OrderByQuery:
    order: OrderBy


@dataclass(frozen=True)
class FusionQuery:
    method: str  # rrf | dbsf
    k: int | None = None  # rrf's constant
    weights: tuple[float, ...] | None = None  # rrf's weight of each prefetch


@dataclass(frozen=True)
class FormulaQuery:
    formula: Formula  # compiled, with its defaults


@dataclass(frozen=True)
class SampleQuery:
    """`sample: random`: points drawn at random."""


QueryKind = (
    NearestQuery
    | RecommendQuery
    | DiscoverQuery
    | FeedbackQuery
    | OrderByQuery
    | FusionQuery
    | FormulaQuery
    | SampleQuery
)
ByExamples = NearestQuery | RecommendQuery | DiscoverQuery | FeedbackQuery


@dataclass(frozen=True)
class LookupFrom:
    """`lookup_from`: the collection (and vector: `using` by default) whose points the
    query's ids name."""

    collection: str
    vector: str | None = None


@dataclass(frozen=True)
class Stage:
    query: QueryKind | None
    prefetch: tuple[Stage, ...] = ()
    filter: JsonObject | None = None  # as sent (checked): merged with the filters above
    using: str = ""
    limit: int = 10
    offset: int = 0
    score_threshold: float | None = None
    params: SearchParams = field(default_factory=SearchParams)
    lookup_from: LookupFrom | None = None
    skip: frozenset[str] = frozenset()  # keys of points the answer leaves out (groups')


# The prefetches' points: ids and scores, read again (and dropped if gone) by the stage above.
PREFETCHED = Projection(payload=None, vectors=(), stored=False)


# ---- answering -----------------------------------------------------------------------------------


# The stored vectors of points by key (None: no such point, or it lacks the vector), given
# the vector's name.
VectorsById = Callable[[str, list[str]], dict[str, bytes | None]]
Retrieve = Callable[[list[str], Projection], list[JsonObject]]


@dataclass(frozen=True)
class OtherCollection:
    """A collection whose points' vectors a query names by id (`lookup_from`)."""

    collection: Collection
    vectors: VectorsById


@dataclass(frozen=True)
class Answering:
    """What a query is answered from: the reader, the collection's vector read model, and
    another collection by name (for `lookup_from`). `by_id`: where the vectors of the points
    a query names come from, when not the reader's collection alone (its shards)."""

    reader: Reader
    model: CollectionVectors | None
    other: Callable[[str], OtherCollection] | None = None
    by_id: VectorsById | None = None

    def vectors(self) -> VectorsById:
        return self.by_id or stored_vectors(self.reader, self.model)

    def retrieve(self, keys: list[str], projection: Projection) -> list[JsonObject]:
        return reads.retrieve(self.reader, keys, projection)

    def run(self, stage: Stage, projection: Projection) -> list[JsonObject]:
        return answer(self, stage, projection)


def answer(ans: Answering, stage: Stage, projection: Projection) -> list[JsonObject]:
    """The scored points of the top stage, each with the parts `projection` asks for. The
    read model's answers are checked at the plan's next read of the projection (a prefetch's
    with the page above it); when they were behind, the plan runs again once the model has
    caught up, checking as it goes, as plans do while the model was found behind lately."""
    reader, model = ans.reader, ans.model
    if model is None or model.lagging:
        return _stage(ans, stage, None, projection)
    try:
        with reader.deferred_checks():
            return _stage(ans, stage, None, projection)
    except Replan as replan:
        model.fell_behind()
        if model.wait_for(replan.seq, reader.wait_seconds):
            reader.consistency.note(replan.seq)
        else:
            reader.ran_out(replan.seq)  # refuses, or warns, when the projection is behind too
        return _stage(ans, stage, None, projection)


def _stage(
    ans: Answering, stage: Stage, above: JsonObject | None, projection: Projection
) -> list[JsonObject]:
    raw = both_filters(above, stage.filter)
    if not stage.prefetch:
        return _leaf(ans, stage, raw, projection)
    found = [_stage(ans, inner, raw, PREFETCHED) for inner in stage.prefetch]
    if isinstance(stage.query, FusionQuery):
        return _fused(ans, stage, found, projection)
    if isinstance(stage.query, FormulaQuery):
        return _formulated(ans, stage, stage.query.formula, found, projection)
    points = list(dict.fromkeys(p["id"] for part in found for p in part))
    if not points:
        return []
    return _leaf(ans, stage, both_filters(raw, {"must": [{"has_id": points}]}), projection)


def both_filters(a: JsonObject | None, b: JsonObject | None) -> JsonObject | None:
    """A stage's filter merged with the one above it as Qdrant merges them (Filter::merge):
    clause by clause, so the `should` conditions of both are alternatives of one another, and
    `min_should` takes the conditions of both and the larger count. None: no filter."""
    if a is None or b is None:
        return a if b is None else b
    merged: JsonObject = {}
    for clause in ("must", "should", "must_not"):
        if a.get(clause) is not None or b.get(clause) is not None:
            merged[clause] = _conditions(a.get(clause)) + _conditions(b.get(clause))
    least = [f["min_should"] for f in (a, b) if isinstance(f.get("min_should"), dict)]
    if least:
        merged["min_should"] = {
            "conditions": [c for one in least for c in _conditions(one.get("conditions"))],
            "min_count": max(one.get("min_count", 0) for one in least),
        }
    return merged


def _conditions(clause: object) -> list[object]:
    """A clause's conditions: a list, or one condition alone."""
    if clause is None:
        return []
    return clause if isinstance(clause, list) else [clause]


def _leaf(
    ans: Answering, stage: Stage, raw: JsonObject | None, projection: Projection
) -> list[JsonObject]:
    """A stage over the whole collection (the points of `raw`)."""
    query, wanted = stage.query, stage.offset + stage.limit
    if stage.skip and not isinstance(query, ByExamples):  # scored queries skip in the search
        skipped = [ids.from_key(key) for key in stage.skip]
        raw = both_filters(raw, {"must_not": [{"has_id": skipped}]})
    flt = None if raw is None else compile_filter(raw)
    if query is None or isinstance(query, OrderByQuery):
        if query is None:
            points, _ = reads.scroll(ans.reader, None, wanted, flt, projection)
        else:
            points = reads.scroll_ordered(ans.reader, query.order, wanted, flt, projection)
        return [_scored(point, 1.0) for point in points[stage.offset :]]
    if isinstance(query, SampleQuery):
        return _sample(ans.reader, stage.limit, flt, projection)
    if isinstance(query, (FusionQuery, FormulaQuery)):
        raise BadRequest("Fusion and formula queries need prefetches")  # checked on request
    scorer, named = _scorer(ans, stage, query)
    exclude = named | stage.skip
    if isinstance(query, NearestQuery) and query.mmr is not None:
        return _diverse(ans, stage, query.mmr, scorer, exclude, flt, projection)
    search = Query(
        stage.using, scorer, stage.limit, stage.offset, stage.score_threshold, exclude, stage.params
    )
    return nearest(ans.reader, search, flt, projection, ans.model)


def _diverse(
    ans: Answering,
    stage: Stage,
    mmr: Mmr,
    scorer: Scorer,
    exclude: frozenset[str],
    flt: Filter | None,
    projection: Projection,
) -> list[JsonObject]:
    """An MMR stage: `candidates_limit` nearest points (the stage's limit by default, the
    offset applied after picking, as Qdrant does), picked again for diversity."""
    candidates = stage.limit if mmr.candidates_limit is None else mmr.candidates_limit
    if candidates == 0:
        return []
    search = Query(stage.using, scorer, candidates, 0, stage.score_threshold, exclude, stage.params)
    found = nearest(ans.reader, search, flt, projection, ans.model)
    spec = ans.reader.collection.vectors[stage.using]
    return diversified(spec, scorer, mmr, stage, found, ans.vectors())


def diversified(
    spec: VectorSpec,
    scorer: Scorer,
    mmr: Mmr,
    stage: Stage,
    found: list[JsonObject],
    vectors: VectorsById,
) -> list[JsonObject]:
    """The stage's page of MMR's picks among the candidates `found` (best first)."""
    keys = [ids.to_key(point["id"]) for point in found]
    stored = vectors(stage.using, keys)
    kept = [(p, data) for p, key in zip(found, keys, strict=True) if (data := stored.get(key))]
    if not kept:
        return []
    relevance, similarity = similarities(spec, scorer, [data for _, data in kept])
    order = pick(relevance, similarity, mmr.diversity, stage.offset + stage.limit)
    return [kept[at][0] for at in order[stage.offset :]]


def higher_first(ans: Answering, stage: Stage) -> bool:
    """Whether a scored stage's best points score highest (a distance's lowest)."""
    query = stage.query
    spec = ans.reader.collection.vectors.get(stage.using)
    if spec is None or not isinstance(query, ByExamples):
        return True
    return _scorer(ans, stage, query)[0].higher_first(spec.distance)


def scorer_of(ans: Answering, stage: Stage) -> tuple[Scorer, frozenset[str]]:
    """A stage's scorer, and the points its query names (which the answer leaves out)."""
    return _scorer(ans, stage, cast("ByExamples", stage.query))


def _scored(record: JsonObject, score: float) -> JsonObject:
    return {**record, "version": 0, "score": score}


def _fused(
    ans: Answering, stage: Stage, found: list[list[JsonObject]], projection: Projection
) -> list[JsonObject]:
    return page(ans.retrieve, ans.reader.waits, stage, fused_ranking(stage, found), projection)


def fused_ranking(stage: Stage, found: list[list[JsonObject]]) -> list[tuple[str, float]]:
    """The prefetches' points fused as the stage's fusion query asks, best first."""
    query = cast("FusionQuery", stage.query)
    lists = [[(ids.to_key(p["id"]), float(p["score"])) for p in part] for part in found]
    if query.method == "dbsf":
        return fusion.dbsf(lists)
    return fusion.rrf(lists, query.k, query.weights)


def page(
    retrieve: Retrieve,
    waits: bool,
    stage: Stage,
    ranked: list[tuple[str, float]],
    projection: Projection,
) -> list[JsonObject]:
    """The stage's page of (key, score), best first, past its score threshold, with the
    parts `projection` asks for. A point gone since its prefetch found it (a delete the read
    model had not followed yet) leaves its place to the next one; when reads see every
    acknowledged write (`waits`), the request's check of the model's checkpoint rules that
    out, and a page of ids alone needs no read."""
    if stage.score_threshold is not None:
        ranked = [(key, score) for key, score in ranked if score >= stage.score_threshold]
    ranked = ranked[stage.offset :]
    if projection.ids_only and waits:
        return [_scored({"id": ids.from_key(key)}, score) for key, score in ranked[: stage.limit]]
    found: list[JsonObject] = []
    at = 0
    while len(found) < stage.limit and at < len(ranked):
        part = ranked[at : at + stage.limit - len(found)]
        at += len(part)
        chosen = dict(part)
        records = retrieve(list(chosen), projection)
        found += [_scored(record, chosen[ids.to_key(record["id"])]) for record in records]
    return found


def _formulated(
    ans: Answering,
    stage: Stage,
    formula: Formula,
    found: list[list[JsonObject]],
    projection: Projection,
) -> list[JsonObject]:
    ranked = formula_ranking(ans.retrieve, ans.reader.collection, formula, found)
    return page(ans.retrieve, ans.reader.waits, stage, ranked, projection)


def formula_ranking(
    retrieve: Retrieve, collection: Collection, formula: Formula, found: list[list[JsonObject]]
) -> list[tuple[str, float]]:
    """The prefetches' points scored by the formula, best first (equal scores in the order
    the prefetches found them)."""
    scores = [{ids.to_key(p["id"]): float(p["score"]) for p in part} for part in found]
    keys = list(dict.fromkeys(key for part in scores for key in part))
    names = tuple(collection.vectors) if formula.uses_vectors else ()
    parsed = Projection(compile_selector({"exclude": []}), names)  # every key, parsed
    scored: list[tuple[str, float]] = []
    for record in retrieve(keys, parsed):
        key, held = ids.to_key(record["id"]), record.get("vector")
        vectors = frozenset(held) if isinstance(held, dict) else frozenset([""] if held else [])
        scope = Scope(record["id"], key, record["payload"], vectors, scores)
        scored.append((key, formula.score(scope)))
    scored.sort(key=lambda entry: -entry[1])
    return scored


def _sample(
    reader: Reader, limit: int, flt: Filter | None, projection: Projection
) -> list[JsonObject]:
    """Up to `limit` points that pass the filter, drawn at random, score 1.0 each."""
    chosen = reads.sample_keys(reader, limit, flt)
    return [_scored(record, 1.0) for record in reads.retrieve(reader, chosen, projection)]


# ---- the vectors a query names -----------------------------------------------------------------


@dataclass(frozen=True)
class _Ids:
    """Where a query's point ids take their vectors from: this collection's `using` vector,
    or `lookup_from`'s. `own`: the points are this collection's, and the query leaves them
    out of its answer."""

    vectors: VectorsById
    vector: str
    own: bool

    def read(self, keys: list[str]) -> dict[str, bytes | None]:
        return self.vectors(self.vector, keys) if keys else {}


def stored_vectors(reader: Reader, model: CollectionVectors | None) -> VectorsById:
    """The vectors of a collection's points: from its read model when that may serve, else
    from the projection."""

    def read(vector: str, keys: list[str]) -> dict[str, bytes | None]:
        held = _held(reader, model, vector, keys)
        if held is not None:
            return held
        return dict(zip(keys, reads.vectors_of(reader, vector, keys), strict=True))

    return read


def _held(
    reader: Reader, model: CollectionVectors | None, vector: str, keys: list[str]
) -> dict[str, bytes | None] | None:
    """The vectors from the read model, when it holds every one of them (a point it lacks
    may be one it has not followed yet) and the reader trusts its checkpoint."""
    if model is None or model.checkpoint < 0:
        return None
    with model.lock.reading():
        table, checkpoint = model.table(vector), model.checkpoint
        if not isinstance(table, VectorTable) or table.spec != reader.collection.vectors[vector]:
            return None
        found = [table.vector(key) for key in keys]
        held = {key: None if v is None else v.tobytes() for key, v in zip(keys, found, strict=True)}
    if any(v is None for v in held.values()) or not reader.trusts(checkpoint):
        return None
    return held


def _ids_of(ans: Answering, stage: Stage, spec: VectorSpec) -> _Ids:
    lookup = stage.lookup_from
    if lookup is None or ans.other is None:
        return _Ids(ans.vectors(), spec.name, True)
    other = ans.other(lookup.collection)
    name = stage.using if lookup.vector is None else lookup.vector
    found = other.collection.vectors.get(name)
    if found is None:
        raise WrongInput(f"Not existing vector name error: {name}")
    if (found.sparse, found.multi) != (spec.sparse, spec.multi) or found.size != spec.size:
        raise WrongInput(f"Vector dimension error: expected dim: {spec.size}, got {found.size}")
    return _Ids(other.vectors, name, other.collection.cid == ans.reader.collection.cid)


def _scorer(ans: Answering, stage: Stage, query: ByExamples) -> tuple[Scorer, frozenset[str]]:
    """How the query scores points, and the points it names (which it never returns)."""
    reader = ans.reader
    spec = reader.collection.vectors.get(stage.using)
    if spec is None:
        raise WrongInput(f"Not existing vector name error: {stage.using}")
    source = _ids_of(ans, stage, spec)
    if isinstance(query, NearestQuery):
        (vector,), named = _vectors(reader, spec, [query.vector], False, source)
        return _nearest(spec, vector), named
    if isinstance(query, DiscoverQuery):
        scorer, named = _discovery(reader, spec, query, source)
    elif isinstance(query, FeedbackQuery):
        scorer, named = _feedback(reader, spec, query, source)
    elif query.strategy == "average_vector":
        return _average(reader, spec, query, source)
    else:
        raws = [*query.positive, *query.negative]
        examples, named = _vectors(reader, spec, raws, False, source)
        positive, negative = examples[: len(query.positive)], examples[len(query.positive) :]
        scorer = Examples(tuple(positive), tuple(negative), query.strategy == "best_score")
    return (SparseExamples(scorer, spec.idf) if spec.sparse else scorer), named


def _nearest(spec: VectorSpec, vector: Example) -> Scorer:
    if isinstance(vector, tuple):
        return SparseNearest(*vector, spec.idf)
    return Nearest(vector)


def _average(
    reader: Reader, spec: VectorSpec, query: RecommendQuery, source: _Ids
) -> tuple[Scorer, frozenset[str]]:
    """recommend's `average_vector`: the nearest points to the examples' average."""
    raws = [*query.positive, *query.negative]
    examples, named = _vectors(reader, spec, raws, True, source)
    positive, negative = examples[: len(query.positive)], examples[len(query.positive) :]
    if not positive:
        raise BadRequest("Positive vectors should not be empty with `average_vector` strategy")
    if spec.sparse:
        return _nearest(spec, sparse_average(_sparse(positive), _sparse(negative))), named
    average = average_vector(_dense(positive), _dense(negative))
    return Nearest(vectors.normalise(spec, average)), named


def _discovery(
    reader: Reader, spec: VectorSpec, query: DiscoverQuery, source: _Ids
) -> tuple[ExampleScorer, frozenset[str]]:
    raws = [example for pair in query.pairs for example in pair]
    if query.target is not None:
        raws.append(query.target)
    examples, named = _vectors(reader, spec, raws, False, source)
    target = examples.pop() if query.target is not None else None
    pairs = tuple(zip(examples[::2], examples[1::2], strict=True))
    return Discovery(target, pairs), named


def _feedback(
    reader: Reader, spec: VectorSpec, query: FeedbackQuery, source: _Ids
) -> tuple[ExampleScorer, frozenset[str]]:
    raws = [query.target, *(example for example, _ in query.examples)]
    (target, *examples), named = _vectors(reader, spec, raws, False, source)
    scored = list(zip(examples, (score for _, score in query.examples), strict=True))
    return Feedback(query.a, target, feedback_pairs(scored, query.b, query.c)), named


def _vectors(
    reader: Reader, spec: VectorSpec, raws: list[object], as_sent: bool, source: _Ids
) -> tuple[list[Example], frozenset[str]]:
    """Each vector as stored vectors are, or `as_sent` (dense ones not normalised), and a
    point id as that point's stored vector in `source` (all of them read in one round trip);
    and the keys of the points named, when they are the collection's own."""
    named = [ids.to_key(ids.parse_id(raw)) for raw in raws if not isinstance(raw, (list, dict))]
    stored = source.read(named)
    found: list[Example] = []
    for raw in raws:
        if isinstance(raw, dict) != spec.sparse and isinstance(raw, (list, dict)):
            raise wrong_kind()  # a sparse vector for a dense one, or the reverse
        if isinstance(raw, list) and as_sent:
            found.append(vectors.as_sent(spec, raw, "query"))
            continue
        data = (
            vectors.encode_vector(reader.collection, spec.name, raw, "query")
            if isinstance(raw, (list, dict))
            else _stored(stored, ids.to_key(ids.parse_id(raw)))
        )
        found.append(_decoded(spec, data))
    return found, frozenset(named) if source.own else frozenset()


def _decoded(spec: VectorSpec, data: bytes) -> Example:
    """A vector from its stored bytes: sparse (indices, values), a multivector's rows, or a
    dense vector."""
    if spec.sparse:
        return decoded(data)
    array = np.frombuffer(data, dtype=np.float32)
    return array.reshape(-1, spec.size) if spec.multi else array


def _sparse(examples: list[Example]) -> list[SparseVector]:
    return [cast("SparseVector", example) for example in examples]


def _dense(examples: list[Example]) -> list[Floats]:
    return [cast("Floats", example) for example in examples]


def _stored(stored: dict[str, bytes | None], key: str) -> bytes:
    data = stored[key]
    if data is None:
        raise NotFound(f"No point with id {ids.from_key(key)} found")
    return data
