"""Qdrant's engine as a system under test: a qdrant-edge-py `EdgeShard` per collection, in a
folder of its own, called in this process (no HTTP, no persistence beyond the shard's files)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from tests.bench.data import GROUP_KEY, Batch, Data, Payload, Sparse
from tests.bench.systems import CONCURRENT, DENSE, GROUPS, INDEXES, SPARSE

PAYLOAD_INDEXES = {"city": qe.PayloadSchemaType.Keyword, "price": qe.PayloadSchemaType.Float}
EXACT = qe.SearchParams(exact=True)
RRF_K = 2  # Qdrant's default for `{"fusion": "rrf"}`


def _city(city: str) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("city", match=qe.MatchValue(city))])


def _sparse(sparse: Sparse) -> qe.SparseVector:
    return qe.SparseVector(sparse.indices.tolist(), sparse.values.tolist())


class Engine:
    """Two things qdrant-edge-py (0.9.0) leaves to Qdrant's collection layer are done here as
    that layer does them, with the shard's own queries: recommend's average_vector strategy
    (the default; the shard has best_score and sum_scores) and grouped queries (`groups`)."""

    name = "engine"
    supports = frozenset({CONCURRENT, INDEXES, GROUPS})

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shards: dict[str, qe.EdgeShard] = {}
        self.disk_per_point: float | None = None  # measured by after_bulk

    def fork(self) -> Engine:
        return self  # one shard, shared by the threads (its calls are thread-safe)

    def close(self) -> None:
        for coll in list(self.shards):
            self.drop(coll)

    def create(self, coll: str, dim: int) -> None:
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        self.shards[coll] = qe.EdgeShard.create(str(self.root / coll), config)

    def create_hybrid(self, coll: str, dim: int) -> None:
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams()},
        )
        self.shards[coll] = qe.EdgeShard.create(str(self.root / coll), config)
        keyword = qe.PayloadSchemaType.Keyword  # the group_by key, indexed as pointlog's is
        self.shards[coll].update(qe.UpdateOperation.create_field_index(GROUP_KEY, keyword))

    def drop(self, coll: str) -> None:
        shard = self.shards.pop(coll)
        shard.close()
        shutil.rmtree(self.root / coll, ignore_errors=True)

    def upsert(self, coll: str, batch: Batch, wait: bool = True) -> None:
        ids, vectors, payloads = batch
        points = [qe.Point(i, v, p) for i, v, p in zip(ids, vectors, payloads, strict=True)]
        self.shards[coll].update(qe.UpdateOperation.upsert_points(points))

    def upsert_hybrid(self, coll: str, batch: Batch, sparse: Sequence[Sparse]) -> None:
        ids, vectors, payloads = batch
        points = [
            qe.Point(i, {DENSE: v.tolist(), SPARSE: _sparse(s)}, p)
            for i, v, s, p in zip(ids, vectors, sparse, payloads, strict=True)
        ]
        self.shards[coll].update(qe.UpdateOperation.upsert_points(points))

    def get(self, coll: str, point_id: int) -> qe.Record:
        return self.shards[coll].retrieve([point_id], True, True)[0]

    def get_many(self, coll: str, ids: list[int]) -> list[qe.Record]:
        return self.shards[coll].retrieve(ids, True, True)

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        seen, offset = 0, None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=limit,
                filter=_city(city),
                with_payload=True,
                with_vector=False,
            )
            records, offset = self.shards[coll].scroll(request)
            seen += len(records)
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: Payload) -> None:
        self.shards[coll].update(qe.UpdateOperation.set_payload_by_filter(_city(city), payload))

    def delete_price_below(self, coll: str, price: float) -> None:
        flt = qe.Filter(must=[qe.FieldCondition("price", range=qe.RangeFloat(lt=price))])
        self.shards[coll].update(qe.UpdateOperation.delete_points_by_filter(flt))

    def count(self, coll: str) -> int:
        return self.shards[coll].count(qe.CountRequest(exact=True))

    def count_flag(self, coll: str) -> int:
        # Not MatchValue(True): qdrant-edge-py 0.9.0 turns the bool into the integer 1 (its
        # `.value` reads back 1), which matches no boolean. "flag is not empty" is the same here.
        flt = qe.Filter(must_not=[qe.IsEmptyCondition("flag")])
        return self.shards[coll].count(qe.CountRequest(exact=True, filter=flt))

    def count_city(self, coll: str, city: str) -> int:
        return self.shards[coll].count(qe.CountRequest(exact=True, filter=_city(city)))

    def create_payload_indexes(self, coll: str) -> None:
        for field, schema in PAYLOAD_INDEXES.items():
            self.shards[coll].update(qe.UpdateOperation.create_field_index(field, schema))

    def build_index(self, coll: str) -> int:
        """The shard's optimizer, run until it finds nothing left to do. At the default config
        it builds HNSW only for a segment past the indexing threshold (20,000 vectors of 128
        dimensions are, 5,000 are not); below it there is nothing to build and search stays
        exhaustive."""
        shard = self.shards[coll]
        while shard.optimize():
            pass
        return shard.info().indexed_vectors_count

    def query(
        self, coll: str, vector: np.ndarray, limit: int, exact: bool, city: str | None
    ) -> list[int]:
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(vector),
            filter=None if city is None else _city(city),
            params=EXACT if exact else None,
            with_payload=False,
            with_vector=False,
        )
        return self._ids(coll, request)

    def fused(
        self, coll: str, dense: np.ndarray, sparse: Sparse, prefetch: int, limit: int
    ) -> list[int]:
        prefetches = [
            qe.Prefetch(prefetch, qe.Query.Nearest(dense.tolist(), using=DENSE)),
            qe.Prefetch(prefetch, qe.Query.Nearest(_sparse(sparse), using=SPARSE)),
        ]
        rrf: qe.Fusion = qe.Fusion.Rrf(RRF_K)  # type: ignore[assignment]  # a subclass, really
        request = qe.QueryRequest(limit=limit, prefetches=prefetches, query=rrf)
        return self._ids(coll, request)

    def recommend(
        self, coll: str, positive: list[int], negative: list[int], limit: int
    ) -> list[int]:
        shard = self.shards[coll]
        examples: list[qe.PointId] = [*positive, *negative]
        stored = {r.id: r.vector for r in shard.retrieve(examples, False, [DENSE])}
        vectors = {i: np.asarray(v[DENSE]) for i, v in stored.items() if isinstance(v, dict)}

        def mean(ids: list[int]) -> np.ndarray:
            return np.asarray(np.mean([vectors[i] for i in ids], axis=0))

        # Qdrant's: the positives' mean, moved away from the negatives' mean by as much again
        target = 2 * mean(positive) - mean(negative) if negative else mean(positive)
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(target.tolist(), using=DENSE),
            filter=qe.Filter(must_not=[qe.HasIdCondition(set(examples))]),
        )
        return self._ids(coll, request)

    def groups(
        self, coll: str, dense: np.ndarray, key: str, groups: int, size: int
    ) -> list[list[int]]:
        """Qdrant's group_by (lib/collection/src/grouping/group_by.rs): up to 5 queries of
        `groups * size` points that leave out the groups already full, then up to 5 that ask
        only for the best groups still short; every query leaves out the points already
        taken and those without the key."""
        query = qe.Query.Nearest(dense.tolist(), using=DENSE)
        hits: dict[str, list[tuple[float, int]]] = {}  # group -> (score, id), best first

        def best() -> list[str]:
            return sorted(hits, key=lambda g: -hits[g][0][0])[:groups]

        def done() -> bool:
            return sum(len(hits[g]) == size for g in best()) >= groups

        def more(narrowed: list[qe.FieldCondition]) -> bool:
            """One query; False when it finds nothing."""
            taken = {i for found in hits.values() for _, i in found}
            unwanted = [qe.IsEmptyCondition(key), qe.HasIdCondition(taken)]
            request = qe.QueryRequest(
                limit=groups * size,
                query=query,
                filter=qe.Filter(must=narrowed, must_not=unwanted),
                with_payload=[key],
            )
            points = self.shards[coll].query(request)
            for point in points:
                found = hits.setdefault(str((point.payload or {})[key]), [])
                if len(found) < size:
                    found.append((point.score, point.id))
            return bool(points)

        for _ in range(5):
            full = [g for g in hits if len(hits[g]) == size]
            if not more([qe.FieldCondition(key, match=qe.MatchExcept(full))] if full else []):
                break
            if done():
                break
        if not done():
            for _ in range(5):
                short = [g for g in best() if len(hits[g]) < size]
                if not more([qe.FieldCondition(key, match=qe.MatchAny(short))]) or done():
                    break
        return [[i for _, i in sorted(hits[g], reverse=True)] for g in best()]

    def _ids(self, coll: str, request: qe.QueryRequest) -> list[int]:
        return [point.id for point in self.shards[coll].query(request)]

    def before_bulk(self, coll: str) -> None:
        """Nothing to take beforehand: the shard's folder starts empty."""

    def after_bulk(self, coll: str, data: Data) -> None:
        self.shards[coll].flush()
        files = [p for p in (self.root / coll).rglob("*") if p.is_file()]
        allocated = sum(p.stat().st_blocks * 512 for p in files)  # not the sparse files' size
        self.disk_per_point = allocated / len(data)

    def stall(self, coll: str) -> str | None:
        return None  # an update returns once applied: nothing to wait for
