"""JSON values as Qdrant's deserializer (serde) sees them: the integer widths it accepts, how it
names a value in an "invalid type" error, and the shape checks that raise those errors.

A JSON number is a Python `int` or `float`, never a `bool` (which is an `int` subclass).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from projections.errors import FormatError

# A JSON object as orjson parses it: a request body, a payload, an operation of the log.
JsonObject = dict[str, Any]

U64_MAX = 2**64 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def json_kind(raw: object) -> str:
    """How serde names a JSON value in its "invalid type" errors."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return f"boolean `{str(raw).lower()}`"
    if isinstance(raw, int | float):
        return f"number `{raw}`"
    if isinstance(raw, str):
        return f'string "{raw}"'
    return "sequence" if isinstance(raw, list) else "map"


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether the value is a JSON number (booleans are not)."""
    return type(value) is int or type(value) is float


def expect_object(raw: object, struct: str) -> JsonObject:
    """The value as a JSON object, or serde's error for a `struct` that got something else."""
    if not isinstance(raw, dict):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected struct {struct}")
    return raw


def required(raw: JsonObject, field: str) -> Any:
    """A field that must be present and not null, or serde's missing-field error."""
    if raw.get(field) is None:
        raise FormatError(f"missing field `{field}`")
    return raw[field]
