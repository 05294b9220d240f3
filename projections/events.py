"""Events: the operations of a write request, validated against the collection and put in the
form the log stores. Only well-formed events are built; everything a client can get wrong is
rejected here, before anything is appended.

An event is a list of operations (one for most endpoints, several for a batch update), each of
which takes one operation_id. Operation dicts are JSON; vector and payload bytes of upserts go
to one binary blob beside them, and the dicts hold `[offset, length]` references into it, so a
worker stores them without parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from projections import ids, indexes
from projections.collections import Collection
from projections.errors import BadRequest, FormatError, QdrantError, ValidationFailed, WrongInput
from projections.filters import compile_filter
from projections.jsonpath import parse_path
from projections.jsontypes import JsonObject, expect_object
from projections.vectors import decode, encode_many_vectors, encode_point_vectors

Ref = list[int]  # [offset, length] into an event's blob


# One operation as the log stores it (JSON). Its `type` tells which fields it has:
# - upsert: `points`, each [key, payload ref, {name: vector ref}]; maybe `update_filter` (a
#   filter) and `update_mode`;
# - update_vectors: `points`, each [key, {name: vector ref}]; maybe the same two;
# - delete, clear_payload: a selection, that is `ids` (point keys) or `filter`;
# - delete_vectors: `vector` (names) and `ids`, `filter` or both;
# - set_payload: `payload`, a selection, maybe `key` (a path); overwrite_payload: `payload` and
#   a selection; delete_payload: `keys` (paths) and a selection;
# - create_index: `field` and `schema`; delete_index: `field`;
# - update_collection: `config`, the collection's config from then on; create_vector and
#   delete_vector: `name` (a vector name) and `config`.
Operation = dict[str, Any]


def by_filter(op: Operation) -> bool:
    """Whether a filter selects the operation's points (or decides which of the named ones it
    changes): only applying it resolves them."""
    return "filter" in op or "update_filter" in op


def points_named(op: Operation) -> list[str] | None:
    """The points an operation names itself; None when it selects them by a filter."""
    if by_filter(op):
        return None
    if "points" in op:
        return [point[0] for point in op["points"]]
    return list(op.get("ids", []))


@dataclass
class Event:
    ops: list[Operation] = field(default_factory=list)
    blob: bytearray = field(default_factory=bytearray)
    time: int | None = None  # when it was appended (ms since the epoch), once read from the log

    def put(self, data: bytes | memoryview) -> Ref:
        ref = [len(self.blob), len(data)]
        self.blob += data
        return ref

    def view(self, ref: Ref) -> memoryview:
        """The bytes at `ref`, not copied."""
        offset, length = ref
        return memoryview(self.blob)[offset : offset + length]

    def bytes_at(self, ref: Ref) -> bytes:
        offset, length = ref
        return bytes(self.blob[offset : offset + length])

    @property
    def size(self) -> int:
        """The bulk of the event's stored bytes: its vectors and payloads."""
        return len(self.blob)

    def encode(self) -> dict[str, bytes]:
        return {"h": _dumps({"ops": self.ops}), "b": bytes(self.blob)}

    def describe(self, collection: Collection) -> list[JsonObject]:
        """The operations as readable JSON: ids, payloads and vectors in place of references."""
        return [self._describe_op(collection, op) for op in self.ops]

    def _describe_op(self, collection: Collection, op: Operation) -> JsonObject:
        described: JsonObject = {k: v for k, v in op.items() if k not in ("points", "ids")}
        if "ids" in op:
            described["points"] = [ids.from_key(key) for key in op["ids"]]
        if op["type"] == "upsert":
            described["points"] = [
                {
                    "id": ids.from_key(key),
                    "vector": self._vectors(collection, refs),
                    "payload": orjson.loads(self.bytes_at(payload)),
                }
                for key, payload, refs in op["points"]
            ]
        elif op["type"] == "update_vectors":
            described["points"] = [
                {"id": ids.from_key(key), "vector": self._vectors(collection, refs)}
                for key, refs in op["points"]
            ]
        return described

    def _vectors(self, collection: Collection, refs: dict[str, Ref]) -> dict[str, object]:
        return {
            name: decode(collection.vectors[name], self.bytes_at(ref)) for name, ref in refs.items()
        }


def _dumps(value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError as error:  # nesting beyond what the log stores
        raise FormatError(f"cannot store this value: {error}") from None


def _payload_bytes(raw: object, where: str) -> bytes:
    if raw is None:
        return b"{}"
    if not isinstance(raw, dict):
        raise FormatError(f"{where}.payload: invalid type, expected a JSON object")
    return _dumps(raw)


# ---- upsert --------------------------------------------------------------------------------


def add_upsert(event: Event, collection: Collection, body: object) -> None:
    body = expect_object(body, "PointInsertOperations")
    if "batch" in body:
        points = _batch_points(body["batch"])
    elif "points" in body:
        points = body["points"]
        if not isinstance(points, list):
            raise FormatError("points: invalid type, expected a sequence")
    else:
        raise FormatError("Invalid PointInsertOperations format")
    if not points:
        raise BadRequest("Empty update request")
    op: Operation = {"type": "upsert", "points": _upsert_points(event, collection, points)}
    _conditional(op, body)
    event.ops.append(op)


def _upsert_points(event: Event, collection: Collection, points: list[Any]) -> list[list[Any]]:
    """Each point as [key, payload ref, {name: vector ref}], every field checked."""
    keys: list[str] = []
    payloads: list[bytes] = []
    vectors: list[object] = []
    for i, raw in enumerate(points):
        point = expect_object(raw, "PointStruct")
        where = f"points[{i}]"
        if "id" not in point:
            raise FormatError(f"{where}: missing field `id`")
        vector = point.get("vector", point.get("vectors"))
        if vector is None:
            raise FormatError(f"{where}: missing field `vector`")
        keys.append(ids.to_key(ids.parse_id(point["id"])))
        payloads.append(_payload_bytes(point.get("payload"), where))
        vectors.append(vector)
    encoded = encode_many_vectors(collection, vectors, lambda i: f"points[{i}].vector")
    return [
        [key, event.put(payload), {name: event.put(data) for name, data in named.items()}]
        for key, payload, named in zip(keys, payloads, encoded, strict=True)
    ]


def _batch_points(raw: object) -> list[JsonObject]:
    """The columnar form turned into the list form, lengths checked as Qdrant does."""
    batch = expect_object(raw, "Batch")
    for name in ("ids", "vectors"):
        if name not in batch:
            raise FormatError(f"batch: missing field `{name}`")
    point_ids, vectors, payloads = batch["ids"], batch["vectors"], batch.get("payloads")
    if not isinstance(point_ids, list):
        raise FormatError("batch.ids: invalid type, expected a sequence")
    n = len(point_ids)
    if isinstance(vectors, list):
        _check_len(n, len(vectors), "vectors")
        per_point: list[Any] = vectors
    elif isinstance(vectors, dict):
        for name, column in vectors.items():
            if not isinstance(column, list):
                raise FormatError(f"batch.vectors.{name}: invalid type, expected a sequence")
            _check_len(n, len(column), "vectors")
        per_point = [{name: column[i] for name, column in vectors.items()} for i in range(n)]
    else:
        raise FormatError("batch.vectors: data did not match any variant of BatchVectorStruct")
    if payloads is None:
        payloads = [None] * n
    elif not isinstance(payloads, list):
        raise FormatError("batch.payloads: invalid type, expected a sequence")
    _check_len(n, len(payloads), "payloads")
    return [
        {"id": i, "vector": v, "payload": p}
        for i, v, p in zip(point_ids, per_point, payloads, strict=True)
    ]


def _check_len(n_ids: int, n: int, what: str) -> None:
    if n != n_ids:
        raise ValidationFailed(f"batch: number of ids and {what} must be equal ({n_ids} != {n})")


# ---- operations that select points ------------------------------------------------------------


def selector(body: JsonObject, missing: QdrantError | None = None) -> Operation:
    """`points` (ids) or `filter`, as Qdrant's PointsSelector: `points` wins when both are given."""
    if body.get("points") is not None:
        keys = [ids.to_key(i) for i in ids.parse_ids(body["points"])]
        if not keys:
            raise BadRequest("Empty update request")
        return {"ids": keys}
    if body.get("filter") is not None:
        compile_filter(body["filter"])
        return {"filter": body["filter"]}
    raise missing or FormatError("data did not match any variant of untagged enum PointsSelector")


def add_delete(event: Event, collection: Collection, body: object) -> None:
    event.ops.append({"type": "delete", **selector(expect_object(body, "PointsSelector"))})


def _payload_selector(body: JsonObject) -> Operation:
    return selector(body, FormatError("Either list of point ids or filter must be provided"))


def _payload_object(body: JsonObject) -> JsonObject:
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise FormatError("payload: missing field or invalid type, expected a JSON object")
    return payload


def add_set_payload(event: Event, collection: Collection, body: object) -> None:
    body = expect_object(body, "SetPayload")
    op: Operation = {
        "type": "set_payload",
        "payload": _payload_object(body),
        **_payload_selector(body),
    }
    if body.get("key") is not None:
        if not isinstance(body["key"], str):
            raise FormatError("key: invalid type, expected a string")
        parse_path(body["key"])
        op["key"] = body["key"]
    event.ops.append(op)


def add_overwrite_payload(event: Event, collection: Collection, body: object) -> None:
    """Replaces the whole payload; Qdrant ignores `key` here."""
    body = expect_object(body, "SetPayload")
    event.ops.append(
        {"type": "overwrite_payload", "payload": _payload_object(body), **_payload_selector(body)}
    )


def add_delete_payload(event: Event, collection: Collection, body: object) -> None:
    body = expect_object(body, "DeletePayload")
    keys = body.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise FormatError("keys: missing field or invalid type, expected a list of strings")
    for key in keys:
        parse_path(key)
    event.ops.append({"type": "delete_payload", "keys": keys, **_payload_selector(body)})


def add_clear_payload(event: Event, collection: Collection, body: object) -> None:
    event.ops.append({"type": "clear_payload", **selector(expect_object(body, "PointsSelector"))})


def add_update_vectors(event: Event, collection: Collection, body: object) -> None:
    body = expect_object(body, "UpdateVectors")
    points = body.get("points")
    if not isinstance(points, list):
        raise FormatError("points: missing field or invalid type, expected a sequence")
    if not points:
        raise ValidationFailed("points: must specify points to update")
    refs: list[list[Any]] = []
    for i, raw in enumerate(points):
        point = expect_object(raw, "PointVectors")
        where = f"points[{i}]"
        if "id" not in point or "vector" not in point:
            raise FormatError(f"{where}: missing field `{'id' if 'id' not in point else 'vector'}`")
        if point["vector"] == {}:
            raise ValidationFailed(f"{where}.vector: must specify vectors to update for point")
        vectors = encode_point_vectors(collection, point["vector"], f"{where}.vector")
        key = ids.to_key(ids.parse_id(point["id"]))
        refs.append([key, {name: event.put(data) for name, data in vectors.items()}])
    op: Operation = {"type": "update_vectors", "points": refs}
    _conditional(op, body)
    event.ops.append(op)


def add_delete_vectors(event: Event, collection: Collection, body: object) -> None:
    """Both `points` and `filter` may be given: the operation then takes both sets."""
    body = expect_object(body, "DeleteVectors")
    names = body.get("vector")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FormatError("vector: missing field or invalid type, expected a list of names")
    if not names:
        raise ValidationFailed("vector: must specify at least one vector name")
    for name in names:
        if name not in collection.vectors:
            raise WrongInput(f"Not existing vector name error: {name}")
    op: Operation = {"type": "delete_vectors", "vector": list(dict.fromkeys(names))}
    if body.get("points") is None and body.get("filter") is None:
        raise BadRequest("No filter or points provided")
    if body.get("filter") is not None:
        op.update(selector({"filter": body["filter"]}))
    if body.get("points") is not None:
        op.update(selector({"points": body["points"]}))
    event.ops.append(op)


UPDATE_MODES = ("upsert", "insert_only", "update_only")


def _conditional(op: Operation, body: JsonObject) -> None:
    """`update_filter` (existing points change only if they match) and `update_mode`."""
    if body.get("update_filter") is not None:
        compile_filter(body["update_filter"])
        op["update_filter"] = body["update_filter"]
    mode = body.get("update_mode")
    if mode is not None:
        if mode not in UPDATE_MODES:
            raise FormatError(
                f"update_mode: unknown variant `{mode}`, expected one of {UPDATE_MODES}"
            )
        op["update_mode"] = mode


# ---- payload indexes ---------------------------------------------------------------------------


def add_create_index(event: Event, collection: Collection, body: object) -> None:
    index = indexes.validate_create(body)
    event.ops.append({"type": "create_index", "field": index.field, "schema": index.schema})


def add_delete_index(event: Event, field: str) -> None:
    parse_path(field)
    event.ops.append({"type": "delete_index", "field": field})


# ---- the collection's config ------------------------------------------------------------------


def config_change(kind: str, config: JsonObject, vector: str | None = None) -> Event:
    """An event changing the collection's config (config_changes.py) to `config`: `kind` is
    update_collection, create_vector or delete_vector (these two name the `vector`)."""
    op: Operation = {"type": kind, "config": config}
    if vector is not None:
        op["name"] = vector
    return Event([op])


# ---- batch update -----------------------------------------------------------------------------

Builder = Callable[[Event, Collection, object], None]
BATCH_OPERATIONS: dict[str, Builder] = {
    "upsert": add_upsert,
    "delete": add_delete,
    "set_payload": add_set_payload,
    "overwrite_payload": add_overwrite_payload,
    "delete_payload": add_delete_payload,
    "clear_payload": add_clear_payload,
    "update_vectors": add_update_vectors,
    "delete_vectors": add_delete_vectors,
}


def add_batch(event: Event, collection: Collection, body: object) -> None:
    """Every operation of a batch in one event: nothing interleaves with them."""
    operations = expect_object(body, "UpdateOperations").get("operations")
    if not isinstance(operations, list):
        raise FormatError("operations: missing field or invalid type, expected a sequence")
    for i, raw in enumerate(operations):
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in BATCH_OPERATIONS:
            raise FormatError(
                f"operations[{i}]: expected one of {', '.join(BATCH_OPERATIONS)} as its only key"
            )
        ((kind, inner),) = raw.items()
        BATCH_OPERATIONS[kind](event, collection, inner)
