"""qdrant-client's local mode as a system under test: `QdrantClient(":memory:")`, pure Python,
in this process."""

from __future__ import annotations

import numpy as np
from qdrant_client import QdrantClient, models

from tests.bench.data import Batch, Data, Payload

PAYLOAD_INDEXES = {
    "city": models.PayloadSchemaType.KEYWORD,
    "price": models.PayloadSchemaType.FLOAT,
}
EXACT = models.SearchParams(exact=True)


def _match(key: str, value: bool | str) -> models.Filter:
    return models.Filter(
        must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))]
    )


class Local:
    name = "local"
    supports: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.client = QdrantClient(":memory:")

    def fork(self) -> Local:
        return self  # not used: local mode is not for concurrent clients

    def close(self) -> None:
        self.client.close()

    def create(self, coll: str, dim: int) -> None:
        vectors = models.VectorParams(size=dim, distance=models.Distance.COSINE)
        self.client.create_collection(coll, vectors_config=vectors)

    def drop(self, coll: str) -> None:
        self.client.delete_collection(coll)

    def upsert(self, coll: str, batch: Batch, wait: bool = True) -> None:
        ids, vectors, payloads = batch
        points = [
            models.PointStruct(id=i, vector=v.tolist(), payload=p)
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self.client.upsert(coll, points=points, wait=wait)

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
        return [point.id for point in found.points]

    def before_bulk(self, coll: str) -> None:
        """Nothing measured: local mode's memory is this process's."""

    def after_bulk(self, coll: str, data: Data) -> None:
        """Nothing measured: local mode's memory is this process's."""

    def stall(self, coll: str) -> str | None:
        return None  # an update returns once applied: nothing to wait for
