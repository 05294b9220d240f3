"""The fields that Qdrant's read and query bodies share, checked as Qdrant checks them."""

from __future__ import annotations

from projections import reads, search
from projections.collections import Collection
from projections.datetimes import parse_datetime, to_micros
from projections.errors import FormatError, ValidationFailed
from projections.filters import Filter, compile_filter
from projections.jsontypes import JsonObject
from projections.payloads import compile_selector
from projections.reads import OrderBy, Projection

SEARCH_PARAMS = {"hnsw_ef", "exact", "indexed_only", "quantization", "acorn"}


def search_params(raw: object) -> search.SearchParams:
    """`params`: `hnsw_ef`, `exact`, `indexed_only` (quantization and ACORN settings are
    accepted and have no effect: vectors are held unquantized; strict mode reads
    `quantization.oversampling`)."""
    if raw is None:
        return search.SearchParams()
    if not isinstance(raw, dict):
        raise FormatError("params: invalid type, expected struct SearchParams")
    unknown = sorted(set(raw) - SEARCH_PARAMS)
    if unknown:
        raise FormatError(f"params: unknown field `{unknown[0]}`")
    hnsw_ef = raw.get("hnsw_ef")
    if hnsw_ef is not None:
        hnsw_ef = unsigned(hnsw_ef, "params.hnsw_ef")
    flags = {name: raw.get(name) for name in ("exact", "indexed_only")}
    for name, value in flags.items():
        if value is not None and not isinstance(value, bool):
            raise FormatError(f"params.{name}: invalid type, expected a boolean")
    quantization = raw.get("quantization")
    oversampling = None
    if isinstance(quantization, dict):
        oversampling = number(quantization.get("oversampling"), "params.quantization.oversampling")
    exact, indexed_only = bool(flags["exact"]), bool(flags["indexed_only"])
    return search.SearchParams(hnsw_ef, exact, indexed_only, oversampling)


def unsigned(raw: object, name: str) -> int:
    if raw is None:
        return 0
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise FormatError(f"{name}: invalid value {raw}, expected an unsigned integer")
    return raw


def number(raw: object, name: str) -> float | None:
    if raw is not None and (not isinstance(raw, (int, float)) or isinstance(raw, bool)):
        raise FormatError(f"{name}: invalid type, expected a number")
    return raw


def filter_of(body: JsonObject) -> Filter | None:
    raw = body.get("filter")
    return None if raw is None else compile_filter(raw)


def order_by(raw: object) -> OrderBy | None:
    """`"field"` or `{"key", "direction": "asc"|"desc", "start_from": number | datetime}`."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return OrderBy(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise FormatError("order_by: expected a field name or {key, direction, start_from}")
    direction = raw.get("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise FormatError(f"order_by.direction: unknown variant `{direction}`")
    return OrderBy(raw["key"], direction == "desc", _start_from(raw.get("start_from")))


def _start_from(raw: object) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    moment = parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None:
        raise FormatError(
            f"order_by.start_from: '{raw}' does not match accepted datetime format (RFC3339). "
            "Example: 2014-01-01T00:00:00Z"
        )
    return to_micros(moment)


def limit(raw: object, default: int) -> int:
    return at_least(raw, "limit", default, 1)


def at_least(raw: object, name: str, default: int, minimum: int) -> int:
    """An unsigned integer field (400 if it is none) of at least `minimum` (422 if below)."""
    if raw is None:
        return default
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise FormatError(f"{name}: invalid value {raw}, expected an unsigned integer")
    if raw < minimum:
        raise ValidationFailed(f"{name}: value {raw} invalid, must be {minimum} or larger")
    return raw


def projection(collection: Collection, body: JsonObject, default_payload: bool) -> Projection:
    with_payload = body.get("with_payload")
    payload = compile_selector(default_payload if with_payload is None else with_payload)
    with_vector = body.get("with_vector", body.get("with_vectors", False))
    return Projection(payload, reads.vector_selection(collection, with_vector))
