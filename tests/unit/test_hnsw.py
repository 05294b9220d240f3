"""The HNSW graph over a vector table: tuned until its recall reaches the target, and kept
current row by row."""

from __future__ import annotations

import numpy as np

from projections.collections import VectorSpec
from projections.hnsw import TARGET_RECALL, Graph, HnswConfig
from projections.vector_table import VectorTable


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    vectors = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.5, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def table_of(vectors: np.ndarray, distance: str = "Cosine") -> VectorTable:
    table = VectorTable(VectorSpec("", distance, vectors.shape[1]))
    table.put_many([str(i) for i in range(len(vectors))], [v.tobytes() for v in vectors])
    return table


DEFAULTS = HnswConfig()


def built(table: VectorTable, config: HnswConfig = DEFAULTS) -> Graph:
    graph = Graph(table, config)
    rows = np.flatnonzero(table.live[: table.high]).astype(np.int64)
    graph.build(table.matrix, rows)
    return graph


def test_a_graph_is_due_past_the_full_scan_threshold_and_not_for_manhattan() -> None:
    table = table_of(clustered(300, 16))  # 300 * 16 * 4 bytes = 18.75 KB
    assert HnswConfig(full_scan_threshold=18).wants_graph(table)
    assert not HnswConfig(full_scan_threshold=19).wants_graph(table)
    assert not HnswConfig(full_scan_threshold=0).wants_graph(
        table_of(clustered(300, 16), "Manhattan")
    )


def test_tuning_raises_ef_until_the_recall_target_is_reached() -> None:
    graph = built(table_of(clustered(3000, 32)), HnswConfig(m=4, ef_construct=10))
    assert graph.usable and graph.recall is not None and graph.recall >= TARGET_RECALL
    assert graph.ef > 10  # such a sparse graph needs a wider search


def test_removed_rows_are_never_found_and_new_ones_are() -> None:
    vectors = clustered(2000, 16)
    table = table_of(vectors)
    graph = built(table)
    query = vectors[7]
    assert 7 in graph.search(query, 5, None).tolist()
    row = table.remove("7")
    graph.apply({row: None})
    assert 7 not in graph.search(query, 5, None).tolist()
    new = table.put("new", (-vectors[3]).tobytes())  # takes the freed row
    graph.apply({new: table.matrix[new]})
    assert graph.search(-vectors[3], 1, None).tolist() == [new]


def test_the_recall_it_reports_is_what_new_queries_get() -> None:
    """Measured on points held out of the graph, as new queries are: searching the graph's own
    points instead reports more than new queries get."""
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(4000, 32)).astype(np.float32)  # i.i.d.: HNSW's hardest case
    table = table_of(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    graph = built(table, HnswConfig(m=4, ef_construct=10))
    queries = rng.normal(size=(300, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    hits = 0
    for query in queries:
        truth = np.argsort(-(table.matrix[: table.high] @ query), kind="stable")[:10]
        found = graph.search(query, 10, None)
        assert found is not None
        hits += len(set(found.tolist()) & set(truth.tolist()))
    assert graph.recall is not None
    assert abs(graph.recall - hits / (10 * len(queries))) <= 0.04
