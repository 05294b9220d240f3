"""Point ids: Qdrant's two kinds (u64 and UUID), their canonical form and their order.

Every id is kept as a *point key*, a short string whose byte order is Qdrant's id order:
integers first (numeric order), then UUIDs (by 128-bit value). Keys name points in every
projection hash and sort in the scroll index with ZRANGEBYLEX.
"""

from __future__ import annotations

import uuid

from projections.errors import FormatError, WrongInput
from projections.jsontypes import U64_MAX, json_kind

PointId = int | str


def parse_id(raw: object) -> PointId:
    """A point id from a JSON body: a u64 number or a UUID string, normalised."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if 0 <= raw <= U64_MAX:
            return raw
    elif isinstance(raw, str):
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            pass
    raise FormatError(
        f"value {_show(raw)} is not a valid point ID, "
        "valid values are either an unsigned integer or a UUID"
    )


def parse_path_id(raw: str) -> PointId:
    """A point id from a URL segment: an unsigned integer first, then a UUID."""
    if raw.isascii() and raw.isdigit() and int(raw) <= U64_MAX:
        return int(raw)
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise WrongInput(f'Can not recognize "{raw}" as point id') from None


def parse_ids(raw: object) -> list[PointId]:
    if not isinstance(raw, list):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a sequence of point ids")
    return [parse_id(item) for item in raw]


def to_key(point_id: PointId) -> str:
    """The sortable key of an id: `0` + 16 hex digits for integers, `1` + 32 hex for UUIDs."""
    if isinstance(point_id, int):
        return f"0{point_id:016x}"
    return "1" + point_id.replace("-", "")


def from_key(key: str | bytes) -> PointId:
    if isinstance(key, bytes):
        key = key.decode()
    if key[0] == "0":
        return int(key[1:], 16)
    return str(uuid.UUID(hex=key[1:]))


def _show(raw: object) -> str:
    return f'"{raw}"' if isinstance(raw, str) else str(raw)
