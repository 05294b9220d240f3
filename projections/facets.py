"""Facets (Qdrant's `/facet`): how many points, of those a filter passes, have each value of a
payload key. As in Qdrant, the key needs a payload index that keeps the points of each value
(keyword, integer with `lookup`, bool, uuid); a point counts once per distinct value it has.

Without a filter the counts are the sizes of the index's term sets (index_data.py): no payload
is read. With a filter, the passing points' payloads give their values (the filter's plan
narrows which points are read, as for any read), which is also how an index whose data an older
layout did not write is served.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from typing import cast

import orjson

from projections import planner, reads
from projections.errors import WrongInput
from projections.filters import Filter
from projections.indexes import Index
from projections.jsonpath import parse_path
from projections.payloads import compile_selector
from projections.reads import Projection, Reader

FACETED = frozenset({"keyword", "integer", "bool", "uuid"})
# Term-set reads to try before counting from payloads: commits in between make them disagree.
ATTEMPTS = 3
FacetValue = str | int | bool


def facet(reader: Reader, key: str, flt: Filter | None, limit: int) -> list[tuple[FacetValue, int]]:
    """The `limit` values with the most points, each with its count, in Qdrant's order."""
    planned = reads.plan_filter(reader, flt)
    index = _facet_index(planned.indexes, key)
    counts = _term_counts(reader, index) if flt is None else None
    if counts is None:
        counts = _payload_counts(reader, index, flt, planned.plan)
    return top(counts, limit)


def top(counts: Mapping[FacetValue, int], limit: int) -> list[tuple[FacetValue, int]]:
    """Count descending, then value ascending (Qdrant's `FacetHit` order); no empty values."""
    hits = ((value, count) for value, count in counts.items() if count > 0)
    return heapq.nsmallest(limit, hits, key=lambda hit: (-hit[1], hit[0]))


def _facet_index(indexes: Mapping[str, Index], key: str) -> Index:
    path = parse_path(key)
    for index in indexes.values():
        if parse_path(index.field) == path and index.data_type in FACETED and index.lookup:
            return index
    raise WrongInput(
        f"No appropriate index for faceting: `{key}`. Please create one to facet on this "
        "field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to "
        "see which payload schemas support Match conditions"
    )


def _term_counts(reader: Reader, index: Index) -> dict[FacetValue, int] | None:
    """Each value's number of points, from the index's term sets: their names, then their
    sizes, each read in one transaction, kept when no commit came in between. None when the
    index's data is not complete, or commits kept coming."""
    keys, field = reader.collection.keys, index.field
    for _ in range(ATTEMPTS):
        with reader.r.pipeline(transaction=True) as pipe:
            pipe.get(keys.applied)
            pipe.hget(keys.indexes, field)
            pipe.sismember(keys.indexed, field)
            pipe.smembers(keys.terms(field))
            applied, schema, complete, stored = pipe.execute()
        if schema is None or orjson.loads(schema) != index.schema or not complete:
            return None
        terms = [cast("bytes", term).decode() for term in stored]
        with reader.r.pipeline(transaction=True) as pipe:
            for term in terms:
                pipe.scard(keys.term(field, term))
            pipe.get(keys.applied)
            *sizes, after = pipe.execute()
        if after == applied:
            return {orjson.loads(term): int(size) for term, size in zip(terms, sizes, strict=True)}
    return None


def _payload_counts(
    reader: Reader, index: Index, flt: Filter | None, plan: planner.Plan | None
) -> Counter[FacetValue]:
    """Each value's number of points, from the payloads of the points the filter passes."""
    # The whole top-level key (quoted: it may hold a dot), as the index's path may go through
    # arrays, which a selector's path would not enter.
    projection = Projection(compile_selector({"include": [f'"{index.root}"']}), ())
    counts: Counter[FacetValue] = Counter()
    for record in reads.passing_records(reader, flt, plan, projection):
        counts.update(cast("list[FacetValue]", index.values(record["payload"])))
    return counts
