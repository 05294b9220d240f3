"""Grouped queries (`/points/query/groups`, `/search/groups`, `/recommend/groups`): a query's
best points gathered into groups by the values of a payload key, as Qdrant groups them.

- A point joins a group for each distinct value of the key (an array: each of its items).
  Group ids are strings and integers; a point whose key holds anything else (a float, a
  bool, an object, null) joins no group at all, and points without the key are left out by
  the query's filter.
- Groups come in the order of their best point; a group's hits best first, `group_size` of
  them at most; `limit` groups.
- The query is answered for `limit * group_size` points, then for four times as many while
  the first `limit` groups are not full and more points remain: the answer is then the one a
  grouping of every point would give. A prefetch's limit is multiplied by the number of
  groups, as Qdrant does.
Only ids and the key's values are read while grouping; the hits' payloads and vectors are
read once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from projections import ids, reads
from projections.jsonpath import JsonPath, get_values
from projections.jsontypes import JsonObject
from projections.payloads import compile_selector
from projections.query_plan import Answering, Stage, answer, both_filters
from projections.reads import Projection, Reader

GroupId = str | int


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


def grouped(ans: Answering, stage: Stage, by: GroupBy) -> list[Group]:
    """The best `by.limit` groups of the stage's points, each with up to `by.size` hits."""
    stage = _for_groups(stage, by)
    keyed = Projection(payload=compile_selector([by.key.removesuffix("[]")]), vectors=())
    wanted = by.limit * by.size
    while True:
        found = answer(ans, replace(stage, limit=wanted, offset=0), keyed)
        groups = _gather(found, by)
        full = len(groups) >= by.limit and all(len(g.hits) == by.size for g in groups[: by.limit])
        if full or len(found) < wanted:
            return groups[: by.limit]
        wanted *= 4


def _for_groups(stage: Stage, by: GroupBy) -> Stage:
    """The stage with points lacking the key left out, and prefetch limits multiplied."""
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
    groups: dict[tuple[type, GroupId], Group] = {}
    for point in found:
        ids = group_ids(point.get("payload") or {}, by.path)
        bare = {"id": point["id"], "version": 0, "score": point["score"]}
        for value in ids or ():
            group = groups.setdefault((type(value), value), Group(value, []))
            if len(group.hits) < by.size:
                group.hits.append(bare)
    return list(groups.values())


def group_ids(payload: JsonObject, path: JsonPath) -> list[GroupId] | None:
    """The distinct group ids of a point, in payload order; None when it joins no group
    (a value that cannot be a group id excludes the whole point, as in Qdrant)."""
    values: list[object] = []
    for value in get_values(payload, path):
        values.extend(value if isinstance(value, list) else [value])
    if not all(type(value) in (str, int) for value in values):
        return None  # bool is not an int here: `type`, not isinstance
    return list(dict.fromkeys(values))  # type: ignore[arg-type]


def shown(reader: Reader, groups: list[Group], projection: Projection) -> list[JsonObject]:
    """The groups as answered: each hit with the parts `projection` asks for (read in one
    round trip for every group)."""
    keys = [ids.to_key(hit["id"]) for group in groups for hit in group.hits]
    records = {ids.to_key(r["id"]): r for r in reads.retrieve(reader, keys, projection)}
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
