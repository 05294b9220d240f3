"""pointlog as a system under test: its REST API over one keep-alive HTTP connection a client,
and, beside it, its Redis for memory figures and diagnostics."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import orjson

from tests.bench import redis_state
from tests.bench.data import GROUP_KEY, Batch, Data, Payload, Sparse
from tests.bench.http_client import DUMPS, Http, ServerError
from tests.bench.redis_state import RedisMemory
from tests.bench.systems import CONCURRENT, DENSE, GROUPS, INDEXES, NOWAIT, SPARSE

INDEX_POLL = 0.02  # seconds between two looks at the collection's status while it indexes
INDEX_TIMEOUT = 1800.0
PAYLOAD_INDEXES = {"city": "keyword", "price": "float"}


def point_bodies(batch: Batch) -> Iterator[dict[str, Any]]:
    """The points of an upsert body, as the API takes them."""
    ids, vectors, payloads = batch
    return (
        {"id": i, "vector": v, "payload": p} for i, v, p in zip(ids, vectors, payloads, strict=True)
    )


def _sparse(sparse: Sparse) -> dict[str, Any]:
    return {"indices": sparse.indices, "values": sparse.values}


def _city(city: str) -> dict[str, Any]:
    return {"must": [{"key": "city", "match": {"value": city}}]}


class Pointlog:
    name = "pointlog"
    supports = frozenset({CONCURRENT, NOWAIT, INDEXES, GROUPS})

    def __init__(self, port: int, redis_url: str) -> None:
        self.port = port
        self.redis_url = redis_url
        self.http = Http(port)
        self.memory: RedisMemory | None = None  # measured by after_bulk
        self._used_before = 0

    def fork(self) -> Pointlog:
        """Another client with its own connection."""
        return Pointlog(self.port, self.redis_url)

    def close(self) -> None:
        self.http.close()

    def create(self, coll: str, dim: int) -> None:
        self.http.request(
            "PUT", f"/collections/{coll}", {"vectors": {"size": dim, "distance": "Cosine"}}
        )

    def create_hybrid(self, coll: str, dim: int) -> None:
        body = {
            "vectors": {DENSE: {"size": dim, "distance": "Cosine"}},
            "sparse_vectors": {SPARSE: {}},
        }
        self.http.request("PUT", f"/collections/{coll}", body)
        # grouped queries narrow to their groups by value: the key is indexed, as Qdrant
        # advises for a group_by key
        index = {"field_name": GROUP_KEY, "field_schema": "keyword"}
        self._write("PUT", f"/collections/{coll}/index", index, wait=True)

    def drop(self, coll: str) -> None:
        self.http.request("DELETE", f"/collections/{coll}")

    def upsert(self, coll: str, batch: Batch, wait: bool = True) -> None:
        points = list(point_bodies(batch))
        self._write("PUT", f"/collections/{coll}/points", {"points": points}, wait)

    def upsert_hybrid(self, coll: str, batch: Batch, sparse: Sequence[Sparse]) -> None:
        ids, vectors, payloads = batch
        points = [
            {"id": i, "vector": {DENSE: v, SPARSE: _sparse(s)}, "payload": p}
            for i, v, s, p in zip(ids, vectors, sparse, payloads, strict=True)
        ]
        self._write("PUT", f"/collections/{coll}/points", {"points": points}, wait=True)

    def get(self, coll: str, point_id: int) -> dict[str, Any]:
        return self.http.request("GET", f"/collections/{coll}/points/{point_id}")

    def get_many(self, coll: str, ids: list[int]) -> list[dict[str, Any]]:
        body = {"ids": ids, "with_payload": True, "with_vector": True}
        return self.http.request("POST", f"/collections/{coll}/points", body)

    def scroll_city(self, coll: str, city: str, limit: int) -> int:
        seen, offset = 0, None
        while True:
            body = {
                "filter": _city(city),
                "limit": limit,
                "with_payload": True,
                "with_vector": False,
            }
            if offset is not None:
                body["offset"] = offset
            page = self.http.request("POST", f"/collections/{coll}/points/scroll", body)
            seen += len(page["points"])
            offset = page["next_page_offset"]
            if offset is None:
                return seen

    def set_payload_city(self, coll: str, city: str, payload: Payload) -> None:
        body = {"payload": payload, "filter": _city(city)}
        self._write("POST", f"/collections/{coll}/points/payload", body, wait=True)

    def delete_price_below(self, coll: str, price: float) -> None:
        body = {"filter": {"must": [{"key": "price", "range": {"lt": price}}]}}
        self._write("POST", f"/collections/{coll}/points/delete", body, wait=True)

    def count(self, coll: str) -> int:
        return self._count(coll, {"exact": True})

    def count_flag(self, coll: str) -> int:
        flag = {"must": [{"key": "flag", "match": {"value": True}}]}
        return self._count(coll, {"exact": True, "filter": flag})

    def count_city(self, coll: str, city: str) -> int:
        return self._count(coll, {"exact": True, "filter": _city(city)})

    def create_payload_indexes(self, coll: str) -> None:
        for field, schema in PAYLOAD_INDEXES.items():
            body = {"field_name": field, "field_schema": schema}
            self._write("PUT", f"/collections/{coll}/index", body, wait=True)

    def build_index(self, coll: str) -> int:
        """Polls the collection until it is green and its indexed vector count holds still
        (all vectors indexed, or the same count twice running)."""
        deadline = time.monotonic() + INDEX_TIMEOUT
        before = None
        while time.monotonic() < deadline:
            info = self.http.request("GET", f"/collections/{coll}")
            indexed = info["indexed_vectors_count"]
            if info["status"] == "green" and indexed in (before, info["points_count"]):
                return indexed
            before = indexed if info["status"] == "green" else None
            time.sleep(INDEX_POLL)
        raise RuntimeError(f"collection {coll} not indexed after {INDEX_TIMEOUT:.0f}s")

    def query(
        self, coll: str, vector: np.ndarray, limit: int, exact: bool, city: str | None
    ) -> list[int]:
        body: dict[str, Any] = {"query": vector, "limit": limit}
        if exact:
            body["params"] = {"exact": True}
        if city is not None:
            body["filter"] = _city(city)
        return self._query(coll, body)

    def fused(
        self, coll: str, dense: np.ndarray, sparse: Sparse, prefetch: int, limit: int
    ) -> list[int]:
        prefetches = [
            {"query": dense, "using": DENSE, "limit": prefetch},
            {"query": _sparse(sparse), "using": SPARSE, "limit": prefetch},
        ]
        return self._query(
            coll, {"prefetch": prefetches, "query": {"fusion": "rrf"}, "limit": limit}
        )

    def recommend(
        self, coll: str, positive: list[int], negative: list[int], limit: int
    ) -> list[int]:
        query = {"recommend": {"positive": positive, "negative": negative}}
        return self._query(coll, {"query": query, "using": DENSE, "limit": limit})

    def groups(
        self, coll: str, dense: np.ndarray, key: str, groups: int, size: int
    ) -> list[list[int]]:
        body = {
            "query": dense,
            "using": DENSE,
            "group_by": key,
            "limit": groups,
            "group_size": size,
        }
        found = self.http.request("POST", f"/collections/{coll}/points/query/groups", body)
        return [[hit["id"] for hit in group["hits"]] for group in found["groups"]]

    def held_vector_bytes(self, coll: str) -> int | None:
        """What the web process's vector read model holds for the collection (its /metrics)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics") as response:
            text = response.read().decode()
        prefix = f'pointlog_vectors_bytes{{collection="{coll}"}} '
        found = [line for line in text.splitlines() if line.startswith(prefix)]
        return int(float(found[0][len(prefix) :])) if found else None

    def before_bulk(self, coll: str) -> None:
        self._used_before = redis_state.used_memory(self.redis_url)

    def after_bulk(self, coll: str, data: Data) -> None:
        self.memory = redis_state.memory_per_point(self.redis_url, coll, self._used_before, data)

    def stall(self, coll: str) -> str | None:
        return redis_state.stale_kick(self.redis_url, coll)

    def _query(self, coll: str, body: dict[str, Any]) -> list[int]:
        found = self.http.request("POST", f"/collections/{coll}/points/query", body)
        return [point["id"] for point in found["points"]]

    def _count(self, coll: str, body: dict[str, Any]) -> int:
        return self.http.request("POST", f"/collections/{coll}/points/count", body)["count"]

    def _write(self, method: str, path: str, body: dict[str, Any], wait: bool) -> None:
        """A write that must answer `completed` (wait=true) or `acknowledged`."""
        path = f"{path}?wait={'true' if wait else 'false'}"
        result = self.http.request(method, path, body)
        expected = "completed" if wait else "acknowledged"
        status = result.get("status") if isinstance(result, dict) else None
        if status != expected:
            data = orjson.dumps(body, option=DUMPS)
            raise ServerError(
                method, path, data, f"status {status!r}, expected {expected!r}: {result}"
            )
