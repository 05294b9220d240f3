"""Changing a live collection's config: `PATCH /collections/{c}` and adding or removing a
vector name. Each function checks a request against the current config and returns the config
after it; nothing is changed here. The change itself is an event in the log (api/config.py),
appended together with the new config, so the log says from which operation on it holds.

A PATCH merges, as Qdrant's does: a diff object changes the keys it gives; a quantization
config replaces the old one (`"Disabled"` removes it); metadata keys set to null are removed.
"""

from __future__ import annotations

from copy import deepcopy

from projections.collections import COUNTS, validate_count, validate_vector_params
from projections.errors import FormatError, ValidationFailed, WrongInput
from projections.jsontypes import JsonObject

PATCH_FIELDS = {
    "vectors", "optimizers_config", "params", "hnsw_config", "quantization_config",
    "sparse_vectors", "strict_mode_config", "metadata",
}  # fmt: skip
HNSW_FIELDS = {
    "m": 0,
    "ef_construct": 4,
    "full_scan_threshold": 10,
    "max_indexing_threads": 0,
    "payload_m": 0,
    "inline_storage": None,
    "on_disk": None,
    "memory": None,
}  # fmt: skip (field -> least value of a number; None: not a number)
PARAMS_FIELDS = {
    "replication_factor", "write_consistency_factor", "read_fan_out_factor",
    "read_fan_out_delay_ms", "on_disk_payload", "payload",
}  # fmt: skip
VECTOR_DIFF_FIELDS = {"hnsw_config", "quantization_config", "on_disk", "memory"}
QUANTIZATIONS = {"scalar", "product", "binary", "turbo"}


def patched(config: JsonObject, body: object) -> JsonObject:
    """The config after a PATCH request (`UpdateCollection`)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise FormatError("invalid type: expected struct UpdateCollection")
    given = {k: v for k, v in body.items() if k in PATCH_FIELDS and v is not None}
    new = deepcopy(config)
    if "params" in given:
        _patch_params(new, _object(given["params"], "params"))
    if "hnsw_config" in given:
        new["hnsw_config"] = _merged_hnsw(new.get("hnsw_config"), given["hnsw_config"])
    if "vectors" in given:
        _patch_vectors(new, _object(given["vectors"], "vectors"))
    for field in ("optimizers_config", "strict_mode_config"):  # plain diffs
        if field in given:
            new[field] = _merged(new.get(field), _object(given[field], field))
    if "quantization_config" in given:
        _set_quantization(new, given["quantization_config"], "quantization_config")
    if "sparse_vectors" in given:
        _patch_sparse(new, _object(given["sparse_vectors"], "sparse_vectors"))
    if "metadata" in given:
        metadata = {**new.get("metadata", {}), **_object(given["metadata"], "metadata")}
        new["metadata"] = {k: v for k, v in metadata.items() if v is not None}
    return new


def with_vector(config: JsonObject, name: str, body: object) -> JsonObject:
    """The config with a vector name added (`VectorNameConfig`: `{"dense": {...}}` or
    `{"sparse": {...}}`). Adding a name again with the same definition changes nothing."""
    if not isinstance(body, dict) or len(body) != 1 or not {"dense", "sparse"} & set(body):
        raise FormatError("data did not match any variant of untagged enum VectorNameConfig")
    new = deepcopy(config)
    dense = _named_vectors(new)
    sparse = new.get("sparse_vectors", {})
    if "dense" in body:
        params = validate_vector_params(body["dense"], "dense")
        params = {k: v for k, v in params.items() if k not in VECTOR_DIFF_FIELDS}
        if name in sparse:
            raise WrongInput(f"Vector `{name}` already exists as a sparse vector")
        if name in dense:
            if not _same_space(dense[name], params):
                raise WrongInput(f"Vector `{name}` already exists with a different configuration")
            return new
        new["vectors"] = {**dense, name: params}
        return new
    params = _sparse_params(body["sparse"])
    if name in dense:
        raise WrongInput(f"Vector `{name}` already exists as a dense vector")
    if name in sparse:
        if sparse[name].get("modifier", "none") != params.get("modifier", "none"):
            raise WrongInput(
                f"Sparse vector `{name}` already exists with a different configuration"
            )
        return new
    new["sparse_vectors"] = {**sparse, name: params}
    return new


def without_vector(config: JsonObject, name: str) -> JsonObject:
    """The config with a vector name removed (absent already: unchanged, as in Qdrant)."""
    new = deepcopy(config)
    dense = _named_vectors(new)
    if name in dense:
        del dense[name]
        new["vectors"] = dense
    new.get("sparse_vectors", {}).pop(name, None)
    return new


# ---- the parts of a PATCH --------------------------------------------------------------------


def _patch_params(config: JsonObject, diff: JsonObject) -> None:
    for field, value in diff.items():
        if field not in PARAMS_FIELDS or value is None:
            continue
        if field in COUNTS:
            validate_count(value, f"params.{field}")
        config[field] = value


def _patch_vectors(config: JsonObject, diff: JsonObject) -> None:
    """Per vector name: its own HNSW config merged, its quantization replaced, `on_disk`."""
    single = "size" in config.get("vectors", {})
    dense = _named_vectors(config)
    for name, change in diff.items():
        if name not in dense:
            raise WrongInput(f"Not existing vector name error: {name}")
        where = f"vectors.{name}"
        change = _object(change, where)
        params = dense[name]
        hnsw = change.get("hnsw_config")
        if hnsw == {}:
            params.pop("hnsw_config", None)  # an empty object unsets it
        elif hnsw is not None:
            params["hnsw_config"] = _merged_hnsw(params.get("hnsw_config"), hnsw, where)
        if change.get("quantization_config") is not None:
            _set_quantization(params, change["quantization_config"], where)
        for flag in ("on_disk", "memory"):
            if change.get(flag) is not None:
                params[flag] = change[flag]
    config["vectors"] = dense[""] if single else dense


def _patch_sparse(config: JsonObject, diff: JsonObject) -> None:
    sparse = config.get("sparse_vectors", {})
    for name, change in diff.items():
        if name not in sparse:
            raise WrongInput(f"Not existing vector name error: {name}")
        params = _sparse_params(change)
        if "index" in params:
            sparse[name]["index"] = _merged(sparse[name].get("index"), params["index"])
        if "modifier" in params:
            sparse[name]["modifier"] = params["modifier"]
    config["sparse_vectors"] = sparse


def _merged_hnsw(current: object, diff: object, where: str = "") -> JsonObject:
    prefix = f"{where}.hnsw_config" if where else "hnsw_config"
    diff = _object(diff, prefix)
    for field, value in diff.items():
        least = HNSW_FIELDS.get(field)
        if field not in HNSW_FIELDS:
            raise FormatError(f"{prefix}: unknown field `{field}`")
        if least is None or value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise FormatError(f"{prefix}.{field}: invalid value: {value!r}, expected usize")
        if value < least:
            raise ValidationFailed(
                f"{prefix}.{field}: value {value} invalid, must be {least} or larger"
            )
    return _merged(current, diff)


def _set_quantization(params: JsonObject, raw: object, where: str) -> None:
    if raw == "Disabled":
        params.pop("quantization_config", None)
        return
    if not isinstance(raw, dict) or len(raw) != 1 or not QUANTIZATIONS & set(raw):
        raise FormatError(
            f"{where}: data did not match any variant of untagged enum QuantizationConfigDiff"
        )
    params["quantization_config"] = raw


def _sparse_params(raw: object) -> JsonObject:
    params = _object(raw, "sparse")
    modifier = params.get("modifier")
    if modifier is not None and modifier not in ("none", "idf"):
        raise FormatError(f"modifier: unknown variant `{modifier}`, expected `none` or `idf`")
    return {k: v for k, v in params.items() if k in ("index", "modifier") and v is not None}


# ---- helpers ---------------------------------------------------------------------------------


def _named_vectors(config: JsonObject) -> dict[str, JsonObject]:
    """The dense vectors as a map by name; a single unnamed vector is named ""."""
    vectors = config.get("vectors", {})
    return {"": vectors} if "size" in vectors else dict(vectors)


def _same_space(existing: JsonObject, params: JsonObject) -> bool:
    """Whether two dense definitions define the same vector space (tuning fields aside)."""
    fields = ("size", "distance", "multivector_config")
    datatype = existing.get("datatype", "float32") == params.get("datatype", "float32")
    return datatype and all(existing.get(f) == params.get(f) for f in fields)


def _merged(current: object, diff: JsonObject) -> JsonObject:
    """A diff's keys over the current object's; null values in the diff change nothing."""
    base = dict(current) if isinstance(current, dict) else {}
    return {**base, **{k: v for k, v in diff.items() if v is not None}}


def _object(raw: object, where: str) -> JsonObject:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: invalid type, expected a map")
    return raw
