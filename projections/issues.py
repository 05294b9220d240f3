"""Issues, as Qdrant's `GET /issues` reports them: a filtered read slower than
SLOW_QUERY_SECONDS that filters on a key no payload index serves leaves an `UNINDEXED_FIELD`
issue, with the create-index request that solves it. Issues live in Redis (`pl:issues`), so
every pod reports the same, until `DELETE /issues` clears them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

import orjson
import redis

from projections import keys as K
from projections.collections import Collection
from projections.indexes import Index
from projections.jsontypes import JsonObject
from projections.strict_mode import first_unindexed, schema_names

DOCS = "https://qdrant.tech/documentation/concepts/indexing/#payload-index"


def note_unindexed(
    r: redis.Redis, collection: Collection, raw_filter: JsonObject, indexes: Mapping[str, Index]
) -> None:
    """Record an issue for the first key of a slow read's filter that no index serves."""
    found = first_unindexed(raw_filter, indexes)
    if found is None:
        return
    field, needs = found
    schemas = [_schema(name) for name in schema_names(needs) if name != "uuid"]
    if not schemas:
        return
    issue_id = f"UNINDEXED_FIELD/{collection.name}/{field}"
    issue = {
        "id": issue_id,
        "description": f"Unindexed field '{field}' might be slowing queries down in collection "
        f"'{collection.name}'",
        "solution": _solution(collection.name, field, schemas),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    r.hset(K.ISSUES, issue_id, orjson.dumps(issue))


def listed(r: redis.Redis) -> list[JsonObject]:
    stored = cast("dict[bytes, bytes]", r.hgetall(K.ISSUES))
    return [orjson.loads(raw) for _, raw in sorted(stored.items())]


def clear(r: redis.Redis) -> None:
    r.delete(K.ISSUES)


def _schema(name: str) -> str | JsonObject:
    """A schema as a create-index body takes it: a type name, or a params object."""
    return cast("JsonObject", orjson.loads(name)) if name.startswith("{") else name


def _solution(collection: str, field: str, schemas: list[str | JsonObject]) -> JsonObject:
    choices = [
        {
            "message": f"Create an index on field '{field}' of schema "
            f"{orjson.dumps(schema).decode()} in collection '{collection}'. Check the "
            f"documentation for more details: {DOCS}",
            "action": {
                "method": "PUT",
                "uri": f"/collections/{collection}/index",
                "headers": {"content-type": "application/json"},
                "body": {"field_name": field, "field_schema": schema},
            },
        }
        for schema in schemas
    ]
    return {"immediate": choices[0]} if len(choices) == 1 else {"immediate_choice": choices}
