"""Query request bodies, checked as Qdrant checks them, as stages of the universal query
(query_plan.py): `/points/query` and the classic `/points/search`, `/points/recommend` and
`/points/discover`; and what their `/groups` variants add (groups.py)."""

from __future__ import annotations

from dataclasses import dataclass

from api import fields
from projections.errors import BadRequest, FormatError, ValidationFailed
from projections.filters import compile_filter
from projections.formula import Formula
from projections.groups import GroupBy
from projections.jsonpath import parse_path
from projections.jsontypes import JsonObject
from projections.mmr import CANDIDATES_MAX, Mmr
from projections.query_plan import (
    DiscoverQuery,
    FeedbackQuery,
    FormulaQuery,
    FusionQuery,
    LookupFrom,
    NearestQuery,
    OrderByQuery,
    QueryKind,
    RecommendQuery,
    SampleQuery,
    Stage,
)

STRATEGIES = ("average_vector", "best_score", "sum_scores")
FUSIONS = ("rrf", "dbsf")
NOT_YET = ("text", "image", "object")


def query_stage(body: JsonObject) -> Stage:
    """The body of `/points/query` (or one of `/query/batch`'s searches)."""
    return _stage(body, top=True)


def _stage(body: JsonObject, top: bool) -> Stage:
    query = _query(body.get("query"))
    prefetch = tuple(_stage(_object(p, "prefetch"), top=False) for p in _listed(body))
    if query is None and prefetch:
        raise BadRequest(
            "A query is needed to merge the prefetches. Can't have prefetches without a query."
        )
    if isinstance(query, FusionQuery) and not prefetch:
        raise BadRequest("Fusion queries need prefetches: nothing to fuse")
    if isinstance(query, FormulaQuery) and not prefetch:
        raise BadRequest("Formula queries need prefetches: nothing to score")
    if query is None and body.get("score_threshold") is not None:
        raise BadRequest(
            "A query is needed to use the score_threshold. Please provide a query in order "
            "to use the score_threshold parameter"
        )
    if isinstance(query, FusionQuery) and query.weights and len(query.weights) != len(prefetch):
        raise BadRequest(
            f"rrf.weights: {len(query.weights)} weights for {len(prefetch)} prefetches"
        )
    return Stage(
        query,
        prefetch,
        _filter(body),
        _using(body.get("using")),
        fields.limit(body.get("limit"), 10),
        fields.unsigned(body.get("offset"), "offset") if top else 0,
        fields.number(body.get("score_threshold"), "score_threshold"),
        fields.search_params(body.get("params")),
        _lookup_from(body),
    )


def _lookup_from(body: JsonObject) -> LookupFrom | None:
    """`lookup_from: {collection, vector}`: where the query's point ids name points."""
    raw = body.get("lookup_from")
    if raw is None:
        return None
    lookup = _object(raw, "lookup_from")
    collection, vector = lookup.get("collection"), lookup.get("vector")
    if not isinstance(collection, str):
        raise FormatError("lookup_from.collection: missing field or invalid type")
    if vector is not None and not isinstance(vector, str):
        raise FormatError("lookup_from.vector: invalid type, expected a vector name")
    return LookupFrom(collection, vector)


def _listed(body: JsonObject) -> list[object]:
    raw = body.get("prefetch")
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _object(raw: object, where: str) -> JsonObject:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: invalid type, expected an object")
    return raw


def _filter(body: JsonObject) -> JsonObject | None:
    raw = body.get("filter")
    if raw is not None:
        compile_filter(raw)  # checked now: a bad filter fails the request, not a stage
    return raw


def _using(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise FormatError("using: invalid type, expected a vector name")
    return raw


def _query(raw: object) -> QueryKind | None:
    """`query`: a vector, a multivector or a point id (nearest), or an object naming its
    kind: nearest, recommend, discover, context, relevance_feedback, order_by, fusion, rrf,
    formula, sample."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or {"indices", "values"} & set(raw):
        return NearestQuery(raw)
    if "nearest" in raw:
        return NearestQuery(raw["nearest"], _mmr(raw.get("mmr")))
    if "recommend" in raw:
        return _recommend(_object(raw["recommend"], "query.recommend"))
    if "discover" in raw:
        return _discover(_object(raw["discover"], "query.discover"))
    if "context" in raw:
        return DiscoverQuery(None, _pairs(raw["context"], "query.context"))
    if "order_by" in raw:
        order = fields.order_by(raw["order_by"])
        if order is None:
            raise FormatError("query.order_by: invalid type: null, expected a key or OrderBy")
        return OrderByQuery(order)
    if "fusion" in raw:
        if raw["fusion"] not in FUSIONS:
            raise FormatError(
                f"query.fusion: unknown variant `{raw['fusion']}`, expected one of {FUSIONS}"
            )
        return FusionQuery(raw["fusion"])
    if "relevance_feedback" in raw:
        return _feedback(_object(raw["relevance_feedback"], "query.relevance_feedback"))
    if "formula" in raw:
        return FormulaQuery(Formula(raw["formula"], raw.get("defaults")))
    if "rrf" in raw:
        return _rrf(_object(raw["rrf"], "query.rrf"))
    if "sample" in raw:
        if raw["sample"] != "random":
            raise FormatError(f"query.sample: unknown variant `{raw['sample']}`, expected `random`")
        return SampleQuery()
    kind = next((k for k in NOT_YET if k in raw), None)
    if kind is not None:
        raise BadRequest(f"`{kind}` queries are not supported yet")
    raise FormatError("query: data did not match any variant of untagged enum QueryInterface")


def _mmr(raw: object) -> Mmr | None:
    """`mmr: {diversity (0 to 1, 0.5 by default), candidates_limit (up to 16384)}`."""
    if raw is None:
        return None
    body = _object(raw, "query.mmr")
    diversity = fields.number(body.get("diversity"), "mmr.diversity")
    if diversity is not None and not 0.0 <= diversity <= 1.0:
        raise ValidationFailed(f"mmr.diversity: value {diversity} invalid, must be from 0 to 1")
    candidates = body.get("candidates_limit")
    if candidates is not None:
        candidates = fields.unsigned(candidates, "mmr.candidates_limit")
        if candidates > CANDIDATES_MAX:
            raise ValidationFailed(
                f"mmr.candidates_limit: value {candidates} invalid, "
                f"must be {CANDIDATES_MAX} or smaller"
            )
    return Mmr(0.5 if diversity is None else diversity, candidates)


def _recommend(raw: JsonObject) -> RecommendQuery:
    strategy = raw.get("strategy") or "average_vector"
    if strategy not in STRATEGIES:
        raise FormatError(f"strategy: unknown variant `{strategy}`, expected one of {STRATEGIES}")
    positive, negative = _examples(raw, "positive"), _examples(raw, "negative")
    if not positive and not negative:
        raise BadRequest("At least one positive or negative example is required")
    return RecommendQuery(positive, negative, strategy)


def _discover(raw: JsonObject) -> DiscoverQuery:
    """`discover: {target, context}`."""
    if raw.get("target") is None:
        raise FormatError("discover: missing field `target`")
    return DiscoverQuery(raw["target"], _pairs(raw.get("context"), "discover.context"))


def _feedback(raw: JsonObject) -> FeedbackQuery:
    """`relevance_feedback: {target, feedback: [{example, score}], strategy: {naive: {a, b,
    c}}}`."""
    if raw.get("target") is None:
        raise FormatError("relevance_feedback: missing field `target`")
    items = raw.get("feedback")
    if not isinstance(items, list):
        raise FormatError("relevance_feedback.feedback: missing field or invalid type")
    examples = []
    for item in items:
        item = _object(item, "relevance_feedback.feedback")
        score = fields.number(item.get("score"), "feedback.score")
        if item.get("example") is None or score is None:
            raise FormatError("relevance_feedback.feedback: an item needs `example` and `score`")
        examples.append((item["example"], score))
    strategy = _object(raw.get("strategy"), "relevance_feedback.strategy")
    naive = _object(strategy.get("naive"), "relevance_feedback.strategy.naive")
    a, b, c = (fields.number(naive.get(k), f"naive.{k}") for k in "abc")
    if a is None or b is None or c is None:
        raise FormatError("relevance_feedback.strategy.naive: needs `a`, `b` and `c`")
    if b < 0:
        raise ValidationFailed(f"naive.b: value {b} invalid, must be 0 or larger")
    return FeedbackQuery(raw["target"], tuple(examples), a, b, c)


def _pairs(raw: object, where: str) -> tuple[tuple[object, object], ...]:
    """Context pairs: one `{positive, negative}`, a list of them, or none (null)."""
    if raw is None:
        return ()
    found = []
    for pair in raw if isinstance(raw, list) else [raw]:
        pair = _object(pair, where)
        if pair.get("positive") is None or pair.get("negative") is None:
            raise FormatError(f"{where}: a pair needs `positive` and `negative`")
        found.append((pair["positive"], pair["negative"]))
    return tuple(found)


def _examples(raw: JsonObject, name: str) -> tuple[object, ...]:
    found = raw.get(name)
    if found is None:
        return ()
    if not isinstance(found, list):
        raise FormatError(f"{name}: invalid type, expected a sequence")
    return tuple(found)


def _rrf(raw: JsonObject) -> FusionQuery:
    k = raw.get("k")
    if k is not None:
        k = fields.unsigned(k, "rrf.k")
        if k == 0:
            raise BadRequest("rrf.k: value 0 invalid, must be 1 or larger")
    weights = raw.get("weights")
    if weights is not None:
        if not isinstance(weights, list) or not all(
            fields.number(w, "rrf.weights") is not None for w in weights
        ):
            raise FormatError("rrf.weights: invalid type, expected a sequence of numbers")
        weights = tuple(float(w) for w in weights)
    return FusionQuery("rrf", k, weights)


# ---- the classic endpoints ----------------------------------------------------------------------


def search_stage(body: JsonObject) -> Stage:
    """`/points/search`: `vector` (plain, or `{name, vector}`), `limit` (required), ..."""
    raw = body.get("vector")
    if raw is None:
        raise FormatError("missing field `vector`")
    using = ""
    if isinstance(raw, dict) and "name" in raw:
        using, raw = _using(raw["name"]), raw.get("vector")
    return _classic(body, NearestQuery(raw), using)


def recommend_stage(body: JsonObject) -> Stage:
    """`/points/recommend`: `positive`, `negative`, `strategy`, `using`, `limit` (required)."""
    return _classic(body, _recommend(body), _using(body.get("using")))


def discover_stage(body: JsonObject) -> Stage:
    """`/points/discover`: `target` (optional: without it a context search), `context`
    pairs, `using`, `limit` (required)."""
    pairs = _pairs(body.get("context"), "context")
    if body.get("target") is None and not pairs:
        raise BadRequest("target or context must be given")
    return _classic(body, DiscoverQuery(body.get("target"), pairs), _using(body.get("using")))


def _classic(body: JsonObject, query: QueryKind, using: str) -> Stage:
    if body.get("limit") is None:
        raise FormatError("missing field `limit`")
    return Stage(
        query,
        (),
        _filter(body),
        using,
        fields.limit(body.get("limit"), 10),
        fields.unsigned(body.get("offset"), "offset"),
        fields.number(body.get("score_threshold"), "score_threshold"),
        fields.search_params(body.get("params")),
        _lookup_from(body),
    )


# ---- groups -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """`with_lookup`: the point of another collection whose id is a group's id."""

    collection: str
    shown: JsonObject  # its `with_payload` (true by default) and `with_vectors`


def group_by(body: JsonObject, classic: bool) -> GroupBy:
    """`group_by`, `group_size` (3 by default; the classic endpoints require it) and `limit`
    (groups, 10 by default)."""
    key = body.get("group_by")
    if key is None:
        raise FormatError("missing field `group_by`")
    if not isinstance(key, str):
        raise FormatError("group_by: invalid type, expected a string")
    if not key:
        raise ValidationFailed('group_by: value "" invalid, must not be empty')
    size = body.get("group_size")
    if size is None and classic:
        raise FormatError("missing field `group_size`")
    size = 3 if size is None else fields.unsigned(size, "group_size")
    if size == 0:
        raise ValidationFailed("group_size: value 0 invalid, must be 1 or larger")
    return GroupBy(key, parse_path(key), size, fields.limit(body.get("limit"), 10))


def with_lookup(body: JsonObject) -> Lookup | None:
    """`with_lookup`: a collection's name, or `{collection, with_payload, with_vectors}`."""
    raw = body.get("with_lookup")
    if raw is None:
        return None
    if isinstance(raw, str):
        return Lookup(raw, {"with_payload": True})
    lookup = _object(raw, "with_lookup")
    collection = lookup.get("collection")
    if not isinstance(collection, str):
        raise FormatError("with_lookup.collection: missing field or invalid type")
    shown = {"with_payload": lookup.get("with_payload", True)}
    if lookup.get("with_vectors") is not None:
        shown["with_vector"] = lookup["with_vectors"]
    return Lookup(collection, shown)
