"""The generated points every system loads: fixed seed, float32 vectors of one of two kinds
(i.i.d. Gaussian, or embedding-like clusters), a small payload (`city`, `price`, `n`, `tags`),
and their batches; and query vectors drawn from the same distribution. For the hybrid
workloads, sparse vectors (terms drawn Zipf-like from a vocabulary) and a `group` key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

SEED = 42
QUERY_SEED = SEED + 7
CENTRE_SEED = SEED + 11  # the cluster centres: shared by points and queries, at any N
CENTRES = 1000
SPREAD = 1.5  # standard deviation per coordinate around a centre
BATCH = 256  # points per bulk upsert
CITIES = ["Berlin", "London", "Paris", "Madrid", "Rome"]
TAGS = ["red", "green", "blue", "new", "used", "sale", "eco", "vip"]
SPARSE_SEED = SEED + 13
SPARSE_QUERY_SEED = SEED + 17
VOCABULARY = 30_000  # a sparse vector's possible indices; index r drawn with weight 1/(r+1)^ZIPF
ZIPF = 1.1
GROUP_KEY = "group"  # a payload key for grouped queries
GROUPS = 1000  # its distinct values (id % GROUPS, a string)

Payload = dict[str, Any]
Batch = tuple[list[int], np.ndarray, list[Payload]]


@dataclass
class Data:
    ids: list[int]
    vectors: np.ndarray  # (n, dim) float32
    payloads: list[Payload]

    def __len__(self) -> int:
        return len(self.ids)

    def batches(self, size: int = BATCH) -> Iterator[Batch]:
        for start in range(0, len(self.ids), size):
            end = start + size
            yield self.ids[start:end], self.vectors[start:end], self.payloads[start:end]

    def point(self, k: int) -> Batch:
        """The k-th point as a batch of one."""
        return [self.ids[k]], self.vectors[k : k + 1], [self.payloads[k]]

    def raw_bytes_per_point(self) -> float:
        """A float32 vector plus the payload as JSON: what memory figures are compared with."""
        payload = sum(len(orjson.dumps(p)) for p in self.payloads) / len(self.payloads)
        return self.vectors.shape[1] * 4 + payload


def random_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return rng.standard_normal((n, dim), dtype=np.float32)


def clustered_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Unit vectors around CENTRES Gaussian centres, as embeddings of similar items cluster:
    a point's nearest neighbours then stand out from the rest, where i.i.d. vectors in many
    dimensions are all nearly equally far apart, so an approximate index's recall means more."""
    centres = np.random.default_rng(CENTRE_SEED).standard_normal((CENTRES, dim), dtype=np.float32)
    vectors = centres[rng.integers(0, CENTRES, n)]
    vectors += SPREAD * rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


VECTORS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "random": random_vectors,
    "clustered": clustered_vectors,
}
DESCRIPTIONS = {
    "random": "i.i.d. Gaussian",
    "clustered": f"clustered ({CENTRES:,} Gaussian centres, sigma {SPREAD:g} each, normalised)",
}


def make_data(n: int, dim: int, kind: str = "random", seed: int = SEED) -> Data:
    rng = np.random.default_rng(seed)
    vectors = VECTORS[kind](rng, n, dim)
    cities = rng.integers(0, len(CITIES), n)
    prices = rng.random(n) * 100.0
    tags = rng.integers(0, len(TAGS), (n, 2))
    payloads = [
        {
            "city": CITIES[int(cities[i])],
            "price": round(float(prices[i]), 2),
            "n": i,
            "tags": [TAGS[int(tags[i, 0])], TAGS[int(tags[i, 1])]],
        }
        for i in range(n)
    ]
    return Data(list(range(1, n + 1)), vectors, payloads)


@dataclass(frozen=True)
class Sparse:
    indices: np.ndarray  # int32, ascending, distinct
    values: np.ndarray  # float32, in (0, 3]


def make_sparse(count: int, terms: tuple[int, int], seed: int) -> list[Sparse]:
    """`count` sparse vectors of `terms` (lowest, highest) indices drawn Zipf-like from the
    vocabulary, fewer where one is drawn twice (its first value kept)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF
    sizes = rng.integers(terms[0], terms[1] + 1, count)
    drawn = rng.choice(VOCABULARY, int(sizes.sum()), p=weights / weights.sum()).astype(np.int32)
    values = (3.0 * (1.0 - rng.random(drawn.size))).astype(np.float32)
    bounds = np.cumsum(sizes)[:-1]
    found = []
    for indices, vals in zip(np.split(drawn, bounds), np.split(values, bounds), strict=True):
        unique, first = np.unique(indices, return_index=True)
        found.append(Sparse(unique, vals[first]))
    return found


def with_groups(data: Data) -> Data:
    """The same points with a `group` key in the payload: the id modulo GROUPS, as a string."""
    payloads = [
        {**p, GROUP_KEY: str(i % GROUPS)} for i, p in zip(data.ids, data.payloads, strict=True)
    ]
    return Data(data.ids, data.vectors, payloads)


def make_queries(count: int, dim: int, kind: str) -> np.ndarray:
    """Query vectors from the points' distribution but not among them (a seed of their own)."""
    return VECTORS[kind](np.random.default_rng(QUERY_SEED), count, dim)
