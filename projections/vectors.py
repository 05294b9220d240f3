"""Vectors: validating a point's vectors against the collection, and their stored bytes.

Stored forms (one bytes value per point and vector name):
- dense: float32 array of `size` values; multi-dense: `rows * size` float32 values;
- sparse: uint32 indices (sorted, unique) followed by their float32 values.
Cosine vectors are normalised on write, as Qdrant does.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from projections.collections import Collection, VectorSpec
from projections.errors import FormatError, ValidationFailed, WrongInput
from projections.jsontypes import JsonObject

U32_MAX = 2**32 - 1
Floats = NDArray[np.float32]  # vectors as numpy arrays: float32, as they are stored


def encode_point_vectors(collection: Collection, raw: object, where: str) -> dict[str, bytes]:
    """A point's `vector` field as {name: stored bytes}, every name and size checked."""
    return encode_many_vectors(collection, [raw], lambda _: where)[0]


def encode_many_vectors(
    collection: Collection, raws: list[object], where: Callable[[int], str]
) -> list[dict[str, bytes]]:
    """The `vector` fields of many points, as `encode_point_vectors` each. Plain dense vectors
    of one name are checked and converted in one numpy call: the hot path of a bulk upsert."""
    named = [_by_name(raw, where(i)) for i, raw in enumerate(raws)]
    encoded: list[dict[str, bytes]] = [{} for _ in raws]
    columns: dict[str, list[int]] = {}
    for i, vectors in enumerate(named):
        for name in vectors:
            columns.setdefault(name, []).append(i)
    for name, points in columns.items():
        spec = collection.vectors.get(name)
        if spec is not None and not spec.sparse and not spec.multi:
            rows = _dense_rows(spec, [named[i][name] for i in points], [where(i) for i in points])
            for i, row in zip(points, rows, strict=True):
                encoded[i][name] = row
        else:
            for i in points:
                encoded[i][name] = encode_vector(collection, name, named[i][name], where(i))
    return encoded


def _by_name(raw: object, where: str) -> JsonObject:
    if isinstance(raw, list):
        return {"": raw}
    if isinstance(raw, dict):
        return raw
    raise FormatError(f"{where}: data did not match any variant of untagged enum VectorStruct")


def _dense_rows(spec: VectorSpec, rows: list[Any], wheres: list[str]) -> list[bytes]:
    """Dense vectors of one name, as stored bytes each, converted in one numpy call. Anything
    off (a ragged row, a string, a bool) goes through the one-vector path, which names the
    error exactly."""
    array = _as_matrix(rows, spec.size)
    if array is None:
        return [_encode_dense(spec, row, where) for row, where in zip(rows, wheres, strict=True)]
    if not np.isfinite(array).all():
        raise WrongInput("vector values must be finite 32-bit floats")
    data = normalise(spec, array).tobytes()
    step = spec.size * 4
    return [data[i : i + step] for i in range(0, len(data), step)]


def _as_matrix(rows: list[Any], size: int) -> Floats | None:
    """The rows as a float32 matrix, or None unless every row is a list of `size` numbers.
    numpy refuses strings, nulls and ragged rows itself, but takes JSON's true/false as 1/0:
    only a matrix holding a 0 or a 1 needs the (slower) look at every value's type."""
    try:
        with np.errstate(over="ignore"):
            array = np.array(rows, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        return None
    if array.shape != (len(rows), size) or set(map(type, rows)) != {list}:
        return None
    may_hold_bools = bool(((array == 0) | (array == 1)).any())
    if may_hold_bools and not set(map(type, chain.from_iterable(rows))) <= {int, float}:
        return None
    return array


def encode_vector(collection: Collection, name: object, value: object, where: str) -> bytes:
    spec = collection.vectors.get(name) if isinstance(name, str) else None
    if spec is None:
        raise WrongInput(f"Not existing vector name error: {name}")
    if spec.sparse:
        return _encode_sparse(value, f"{where}.{name}" if name else where)
    if spec.multi:
        return _encode_multi(spec, value, where)
    return _encode_dense(spec, value, where)


HALF_MAX = float(np.finfo(np.float16).max)
NUMBERS = frozenset({int, float})  # JSON's numbers; a bool is not one
F32_OVERFLOW = 2.0**128 - 2.0**103  # the least magnitude float32 rounds to infinity


def _floats(value: object, where: str) -> Floats:
    # By exact type, in C: a check per element in Python took most of a query's parsing.
    if not isinstance(value, list) or not NUMBERS.issuperset(map(type, value)):
        raise FormatError(f"{where}: expected a vector of numbers")
    # As float64 first (a JSON number always fits): a value float32 cannot hold is refused
    # before the cast, so there is no overflow to silence (np.errstate costs more than the
    # conversion).
    array = np.asarray(value, dtype=np.float64)
    if not (np.abs(array) < F32_OVERFLOW).all():
        raise WrongInput("vector values must be finite 32-bit floats")
    return array.astype(np.float32)


def _check_dim(spec: VectorSpec, got: int) -> None:
    if got != spec.size:
        suffix = f" for vector '{spec.name}'" if spec.name else ""
        raise WrongInput(f"Vector dimension error: expected dim: {spec.size}, got {got}{suffix}")


def normalise(spec: VectorSpec, array: Floats) -> Floats:
    if spec.distance != "Cosine":
        return array
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    normalised: Floats = np.divide(array, norms, out=array.copy(), where=norms > 0)
    return normalised


def stored_values(spec: VectorSpec, array: Floats) -> Floats:
    """The values as the vector's datatype keeps them, as Qdrant stores them: `uint8` truncates
    toward zero and saturates at 0 and 255, `float16` rounds to half precision. (A Cosine
    vector is normalised as sent, whatever its datatype.)"""
    if spec.distance == "Cosine":
        return array
    if spec.datatype == "uint8":
        clipped: Floats = np.clip(np.trunc(array), 0, 255)
        return clipped
    if spec.datatype == "float16":  # beyond its range: its largest finite value, not inf
        half = np.clip(array, -HALF_MAX, HALF_MAX).astype(np.float16)
        rounded: Floats = half.astype(np.float32)
        return rounded
    return array


def _encode_dense(spec: VectorSpec, value: object, where: str) -> bytes:
    return normalise(spec, stored_values(spec, _dense(spec, value, where))).tobytes()


def _encode_multi(spec: VectorSpec, value: object, where: str) -> bytes:
    return normalise(spec, stored_values(spec, _multi(spec, value, where))).tobytes()


def as_sent(spec: VectorSpec, value: object, where: str) -> Floats:
    """A dense or multi-dense vector of a request, checked, as sent (not normalised): what
    recommend's average_vector averages, as Qdrant does."""
    return _multi(spec, value, where) if spec.multi else _dense(spec, value, where)


def _dense(spec: VectorSpec, value: object, where: str) -> Floats:
    array = _floats(value, where)
    if array.size == 0:
        raise ValidationFailed(f"{where}: dense vector must not be empty")
    _check_dim(spec, array.size)
    return array


def _multi(spec: VectorSpec, value: object, where: str) -> Floats:
    if not isinstance(value, list) or not value:
        raise ValidationFailed(f"{where}: dense vector must not be empty")  # Qdrant's text
    if not all(isinstance(row, list) for row in value):
        # A plain dense vector is a one-row multivector.
        value = [value]
    rows = [_floats(row, where) for row in value]
    if any(row.size == 0 for row in rows):
        raise ValidationFailed(f"{where}: all vectors must be non-empty")
    if len({row.size for row in rows}) != 1:
        raise ValidationFailed(f"{where}: all vectors must have the same dimension")
    _check_dim(spec, rows[0].size)
    return np.stack(rows)


def _encode_sparse(value: object, where: str) -> bytes:
    if not isinstance(value, dict) or set(value) - {"indices", "values"}:
        raise FormatError(f"{where}: expected a sparse vector {{indices, values}}")
    indices, values = value.get("indices"), value.get("values")
    if not isinstance(indices, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= U32_MAX for i in indices
    ):
        raise FormatError(f"{where}.indices: expected a list of unsigned 32-bit integers")
    weights = _floats(values, f"{where}.values")
    if len(indices) != weights.size:
        raise ValidationFailed(f"{where}.values: must be the same length as indices")
    if len(set(indices)) != len(indices):
        raise ValidationFailed(f"{where}.indices: must be unique")
    order = np.argsort(np.asarray(indices, dtype=np.uint32), kind="stable")
    return np.asarray(indices, dtype=np.uint32)[order].tobytes() + weights[order].tobytes()


def decode(spec: VectorSpec, data: bytes) -> object:
    """Stored bytes as the JSON-ready value Qdrant returns (numpy arrays print as float32)."""
    if spec.sparse:
        half = len(data) // 2
        indices = np.frombuffer(data[:half], dtype=np.uint32)
        return {"indices": indices, "values": np.frombuffer(data[half:], dtype=np.float32)}
    array = np.frombuffer(data, dtype=np.float32)
    return array.reshape(-1, spec.size) if spec.multi else array
