"""Collection aliases: other names for a collection, switched atomically (Qdrant's way to
re-index without downtime: build a new collection, then point the alias at it).

The aliases live in one hash, alias -> collection name. A change of several actions is
checked against the registry as it stands and written in one transaction that WATCHes both
the aliases and the registry, so it applies whole or not at all. Every route that takes a
collection name resolves an alias (collections.Cache): a write through an alias switched
meanwhile lands in whichever collection the alias named when it was appended, and is
acknowledged with that collection's operation id.
"""

from __future__ import annotations

from typing import cast

import redis

from projections import keys as K
from projections.collections import validate_name
from projections.errors import AlreadyExists, FormatError, NotFound
from projections.jsontypes import JsonObject
from projections.store import is_cluster, script

_FIELDS = {  # each action's fields
    "create_alias": ("collection_name", "alias_name"),
    "delete_alias": ("alias_name",),
    "rename_alias": ("old_alias_name", "new_alias_name"),
}
ACTIONS = tuple(_FIELDS)
Aliases = dict[str, str]  # alias -> collection name


def parse_actions(body: object) -> list[JsonObject]:
    """The `actions` of a `POST /collections/aliases` body, each one of ACTIONS."""
    if not isinstance(body, dict) or "actions" not in body:
        raise FormatError("missing field `actions`")
    actions = body["actions"]
    if not isinstance(actions, list):
        raise FormatError("actions: invalid type: expected a sequence")
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ACTIONS:
            raise FormatError(f"actions[{index}]: expected one of {', '.join(ACTIONS)}")
        [(kind, fields)] = action.items()
        for name in _FIELDS[kind]:
            if not isinstance(fields, dict) or not isinstance(fields.get(name), str):
                raise FormatError(f"actions[{index}].{kind}: missing field `{name}`")
    return actions


def _apply(aliases: Aliases, collections: set[str], action: JsonObject) -> None:
    """One action on the alias map, as Qdrant checks it."""
    [(kind, fields)] = action.items()
    if kind == "create_alias":
        target, alias = fields["collection_name"], fields["alias_name"]
        if target not in collections:
            raise NotFound(f"Collection `{target}` doesn't exist!")
        _check_free(alias, collections)
        aliases[alias] = target  # an existing alias of that name is moved
    elif kind == "delete_alias":
        aliases.pop(fields["alias_name"], None)
    else:
        old, new = fields["old_alias_name"], fields["new_alias_name"]
        if old not in aliases:
            raise NotFound(f"Alias {old} does not exists!")
        _check_free(new, collections)
        aliases[new] = aliases.pop(old)


def _check_free(alias: str, collections: set[str]) -> None:
    """An alias name must be valid and no collection's."""
    if alias in collections:
        raise AlreadyExists(f"Collection `{alias}` already exists!")
    validate_name(alias)


def change(r: redis.Redis, actions: list[JsonObject]) -> None:
    """Apply the actions in order, all of them or (on the first error) none."""
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(K.ALIASES, K.COLLECTIONS)
                aliases = _decoded(cast("dict[bytes, bytes]", pipe.hgetall(K.ALIASES)))
                collections = {n.decode() for n in cast("list[bytes]", pipe.hkeys(K.COLLECTIONS))}
                for action in actions:
                    _apply(aliases, collections, action)
                pipe.multi()
                pipe.delete(K.ALIASES)
                if aliases:
                    pipe.hset(K.ALIASES, mapping=aliases)  # type: ignore[arg-type]
                pipe.execute()
                return
            except redis.WatchError:
                continue


def move_former_key(r: redis.Redis) -> None:
    """At a process's start: move the aliases from the key they had before they shared the
    registry's slot (an alias set since, under the same name, wins). A cluster never held the
    former key (pointlog refused clusters then), and could not run the script across slots.
    A server that does not answer yet is left to the next process that starts."""
    try:
        if not is_cluster(r):
            _move(keys=[K.FORMER_ALIASES, K.ALIASES], client=r)
    except redis.ConnectionError:
        return


# KEYS: the former aliases' hash, the aliases' hash. Moves every entry the second lacks.
_move = script(
    b"""
local former = redis.call('HGETALL', KEYS[1])
for i = 1, #former, 2 do redis.call('HSETNX', KEYS[2], former[i], former[i + 1]) end
redis.call('DEL', KEYS[1])
"""
)


def listing(r: redis.Redis, collection: str | None = None) -> list[JsonObject]:
    """Every alias (or those of one collection), by name, as Qdrant lists them."""
    aliases = _decoded(cast("dict[bytes, bytes]", r.hgetall(K.ALIASES)))
    return [
        {"alias_name": alias, "collection_name": target}
        for alias, target in sorted(aliases.items())
        if collection is None or target == collection
    ]


def _decoded(raw: dict[bytes, bytes]) -> Aliases:
    return {alias.decode(): target.decode() for alias, target in raw.items()}
