"""Point reads over a collection's shards: each shard's reader answers for its points, and
the answers merge as Qdrant merges its shards' (a collection of one shard is read as is).

- By id: each key is read from the shard holding it (shard_placement.shard_of).
- Scroll: each shard's first `limit` points from the offset and its next key; the merged page
  is the first `limit` of them in id order, and the next page starts at the least key left.
- Scroll by a payload value: each shard's first `limit` by that value, merged by
  (value, id) as Qdrant does.
- Count: the shards' counts summed; a facet's too, over each shard's best values.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from projections import facets, ids, reads
from projections.facets import FacetValue
from projections.filters import Filter
from projections.indexes import IndexInfo
from projections.jsontypes import JsonObject
from projections.reads import OrderBy, Projection, Reader
from projections.shard_placement import shard_of

T = TypeVar("T")


def by_shard(keys: Iterable[str], shards: int) -> dict[int, list[str]]:
    """The keys each shard holds, in the order given."""
    routed: dict[int, list[str]] = {}
    for key in keys:
        routed.setdefault(shard_of(key, shards), []).append(key)
    return routed


def routed(
    readers: list[Reader], keys: list[str], read: Callable[[Reader, list[str]], dict[str, T]]
) -> dict[str, T]:
    """`read` of each shard's keys on its reader, merged."""
    if len(readers) == 1:
        return read(readers[0], keys)
    merged: dict[str, T] = {}
    for shard, mine in by_shard(keys, len(readers)).items():
        merged.update(read(readers[shard], mine))
    return merged


def retrieve(readers: list[Reader], keys: list[str], projection: Projection) -> list[JsonObject]:
    """Points by key, in the order asked, missing ones skipped, duplicates once."""
    if len(readers) == 1:
        return reads.retrieve(readers[0], keys, projection)

    def read(reader: Reader, mine: list[str]) -> dict[str, JsonObject]:
        return {ids.to_key(p["id"]): p for p in reads.retrieve(reader, mine, projection)}

    found = routed(readers, list(dict.fromkeys(keys)), read)
    return [found[key] for key in dict.fromkeys(keys) if key in found]


def scroll(
    readers: list[Reader], start: str | None, limit: int, flt: Filter | None, projection: Projection
) -> tuple[list[JsonObject], str | None]:
    """Up to `limit` points from key `start` (inclusive) in id order, and the next page's key."""
    if len(readers) == 1:
        return reads.scroll(readers[0], start, limit, flt, projection)
    points: list[tuple[str, JsonObject | None]] = []
    for reader in readers:
        found, next_key = reads.scroll(reader, start, limit, flt, projection)
        points += [(ids.to_key(point["id"]), point) for point in found]
        if next_key is not None:
            points.append((next_key, None))  # the least of this shard's keys left
    points.sort(key=lambda entry: entry[0])
    # Up to a shard's next key every point is there: it comes after that shard's `limit`.
    page: list[JsonObject] = []
    for key, point in points:
        if point is None or len(page) == limit:
            return page, key
        page.append(point)
    return page, None


def scroll_ordered(
    readers: list[Reader], order: OrderBy, limit: int, flt: Filter | None, projection: Projection
) -> list[JsonObject]:
    """Points by a payload value (each `order_value`), a point once per value."""
    if len(readers) == 1:
        return reads.scroll_ordered(readers[0], order, limit, flt, projection)
    answers = [reads.scroll_ordered(reader, order, limit, flt, projection) for reader in readers]

    def rank(point: JsonObject) -> tuple[float, str]:
        return point["order_value"], ids.to_key(point["id"])

    merged = heapq.merge(*answers, key=rank, reverse=order.descending)
    return list(merged)[:limit]


def count(readers: list[Reader], flt: Filter | None) -> int:
    return sum(reads.count(reader, flt) for reader in readers)


def overview(readers: list[Reader]) -> tuple[int, dict[str, IndexInfo]]:
    """The number of points and the payload schema, each index's points summed."""
    found = [reads.overview(reader) for reader in readers]
    points = sum(count for count, _ in found)
    schema = {
        field: cast(
            "IndexInfo", {**info, "points": sum(s[field]["points"] for _, s in found if field in s)}
        )
        for field, info in found[0][1].items()
    }
    return points, schema


def facet(
    readers: list[Reader], key: str, flt: Filter | None, limit: int
) -> list[tuple[FacetValue, int]]:
    """The `limit` values with the most points: each shard's `limit` best, counts summed (as
    Qdrant merges its shards')."""
    if len(readers) == 1:
        return facets.facet(readers[0], key, flt, limit)
    counts: Counter[FacetValue] = Counter()
    for reader in readers:
        counts.update(dict(facets.facet(reader, key, flt, limit)))
    return facets.top(counts, limit)
