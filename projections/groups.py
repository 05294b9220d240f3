"""Grouped queries (`/points/query/groups`, `/search/groups`, `/recommend/groups`): a query's
best points gathered into groups by the values of a payload key, as Qdrant groups them.

- A point joins a group for each distinct value of the key (an array: each of its items).
  Group ids are strings and integers; a point whose key holds anything else (a float, a
  bool, an object, null), or nothing, joins no group at all.
- Groups come in the order of their best point; a group's hits best first, `group_size` of
  them at most; `limit` groups.
- Two steps, as Qdrant's: the best `limit * group_size` points (four times as many, again,
  while they have fewer than `limit` groups and more remain) tell which groups are the best
  `limit`: any other group's best point ranks below all of them. Then, while some of those
  groups are not full, the query asks again for the next points of just those groups (a
  filter on their values, which a keyword or integer index serves exactly), leaving out the
  points it has seen. The answer is the one a grouping of every point would give. A stage
  with prefetches is widened until its groups are full instead: a filter would change what
  its prefetches find. A prefetch's limit is multiplied by the number of groups, as Qdrant
  does.
Only ids and the key's values are read while grouping; the hits' payloads and vectors are
read once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from projections import ids
from projections.jsonpath import JsonPath, get_values
from projections.jsontypes import JsonObject
from projections.payloads import compile_selector
from projections.query_plan import Retrieve, Stage, both_filters
from projections.reads import Projection

GroupId = str | int
Run = Callable[[Stage, Projection], list[JsonObject]]  # a stage's answer


@dataclass(frozen=True)
class GroupBy:
    key: str  # as sent: for the filter that leaves out points without it
    path: JsonPath
    size: int  # hits per group
    limit: int  # groups


@dataclass
class Group:
    id: GroupId
    hits: list[JsonObject]  # bare scored points: id, version, score


def grouped(run: Run, stage: Stage, by: GroupBy) -> list[Group]:
    """The best `by.limit` groups of the stage's points (as `run` answers a stage), each
    with up to `by.size` hits."""
    # A filter on the groups' values would change what prefetches find, and so the scores
    # of fused or rescored points: such stages are only widened.
    narrowing = not stage.prefetch
    stage = _for_groups(stage, by)
    keyed = Projection(payload=compile_selector([by.key.removesuffix("[]")]), vectors=())
    wanted = by.limit * by.size
    while True:
        found = run(replace(stage, limit=wanted, offset=0), keyed)
        groups = _gather(found, by)
        best = groups[: by.limit]
        if len(found) < wanted or (len(groups) >= by.limit and (_full(best, by) or narrowing)):
            break
        wanted *= 4
    seen = {ids.to_key(point["id"]) for point in found}
    more = len(found) == wanted  # points may remain past those found
    while more and not _full(best, by):
        unfilled = [group for group in best if len(group.hits) < by.size]
        missing = sum(by.size - len(group.hits) for group in unfilled)
        within = {"must": [_one_of(by.key, unfilled)]}
        narrowed = replace(
            stage,
            filter=both_filters(stage.filter, within),
            limit=missing,
            skip=stage.skip | seen,
        )
        found = run(narrowed, keyed)
        _fill(best, found, by)
        seen.update(ids.to_key(point["id"]) for point in found)
        more = len(found) == missing
    return best


def _full(groups: list[Group], by: GroupBy) -> bool:
    return all(len(group.hits) == by.size for group in groups)


def _one_of(key: str, groups: list[Group]) -> JsonObject:
    """A condition matching the points of any of these groups (strings and integers are
    matched apart, as Qdrant's `match: any` takes one kind)."""
    texts = [group.id for group in groups if isinstance(group.id, str)]
    numbers = [group.id for group in groups if isinstance(group.id, int)]
    either = [{"key": key, "match": {"any": values}} for values in (texts, numbers) if values]
    return either[0] if len(either) == 1 else {"should": either}


def _fill(groups: list[Group], found: list[JsonObject], by: GroupBy) -> None:
    """Add each point to those of the groups it belongs to that have room."""
    by_id = {(type(group.id), group.id): group for group in groups}
    for point in found:
        bare = {"id": point["id"], "version": 0, "score": point["score"]}
        for value in group_ids(point.get("payload") or {}, by.path) or ():
            group = by_id.get((type(value), value))
            if group is not None and len(group.hits) < by.size:
                group.hits.append(bare)


def _for_groups(stage: Stage, by: GroupBy) -> Stage:
    """A stage with prefetches as Qdrant runs it for groups: points lacking the key left out
    of every prefetch, and prefetch limits multiplied. A stage without them is left as it
    is: a point without the key joins no group, and a filter no index serves would only cost
    a payload read per point."""
    if not stage.prefetch:
        return stage
    has_key: JsonObject = {"must_not": [{"is_empty": {"key": by.key}}]}
    return replace(
        stage,
        filter=both_filters(stage.filter, has_key),
        prefetch=tuple(_widened(inner, by.limit) for inner in stage.prefetch),
    )


def _widened(stage: Stage, factor: int) -> Stage:
    inner = tuple(_widened(one, factor) for one in stage.prefetch)
    return replace(stage, limit=stage.limit * factor, prefetch=inner)


def _gather(found: list[JsonObject], by: GroupBy) -> list[Group]:
    """The groups of these points, in the order of their best point."""
    groups: dict[tuple[type, GroupId], Group] = {}
    for point in found:
        for value in group_ids(point.get("payload") or {}, by.path) or ():
            groups.setdefault((type(value), value), Group(value, []))
    listed = list(groups.values())
    _fill(listed, found, by)
    return listed


def group_ids(payload: JsonObject, path: JsonPath) -> list[GroupId] | None:
    """The distinct group ids of a point, in payload order; None when it joins no group
    (a value that cannot be a group id excludes the whole point, as in Qdrant)."""
    values: list[object] = []
    for value in get_values(payload, path):
        values.extend(value if isinstance(value, list) else [value])
    if not all(type(value) in (str, int) for value in values):
        return None  # bool is not an int here: `type`, not isinstance
    return list(dict.fromkeys(values))  # type: ignore[arg-type]


def shown(retrieve: Retrieve, groups: list[Group], projection: Projection) -> list[JsonObject]:
    """The groups as answered: each hit with the parts `projection` asks for (read in one
    go for every group)."""
    keys = [ids.to_key(hit["id"]) for group in groups for hit in group.hits]
    records = {ids.to_key(r["id"]): r for r in retrieve(keys, projection)}
    return [
        {
            "id": group.id,
            "hits": [
                {**records[key], "version": 0, "score": hit["score"]}
                for hit in group.hits
                if (key := ids.to_key(hit["id"])) in records  # deleted since: left out
            ],
        }
        for group in groups
    ]
