"""`GET /collections/{name}/points/{point_id}/history`: every applied operation that touched
the point, oldest first, as `{"operations": [...], "last_operation_id": n}`, after `since` (an
operation id) and at most `limit` a page. pointlog's own endpoint: Qdrant keeps no history."""

from __future__ import annotations

import falcon

from api.changes import DEFAULT_LIMIT, MAX_LIMIT
from api.context import Context
from api.http import ok
from api.params import int_param
from api.points import Resource
from projections import ids, point_history
from projections.archive import Archive
from projections.collections import Collection
from projections.jsontypes import JsonObject
from projections.shard_placement import shard_of


class PointHistory(Resource):
    def __init__(self, ctx: Context, archive: Archive | None) -> None:
        super().__init__(ctx)
        self._archive = archive  # where the operations moved out of the hot log are

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, point_id: str) -> None:
        key = ids.to_key(ids.parse_path_id(point_id))
        since = int_param(req, "since", -1, minimum=-1)
        limit = int_param(req, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)

        def run(collection: Collection) -> JsonObject:
            shard = collection.parts[shard_of(key, len(collection.parts))]
            page = point_history.read(self._ctx.r, shard, key, since, limit, self._archive)
            return {"operations": page.operations, "last_operation_id": page.last_operation_id}

        ok(req, resp, self._ctx.using(name, run))
