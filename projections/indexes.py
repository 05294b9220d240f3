"""Payload indexes: what a create-index request may say, and what an index holds of a payload.

An index's definition lives in the projection (`indexes` hash), written when the create-index
event is applied. Every index counts the points that have a value of its type (Qdrant's
`payload_schema[...].points`) and keeps data that filters (planner.py) and `order_by` read
instead of parsing payloads: index_data.py says which.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from projections.datetimes import parse_datetime, to_micros
from projections.errors import BadRequest, FormatError, ValidationFailed
from projections.jsonpath import get_values, parse_path
from projections.jsontypes import JsonObject

COMMON = {"type", "on_disk", "memory", "enable_hnsw"}
PARAMS = {
    "keyword": COMMON | {"is_tenant", "prefix"},
    "integer": COMMON | {"lookup", "range", "is_principal"},
    "float": COMMON | {"is_principal"},
    "geo": COMMON,
    "text": COMMON
    | {"tokenizer", "min_token_len", "max_token_len", "lowercase", "ascii_folding"}
    | {"phrase_matching", "stopwords", "stemmer"},
    "bool": COMMON,
    "datetime": COMMON | {"is_principal"},
    "uuid": COMMON | {"is_tenant"},
}

# A value as an index keeps it: a number for the ranged kinds (a datetime as microseconds), a
# string, a boolean, or a geo point's object.
IndexValue = bool | int | float | str | JsonObject


class IndexInfo(TypedDict):
    """An index as the collection info's `payload_schema` shows it."""

    data_type: str
    points: int
    params: NotRequired[JsonObject]


@dataclass(frozen=True)
class Index:
    field: str
    schema: str | JsonObject  # as the user gave it: a type name or a params object

    @property
    def data_type(self) -> str:
        kind: str = self.schema if isinstance(self.schema, str) else self.schema["type"]
        return kind

    @property
    def root(self) -> str:
        """The top-level payload key the field is under: a change elsewhere leaves it alone."""
        return root_of(self.field)

    @property
    def ranged(self) -> bool:
        """Whether it keeps values in order (what `order_by` needs)."""
        if self.data_type == "integer":
            return not isinstance(self.schema, dict) or self.schema.get("range", True) is not False
        return self.data_type in ("float", "datetime")

    @property
    def lookup(self) -> bool:
        """Whether it keeps the points of each value (of each token, for text): every kind but
        float, datetime and geo, and an integer index unless `lookup` is false."""
        if self.data_type == "integer":
            return not isinstance(self.schema, dict) or self.schema.get("lookup", True) is not False
        return self.data_type in ("keyword", "bool", "uuid", "text")

    @property
    def text_params(self) -> JsonObject | None:
        """The tokenizer parameters of a `text` index (None for other kinds)."""
        if self.data_type != "text":
            return None
        return self.schema if isinstance(self.schema, dict) else {}

    def values(self, payload: JsonObject) -> list[IndexValue]:
        """The distinct values of the field this index takes (others are simply not indexed):
        a value repeated in an array is indexed once, as Qdrant's (value, point) pairs are."""
        found: dict[object, IndexValue] = {}
        for value in get_values(payload, parse_path(self.field)):
            for item in value if isinstance(value, list) else [value]:
                typed = _typed(self.data_type, item)
                if typed is not None:
                    found.setdefault(_hashable(typed), typed)
        return list(found.values())

    def info(self, points: int) -> IndexInfo:
        entry: IndexInfo = {"data_type": self.data_type, "points": points}
        if isinstance(self.schema, dict):
            entry["params"] = self.schema
        return entry


def root_of(path: str) -> str:
    """The top-level key of a (valid) JSON path."""
    first = parse_path(path)[0]
    assert isinstance(first, str)  # a path starts with a key
    return first


def text_indexes(indexes: Iterable[Index]) -> dict[str, JsonObject]:
    """Field -> tokenizer parameters, for the fields with a full-text index."""
    return {i.field: i.text_params for i in indexes if i.text_params is not None}


def _hashable(value: IndexValue) -> object:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _typed(data_type: str, value: object) -> IndexValue | None:
    """The value as the index keeps it (numbers for ranged indexes), or None if not its type."""
    if isinstance(value, bool):
        return value if data_type == "bool" else None
    if data_type == "integer":
        return value if isinstance(value, int) else None
    if data_type == "float":
        return float(value) if isinstance(value, (int, float)) else None
    if data_type in ("keyword", "text"):
        return value if isinstance(value, str) else None
    if data_type == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        return None if moment is None else to_micros(moment)
    if data_type == "uuid":
        return _uuid(value)
    if data_type == "geo":
        return value if isinstance(value, dict) and {"lon", "lat"} <= value.keys() else None
    return None


def _uuid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def validate_create(body: object) -> Index:
    """A create-index request body as an Index, or Qdrant's error."""
    if not isinstance(body, dict):
        raise FormatError("invalid type: expected struct CreateFieldIndex")
    field = body.get("field_name")
    if not isinstance(field, str):
        raise FormatError("missing field `field_name`")
    parse_path(field)
    schema = body.get("field_schema", body.get("field_type"))
    if schema is None:
        raise BadRequest(
            "Can't auto-detect field type, please specify `field_schema` in the request"
        )
    if isinstance(schema, str):
        if schema not in PARAMS:
            raise FormatError(f"field_schema: unknown variant `{schema}`")
        return Index(field, schema)
    if not isinstance(schema, dict) or schema.get("type") not in PARAMS:
        raise FormatError("field_schema: data did not match any variant of PayloadFieldSchema")
    unknown = set(schema) - PARAMS[schema["type"]]
    if unknown:
        raise FormatError(f"field_schema: unknown field `{sorted(unknown)[0]}`")
    if (
        schema["type"] == "integer"
        and schema.get("lookup") is False
        and schema.get("range") is False
    ):
        raise ValidationFailed(
            "field_schema: the 'lookup' and 'range' capabilities can't be both disabled"
        )
    return Index(field, schema)
