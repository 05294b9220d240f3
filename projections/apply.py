"""Applying the log to the projection: in order, exactly once, deterministically.

A batch of events is applied against a Staging view and committed with the new checkpoint in
one MULTI/EXEC that WATCHes the checkpoint: if anyone else committed (or the collection was
deleted) meanwhile, the transaction is void and the batch is computed again. An operation that
fails (a missing point, say) records its error under its operation_id and the log moves on; in a
multi-operation event the operations after a failed one are skipped, as Qdrant's batch update
stops at the first error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

import orjson
import redis

from projections import changes, collections, ids, log, store
from projections.archive import Archive
from projections.collections import Collection
from projections.errors import ErrorRecord, NotFound, QdrantError, to_record
from projections.events import Event, Operation, by_filter
from projections.indexes import Index, root_of
from projections.jsonpath import clone
from projections.jsontypes import JsonObject
from projections.keys import Keys
from projections.payloads import delete_keys, merge_payload
from projections.staging import Staging

logger = logging.getLogger("pointlog.apply")

Apply = Callable[[Staging, Operation, Event], None]


def _targets(staging: Staging, op: Operation) -> list[str]:
    """The points an operation selects: its ids, or the points its filter matches right now."""
    if "ids" in op:
        return cast("list[str]", op["ids"])
    return staging.matching(staging.compile(op["filter"]))


def _split(staging: Staging, keys: list[str]) -> tuple[list[str], list[str]]:
    """(existing, missing) among the keys. Operations change the existing points, then fail
    on the missing ones, as Qdrant does."""
    staging.prefetch(keys)
    existing = [key for key in keys if staging.exists(key)]
    return existing, [key for key in keys if not staging.exists(key)]


def _fail_on(missing: list[str]) -> None:
    if missing:
        raise NotFound(f"No point with id {ids.from_key(missing[0])} found")


def _condition(staging: Staging, op: Operation) -> Callable[[str], bool]:
    """Conditional writes: `update_mode` and `update_filter`, judged per point against its
    state at this place in the log."""
    mode = op.get("update_mode", "upsert")
    flt = staging.compile(op["update_filter"]) if "update_filter" in op else None

    def allowed(key: str) -> bool:
        exists = staging.exists(key)
        if (mode == "insert_only" and exists) or (mode == "update_only" and not exists):
            return False
        return not exists or flt is None or staging.matches(key, flt)

    return allowed


def _upsert(staging: Staging, op: Operation, event: Event) -> None:
    conditional = "update_filter" in op or "update_mode" in op
    if conditional or staging.indexes:
        staging.prefetch(point[0] for point in op["points"])
    allowed = _condition(staging, op)
    for key, payload_ref, vector_refs in op["points"]:
        if conditional and not allowed(key):
            continue
        vectors = {name: event.bytes_at(ref) for name, ref in vector_refs.items()}
        staging.upsert(key, event.bytes_at(payload_ref), vectors)


def _delete(staging: Staging, op: Operation, event: Event) -> None:
    for key in _targets(staging, op):
        staging.remove(key)


def _change_payloads(
    staging: Staging,
    op: Operation,
    change: Callable[[JsonObject], JsonObject],
    roots: set[str] | None = None,
) -> None:
    """Change the payloads of the selected points; `roots`: the only top-level keys the change
    can touch (None: any)."""
    existing, missing = _split(staging, _targets(staging, op))
    for key in existing:
        staging.set_payload(key, change(staging.payload(key)), roots)
    _fail_on(missing)


def _set_payload(staging: Staging, op: Operation, event: Event) -> None:
    # merge_payload copies what it inserts: no two points share a mutable part.
    key = op.get("key")
    _change_payloads(
        staging,
        op,
        lambda current: merge_payload(current, op["payload"], key),
        set(op["payload"]) if key is None else {root_of(key)},
    )


def _overwrite_payload(staging: Staging, op: Operation, event: Event) -> None:
    _change_payloads(staging, op, lambda current: clone(op["payload"]))


def _delete_payload(staging: Staging, op: Operation, event: Event) -> None:
    roots = {root_of(path) for path in op["keys"]}
    _change_payloads(staging, op, lambda current: delete_keys(current, op["keys"]), roots)


def _clear_payload(staging: Staging, op: Operation, event: Event) -> None:
    _change_payloads(staging, op, lambda current: {})


def _update_vectors(staging: Staging, op: Operation, event: Event) -> None:
    _, missing = _split(staging, [point[0] for point in op["points"]])
    absent, allowed = set(missing), _condition(staging, op)
    for key, vector_refs in op["points"]:
        if key in absent or not allowed(key):
            continue
        for name, ref in vector_refs.items():
            staging.set_vector(key, name, event.bytes_at(ref))
    _fail_on(missing)


def _delete_vectors(staging: Staging, op: Operation, event: Event) -> None:
    selected = staging.matching(staging.compile(op["filter"])) if "filter" in op else []
    existing, missing = _split(staging, op.get("ids", []))
    for key in dict.fromkeys(selected + existing):
        for name in op["vector"]:
            staging.delete_vector(key, name)
    _fail_on(missing)


def _create_index(staging: Staging, op: Operation, event: Event) -> None:
    staging.create_index(Index(op["field"], op["schema"]))


def _delete_index(staging: Staging, op: Operation, event: Event) -> None:
    staging.drop_index(op["field"])


def _reconfigure(staging: Staging, op: Operation, event: Event) -> None:
    """A config change (`update_collection`, `create_vector`): the events after it are applied
    with the config it carries; a vector name added holds nothing yet."""
    staging.reconfigure(op["config"])


def _delete_vector(staging: Staging, op: Operation, event: Event) -> None:
    staging.drop_vector(op["name"])
    staging.reconfigure(op["config"])


OPERATIONS: dict[str, Apply] = {
    "upsert": _upsert,
    "delete": _delete,
    "set_payload": _set_payload,
    "overwrite_payload": _overwrite_payload,
    "delete_payload": _delete_payload,
    "clear_payload": _clear_payload,
    "update_vectors": _update_vectors,
    "delete_vectors": _delete_vectors,
    "create_index": _create_index,
    "delete_index": _delete_index,
    "update_collection": _reconfigure,
    "create_vector": _reconfigure,
    "delete_vector": _delete_vector,
}
CONFIG_CHANGES = ("update_collection", "create_vector", "delete_vector")


def _creates_index(event: Event) -> bool:
    """Whether the event creates a payload index (such an event holds that one operation)."""
    return bool(event.ops) and event.ops[0]["type"] == "create_index"


def _changes_config(event: Event) -> bool:
    """Whether the event changes the collection's config (such an event holds that one
    operation). It is applied in a batch of its own: the events before it with the old config,
    those after it with the new one."""
    return bool(event.ops) and event.ops[0]["type"] in CONFIG_CHANGES


def _resolved_when_applied(event: Event, first_op: int) -> list[int]:
    """The operations of the event whose points only applying them says (by a filter)."""
    return [first_op + i for i, op in enumerate(event.ops) if by_filter(op)]


def _keep_resolved(
    pipe: redis.client.Pipeline, keys: Keys, change: changes.Change, by_filter: set[int]
) -> None:
    """Keep the points each filter-based operation touched (for point history)."""
    resolved = {op: orjson.dumps(change.ops[op]) for op in by_filter if op in change.ops}
    if resolved:
        pipe.hset(keys.resolved, mapping=resolved)  # type: ignore[arg-type]


def apply_event(staging: Staging, event: Event, first_op: int) -> dict[int, ErrorRecord]:
    """Apply an event's operations in order; the errors they met, by operation_id."""
    for index, op in enumerate(event.ops):
        staging.begin(first_op + index)
        try:
            OPERATIONS[op["type"]](staging, op, event)
        except store.FAILURES:
            raise  # the store failed, not the operation: the batch is retried
        except QdrantError as error:
            return {first_op + index: to_record(error)}
        except Exception as error:  # a bug must not stop the log: record it, move on
            logger.exception("operation %s failed", first_op + index)
            return {first_op + index: to_record(QdrantError(repr(error)))}
    return {}


def _log_commit(
    collection: Collection, keys: Keys, checkpoint: int, events: int, errors: dict[int, ErrorRecord]
) -> None:
    context = {"collection": collection.name, "projection": keys.projection or "live"}
    logger.debug("applied", extra={**context, "checkpoint": checkpoint, "events": events})
    for op_id, error in errors.items():
        logger.info("operation failed", extra={**context, "operation_id": op_id, **error})


def apply_batch(
    r: redis.Redis,
    collection: Collection,
    max_events: int,
    keys: Keys | None = None,
    until: int | None = None,
    feed_length: int = changes.DEFAULT_LENGTH,
    archive: Archive | None = None,
) -> int | None:
    """Apply the next events after the checkpoint of the projection at `keys` (the live one by
    default), not beyond seq `until`, reading those already moved out of the stream from
    `archive`. Returns the new checkpoint, or None when there was
    nothing to apply (or the collection is gone). A commit to the live projection also
    appends its change record to the change feed, which keeps about `feed_length` of them.
    While an index is built over many points, each commit adds a slice of it and returns
    the checkpoint unchanged (before the create-index event)."""
    keys = keys or collection.keys
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(keys.applied)
                batch = log.next_batch(pipe, keys, max_events, until, archive)
                if batch is None or not batch.events:
                    return None
                at = collections.at_checkpoint(collection, batch.schema)
                staging = Staging(r, at, keys, batch.indexes)
                errors: dict[int, ErrorRecord] = {}
                checkpoint, applied = batch.applied, 0
                by_filter: set[int] = set()
                for seq_after, event in batch.events:
                    # An index build reads the committed points; a config change stands alone.
                    if (_creates_index(event) or _changes_config(event)) and applied:
                        break
                    first_op = seq_after - len(event.ops)
                    errors.update(apply_event(staging, event, first_op))
                    if staging.building:
                        break  # the checkpoint stays before the event until its build is done
                    checkpoint, applied = seq_after, applied + 1
                    by_filter.update(_resolved_when_applied(event, first_op))
                    if _changes_config(event):
                        break
                pipe.multi()
                staging.write(pipe)
                if errors:
                    pipe.hset(keys.errors, mapping={o: orjson.dumps(e) for o, e in errors.items()})
                pipe.set(keys.applied, checkpoint)
                pipe.hincrby(keys.stats, "ops", checkpoint - batch.applied)
                pipe.hincrby(keys.stats, "batches", 1)
                if keys.live:
                    change = staging.change(batch.applied, checkpoint)
                    changes.append(pipe, keys, change, feed_length)
                    _keep_resolved(pipe, keys, change, by_filter)
                    store.queue_announce(pipe, keys.channel, checkpoint)
                pipe.execute()
                _log_commit(collection, keys, checkpoint, applied, errors)
                return checkpoint
            except redis.WatchError:
                continue
