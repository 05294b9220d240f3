"""LlamaIndex's Qdrant vector store (llama-index-vector-stores-qdrant), unchanged, with sparse
functions of our own (no FastEmbed model): hybrid, sparse and dense queries on a hybrid
collection, and dense queries with metadata filters on a plain one, each run once against
pointlog and once against qdrant-client's local mode: the two must return the same nodes in the
same order with the same similarities."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import AsyncQdrantClient, QdrantClient

from tests.e2e.rag_support import DOCS, QUERIES, Hit, assert_no_ties, assert_same, dense, sparse
from tests.e2e.rag_support import offline as offline

pytestmark = [
    pytest.mark.usefixtures("offline"),
    # LlamaIndex indexes doc_id; local mode warns that it has no payload indexes
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]


def encode(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
    """LlamaIndex's sparse encoder signature: texts -> (indices of each, values of each)."""
    pairs = [sparse(text) for text in texts]
    return [indices for indices, _ in pairs], [values for _, values in pairs]


def nodes() -> list[BaseNode]:
    return [
        TextNode(
            id_=d.id, text=d.text, metadata={"group": d.group, "n": d.n}, embedding=dense(d.text)
        )
        for d in DOCS
    ]


def hits(result: VectorStoreQueryResult) -> list[Hit]:
    assert result.nodes is not None and result.similarities is not None and result.ids is not None
    return [
        Hit(node_id, node.get_content(), score)
        for node_id, node, score in zip(result.ids, result.nodes, result.similarities, strict=True)
    ]


def vector_store(client: QdrantClient, name: str, hybrid: bool) -> QdrantVectorStore:
    if not hybrid:
        return QdrantVectorStore(collection_name=name, client=client)
    return QdrantVectorStore(
        collection_name=name,
        client=client,
        enable_hybrid=True,
        sparse_doc_fn=encode,
        sparse_query_fn=encode,
    )


def compare(
    base_url: str, name: str, hybrid: bool, queries: list[VectorStoreQuery]
) -> list[list[Hit]]:
    """The queries on pointlog and on local mode: local mode's answers, asserted equal."""
    results = []
    for client in (QdrantClient(url=base_url, timeout=60), QdrantClient(":memory:")):
        store = vector_store(client, name, hybrid)
        assert store.add(nodes()) == [d.id for d in DOCS]
        results.append([hits(store.query(query)) for query in queries])
        client.close()
    ours, theirs = results
    for query, server, local in zip(queries, ours, theirs, strict=True):
        assert server, query
        assert_same(server, local)
    return theirs


def test_hybrid_sparse_and_dense_queries(base_url: str, name: str) -> None:
    queries = []
    for text in QUERIES:
        for mode in (VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SPARSE):
            queries.append(
                VectorStoreQuery(
                    query_embedding=dense(text),
                    query_str=text,
                    mode=mode,
                    similarity_top_k=5,
                    sparse_top_k=8,
                )
            )
        queries.append(
            VectorStoreQuery(query_embedding=dense(text), mode=VectorStoreQueryMode.DEFAULT)
        )
    south = MetadataFilters(filters=[MetadataFilter(key="group", value="south")])
    queries.append(
        VectorStoreQuery(
            query_embedding=dense(QUERIES[0]),
            query_str=QUERIES[0],
            mode=VectorStoreQueryMode.HYBRID,
            similarity_top_k=4,
            filters=south,
        )
    )
    answers = compare(base_url, name, True, queries)
    assert {hit.id for hit in answers[-1]} <= {d.id for d in DOCS if d.group == "south"}
    for query, answer in zip(queries, answers, strict=True):
        if query.mode == VectorStoreQueryMode.SPARSE:
            assert_no_ties(answer)


def test_dense_with_metadata_filters(base_url: str, name: str) -> None:
    north_or_east = MetadataFilters(
        filters=[
            MetadataFilter(key="group", value="north"),
            MetadataFilter(key="group", value="east"),
        ],
        condition=FilterCondition.OR,
    )
    small_not_west = MetadataFilters(
        filters=[
            MetadataFilter(key="n", value=12, operator=FilterOperator.LT),
            MetadataFilter(key="group", value="west", operator=FilterOperator.NE),
        ]
    )
    in_groups = MetadataFilters(
        filters=[MetadataFilter(key="group", value=["south", "west"], operator=FilterOperator.IN)]
    )
    queries = [
        VectorStoreQuery(query_embedding=dense(text), similarity_top_k=6, filters=filters)
        for text in QUERIES
        for filters in (None, north_or_east, small_not_west, in_groups)
    ]
    for answer in compare(base_url, name, False, queries):
        assert_no_ties(answer)


def test_async_client(base_url: str, name: str) -> None:
    """The same store on AsyncQdrantClient alone: async_add, aquery, adelete."""
    west = MetadataFilters(filters=[MetadataFilter(key="group", value="west")])
    queries = [
        VectorStoreQuery(
            query_embedding=dense(text),
            query_str=text,
            mode=mode,
            similarity_top_k=5,
            filters=filters,
        )
        for text in QUERIES
        for mode in (VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SPARSE)
        for filters in (None, west)
    ]

    async def run(client: AsyncQdrantClient) -> list[list[Hit]]:
        store = QdrantVectorStore(
            collection_name=name,
            aclient=client,
            enable_hybrid=True,
            sparse_doc_fn=encode,
            sparse_query_fn=encode,
        )
        assert await store.async_add(nodes()) == [d.id for d in DOCS]
        runs = [hits(await store.aquery(query)) for query in queries]
        await store.adelete_nodes([DOCS[0].id, DOCS[1].id])
        runs += [hits(await store.aquery(query)) for query in queries[:2]]
        await client.close()
        return runs

    ours = asyncio.run(run(AsyncQdrantClient(url=base_url, timeout=60)))
    theirs = asyncio.run(run(AsyncQdrantClient(":memory:")))
    for server, local in zip(ours, theirs, strict=True):
        assert server
        assert_same(server, local)
    assert not {DOCS[0].id, DOCS[1].id} & {hit.id for run in ours[-2:] for hit in run}
