"""Haystack's Qdrant document store and retrievers (qdrant-haystack), unchanged: documents with
dense and sparse embeddings of our own, then the embedding, sparse-embedding and hybrid
retrievers (with and without filters, and grouped by a meta field), each run once against
pointlog and once against qdrant-client's local mode: the two must return the same documents in
the same order with the same scores."""

from __future__ import annotations

import os

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # before Haystack is imported

from collections.abc import Callable
from typing import Any

import pytest
from haystack import Document
from haystack.dataclasses import SparseEmbedding
from haystack_integrations.components.retrievers.qdrant import (
    QdrantEmbeddingRetriever,
    QdrantHybridRetriever,
    QdrantSparseEmbeddingRetriever,
)
from haystack_integrations.document_stores.qdrant import QdrantDocumentStore

from tests.e2e.rag_support import (
    DIM,
    DOCS,
    QUERIES,
    Hit,
    assert_no_ties,
    assert_same,
    dense,
    sparse,
)
from tests.e2e.rag_support import offline as offline

pytestmark = pytest.mark.usefixtures("offline")

Steps = Callable[[QdrantDocumentStore], list[list[Hit]]]
NORTH = {"field": "meta.group", "operator": "==", "value": "north"}
NOT_EAST_SMALL = {
    "operator": "AND",
    "conditions": [
        {"field": "meta.group", "operator": "!=", "value": "east"},
        {"field": "meta.n", "operator": "<", "value": 20},
    ],
}


def sparse_embedding(text: str) -> SparseEmbedding:
    indices, values = sparse(text)
    return SparseEmbedding(indices=indices, values=values)


def documents() -> list[Document]:
    return [
        Document(
            content=d.text,
            meta={"group": d.group, "n": d.n},
            embedding=dense(d.text),
            sparse_embedding=sparse_embedding(d.text),
        )
        for d in DOCS
    ]


def hits(found: dict[str, list[Document]]) -> list[Hit]:
    return [Hit(doc.id, doc.content or "", doc.score) for doc in found["documents"]]


def with_vectors(found: dict[str, list[Document]]) -> list[Hit]:
    """Hits whose text also holds the returned dense (to 4 places) and sparse embeddings."""
    out = []
    for doc in found["documents"]:
        assert doc.embedding is not None and doc.sparse_embedding is not None
        vectors = [round(x, 4) for x in doc.embedding], doc.sparse_embedding.to_dict()
        out.append(Hit(doc.id, f"{doc.content} {vectors}", doc.score))
    return out


def both(base_url: str, name: str, steps: Steps, **options: Any) -> list[list[Hit]]:
    """The steps on pointlog and on local mode, each on a store recreated for them: local
    mode's answers, asserted equal to pointlog's."""
    results = []
    for where in ({"url": base_url, "timeout": 60}, {"location": ":memory:"}):
        store = QdrantDocumentStore(
            **where,
            index=name,
            embedding_dim=DIM,
            use_sparse_embeddings=True,
            recreate_index=True,
            **options,
        )
        assert store.write_documents(documents()) == len(DOCS)
        assert store.count_documents() == len(DOCS)
        results.append(steps(store))
        store.close()
    ours, theirs = results
    for server, local in zip(ours, theirs, strict=True):
        assert server
        assert_same(server, local)
    return theirs


@pytest.mark.parametrize("idf", [False, True], ids=["counts", "idf"])
def test_embedding_sparse_and_hybrid_retrievers(base_url: str, name: str, idf: bool) -> None:
    def steps(store: QdrantDocumentStore) -> list[list[Hit]]:
        by_dense = QdrantEmbeddingRetriever(document_store=store, top_k=6)
        by_sparse = QdrantSparseEmbeddingRetriever(document_store=store, top_k=6)
        hybrid = QdrantHybridRetriever(document_store=store, top_k=6)
        runs = []
        for text in QUERIES:
            for filters in (None, NORTH, NOT_EAST_SMALL):
                runs.append(hits(by_dense.run(query_embedding=dense(text), filters=filters)))
                runs.append(
                    hits(
                        by_sparse.run(
                            query_sparse_embedding=sparse_embedding(text), filters=filters
                        )
                    )
                )
                runs.append(
                    hits(
                        hybrid.run(
                            query_embedding=dense(text),
                            query_sparse_embedding=sparse_embedding(text),
                            filters=filters,
                        )
                    )
                )
        runs.append(
            with_vectors(by_dense.run(query_embedding=dense(QUERIES[2]), return_embedding=True))
        )
        runs.append(
            with_vectors(
                by_sparse.run(
                    query_sparse_embedding=sparse_embedding(QUERIES[2]), return_embedding=True
                )
            )
        )
        runs.append([Hit(d.id, d.content or "", d.score) for d in store.filter_documents(NORTH)])
        runs.append(
            hits(
                hybrid.run(
                    query_embedding=dense(QUERIES[0]),
                    query_sparse_embedding=sparse_embedding(QUERIES[0]),
                    rrf_k=10,
                    rrf_weights=[2.0, 1.0],
                )
            )
        )
        return runs

    answers = both(base_url, name, steps, sparse_idf=idf)
    # the dense and sparse answers (not the fused ones) have an order that ties can't blur
    for at, answer in enumerate(answers[:27]):
        if at % 3 != 2:
            assert_no_ties(answer)
    assert len(answers[29]) == len([d for d in DOCS if d.group == "north"])
    north = {d.text for d in DOCS if d.group == "north"}
    assert {hit.text for hit in answers[3]} <= north  # dense, first query, NORTH


def test_grouped_retrieval(base_url: str, name: str) -> None:
    def steps(store: QdrantDocumentStore) -> list[list[Hit]]:
        by_dense = QdrantEmbeddingRetriever(
            document_store=store, top_k=3, group_by="meta.group", group_size=2
        )
        by_sparse = QdrantSparseEmbeddingRetriever(
            document_store=store, top_k=3, group_by="meta.group", group_size=2
        )
        hybrid = QdrantHybridRetriever(
            document_store=store, top_k=3, group_by="meta.group", group_size=2
        )
        runs = []
        for text in QUERIES:
            runs.append(hits(by_dense.run(query_embedding=dense(text))))
            runs.append(hits(by_sparse.run(query_sparse_embedding=sparse_embedding(text))))
            runs.append(
                hits(
                    hybrid.run(
                        query_embedding=dense(text), query_sparse_embedding=sparse_embedding(text)
                    )
                )
            )
        runs.append(hits(by_dense.run(query_embedding=dense(QUERIES[1]), filters=NOT_EAST_SMALL)))
        return runs

    answers = both(base_url, name, steps)
    group_of = {d.text: d.group for d in DOCS}
    for answer in answers:
        groups = [group_of[hit.text] for hit in answer]
        # three groups of two, each group's hits together
        assert len(answer) == 6 and len(set(groups)) == 3, groups
        assert all(groups[i] == groups[i + 1] for i in range(0, 6, 2)), groups
