"""Qdrant's JSON paths (`a.b`, `a[]`, `a[0]`, `"my key".x`) and the payload edits made with them.

A parsed path is a tuple of steps: a `str` is an object key, an `int` an array index and `None`
(`WILDCARD`) the `[]` step that stands for every element. The first step is always a key, as in
Qdrant's grammar. Arrays are never traversed implicitly: `a.b` finds nothing when `a` is an
array, `a[].b` must be used.
"""

from __future__ import annotations

import re
from functools import lru_cache

from projections.errors import FormatError

Step = str | int | None
JsonPath = tuple[Step, ...]
WILDCARD = None

U64_MAX = 2**64 - 1

# Rust's grammar: a bare key is one or more alphanumeric, `_` or `-` characters (Unicode
# letters and digits included, as `\w` does); a quoted key is anything but `"` and `\`.
_FIRST = re.compile(r'([\w-]+)|"([^"\\]*)"')
_NEXT = re.compile(r'\.([\w-]+)|\."([^"\\]*)"|\[([0-9]*)\]')


# The same few paths come back in every request (filters, selectors, set/delete payload).
@lru_cache(maxsize=4096)
def parse_path(text: str) -> JsonPath:
    """The steps of a JSON path; an invalid path is refused the way Qdrant's deserializer does."""
    first = _FIRST.match(text)
    if first is None:
        raise _invalid(text)
    steps: list[Step] = [_key(first)]
    pos = first.end()
    while pos < len(text):
        step = _NEXT.match(text, pos)
        if step is None:
            raise _invalid(text)
        steps.append(_next_step(step, text))
        pos = step.end()
    return tuple(steps)


def path_arg(raw: object) -> JsonPath:
    """A path given in a JSON body, which must be a string before it can be a path."""
    if not isinstance(raw, str):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a string")
    return parse_path(raw)


def _key(match: re.Match) -> str:
    bare, quoted = match.group(1), match.group(2)
    return bare if bare is not None else quoted


def _next_step(match: re.Match, text: str) -> Step:
    digits = match.group(3)
    if digits is None:
        return match.group(1) if match.group(1) is not None else match.group(2)
    if digits == "":
        return WILDCARD
    index = int(digits)
    if index > U64_MAX:  # Rust parses a usize: a longer number is no path
        raise _invalid(text)
    return index


def _invalid(text: str) -> FormatError:
    return FormatError(f"Invalid json path: '{text}'")


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


# ---- reading -----------------------------------------------------------------------------------


def get_values(payload: dict, path: JsonPath) -> list:
    """Every value the path reaches (null included); a final array is returned as one value."""
    if len(path) == 1:  # the common case, without the intermediate lists
        return [payload[path[0]]] if path[0] in payload else []
    values: list = [payload]
    for step in path:
        values = _follow(values, step)
        if not values:
            break
    return values


def _follow(values: list, step: Step) -> list:
    if step is WILDCARD:
        return [item for value in values if isinstance(value, list) for item in value]
    if isinstance(step, int):
        return [v[step] for v in values if isinstance(v, list) and step < len(v)]
    return [v[step] for v in values if isinstance(v, dict) and step in v]


# ---- writing -----------------------------------------------------------------------------------


def clone(value: object) -> object:
    """A deep copy of a JSON value, so that no two payloads ever share a mutable part."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def merge_object(target: dict, update: dict) -> dict:
    """Qdrant's merge_map: each key of `update` replaces the target's, a null removes it."""
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = clone(value)
    return target


def set_at(payload: dict, path: JsonPath, value: dict) -> dict:
    """set_payload with `key`: merge `value` into the object(s) at `path`, creating what is
    missing. A key step on a non-object makes it an object; `[]` and `[n]` on a non-array make
    it `[]`; `[n]` past the end changes nothing (arrays are never extended)."""
    payload[path[0]] = _set(payload.get(path[0]), path, 1, value)
    return payload


def _set(dest: object, path: JsonPath, i: int, value: dict) -> object:
    """`dest` (None when missing) with `value` merged at path[i:]; returns its new value."""
    if i == len(path):
        return merge_object(dest if isinstance(dest, dict) else {}, value)
    step = path[i]
    if isinstance(step, str):
        target = dest if isinstance(dest, dict) else {}
        target[step] = _set(target.get(step), path, i + 1, value)
        return target
    if not isinstance(dest, list):
        return []
    indexes = range(len(dest)) if step is WILDCARD else [step] if step < len(dest) else []
    for index in indexes:
        dest[index] = _set(dest[index], path, i + 1, value)
    return dest


def delete_at(payload: dict, path: JsonPath) -> dict:
    """delete_payload of one path: removes the key it ends on; a final `[]` empties the array,
    a final `[n]` does nothing (deleting by index is not idempotent, so Qdrant refuses to)."""
    _remove(payload, path, 0)
    return payload


def _remove(value: object, path: JsonPath, i: int) -> None:
    step, last = path[i], i == len(path) - 1
    if isinstance(step, str):
        if isinstance(value, dict) and step in value:
            if last:
                del value[step]
            else:
                _remove(value[step], path, i + 1)
    elif isinstance(value, list):
        if step is WILDCARD:
            if last:
                value.clear()
            else:
                for item in value:
                    _remove(item, path, i + 1)
        elif not last and step < len(value):
            _remove(value[step], path, i + 1)
