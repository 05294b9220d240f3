"""Strict mode: the limits a collection's `strict_mode_config` sets on requests, checked as
Qdrant checks them and refused with its texts (403 `Forbidden: <what>. Help: <how>`), before
anything is read or appended. Only an `enabled` config is enforced.

Which payload index a filter condition needs follows Qdrant's own table: a keyword index for
a string match (or a uuid one for a UUID), an integer index for an integer match, a float or
integer index for a range, and so on; `is_empty`, `is_null` and `values_count` take any.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from projections.collections import Collection
from projections.errors import BadRequest, Forbidden
from projections.indexes import Index
from projections.jsontypes import JsonObject

# What a condition may need, as Qdrant names index capabilities.
ANY = ("int_match", "int_range", "keyword", "keyword_prefix", "float_range", "text",
       "text_phrase", "bool", "uuid", "datetime", "geo")  # fmt: skip
SCHEMA_OF = {  # a capability -> the index schema that has it, as the error names it
    "int_match": "integer", "int_range": "integer", "keyword": "keyword",
    "keyword_prefix": '{"type":"keyword","prefix":true}', "float_range": "float",
    "text": "text", "text_phrase": '{"type":"text","phrase_matching":true}', "bool": "bool",
    "uuid": "uuid", "datetime": "datetime", "geo": "geo",
}  # fmt: skip
GEO_CONDITIONS = ("geo_bounding_box", "geo_radius", "geo_polygon")
SIZE_LIMITS = ("max_points_count", "max_collection_vector_size_bytes",
               "max_collection_payload_size_bytes")  # fmt: skip
# The collection's payload indexes by field, read only when a check needs them.
Indexes = Callable[[], Mapping[str, Index]]
CLAUSES = ("must", "should", "must_not")


def schema_names(needs: Iterable[str]) -> list[str]:
    """The index schemas that have these capabilities, as Qdrant names them."""
    return sorted({SCHEMA_OF[need] for need in needs})


def _refuse(what: str, how: str) -> Forbidden:
    return Forbidden(f"{what}. Help: {how}")


def _limit(value: float | None, limit: object, name: str) -> None:
    if value is not None and isinstance(limit, int | float) and value > limit:
        value, limit = _shown(value), _shown(limit)
        raise _refuse(
            f'Limit exceeded {value} > {limit} for "{name}"',
            f'Reduce the "{name}" parameter to or below {limit}.',
        )


def _shown(number: float) -> float:
    """A number as Rust prints it: a float with no fraction without its `.0`."""
    return int(number) if float(number).is_integer() else number


@dataclass(frozen=True)
class StrictMode:
    config: JsonObject

    @classmethod
    def of(cls, collection: Collection) -> StrictMode | None:
        """The collection's strict mode; None unless it is enabled."""
        config = collection.config.get("strict_mode_config")
        if not isinstance(config, dict) or config.get("enabled") is not True:
            return None
        return cls(config)

    def limit(self, value: int | None) -> None:
        """A request's `limit` (for groups: groups times their size)."""
        _limit(value, self.config.get("max_query_limit"), "limit")

    def timeout(self, value: float | None) -> None:
        _limit(value, self.config.get("max_timeout"), "timeout")

    def search(self, exact: bool, hnsw_ef: int | None, oversampling: float | None) -> None:
        """A search's `params`."""
        if exact and self.config.get("search_allow_exact") is False:
            raise _refuse("Exact search disabled!", "Set exact=false.")
        _limit(hnsw_ef, self.config.get("search_max_hnsw_ef"), "hnsw_ef")
        _limit(oversampling, self.config.get("search_max_oversampling"), "oversampling")

    @property
    def limits_size(self) -> bool:
        """Whether it limits the collection's size (a write then reads how large it is)."""
        return any(self.config.get(limit) is not None for limit in SIZE_LIMITS)

    def size(self, points: int, vector_bytes: int, payload_bytes: int) -> None:
        """The collection's size before a write that adds to it, as Qdrant estimates it."""
        most = self.config.get("max_points_count")
        if isinstance(most, int) and points >= most:
            raise BadRequest(f"Max points count limit of {most} reached!")
        for kind, used in (("vector", vector_bytes), ("payload", payload_bytes)):
            limit = self.config.get(f"max_collection_{kind}_size_bytes")
            if isinstance(limit, int) and used >= limit:
                # as Rust prints an f32: shortest digits, never an exponent
                megabytes = np.format_float_positional(np.float32(limit / 2**20), trim="-")
                raise BadRequest(f"Max {kind} storage size limit of {megabytes}MB reached!")

    def batch(self, points: int, upsert: bool) -> None:
        """The points of an upsert (or of an update of vectors)."""
        name = "upsert limit" if upsert else "update limit"
        _limit(points, self.config.get("upsert_max_batchsize"), name)

    def read_filter(self, raw: JsonObject | None, indexes: Indexes) -> None:
        """A filter choosing the points a read returns."""
        self._filter(raw, indexes, self.config.get("unindexed_filtering_retrieve"))

    def update_filter(self, raw: JsonObject | None, indexes: Indexes) -> None:
        """A filter choosing the points an update changes."""
        self._filter(raw, indexes, self.config.get("unindexed_filtering_update"))

    def _filter(self, raw: JsonObject | None, indexes: Indexes, unindexed: object) -> None:
        if raw is None:
            return
        if unindexed is False:
            missing = first_unindexed(raw, indexes())
            if missing is not None:
                key, needs = missing
                schemas = ", ".join(schema_names(needs))
                raise _refuse(
                    f'Index required but not found for "{key}" of one of the following types: '
                    f"[{schemas}]",
                    "Create an index for this key or use a different filter.",
                )
        most = self.config.get("filter_max_conditions")
        count = sum(1 for _ in _conditions(raw, ""))
        if isinstance(most, int) and count > most:
            raise _refuse(
                f"Filter condition limit reached ({count} > {most})",
                "Reduce the amount of conditions of your filter.",
            )


# ---- which index a filter needs --------------------------------------------------------------


def _conditions(raw: JsonObject, prefix: str) -> Iterator[tuple[str, JsonObject]]:
    """The filter's field conditions (with their keys under `nested` prefixes), in order."""
    clauses: list[Iterable[object]] = []
    for clause in CLAUSES:
        found = raw.get(clause)
        clauses.append(found if isinstance(found, list) else [found] if found else [])
    min_should = raw.get("min_should")
    if isinstance(min_should, dict):
        clauses.append(min_should.get("conditions") or [])
    for condition in (c for clause in clauses for c in clause):
        if not isinstance(condition, dict):
            continue
        if any(clause in condition for clause in (*CLAUSES, "min_should")):
            yield from _conditions(condition, prefix)
        elif isinstance(nested := condition.get("nested"), dict):
            yield from _conditions(nested.get("filter") or {}, f"{prefix}{nested.get('key')}[].")
        else:
            yield prefix, condition


def first_unindexed(
    raw: JsonObject, indexes: Mapping[str, Index]
) -> tuple[str, tuple[str, ...]] | None:
    """The first key the filter reads that no index serves, with the index capabilities
    that would (Qdrant's `one_unindexed_key`); None when indexes serve every key."""
    for prefix, condition in _conditions(raw, ""):
        found = _needs(condition)
        if found is None:
            continue
        key, needs = found
        key = prefix + key
        index = indexes.get(key)
        if needs and (index is None or not set(needs) & _capabilities(index)):
            return key, needs
    return None


def _needs(condition: JsonObject) -> tuple[str, tuple[str, ...]] | None:
    """The key a condition reads and the index capabilities that serve it (any one will do);
    None for conditions on no key (`has_id`, `has_vector`, `slice`)."""
    for special in ("is_empty", "is_null"):
        if isinstance(condition.get(special), dict):
            return str(condition[special].get("key")), ANY
    if "key" not in condition:
        return None
    key, needs = str(condition["key"]), []
    match = condition.get("match")
    if isinstance(match, dict):
        needs += _match_needs(match)
    if isinstance(condition.get("range"), dict):
        ranged = condition["range"].values()
        dated = any(isinstance(v, str) for v in ranged)
        needs += ["datetime"] if dated else ["float_range", "int_range"]
    if any(condition.get(geo) is not None for geo in GEO_CONDITIONS):
        needs.append("geo")
    if condition.get("values_count") is not None:
        needs += ANY
    return key, tuple(needs)


def _match_needs(match: JsonObject) -> list[str]:
    if "text" in match or "text_any" in match:
        return ["text"]
    if "phrase" in match:
        return ["text_phrase"]
    if "prefix" in match:
        return ["keyword_prefix"]
    values = [match["value"]] if "value" in match else match.get("any", match.get("except"))
    if not isinstance(values, list) or not values:
        return []  # `any: []` matches nothing, `except: []` everything: no index needed
    if all(isinstance(v, bool) for v in values):
        return ["bool"]
    if all(isinstance(v, int) for v in values):
        return ["int_match"]
    return (["uuid"] if all(_is_uuid(v) for v in values) else []) + ["keyword"]


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _capabilities(index: Index) -> set[str]:
    """What an index serves, as Qdrant counts it."""
    params = index.schema if isinstance(index.schema, dict) else {}
    kind = index.data_type
    if kind == "integer":
        return {c for c, has in (("int_match", index.lookup), ("int_range", index.ranged)) if has}
    if kind == "keyword":
        return {"keyword", "keyword_prefix"} if params.get("prefix") else {"keyword"}
    if kind == "text":
        return {"text", "text_phrase"} if params.get("phrase_matching") else {"text"}
    return {{"float": "float_range"}.get(kind, kind)}
