"""qdrant-client's local mode as a system under test: `QdrantClient(":memory:")`, pure Python,
in this process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qdrant_client import QdrantClient, models

from tests.bench.data import Batch, Data, Payload, Sparse
from tests.bench.systems import DENSE, GROUPS, SPARSE

PAYLOAD_INDEXES = {
    "city": models.PayloadSchemaType.KEYWORD,
    "price": models.PayloadSchemaType.FLOAT,
}
EXACT = models.SearchParams(exact=True)


def _match(key: str, value: bool | str) -> models.Filter:
    return models.Filter(
        must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))]
    )


def _sparse(sparse: Sparse) -> models.SparseVector:
    return models.SparseVector(indices=sparse.indices.tolist(), values=sparse.values.tolist())


def _ids(found: models.QueryResponse) -> list[int]:
    return [point.id for point in found.points]


class Local:
    name = "local"
    supports = frozenset({GROUPS})

    def __init__(self) -> None:
        self.client = QdrantClient(":memory:")

    def fork(self) -> Local:
        return self  # not used: local mode is not for concurrent clients

    def close(self) -> None:
        self.client.close()

    def create(self, coll: str, dim: int) -> None:
        vectors = models.VectorParams(size=dim, distance=models.Distance.COSINE)
        self.client.create_collection(coll, vectors_config=vectors)

    def create_hybrid(self, coll: str, dim: int) -> None:
        self.client.create_collection(
            coll,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams()},
        )

    def drop(self, coll: str) -> None:
        self.client.delete_collection(coll)

    def upsert(self, coll: str, batch: Batch, wait: bool = True) -> None:
        ids, vectors, payloads = batch
        points = [
            models.PointStruct(id=i, vector=v.tolist(), payload=p)
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self.client.upsert(coll, points=points, wait=wait)

    def upsert_hybrid(self, coll: str, batch: Batch, sparse: Sequence[Sparse]) -> None:
        ids, vectors, payloads = batch
        points = [
            models.PointStruct(id=i, vector={DENSE: v.tolist(), SPARSE: _sparse(s)}, payload=p)
            for i, v, s, p in zip(ids, vectors, sparse, payloads, strict=True)
        ]
        self.client.upsert(coll, points=points, wait=True)

    def get(self, coll: str, point_id: int) -> models.Record:
        return self.client.retrieve(coll, [point_id], with_payload=True, with_vectors=True)[0]

    def get_many(self, coll: str, ids: list[int]) -> list[models.Record]:
        return self.client.retrieve(coll, ids, with_payload=True, with_vectors=True)

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        seen, offset = 0, None
        while True:
            records, offset = self.client.scroll(
                coll,
                scroll_filter=_match("city", city),
                limit=limit,
                offset=offset,
                with_payload=True,
                with_vectors=False,
            )
            seen += len(records)
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: Payload) -> None:
        self.client.set_payload(coll, payload=payload, points=_match("city", city), wait=True)

    def delete_price_below(self, coll: str, price: float) -> None:
        flt = models.Filter(must=[models.FieldCondition(key="price", range=models.Range(lt=price))])
        self.client.delete(coll, points_selector=models.FilterSelector(filter=flt), wait=True)

    def count(self, coll: str) -> int:
        return self.client.count(coll, exact=True).count

    def count_flag(self, coll: str) -> int:
        return self.client.count(coll, count_filter=_match("flag", True), exact=True).count

    def count_city(self, coll: str, city: str) -> int:
        return self.client.count(coll, count_filter=_match("city", city), exact=True).count

    def create_payload_indexes(self, coll: str) -> None:
        """Accepted and ignored by local mode: called so that every system gets the same calls."""
        for field, schema in PAYLOAD_INDEXES.items():
            self.client.create_payload_index(coll, field, schema, wait=True)

    def build_index(self, coll: str) -> int:
        return 0  # no vector index in local mode: every search is exhaustive

    def query(
        self, coll: str, vector: np.ndarray, limit: int, exact: bool, city: str | None
    ) -> list[int]:
        found = self.client.query_points(
            coll,
            query=vector,
            limit=limit,
            query_filter=None if city is None else _match("city", city),
            search_params=EXACT if exact else None,
            with_payload=False,
        )
        return _ids(found)

    def fused(
        self, coll: str, dense: np.ndarray, sparse: Sparse, prefetch: int, limit: int
    ) -> list[int]:
        prefetches = [
            models.Prefetch(query=dense.tolist(), using=DENSE, limit=prefetch),
            models.Prefetch(query=_sparse(sparse), using=SPARSE, limit=prefetch),
        ]
        fusion = models.FusionQuery(fusion=models.Fusion.RRF)
        found = self.client.query_points(coll, prefetch=prefetches, query=fusion, limit=limit)
        return _ids(found)

    def recommend(
        self, coll: str, positive: list[int], negative: list[int], limit: int
    ) -> list[int]:
        examples = models.RecommendInput(positive=[*positive], negative=[*negative])
        query = models.RecommendQuery(recommend=examples)
        found = self.client.query_points(coll, query=query, using=DENSE, limit=limit)
        return _ids(found)

    def groups(
        self, coll: str, dense: np.ndarray, key: str, groups: int, size: int
    ) -> list[list[int]]:
        found = self.client.query_points_groups(
            coll, key, query=dense.tolist(), using=DENSE, limit=groups, group_size=size
        )
        return [[int(hit.id) for hit in group.hits] for group in found.groups]

    def before_bulk(self, coll: str) -> None:
        """Nothing measured: local mode's memory is this process's."""

    def after_bulk(self, coll: str, data: Data) -> None:
        """Nothing measured: local mode's memory is this process's."""

    def stall(self, coll: str) -> str | None:
        return None  # an update returns once applied: nothing to wait for
