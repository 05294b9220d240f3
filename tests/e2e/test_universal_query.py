"""The universal query's forms beyond a plain dense query (sparse vectors with `idf`, prefetch
and fusion, hybrid dense + sparse, rescoring, nested prefetch, recommend, MMR, discover,
context, formula, relevance feedback, order_by, sample; on dense and sparse vectors) and the
classic search, recommend and discover endpoints, through qdrant-client over REST (or plain
HTTP), checked against qdrant-client's local mode on the same data: same points, same order,
same scores. Vectors are drawn from a continuous distribution, so no two scores tie but
those of points that share no index with a sparse example."""

from __future__ import annotations

import math
import random
from collections import Counter

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

N = 80
VECTORS = {
    "a": models.VectorParams(size=8, distance=models.Distance.COSINE),
    "b": models.VectorParams(size=6, distance=models.Distance.EUCLID),
}
SPARSE = {"s": models.SparseVectorParams(modifier=models.Modifier.IDF)}
SPARSE_DIMS = 40


def g_is(*values: int) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="g", match=models.MatchAny(any=values))])


@pytest.fixture(scope="module")
def clients(base_url: str) -> tuple[QdrantClient, QdrantClient, str]:
    """pointlog and local mode, holding the same collection."""
    remote, local, name = QdrantClient(url=base_url), QdrantClient(":memory:"), "universal"
    rng = random.Random(11)
    points = [
        models.PointStruct(
            id=i,
            vector={n: [rng.gauss(0, 1) for _ in range(p.size)] for n, p in VECTORS.items()}
            | {"s": sparse(rng)},
            payload={"g": i % 4, "n": round(rng.uniform(0, 100), 3)},
        )
        for i in range(N)
    ]
    for client in (remote, local):
        if client.collection_exists(name):
            client.delete_collection(name)
        client.create_collection(name, vectors_config=VECTORS, sparse_vectors_config=SPARSE)
        client.create_payload_index(name, "n", models.PayloadSchemaType.FLOAT, wait=True)
        client.upsert(name, points, wait=True)
    return remote, local, name


def sparse(rng: random.Random) -> models.SparseVector:
    indices = rng.sample(range(SPARSE_DIMS), rng.randint(1, 6))
    return models.SparseVector(indices=indices, values=[rng.uniform(0.1, 2) for _ in indices])


def query(rng: random.Random, using: str) -> list[float]:
    return [rng.gauss(0, 1) for _ in range(VECTORS[using].size)]


def summary(points: list[models.ScoredPoint]) -> list[tuple]:
    return [(p.id, round(p.score, 4), p.payload) for p in points]


def cases() -> dict[str, dict]:
    rng = random.Random(5)
    a, b, s = query(rng, "a"), query(rng, "b"), sparse(rng)
    both = [
        models.Prefetch(query=a, using="a", limit=20),
        models.Prefetch(query=b, using="b", limit=15, filter=g_is(0, 1, 2)),
    ]
    return {
        "rrf": {"prefetch": both, "query": models.FusionQuery(fusion=models.Fusion.RRF)},
        "dbsf": {"prefetch": both, "query": models.FusionQuery(fusion=models.Fusion.DBSF)},
        "rrf k and weights": {
            "prefetch": both,
            "query": models.RrfQuery(rrf=models.Rrf(k=60, weights=[2.0, 0.5])),
            "limit": 12,
        },
        "fusion, offset, threshold, filter above": {
            "prefetch": both,
            "query": models.FusionQuery(fusion=models.Fusion.RRF),
            "query_filter": g_is(1, 2),
            "offset": 2,
            "score_threshold": 0.05,
        },
        "rescoring": {
            "prefetch": models.Prefetch(query=a, using="a", limit=30, filter=g_is(1, 3)),
            "query": b,
            "using": "b",
            "limit": 5,
        },
        "nested prefetch": {
            "prefetch": models.Prefetch(
                prefetch=both, query=models.FusionQuery(fusion=models.Fusion.RRF), limit=25
            ),
            "query": a,
            "using": "a",
            "limit": 6,
            "with_payload": True,
        },
        "sparse": {"query": s, "using": "s", "limit": 20},
        "sparse, filtered, by a point's vector": {
            "query": 4,
            "using": "s",
            "query_filter": g_is(0, 2),
            "limit": 20,
        },
        "hybrid: dense and sparse, rrf": {
            "prefetch": [
                models.Prefetch(query=a, using="a", limit=20),
                models.Prefetch(query=s, using="s", limit=20),
            ],
            "query": models.FusionQuery(fusion=models.Fusion.RRF),
            "limit": 8,
        },
        "dense rescoring of sparse candidates": {
            "prefetch": models.Prefetch(query=s, using="s", limit=30),
            "query": a,
            "using": "a",
            "limit": 5,
        },
        "order_by": {"query": models.OrderByQuery(order_by="n"), "limit": 5},
        "order_by desc, filtered": {
            "query": models.OrderByQuery(order_by=models.OrderBy(key="n", direction="desc")),
            "query_filter": g_is(2),
            "limit": 5,
        },
        **{
            f"recommend {strategy.value}": {
                "query": models.RecommendQuery(
                    recommend=models.RecommendInput(
                        positive=[3, a], negative=[8], strategy=strategy
                    )
                ),
                "using": "a",
                "limit": 7,
            }
            for strategy in models.RecommendStrategy
        },
        "mmr": {
            "query": models.NearestQuery(nearest=a, mmr=models.Mmr(diversity=0.6)),
            "using": "a",
            "limit": 6,
        },
        "mmr, candidates, offset, filter, euclid": {
            "query": models.NearestQuery(
                nearest=b, mmr=models.Mmr(diversity=0.3, candidates_limit=25)
            ),
            "using": "b",
            "query_filter": g_is(1, 2, 3),
            "limit": 5,
            "offset": 2,
        },
        "mmr, sparse": {
            "query": models.NearestQuery(nearest=s, mmr=models.Mmr(candidates_limit=15)),
            "using": "s",
            "limit": 6,
        },
        "mmr over a prefetch": {
            "prefetch": models.Prefetch(query=s, using="s", limit=30),
            "query": models.NearestQuery(nearest=a, mmr=models.Mmr(diversity=0.8)),
            "using": "a",
            "limit": 5,
        },
        "discover": {
            "query": models.DiscoverQuery(
                discover=models.DiscoverInput(
                    target=a,
                    context=[
                        models.ContextPair(positive=1, negative=2),
                        models.ContextPair(positive=a, negative=5),
                    ],
                )
            ),
            "using": "a",
            "limit": 8,
        },
        "discover, one pair, euclid, filtered": {
            "query": models.DiscoverQuery(
                discover=models.DiscoverInput(
                    target=7, context=models.ContextPair(positive=3, negative=9)
                )
            ),
            "using": "b",
            "query_filter": g_is(0, 1),
            "limit": 6,
        },
        "context": {
            "query": models.ContextQuery(
                context=[
                    models.ContextPair(positive=10, negative=11),
                    models.ContextPair(positive=12, negative=b),
                ]
            ),
            "using": "b",
            "limit": 10,
        },
        "formula: score plus a payload number, a condition and decays": {
            "prefetch": both,
            "query": models.FormulaQuery(
                formula=models.SumExpression(
                    sum=[
                        "$score[0]",
                        models.MultExpression(mult=[0.5, "$score[1]"]),
                        models.MultExpression(mult=[0.002, "n"]),
                        models.MultExpression(
                            mult=[
                                0.3,
                                models.FieldCondition(key="g", match=models.MatchValue(value=1)),
                            ]
                        ),
                        models.GaussDecayExpression(
                            gauss_decay=models.DecayParamsExpression(x="n", target=50, scale=20)
                        ),
                        models.ExpDecayExpression(
                            exp_decay=models.DecayParamsExpression(x="n", scale=40, midpoint=0.3)
                        ),
                        models.LinDecayExpression(
                            lin_decay=models.DecayParamsExpression(x="g", target=2, scale=4)
                        ),
                    ]
                )
            ),
            "limit": 12,
        },
        "formula: arithmetic and defaults": {
            "prefetch": models.Prefetch(query=a, using="a", limit=30),
            "query": models.FormulaQuery(
                formula=models.SumExpression(
                    sum=[
                        models.DivExpression(
                            div=models.DivParams(left="$score", right="g", by_zero_default=-1.0)
                        ),
                        models.PowExpression(pow=models.PowParams(base="missing", exponent=2)),
                        models.SqrtExpression(sqrt=models.AbsExpression(abs="$score")),
                        models.LnExpression(ln=models.SumExpression(sum=["n", 1])),
                        models.NegExpression(
                            neg=models.Log10Expression(log10=models.SumExpression(sum=["g", 2]))
                        ),
                        models.MultExpression(
                            mult=[models.DatetimeExpression(datetime="2024-05-01T00:00:00Z"), 1e-9]
                        ),
                    ]
                ),
                defaults={"missing": 1.5},
            ),
            "score_threshold": 0.0,
            "offset": 2,
        },
        **{
            f"relevance feedback, {using}": {
                "query": models.RelevanceFeedbackQuery(
                    relevance_feedback=models.RelevanceFeedbackInput(
                        target=vector,
                        feedback=[
                            models.FeedbackItem(example=3, score=0.9),
                            models.FeedbackItem(example=17, score=0.2),
                            models.FeedbackItem(example=vector2, score=0.5),
                        ],
                        strategy=models.NaiveFeedbackStrategy(
                            naive=models.NaiveFeedbackStrategyParams(a=0.7, b=1.5, c=0.4)
                        ),
                    )
                ),
                "using": using,
                "limit": 7,
            }
            for using, vector, vector2 in (("a", a, query(rng, "a")), ("b", b, query(rng, "b")))
        },
        **{
            f"recommend {strategy.value}, sparse": {
                "query": models.RecommendQuery(
                    recommend=models.RecommendInput(
                        positive=[3, sparse(rng)], negative=[8], strategy=strategy
                    )
                ),
                "using": "s",
                "limit": N,  # points sharing no index with an example tie: all of them
            }
            for strategy in models.RecommendStrategy
        },
        "discover, sparse": {
            "query": models.DiscoverQuery(
                discover=models.DiscoverInput(
                    target=sparse(rng),
                    context=[models.ContextPair(positive=2, negative=sparse(rng))],
                )
            ),
            "using": "s",
            "limit": N,  # points sharing no index with an example tie: all of them
        },
        "context, sparse": {
            "query": models.ContextQuery(
                context=[models.ContextPair(positive=sparse(rng), negative=sparse(rng))]
            ),
            "using": "s",
            "limit": N,  # points sharing no index with an example tie: all of them
        },
        "recommend best_score, negatives only, euclid": {
            "query": models.RecommendQuery(
                recommend=models.RecommendInput(
                    negative=[5, 6], strategy=models.RecommendStrategy.BEST_SCORE
                )
            ),
            "using": "b",
            "query_filter": g_is(0, 3),
        },
    }


@pytest.mark.parametrize("case", sorted(cases()))
def test_query_forms_agree_with_local_mode(clients, case):
    remote, local, name = clients
    kwargs = cases()[case]
    got = summary(remote.query_points(name, **kwargs).points)
    expected = summary(local.query_points(name, **kwargs).points)
    if len({score for _, score, _ in expected}) == len(expected):
        assert got == expected
    else:  # tied points come in any order (over sparse vectors, those sharing no index)
        assert [score for _, score, _ in got] == [score for _, score, _ in expected]
        assert sorted(got, key=repr) == sorted(expected, key=repr)


def test_relevance_feedback_over_a_sparse_vector(clients):
    """Local mode has no relevance feedback over sparse vectors (Qdrant has): the scores here
    are the naive strategy's over idf-weighted dot products, 0 where no index is shared."""
    remote, local, name = clients
    target = models.SparseVector(indices=[1, 4, 9], values=[1.0, 0.5, 2.0])
    feedback = [
        models.FeedbackItem(example=3, score=0.9),
        models.FeedbackItem(example=17, score=0.2),
    ]
    naive = models.NaiveFeedbackStrategyParams(a=0.7, b=1.5, c=0.4)
    query = models.RelevanceFeedbackQuery(
        relevance_feedback=models.RelevanceFeedbackInput(
            target=target, feedback=feedback, strategy=models.NaiveFeedbackStrategy(naive=naive)
        )
    )
    got = remote.query_points(name, query=query, using="s", limit=N).points

    held = {p.id: p.vector["s"] for p in local.retrieve(name, list(range(N)), with_vectors=["s"])}
    counts = Counter(i for vector in held.values() for i in vector.indices)
    idf = {i: math.log(1 + (N - n + 0.5) / (n + 0.5)) for i, n in counts.items()}

    def similarity(example: models.SparseVector, point: models.SparseVector) -> float:
        values = dict(zip(point.indices, point.values, strict=True))
        pairs = zip(example.indices, example.values, strict=True)
        return sum(v * idf.get(i, 0.0) * values[i] for i, v in pairs if i in values)

    weight = 0.4 * (0.9 - 0.2) ** 1.5
    expected = {
        pid: 0.7 * similarity(target, vector)
        + weight * (similarity(held[3], vector) - similarity(held[17], vector))
        for pid, vector in held.items()
        if pid not in (3, 17)
    }
    assert [p.score for p in got] == sorted((p.score for p in got), reverse=True)
    assert {p.id for p in got} == expected.keys()
    for point in got:
        assert math.isclose(point.score, expected[point.id], rel_tol=1e-4, abs_tol=1e-5)


def test_sample_draws_distinct_points_that_pass_the_filter(clients):
    remote, _, name = clients
    sample = models.SampleQuery(sample=models.Sample.RANDOM)
    drawn = remote.query_points(name, query=sample, query_filter=g_is(1), limit=50).points
    assert sorted(p.id for p in drawn) == [i for i in range(N) if i % 4 == 1]
    some = remote.query_points(name, query=sample, limit=10).points
    assert len({p.id for p in some}) == 10


def test_classic_search_recommend_and_discover_answer_lists(clients, base_url):
    _, local, name = clients
    rng = random.Random(3)
    a = query(rng, "a")
    http = httpx.Client(base_url=base_url)
    found = http.post(
        f"/collections/{name}/points/search",
        json={"vector": {"name": "a", "vector": a}, "limit": 4, "filter": g_is(1).model_dump()},
    ).json()["result"]
    expected = local.query_points(name, a, using="a", limit=4, query_filter=g_is(1)).points
    assert [(p["id"], round(p["score"], 4)) for p in found] == [
        (p.id, round(p.score, 4)) for p in expected
    ]
    body = {"positive": [1, 2], "negative": [3], "using": "a", "limit": 3}
    batch = http.post(
        f"/collections/{name}/points/recommend/batch", json={"searches": [body, body]}
    ).json()["result"]
    reco = models.RecommendQuery(recommend=models.RecommendInput(positive=[1, 2], negative=[3]))
    expected = local.query_points(name, reco, using="a", limit=3).points
    assert [[p["id"] for p in answer] for answer in batch] == [[p.id for p in expected]] * 2
    pairs = [{"positive": 1, "negative": 2}]
    found = http.post(
        f"/collections/{name}/points/discover",
        json={"target": 4, "context": pairs, "using": "a", "limit": 5},
    ).json()["result"]
    discover = models.DiscoverQuery(
        discover=models.DiscoverInput(target=4, context=models.ContextPair(positive=1, negative=2))
    )
    expected = local.query_points(name, discover, using="a", limit=5).points
    assert [(p["id"], round(p["score"], 4)) for p in found] == [
        (p.id, round(p.score, 4)) for p in expected
    ]
    batch = http.post(
        f"/collections/{name}/points/discover/batch",
        json={"searches": [{"context": pairs, "using": "a", "limit": 3}]},
    ).json()["result"]
    context = models.ContextQuery(context=models.ContextPair(positive=1, negative=2))
    every = {
        p.id: round(p.score, 4)
        for p in local.query_points(name, context, using="a", limit=N).points
    }
    # every point closer to the positive scores 0: which of them come first is unspecified
    [answer] = batch
    assert [round(p["score"], 4) for p in answer] == sorted(every.values(), reverse=True)[:3]
    assert all(every[p["id"]] == round(p["score"], 4) for p in answer)
    assert http.get(f"/collections/{name}/points/search").status_code == 405
    assert http.post(f"/collections/{name}/points/search", json={"vector": a}).status_code == 400


def test_query_form_errors(clients, base_url):
    remote, _, name = clients
    with pytest.raises(UnexpectedResponse, match="prefetch"):
        remote.query_points(name, query=models.FusionQuery(fusion=models.Fusion.RRF))
    with pytest.raises(UnexpectedResponse, match="A query is needed to merge the prefetches"):
        remote.query_points(name, prefetch=models.Prefetch(query=[0.0] * 8, using="a"))
    with pytest.raises(UnexpectedResponse, match="No point with id 999 found"):
        reco = models.RecommendInput(positive=[999])
        remote.query_points(name, query=models.RecommendQuery(recommend=reco), using="a")
    mixed = "Conversion between sparse and regular vectors failed"
    with pytest.raises(UnexpectedResponse, match=mixed):
        remote.query_points(name, query=[0.5] * 8, using="s")
    with pytest.raises(UnexpectedResponse, match=mixed):
        remote.query_points(name, query=models.SparseVector(indices=[1], values=[1.0]), using="a")
    ln_of_negative = {
        "prefetch": {"query": [0.0] * 8, "using": "a"},
        "query": {"formula": {"ln": {"neg": "$score"}}},
    }
    answer = httpx.post(f"{base_url}/collections/{name}/points/query", json=ln_of_negative)
    assert answer.status_code == 400 and "non-finite" in answer.text
    answer = httpx.post(
        f"{base_url}/collections/{name}/points/query",
        json={"prefetch": ln_of_negative["prefetch"], "query": {"formula": "nowhere"}},
    )
    assert answer.status_code == 400 and "No value found for nowhere" in answer.text
    bad_mmr = {"query": {"nearest": [0.0] * 8, "mmr": {"diversity": 2}}, "using": "a"}
    answer = httpx.post(f"{base_url}/collections/{name}/points/query", json=bad_mmr)
    assert answer.status_code == 422 and "mmr.diversity" in answer.text
    with pytest.raises(UnexpectedResponse, match="Not existing vector name error: c"):
        remote.query_points(
            name, prefetch=models.Prefetch(query=[1.0, 2.0], using="c"), query=[0.0] * 8
        )


def test_lookup_from_takes_ids_from_another_collection(clients):
    """Ids in a query name points of `lookup_from`'s collection (its `vector`, else `using`),
    and are not left out of the answer; a vector of another size is an error."""
    remote, local, name = clients
    other = "universal_examples"
    rng = random.Random(4)
    examples = [
        models.PointStruct(id=i, vector={"e": [rng.gauss(0, 1) for _ in range(8)]})
        for i in range(3)
    ]
    for client in (remote, local):
        if client.collection_exists(other):
            client.delete_collection(other)
        client.create_collection(other, {"e": VECTORS["a"], "b": VECTORS["b"]})
        client.upsert(other, examples, wait=True)
    lookup = models.LookupLocation(collection=other, vector="e")
    for query in (
        1,
        models.RecommendQuery(recommend=models.RecommendInput(positive=[0, 1], negative=[2])),
        models.DiscoverQuery(
            discover=models.DiscoverInput(
                target=0, context=models.ContextPair(positive=1, negative=2)
            )
        ),
    ):
        kwargs = {"query": query, "using": "a", "lookup_from": lookup, "limit": 6}
        got = remote.query_points(name, **kwargs).points
        assert summary(got) == summary(local.query_points(name, **kwargs).points)
    every = remote.query_points(name, 1, using="a", lookup_from=lookup, limit=N).points
    assert len(every) == N  # point 1 of this collection is not the example: it stays in
    wrong = models.LookupLocation(collection=other, vector="b")
    with pytest.raises(UnexpectedResponse, match="dimension"):
        remote.query_points(name, 1, using="a", lookup_from=wrong)


def test_recommend_over_a_sparse_vector_no_point_has(base_url: str, name: str) -> None:
    """Scoring examples against no stored sparse vector at all answers no points."""
    client = QdrantClient(url=base_url)
    client.create_collection(name, vectors_config={}, sparse_vectors_config=SPARSE)
    client.upsert(name, [models.PointStruct(id=1, vector={})], wait=True)
    example = models.SparseVector(indices=[1, 2], values=[0.5, 1.0])
    for strategy in (models.RecommendStrategy.BEST_SCORE, models.RecommendStrategy.SUM_SCORES):
        query = models.RecommendQuery(
            recommend=models.RecommendInput(positive=[example], strategy=strategy)
        )
        assert client.query_points(name, query, using="s").points == []


def test_tied_scores_on_shards_come_in_id_order_as_on_one(base_url: str, name: str) -> None:
    """Points of equal score, spread over 3 shards, are cut and ordered by id, as one shard
    orders them."""
    client = QdrantClient(url=base_url)
    tied = [models.PointStruct(id=i, vector=[1.0, 0.0], payload={"v": i % 3}) for i in range(30)]
    answers = []
    for shards in (1, 3):
        each = f"{name}-{shards}"
        params = models.VectorParams(size=2, distance=models.Distance.DOT)
        client.create_collection(each, params, shard_number=shards)
        client.create_payload_index(each, "v", "integer", wait=True)
        client.upsert(each, tied, wait=True)
        by_score = client.query_points(each, [1.0, 0.0], limit=7, offset=2).points
        by_value = client.query_points(
            each, models.OrderByQuery(order_by=models.OrderBy(key="v")), limit=7
        ).points
        answers.append(([p.id for p in by_score], [(p.id, p.order_value) for p in by_value]))
    assert answers[0][0] == answers[1][0] == list(range(2, 9))
    assert [value for _, value in answers[1][1]] == [0] * 7
    assert answers[1][1] == sorted(answers[1][1], key=lambda entry: entry[0])
