"""Qdrant's JSON paths (`a.b`, `a[]`, `a[0]`, `"my key".x`) and the payload edits made with them.

A parsed path is a tuple of steps: a `str` is an object key, an `int` an array index and `None`
(`WILDCARD`) the `[]` step that stands for every element. The first step is always a key, as in
Qdrant's grammar. Arrays are never traversed implicitly: `a.b` finds nothing when `a` is an
array, `a[].b` must be used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeVar, cast

from projections.errors import FormatError
from projections.jsontypes import U64_MAX, JsonObject, json_kind

Step = str | int | None
JsonPath = tuple[str, *tuple[Step, ...]]  # the first step is always a key
WILDCARD = None
J = TypeVar("J")

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
    steps: list[Step] = []
    pos = first.end()
    while pos < len(text):
        step = _NEXT.match(text, pos)
        if step is None:
            raise _invalid(text)
        steps.append(_next_step(step, text))
        pos = step.end()
    return (_key(first), *steps)


def path_arg(raw: object) -> JsonPath:
    """A path given in a JSON body, which must be a string before it can be a path."""
    if not isinstance(raw, str):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a string")
    return parse_path(raw)


def _key(match: re.Match[str]) -> str:
    bare: str | None = match.group(1)
    quoted: str = match.group(2)  # matched whenever `bare` did not
    return bare if bare is not None else quoted


def _next_step(match: re.Match[str], text: str) -> Step:
    digits: str | None = match.group(3)
    if digits is None:
        return _key(match)
    if digits == "":
        return WILDCARD
    index = int(digits)
    if index > U64_MAX:  # Rust parses a usize: a longer number is no path
        raise _invalid(text)
    return index


def _invalid(text: str) -> FormatError:
    return FormatError(f"Invalid json path: '{text}'")


# ---- reading -----------------------------------------------------------------------------------


def get_values(payload: JsonObject, path: JsonPath) -> list[Any]:
    """Every value the path reaches (null included); a final array is returned as one value."""
    if len(path) == 1:  # the common case, without the intermediate lists
        return [payload[path[0]]] if path[0] in payload else []
    values: list[Any] = [payload]
    for step in path:
        values = _follow(values, step)
        if not values:
            break
    return values


def _follow(values: list[Any], step: Step) -> list[Any]:
    if step is WILDCARD:
        return [item for value in values if isinstance(value, list) for item in value]
    if isinstance(step, int):
        return [v[step] for v in values if isinstance(v, list) and step < len(v)]
    return [v[step] for v in values if isinstance(v, dict) and step in v]


# ---- writing -----------------------------------------------------------------------------------


def clone(value: J) -> J:
    """A deep copy of a JSON value, so that no two payloads ever share a mutable part."""
    if isinstance(value, dict):
        return cast(J, {k: clone(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(J, [clone(v) for v in value])
    return value


def merge_object(target: JsonObject, update: JsonObject) -> JsonObject:
    """Qdrant's merge_map: each key of `update` replaces the target's, a null removes it."""
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = clone(value)
    return target


def set_at(payload: JsonObject, path: JsonPath, value: JsonObject) -> JsonObject:
    """set_payload with `key`: merge `value` into the object(s) at `path`, creating what is
    missing. A key step on a non-object makes it an object; `[]` and `[n]` on a non-array make
    it `[]`; `[n]` past the end changes nothing (arrays are never extended)."""
    payload[path[0]] = _set(payload.get(path[0]), path, 1, value)
    return payload


def _set(dest: object, path: JsonPath, i: int, value: JsonObject) -> object:
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


def delete_at(payload: JsonObject, path: JsonPath) -> JsonObject:
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
