"""`/facet` and `/points/search/matrix/pairs|offsets` through qdrant-client over REST (and plain
HTTP), checked against qdrant-client's local mode on the same data. The matrix's sample is
random: local mode is asked for the matrix of the very points pointlog drew (a `has_id` filter
and a sample as large as it), and both must then agree on every pair and score."""

from __future__ import annotations

import random

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

N = 60
VECTORS = {
    "v": models.VectorParams(size=6, distance=models.Distance.COSINE),
    "e": models.VectorParams(size=4, distance=models.Distance.EUCLID),
}
INDEXES = {
    "tags": models.PayloadSchemaType.KEYWORD,
    "n": models.PayloadSchemaType.INTEGER,
    "ok": models.PayloadSchemaType.BOOL,
}
SPARSE = {
    "s": models.SparseVectorParams(),
    "t": models.SparseVectorParams(modifier=models.Modifier.IDF),
}
VOCABULARY = 12  # small, so that most sparse vectors share an index and some do not
COLOURS = ["red", "green", "blue", "grey"]


def match(key: str, value: object) -> models.Filter:
    return models.Filter(
        must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))]
    )


FILTERS = {
    "none": None,
    "indexed match": match("tags", "red"),
    "unindexed range": models.Filter(
        must=[models.FieldCondition(key="x", range=models.Range(gte=0.3))]
    ),
}


def point(rng: random.Random, i: int) -> models.PointStruct:
    """Point i: every fifth one (0, 5, ...) has no vector `e`, every seventh none of `s` and
    `t`; `tags` a colour or two."""
    names = ["v", "e"] if i % 5 else ["v"]
    payload = {
        "tags": rng.choice([rng.choice(COLOURS), rng.choices(COLOURS, k=2)]),
        "n": rng.randint(0, 3),
        "ok": rng.random() < 0.3,
        "x": rng.random(),
    }
    vector: dict = {n: [rng.gauss(0, 1) for _ in range(VECTORS[n].size)] for n in names}
    if i % 7:
        for n in SPARSE:
            indices = rng.sample(range(VOCABULARY), rng.randint(1, 3))
            values = [round(rng.uniform(0.1, 2), 3) for _ in indices]
            vector[n] = models.SparseVector(indices=indices, values=values)
    return models.PointStruct(id=i, vector=vector, payload=payload)


@pytest.fixture(scope="module")
def clients(base_url: str) -> tuple[QdrantClient, QdrantClient, str]:
    """pointlog and local mode, holding the same collection."""
    rng = random.Random(17)
    points = [point(rng, i) for i in range(N)]
    remote, local, name = QdrantClient(url=base_url), QdrantClient(":memory:"), "facet-matrix"
    for client in (remote, local):
        if client.collection_exists(name):
            client.delete_collection(name)
        client.create_collection(name, vectors_config=VECTORS, sparse_vectors_config=SPARSE)
        for field, schema in INDEXES.items():
            client.create_payload_index(name, field, schema, wait=True)
        client.upsert(name, points, wait=True)
    return remote, local, name


def hits(client: QdrantClient, name: str, key: str, flt: models.Filter | None, limit: int) -> list:
    found = client.facet(name, key, facet_filter=flt, limit=limit).hits
    return [(hit.value, hit.count) for hit in found]


@pytest.mark.parametrize("flt", FILTERS.values(), ids=FILTERS.keys())
def test_facet_counts_as_local_mode(clients, flt):
    remote, local, name = clients
    for key in INDEXES:
        for limit in (1, 3, 10):
            assert hits(remote, name, key, flt, limit) == hits(local, name, key, flt, limit)
    assert len(hits(remote, name, "tags", flt, 10)) == len(COLOURS)  # arrays count each colour


def test_facet_follows_writes(clients):
    remote, local, name = clients
    extra = models.PointStruct(id=N, vector={"v": [1.0] * 6}, payload={"tags": ["mauve"]})
    for client in (remote, local):
        client.upsert(name, [extra])  # no wait: the facet still sees it
    assert ("mauve", 1) in hits(remote, name, "tags", None, 10)
    for client in (remote, local):
        client.delete(name, [N], wait=True)
    assert hits(remote, name, "tags", None, 10) == hits(local, name, "tags", None, 10)


def test_facet_errors(clients, base_url):
    remote, _, name = clients
    with pytest.raises(UnexpectedResponse) as refused:
        remote.facet(name, "x")
    assert refused.value.status_code == 400
    assert "No appropriate index for faceting: `x`. Please create one" in str(refused.value)
    url = f"{base_url}/collections/{name}/facet"
    assert httpx.post(url, json={"key": "tags", "limit": 0}).status_code == 422
    assert httpx.post(url, json={"limit": 3}).json()["status"]["error"] == (
        "Format error in JSON body: missing field `key`"
    )
    bad_filter = {"key": "tags", "filter": {"must": [{"key": "n", "range": "big"}]}}
    assert httpx.post(url, json=bad_filter).status_code == 400


def local_pairs(local: QdrantClient, name: str, ids: list, limit: int, using: str) -> list:
    """Local mode's pairs over exactly these points."""
    only = models.Filter(must=[models.HasIdCondition(has_id=ids)])
    found = local.search_matrix_pairs(
        name, query_filter=only, sample=len(ids), limit=limit, using=using
    ).pairs
    return [(p.a, p.b, p.score) for p in found]


def assert_same_pairs(got: list, want: list) -> None:
    """The same pairs in the same order, scores equal up to float32 rounding; where two
    neighbours' scores tie up to that rounding, either may come first, or be the one cut."""
    assert [a for a, _, _ in got] == [a for a, _, _ in want]  # the same points, as many each
    assert [s for *_, s in got] == pytest.approx([s for *_, s in want], rel=1e-5, abs=1e-6)
    rows: dict = {}
    for a, b, score in want:
        rows.setdefault(a, []).append((b, score))
    for (a, b, score), (_, wanted, _) in zip(got, want, strict=True):
        if b != wanted:  # a tie: b's score as local mode has it (or, if cut, the last one's)
            tied = dict(rows[a]).get(b, rows[a][-1][1])
            assert score == pytest.approx(tied, rel=1e-5, abs=1e-6), (a, b, wanted)


@pytest.mark.parametrize(("using", "sample", "limit"), [("v", 10, 3), ("e", 8, 2), ("v", 200, 4)])
def test_matrix_pairs_as_local_mode_for_the_drawn_points(clients, using, sample, limit):
    remote, local, name = clients
    pairs = remote.search_matrix_pairs(name, sample=sample, limit=limit, using=using).pairs
    drawn = list(dict.fromkeys(p.a for p in pairs))
    having = N if using == "v" else N - N // 5
    assert drawn == sorted(drawn) and len(drawn) == min(sample, having)
    assert len(pairs) == len(drawn) * limit
    got = [(p.a, p.b, p.score) for p in pairs]
    assert_same_pairs(got, local_pairs(local, name, drawn, limit, using))


def test_matrix_offsets_as_local_mode_for_the_drawn_points(clients):
    remote, local, name = clients
    found = remote.search_matrix_offsets(name, sample=12, limit=3, using="v")
    assert found.ids == sorted(found.ids) and len(found.ids) == 12
    assert found.offsets_row == [row for row in range(12) for _ in range(3)]
    assert len(found.offsets_col) == len(found.scores) == 36
    got = [
        (found.ids[row], found.ids[col], score)
        for row, col, score in zip(found.offsets_row, found.offsets_col, found.scores, strict=True)
    ]
    assert_same_pairs(got, local_pairs(local, name, found.ids, 3, "v"))


@pytest.mark.parametrize("using", SPARSE)
def test_sparse_matrix_as_local_mode_for_the_drawn_points(clients, using):
    """A sparse vector's neighbours are those sharing an index with it (so a row may have
    fewer than `limit`), scored by dot product, with `idf` weights for `t`."""
    remote, local, name = clients
    found = remote.search_matrix_offsets(name, sample=20, limit=3, using=using)
    assert found.ids == sorted(found.ids) and len(found.ids) == 20
    assert all(i % 7 for i in found.ids)  # only points that have the vector are drawn
    got = [
        (found.ids[row], found.ids[col], score)
        for row, col, score in zip(found.offsets_row, found.offsets_col, found.scores, strict=True)
    ]
    assert_same_pairs(got, local_pairs(local, name, found.ids, 3, using))
    held = {
        p.id: set(p.vector[using].indices)
        for p in remote.retrieve(name, found.ids, with_vectors=[using])
    }
    assert all(held[a] & held[b] for a, b, _ in got)


def test_matrix_samples_what_the_filter_passes(clients):
    remote, _, name = clients
    ok = remote.scroll(name, match("ok", True), limit=N)[0]
    passing = sorted(p.id for p in ok)
    found = remote.search_matrix_offsets(
        name, query_filter=match("ok", True), sample=5, limit=2, using="v"
    )
    assert set(found.ids) <= set(passing) and len(found.ids) == min(5, len(passing))
    every = remote.search_matrix_pairs(
        name, query_filter=match("ok", True), sample=N, limit=2, using="v"
    )
    assert sorted({p.a for p in every.pairs}) == passing
    one = models.Filter(must=[models.HasIdCondition(has_id=[1])])
    assert remote.search_matrix_pairs(name, query_filter=one, using="v").pairs == []
    empty = remote.search_matrix_offsets(name, query_filter=one, using="v")
    assert (empty.ids, empty.offsets_row, empty.offsets_col, empty.scores) == ([], [], [], [])


def test_matrix_errors(clients, base_url):
    remote, _, name = clients
    with pytest.raises(UnexpectedResponse, match="Not existing vector name error: w"):
        remote.search_matrix_pairs(name, using="w")
    url = f"{base_url}/collections/{name}/points/search/matrix/pairs"
    assert httpx.post(url, json={"sample": 1, "using": "v"}).status_code == 422
    assert httpx.post(url, json={"limit": 0, "using": "v"}).status_code == 422
    answer = httpx.post(url, json={"using": ""})  # the unnamed vector, which this one lacks
    assert answer.status_code == 400 and "Not existing vector name error" in answer.text
