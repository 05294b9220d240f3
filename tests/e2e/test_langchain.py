"""LangChain's Qdrant vector store, unchanged, against pointlog: it creates its collection,
adds documents, searches them (with a metadata filter) and deletes some."""

from __future__ import annotations

import hashlib

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_qdrant import QdrantVectorStore
from qdrant_client import models


class HashEmbeddings(Embeddings):
    """Deterministic stand-in for a model: equal texts get equal vectors."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [byte / 255 for byte in hashlib.sha256(text.encode()).digest()[:16]]


def test_langchain_vector_store(base_url: str, name: str) -> None:
    docs = [
        Document(page_content=f"doc {i}", metadata={"n": i, "kind": "odd" if i % 2 else "even"})
        for i in range(20)
    ]
    store = QdrantVectorStore.from_documents(
        docs, HashEmbeddings(), url=base_url, collection_name=name
    )
    (best, score), *_ = store.similarity_search_with_score("doc 3", k=3)
    assert (best.page_content, best.metadata["n"], round(score, 4)) == ("doc 3", 3, 1.0)

    odd = models.Filter(
        must=[models.FieldCondition(key="metadata.kind", match=models.MatchValue(value="odd"))]
    )
    found = store.similarity_search("doc 4", k=5, filter=odd)
    assert len(found) == 5 and {d.metadata["kind"] for d in found} == {"odd"}

    [added] = store.add_texts(["one more"], metadatas=[{"n": 99}])
    assert store.similarity_search("one more", k=1)[0].metadata["n"] == 99
    assert store.delete([added]) is True
    again = QdrantVectorStore.from_existing_collection(
        collection_name=name, embedding=HashEmbeddings(), url=base_url
    )
    assert [d.page_content for d in again.similarity_search("one more", k=21)].count(
        "one more"
    ) == 0
