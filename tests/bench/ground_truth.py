"""Exact nearest neighbours computed here with numpy (float32, Cosine), and the recall@k of a
system's answers against them: what an approximate index is judged by."""

from __future__ import annotations

import numpy as np

QUERY_CHUNK = 64  # queries scored at once: bounds the (chunk, N) score matrix


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1: Cosine similarity is then a dot product."""
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def nearest_ids(
    vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None
) -> np.ndarray:
    """The ids of each query's k best points by Cosine (among the `mask` ones), in no order:
    shape (queries, min(k, candidates))."""
    if mask is not None:
        vectors, ids = vectors[mask], ids[mask]
    points = unit(vectors.astype(np.float32, copy=False))
    k = min(k, len(ids))
    found = []
    for start in range(0, len(queries), QUERY_CHUNK):
        scores = unit(queries[start : start + QUERY_CHUNK]) @ points.T
        found.append(ids[np.argpartition(-scores, k - 1, axis=1)[:, :k]])
    return np.concatenate(found)


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    """Mean share of each query's true neighbours that the system returned."""
    hits = [np.intersect1d(got, want).size for got, want in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]
