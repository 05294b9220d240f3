"""Payload operations the workers apply (set / delete payload) and the `with_payload` selector
the read side applies to each returned point, as Qdrant does them: set_payload merges top-level
keys (a null deletes one), at the `key` path when one is given; delete_payload removes paths; a
selector keeps (`include`) or drops (`exclude`) whole subtrees and enters arrays only through
`[]`."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from projections.errors import FormatError
from projections.jsonpath import (
    WILDCARD,
    JsonPath,
    Step,
    delete_at,
    merge_object,
    parse_path,
    set_at,
)
from projections.jsontypes import JsonObject


def merge_payload(current: JsonObject, update: JsonObject, key: str | None) -> JsonObject:
    """set_payload: each top-level key of `update` replaces the current one (no deep merge) and
    a null deletes it; with `key`, the same merge happens at that path (created if missing)."""
    if key is None:
        return merge_object(current, update)
    return set_at(current, parse_path(key), update)


def delete_keys(current: JsonObject, keys: list[str]) -> JsonObject:
    """delete_payload: remove each path; absent ones are no-ops."""
    for key in keys:
        delete_at(current, parse_path(key))
    return current


# ---- with_payload --------------------------------------------------------------------------

# A selector is a prefix tree of its paths: step -> subtree, where True selects everything below.
# Steps are str keys, int indexes and WILDCARD (None) for `[]`.
Tree: TypeAlias = dict[Step, "Tree | Literal[True]"]


class Selector:
    """What `with_payload` keeps of a payload: all of it, only some paths, or all but some."""

    __slots__ = ("_exclude", "_tree")

    def __init__(self, tree: Tree | None, exclude: bool) -> None:
        self._tree = tree  # None: the whole payload
        self._exclude = exclude

    @property
    def keeps_all(self) -> bool:
        """True for `with_payload: true`: the stored payload can be returned as is."""
        return self._tree is None

    def apply(self, payload: JsonObject) -> JsonObject:
        if self._tree is None:
            return payload
        selected: JsonObject = (_exclude if self._exclude else _include)(payload, self._tree)
        return selected


def compile_selector(raw: object) -> Selector | None:
    """`with_payload` from a JSON body: true, false, a list of paths, {"include": [...]} or
    {"exclude": [...]}. None means no payload: callers substitute the endpoint's default for an
    absent or null `with_payload` before calling."""
    if raw is True:
        return Selector(None, exclude=False)
    if raw is False or raw is None:
        return None
    if isinstance(raw, list):
        return Selector(_tree(raw), exclude=False)
    if isinstance(raw, dict) and len(raw) == 1:
        ((mode, paths),) = raw.items()
        if mode in ("include", "exclude") and isinstance(paths, list):
            return Selector(_tree(paths), exclude=mode == "exclude")
    raise _not_a_selector()


def _tree(raw_paths: list[object]) -> Tree:
    tree: Tree = {}
    for raw in raw_paths:
        _add(tree, _selector_path(raw))
    return tree


def _selector_path(raw: object) -> JsonPath:
    if isinstance(raw, str):
        try:
            return parse_path(raw)
        except FormatError:
            pass
    raise _not_a_selector()


def _add(tree: Tree, path: tuple[Step, ...]) -> None:
    node = tree
    for step in path[:-1]:
        child = node.setdefault(step, {})
        if child is True:  # a shorter path already selects everything below
            return
        node = child
    node[path[-1]] = True


def _not_a_selector() -> FormatError:
    # with_payload is an untagged enum in Qdrant: any mismatch gets serde's generic message
    return FormatError("data did not match any variant of untagged enum WithPayloadInterface")


def _include(value: Any, tree: Tree) -> Any:
    """Keep what lies on a selected path, and all of it below a path's end. Arrays are entered
    only through `[]` (an index never selects an element); a scalar on the way is kept."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            sub = tree.get(key)
            if sub is True:
                kept[key] = item
            elif sub is not None:
                kept[key] = _include(item, sub)
        return kept
    if isinstance(value, list):
        sub = tree.get(WILDCARD)
        if sub is None:
            return []
        return value if sub is True else [_include(item, sub) for item in value]
    return value


def _exclude(value: Any, tree: Tree) -> Any:
    """Drop everything below a path's end; `a[]` empties `a`, an index drops nothing."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            sub = tree.get(key)
            if sub is None:
                kept[key] = item
            elif sub is not True:
                kept[key] = _exclude(item, sub)
        return kept
    if isinstance(value, list):
        sub = tree.get(WILDCARD)
        if sub is None:
            return value
        return [] if sub is True else [_exclude(item, sub) for item in value]
    return value
