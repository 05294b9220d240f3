"""LangChain's Qdrant vector store, unchanged, in its sparse and hybrid retrieval modes and its
maximal-marginal-relevance search, each run once against pointlog and once against
qdrant-client's local mode: the two must return the same documents in the same order with the
same scores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_qdrant import QdrantVectorStore, RetrievalMode, SparseEmbeddings, SparseVector
from qdrant_client import models

from tests.e2e.rag_support import DOCS, QUERIES, Hit, assert_no_ties, assert_same, dense, sparse
from tests.e2e.rag_support import offline as offline

pytestmark = pytest.mark.usefixtures("offline")


class Dense(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [dense(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return dense(text)


class Sparse(SparseEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> SparseVector:
        indices, values = sparse(text)
        return SparseVector(indices=indices, values=values)


Where = dict[str, Any]  # url=... or location=":memory:"
Steps = Callable[[QdrantVectorStore], list[list[Hit]]]


def store(where: Where, name: str, mode: RetrievalMode) -> QdrantVectorStore:
    return QdrantVectorStore.from_texts(
        [d.text for d in DOCS],
        embedding=None if mode == RetrievalMode.SPARSE else Dense(),
        metadatas=[{"group": d.group, "n": d.n} for d in DOCS],
        ids=[d.id for d in DOCS],
        collection_name=name,
        retrieval_mode=mode,
        sparse_embedding=None if mode == RetrievalMode.DENSE else Sparse(),
        **where,
    )


def hits(found: list[Any]) -> list[Hit]:
    return [Hit(doc.metadata["_id"], doc.page_content, score) for doc, score in found]


def both(base_url: str, name: str, mode: RetrievalMode, steps: Steps) -> list[list[Hit]]:
    """The steps on pointlog and on local mode: their results, asserted equal, from pointlog."""
    ours = steps(store({"url": base_url}, name, mode))
    theirs = steps(store({"location": ":memory:"}, name, mode))
    assert len(ours) == len(theirs)
    for server, local in zip(ours, theirs, strict=True):
        assert_same(server, local)
    return ours


ADDED = "00000000-0000-4000-8000-000000000099"
NORTH = models.Filter(
    must=[models.FieldCondition(key="metadata.group", match=models.MatchValue(value="north"))]
)


def test_sparse_mode(base_url: str, name: str) -> None:
    def steps(vs: QdrantVectorStore) -> list[list[Hit]]:
        runs = [hits(vs.similarity_search_with_score(q, k=6)) for q in QUERIES]
        runs.append(hits(vs.similarity_search_with_score(QUERIES[0], k=4, filter=NORTH)))
        for run in runs:
            assert_no_ties(run)
        return runs

    runs = both(base_url, name, RetrievalMode.SPARSE, steps)
    assert [len(run) for run in runs] == [6, 6, 6, 4]
    weights = {"river": 1, "stone": 4, "cloud": 16}  # QUERIES[0]'s words and counts
    best = max(DOCS, key=lambda d: sum(weights.get(word, 0) for word in d.text.split()))
    assert runs[0][0].id == best.id


def test_hybrid_mode_rrf_and_dbsf(base_url: str, name: str) -> None:
    dbsf = models.FusionQuery(fusion=models.Fusion.DBSF)

    def steps(vs: QdrantVectorStore) -> list[list[Hit]]:
        runs = [hits(vs.similarity_search_with_score(q, k=5)) for q in QUERIES]
        runs.append(hits(vs.similarity_search_with_score(QUERIES[1], k=5, filter=NORTH)))
        runs += [hits(vs.similarity_search_with_score(q, k=5, hybrid_fusion=dbsf)) for q in QUERIES]
        [added] = vs.add_texts(
            ["river river river stone cloud"], metadatas=[{"n": 99}], ids=[ADDED]
        )
        runs.append(hits(vs.similarity_search_with_score(QUERIES[0], k=5)))
        assert vs.delete([added]) is True
        runs.append(hits(vs.similarity_search_with_score(QUERIES[0], k=5)))
        return runs

    runs = both(base_url, name, RetrievalMode.HYBRID, steps)
    assert all(len(run) == 5 for run in runs)
    assert {h.id for h in runs[3]} <= {d.id for d in DOCS if d.group == "north"}


def test_max_marginal_relevance_search(base_url: str, name: str) -> None:
    def steps(vs: QdrantVectorStore) -> list[list[Hit]]:
        runs = []
        for q in QUERIES:
            embedding = Dense().embed_query(q)
            for lambda_mult in (0.0, 0.5, 1.0):
                found = vs.max_marginal_relevance_search_with_score_by_vector(
                    embedding, k=5, fetch_k=15, lambda_mult=lambda_mult
                )
                runs.append(hits(found))
        runs.append(
            [
                Hit(d.metadata["_id"], d.page_content, None)
                for d in vs.max_marginal_relevance_search(QUERIES[2], k=4, fetch_k=10, filter=NORTH)
            ]
        )
        return runs

    runs = both(base_url, name, RetrievalMode.DENSE, steps)
    assert [len(run) for run in runs] == [5] * 9 + [4]
