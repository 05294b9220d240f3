"""Where requests meet their collection's strict mode (projections/strict_mode.py): queries
with their prefetches, scrolls, counts and facets, and the events of writes. Each check runs
once the collection is known and before anything is read or appended; without an enabled
strict mode it costs nothing."""

from __future__ import annotations

from collections.abc import Mapping

from api.context import Context
from projections import reads
from projections.collections import Collection
from projections.events import Event
from projections.indexes import Index
from projections.jsontypes import JsonObject
from projections.query_plan import Stage
from projections.strict_mode import Indexes, StrictMode


def _indexes(ctx: Context, collection: Collection) -> Indexes:
    """The collection's indexes, read on first use and once per request."""
    held: list[Mapping[str, Index]] = []

    def read() -> Mapping[str, Index]:
        if not held:
            held.append(reads.index_definitions(ctx.r, collection))
        return held[0]

    return read


def check_query(
    ctx: Context, collection: Collection, stage: Stage, timeout: float | None, group_size: int = 1
) -> None:
    """A query and each of its prefetches (a groups query asks for `limit` groups of
    `group_size` points)."""
    strict = StrictMode.of(collection)
    if strict is None:
        return
    strict.timeout(timeout)
    indexes = _indexes(ctx, collection)
    strict.limit(stage.limit * group_size)
    _check_stage(strict, stage, indexes)


def _check_stage(strict: StrictMode, stage: Stage, indexes: Indexes) -> None:
    params = stage.params
    strict.search(params.exact, params.hnsw_ef, params.oversampling)
    strict.read_filter(stage.filter, indexes)
    for below in stage.prefetch:
        strict.limit(below.limit)
        _check_stage(strict, below, indexes)


def check_read(
    ctx: Context,
    collection: Collection,
    body: JsonObject,
    timeout: float | None,
    limit: int | None = None,
    exact: bool = False,
) -> None:
    """A scroll, count or facet: its `limit` (none for a count), `exact` (a count's) and
    `filter`."""
    strict = StrictMode.of(collection)
    if strict is None:
        return
    strict.timeout(timeout)
    strict.limit(limit)
    strict.search(exact, None, None)
    strict.read_filter(body.get("filter"), _indexes(ctx, collection))


def check_write(ctx: Context, collection: Collection, event: Event, timeout: float | None) -> None:
    """A write's operations: the points of upserts and vector updates, and the filters that
    choose the points an update changes."""
    strict = StrictMode.of(collection)
    if strict is None:
        return
    strict.timeout(timeout)
    indexes = _indexes(ctx, collection)
    adding = [op["type"] in ("upsert", "update_vectors") for op in event.ops]
    if any(adding) and strict.limits_size:
        strict.size(*reads.sizes(ctx.r, collection))
    for op, adds in zip(event.ops, adding, strict=True):
        if adds:
            strict.batch(len(op["points"]), upsert=op["type"] == "upsert")
        strict.update_filter(op.get("filter"), indexes)
