"""Random write operations and filters for the differential test (test_differential.py).

An `Op` is one qdrant-client call (`method`, keyword arguments); applying it to pointlog over
REST and to qdrant-client's local mode must leave both in the same state. `OpGenerator` draws
ops from a seeded `random.Random`, looking at the current state (the ids that exist and their
payloads) so that it never produces the cases where the Rust server and local mode are known to
differ; test_differential.py lists them."""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass

from pydantic import BaseModel
from qdrant_client import QdrantClient, models

VECTORS = {
    "a": models.VectorParams(size=3, distance=models.Distance.COSINE),
    "b": models.VectorParams(size=2, distance=models.Distance.DOT),
}
SPARSE = {"s": models.SparseVectorParams(modifier=models.Modifier.IDF)}
NAMES = [*VECTORS, *SPARSE]
SPARSE_DIMS = 8
KEYWORDS = ["red", "green", "blue", "Red", ""]
NUMBERS = [-2, -0.5, 0, 0.5, 1, 2.25, 3, 5.5, 8]
COMPONENTS = [-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0]
INDEXES = [
    ("k", models.PayloadSchemaType.KEYWORD),
    ("n", models.PayloadSchemaType.INTEGER),
    ("f", models.PayloadSchemaType.FLOAT),
    ("b", models.PayloadSchemaType.BOOL),
    ("obj.x", models.PayloadSchemaType.INTEGER),
    ("obj.y", models.PayloadSchemaType.KEYWORD),
    ("items[].x", models.PayloadSchemaType.INTEGER),
]
# Keys of `is_null` conditions: never `nl`, the only key that may hold `[null]` (excluded case).
NULL_KEYS = ["k", "z", "obj.x", "obj", "n", "f", "missing"]
EMPTY_KEYS = ["k", "n", "nl", "z", "obj.arr", "items", "obj", "obj.x", "missing"]
COUNT_KEYS = ["k", "n", "items", "obj.arr", "nl", "z", "items[].x"]
RANGE_KEYS = ["n", "f", "obj.x", "items[].x", "obj.arr", "z"]
SET_KEYS = ["obj", "obj.sub", "items[]", "items[0]", "items[1]", "fresh.deep", "z", "nl[]"]
DELETE_KEYS = [
    "k", "n", "obj.x", "obj.arr[]", "obj.arr[0]", "items[].x", "items[0].c", "items[]", "nl",
    "z", "missing.path", "obj", "f", "b",
]  # fmt: skip


@dataclass
class Op:
    method: str
    kwargs: dict

    def apply(self, client: QdrantClient, collection: str) -> object:
        return getattr(client, self.method)(collection, **copy.deepcopy(self.kwargs))

    def __str__(self) -> str:
        args = ", ".join(f"{k}={short(v)}" for k, v in self.kwargs.items())
        return f"client.{self.method}(name, {args})"


def short(value: object) -> str:
    """A compact repr: pydantic models without their unset (None) fields."""
    if isinstance(value, BaseModel):
        fields = {k: v for k, v in value if v is not None}
        inner = ", ".join(f"{k}={short(v)}" for k, v in fields.items())
        return f"{type(value).__name__}({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {short(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "value") and hasattr(type(value), "__members__"):
        return repr(value.value)
    return repr(value)


def canonical(pid: int | str) -> int | str:
    return pid if isinstance(pid, int) else str(uuid.UUID(pid))


class OpGenerator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ints = list(range(12))
        self.uuids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(4)]
        self.indexed: dict[str, models.PayloadSchemaType] = {}

    # -- ids -----------------------------------------------------------------------------------

    def spell(self, pid: int | str) -> int | str:
        """A UUID in one of the spellings Qdrant accepts (all name the same point)."""
        if isinstance(pid, int):
            return pid
        r = self.rng.random()
        if r < 0.5:
            return pid
        return self.rng.choice(
            [pid.upper(), pid.replace("-", ""), "{" + pid + "}", "urn:uuid:" + pid]
        )

    def any_id(self) -> int | str:
        if self.rng.random() < 0.7:
            return self.rng.choice(self.ints)
        return self.spell(self.rng.choice(self.uuids))

    def ids(self, low: int = 1, high: int = 4) -> list:
        return [self.any_id() for _ in range(self.rng.randint(low, high))]

    def some_of(self, existing: list, high: int = 3) -> list:
        chosen = self.rng.sample(existing, min(len(existing), self.rng.randint(1, high)))
        return [self.spell(i) for i in chosen]

    # -- values ----------------------------------------------------------------------------------

    def keyword(self) -> str:
        return self.rng.choice(KEYWORDS)

    def small(self) -> int:
        return self.rng.randint(-2, 5)

    def obj(self, nulls: bool = True) -> dict:
        out: dict = {}
        if self.rng.random() < 0.7:
            out["x"] = None if nulls and self.rng.random() < 0.2 else self.rng.randint(0, 3)
        if self.rng.random() < 0.6:
            out["y"] = self.keyword()
        if self.rng.random() < 0.5:
            out["arr"] = [self.rng.randint(0, 3) for _ in range(self.rng.randint(0, 3))]
        return out

    def item(self) -> dict:
        out: dict = {}
        if self.rng.random() < 0.8:
            out["x"] = self.rng.randint(0, 3)
        if self.rng.random() < 0.6:
            out["c"] = self.keyword()
        return out

    def value(self, key: str) -> object:
        rng = self.rng
        if key in ("k", "n", "f", "obj") and rng.random() < 0.1:
            return None
        match key:
            case "k":
                if rng.random() < 0.6:
                    return self.keyword()
                return [self.keyword() for _ in range(rng.randint(0, 3))]
            case "n":
                if rng.random() < 0.6:
                    return self.small()
                return [self.small() for _ in range(rng.randint(0, 3))]
            case "f":
                return rng.choice([-1.5, 0.5, 2.25, 3.75, 7.5])
            case "b":
                return rng.random() < 0.5
            case "z":
                return rng.choice([None, "s", 1, [], {"q": 1}, 2.5])
            case "nl":
                return rng.choice([[None], [None, 1], [1, None, "x"], None, [], [2]])
            case "obj":
                return self.obj()
            case "items":
                return [self.item() for _ in range(rng.randint(0, 3))]
        raise AssertionError(key)

    def payload(self, empty_ok: bool = True) -> dict | None:
        r = self.rng.random()
        if empty_ok and r < 0.08:
            return None
        if empty_ok and r < 0.12:
            return {}
        keys = ["k", "n", "f", "b", "z", "nl", "obj", "items"]
        chosen = self.rng.sample(keys, self.rng.randint(3, 8))
        return {k: self.value(k) for k in chosen}

    def vector(self, name: str) -> list[float] | models.SparseVector:
        if name in SPARSE:
            return self.sparse()
        return [self.rng.choice(COMPONENTS) for _ in range(VECTORS[name].size)]

    def sparse(self) -> models.SparseVector:
        """1-4 of the first SPARSE_DIMS indices, sorted, with non-zero values."""
        indices = sorted(self.rng.sample(range(SPARSE_DIMS), self.rng.randint(1, 4)))
        values = [self.rng.choice([c for c in COMPONENTS if c]) for _ in indices]
        return models.SparseVector(indices=indices, values=values)

    def vectors(self, names: list[str] | None = None) -> dict:
        if names is None:
            names = [n for n in NAMES if self.rng.random() < 0.6]
        return {n: self.vector(n) for n in names}

    # -- filters ---------------------------------------------------------------------------------

    def bounds(self, model: type, values: list) -> BaseModel:
        chosen = self.rng.sample(["gt", "gte", "lt", "lte"], self.rng.randint(1, 2))
        return model(**{k: self.rng.choice(values) for k in chosen})

    def field(self, key: str, **kwargs: object) -> models.FieldCondition:
        return models.FieldCondition(key=key, **kwargs)

    def condition(self, depth: int) -> object:
        rng = self.rng
        kind = rng.choices(
            ["value", "any", "except", "range", "empty", "null", "has_id", "count", "nested",
             "has_vector", "filter"],
            [5, 3, 2, 3, 2, 2, 1.5, 1.5, 1.5, 0.7, 1 if depth < 2 else 0],
        )[0]  # fmt: skip
        match kind:
            case "value":
                key, value = rng.choice(
                    [
                        ("k", self.keyword()),
                        ("n", self.small()),
                        ("b", rng.random() < 0.5),
                        ("obj.y", self.keyword()),
                        ("obj.x", rng.randint(0, 3)),
                        ("items[].x", rng.randint(0, 3)),
                        ("items[].c", self.keyword()),
                        ("z", rng.choice(["s", 1])),
                    ]
                )
                return self.field(key, match=models.MatchValue(value=value))
            case "any":
                key, pool = rng.choice(
                    [("k", KEYWORDS), ("n", list(range(-2, 6))), ("items[].x", list(range(4)))]
                )
                values = rng.sample(pool, rng.choice([0, 1, 2, 3, 3]))
                return self.field(key, match=models.MatchAny(any=values))
            case "except":
                key, pool = rng.choice(
                    [
                        ("k", KEYWORDS),
                        ("n", list(range(-2, 6))),
                        ("nl", [1, 2]),
                        ("obj.arr", [0, 1, 2]),
                    ]
                )
                values = rng.sample(pool, rng.randint(0, 2))
                return self.field(key, match=models.MatchExcept(**{"except": values}))
            case "range":
                return self.field(rng.choice(RANGE_KEYS), range=self.bounds(models.Range, NUMBERS))
            case "empty":
                return models.IsEmptyCondition(
                    is_empty=models.PayloadField(key=rng.choice(EMPTY_KEYS))
                )
            case "null":
                return models.IsNullCondition(
                    is_null=models.PayloadField(key=rng.choice(NULL_KEYS))
                )
            case "has_id":
                return models.HasIdCondition(has_id=self.ids(1, 3))
            case "count":
                counts = self.bounds(models.ValuesCount, [0, 1, 2, 3])
                return self.field(rng.choice(COUNT_KEYS), values_count=counts)
            case "nested":
                return models.NestedCondition(
                    nested=models.Nested(key="items", filter=self.nested_filter())
                )
            case "has_vector":
                return models.HasVectorCondition(has_vector=rng.choice(NAMES))
            case "filter":
                return self.filter(depth + 1)
        raise AssertionError(kind)

    def nested_condition(self) -> models.FieldCondition:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return self.field("x", match=models.MatchValue(value=rng.randint(0, 3)))
        if r < 0.6:
            return self.field("c", match=models.MatchValue(value=self.keyword()))
        if r < 0.8:
            return self.field("x", range=self.bounds(models.Range, [0, 1.5, 2, 3, 4.5]))
        return self.field("x", match=models.MatchAny(any=rng.sample(range(4), 2)))

    def nested_filter(self) -> models.Filter:
        """Inside `nested`, `should: []` matches nothing in Rust (from code): never generated."""
        rng = self.rng
        clauses: dict = {}
        if rng.random() < 0.8:
            clauses["must"] = [self.nested_condition() for _ in range(rng.choice([1, 1, 2]))]
        if rng.random() < 0.3 or not clauses:
            clauses["should"] = [self.nested_condition() for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.2:
            clauses["must_not"] = [self.nested_condition()]
        return models.Filter(**clauses)

    def filter(self, depth: int = 0) -> models.Filter:
        rng = self.rng
        if depth == 0 and rng.random() < 0.05:
            return models.Filter()
        clauses: dict = {}
        if rng.random() < 0.65:
            clauses["must"] = [self.condition(depth) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        if rng.random() < 0.35:
            clauses["should"] = [self.condition(depth) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.25:
            clauses["must_not"] = [self.condition(depth) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.15:
            conditions = [self.condition(depth) for _ in range(rng.randint(1, 3))]
            clauses["min_should"] = models.MinShould(
                conditions=conditions, min_count=rng.randint(1, len(conditions))
            )
        if not clauses:
            clauses["must"] = [self.condition(depth)]
        return models.Filter(**clauses)

    # -- operations --------------------------------------------------------------------------------

    def next(self, state: dict) -> Op:
        """One op for a collection whose points are `state` (canonical id -> payload)."""
        rng = self.rng
        kinds = {
            "upsert": 5,
            "upsert_batch": 1.5,
            "conditional_upsert": 2,
            "delete_ids": 1.2,
            "delete_filter": 1,
            "set_payload": 3,
            "overwrite_payload": 1.5,
            "delete_payload": 2,
            "clear_payload": 0.7,
            "update_vectors": 2,
            "delete_vectors": 1.5,
            "batch": 2,
            "create_index": 0.6,
        }
        if len(state) < 3:
            kinds["upsert"] += 6
        kind = rng.choices(list(kinds), list(kinds.values()))[0]
        if kind == "batch":
            return Op("batch_update_points", {"update_operations": self.batch(state)})
        if kind == "create_index":
            field, schema = rng.choice(INDEXES)
            self.indexed[field] = schema
            return Op("create_payload_index", {"field_name": field, "field_schema": schema})
        method, kwargs = self.write(kind, sorted(state, key=str), state)
        return Op(method, kwargs)

    def write(self, kind: str, existing: list, state: dict | None) -> tuple:
        """(method, kwargs) of one write. By-id updates only name `existing` ids (local mode
        raises KeyError on a missing one). `state` (payloads) is known only for standalone ops."""
        rng = self.rng
        if kind == "update_vectors" and not existing:
            kind = "upsert"
        by_filter = not existing or rng.random() < 0.4
        match kind:
            case "upsert":
                points = [
                    models.PointStruct(id=i, vector=self.vectors(), payload=self.payload())
                    for i in self.ids(1, 5)
                ]
                return "upsert", {"points": points}
            case "upsert_batch":
                ids = list(dict.fromkeys(canonical(i) for i in self.ids(1, 4)))
                ids = [self.spell(i) for i in ids]
                names = [n for n in NAMES if rng.random() < 0.6]
                vectors = {n: [self.vector(n) for _ in ids] for n in names}
                payloads = None
                if rng.random() < 0.8:
                    payloads = [self.payload() or {} for _ in ids]
                batch = models.Batch(ids=ids, vectors=vectors, payloads=payloads)
                return "upsert", {"points": batch}
            case "conditional_upsert":
                points = [
                    models.PointStruct(id=i, vector=self.vectors(), payload=self.payload())
                    for i in self.ids(1, 4)
                ]
                kwargs: dict = {"points": points}
                r = rng.random()
                if r < 0.35:
                    kwargs["update_mode"] = rng.choice(list(models.UpdateMode))
                if r > 0.25:
                    kwargs["update_filter"] = self.filter()
                return "upsert", kwargs
            case "delete_ids":
                return "delete", {"points_selector": models.PointIdsList(points=self.ids(1, 4))}
            case "delete_filter":
                return "delete", {"points_selector": models.FilterSelector(filter=self.filter())}
            case "set_payload":
                selector = self.filter() if by_filter else self.some_of(existing)
                kwargs = {"points": selector}
                if rng.random() < 0.35:
                    kwargs["key"] = rng.choice(SET_KEYS)
                    item = self.item() | self.obj(nulls=False)
                    kwargs["payload"] = item or {"x": 1}
                else:
                    # Top-level nulls (deletes) only on points that hold a non-empty payload:
                    # on a point without stored payload Rust may store the null (excluded).
                    payload = {
                        k: v
                        for k, v in (self.payload(empty_ok=False) or {}).items()
                        if v is not None
                    } or {"b": True}
                    if (
                        state is not None
                        and not by_filter
                        and all(state.get(canonical(i)) for i in selector)
                        and rng.random() < 0.5
                    ):
                        first = state[canonical(selector[0])]
                        for key in rng.sample(sorted(first), rng.randint(1, len(first))):
                            payload[key] = None
                    kwargs["payload"] = payload
                return "set_payload", kwargs
            case "overwrite_payload":
                selector = self.filter() if by_filter else self.some_of(existing)
                return "overwrite_payload", {"points": selector, "payload": self.payload() or {}}
            case "delete_payload":
                selector = self.filter() if by_filter else self.some_of(existing)
                keys = rng.sample(DELETE_KEYS, rng.randint(1, 3))
                return "delete_payload", {"points": selector, "keys": keys}
            case "clear_payload":
                selector = self.filter() if by_filter else self.some_of(existing)
                if isinstance(selector, models.Filter):
                    return "clear_payload", {
                        "points_selector": models.FilterSelector(filter=selector)
                    }
                return "clear_payload", {"points_selector": models.PointIdsList(points=selector)}
            case "update_vectors":
                points = [
                    models.PointVectors(id=i, vector=self.vectors(self.names()))
                    for i in self.some_of(existing)
                ]
                kwargs = {"points": points}
                if rng.random() < 0.25:
                    kwargs["update_filter"] = self.filter()
                return "update_vectors", kwargs
            case "delete_vectors":
                selector = self.filter() if by_filter else self.some_of(existing)
                return "delete_vectors", {"points": selector, "vectors": self.names()}
        raise AssertionError(kind)

    def names(self) -> list[str]:
        return self.rng.choice([["a"], ["b"], ["s"], ["a", "b"], ["b", "a"], ["s", "a"]])

    def batch(self, state: dict) -> list:
        """2-5 operations; by-id updates only on ids known to exist at that point of the batch."""
        existing = set(state)
        ops = []
        kinds = [
            "upsert", "upsert_batch", "conditional_upsert", "delete_ids", "delete_filter",
            "set_payload", "overwrite_payload", "delete_payload", "clear_payload",
            "update_vectors", "delete_vectors",
        ]  # fmt: skip
        for _ in range(self.rng.randint(2, 5)):
            kind = self.rng.choice(kinds)
            method, kwargs = self.write(kind, sorted(existing, key=str), None)
            ops.append(batch_operation(method, kwargs))
            if method == "upsert":
                added = kwargs["points"]
                ids = added.ids if isinstance(added, models.Batch) else [p.id for p in added]
                if kwargs.get("update_mode") != models.UpdateMode.UPDATE_ONLY:
                    existing |= {canonical(i) for i in ids}
            elif method == "delete":
                selector = kwargs["points_selector"]
                if isinstance(selector, models.PointIdsList):
                    existing -= {canonical(i) for i in selector.points}
                else:
                    existing = set()  # unknown which points went: name none by id afterwards
        return ops


def selector_fields(selector: object) -> dict:
    if isinstance(selector, models.Filter):
        return {"filter": selector}
    return {"points": selector}


def batch_operation(method: str, kwargs: dict) -> object:
    """The batch_update_points form of a (method, kwargs) write."""
    match method:
        case "upsert":
            extra = {k: kwargs[k] for k in ("update_filter", "update_mode") if k in kwargs}
            points = kwargs["points"]
            if isinstance(points, models.Batch):
                return models.UpsertOperation(upsert=models.PointsBatch(batch=points, **extra))
            return models.UpsertOperation(upsert=models.PointsList(points=points, **extra))
        case "delete":
            return models.DeleteOperation(delete=kwargs["points_selector"])
        case "set_payload":
            body = models.SetPayload(
                payload=kwargs["payload"],
                key=kwargs.get("key"),
                **selector_fields(kwargs["points"]),
            )
            return models.SetPayloadOperation(set_payload=body)
        case "overwrite_payload":
            body = models.SetPayload(payload=kwargs["payload"], **selector_fields(kwargs["points"]))
            return models.OverwritePayloadOperation(overwrite_payload=body)
        case "delete_payload":
            body = models.DeletePayload(keys=kwargs["keys"], **selector_fields(kwargs["points"]))
            return models.DeletePayloadOperation(delete_payload=body)
        case "clear_payload":
            return models.ClearPayloadOperation(clear_payload=kwargs["points_selector"])
        case "update_vectors":
            body = models.UpdateVectors(
                points=kwargs["points"], update_filter=kwargs.get("update_filter")
            )
            return models.UpdateVectorsOperation(update_vectors=body)
        case "delete_vectors":
            body = models.DeleteVectors(
                vector=kwargs["vectors"], **selector_fields(kwargs["points"])
            )
            return models.DeleteVectorsOperation(delete_vectors=body)
    raise AssertionError(method)
