"""`GET /collections/{name}/changes`: the collection's applied operations after `since` (an
operation id; from the first without it), oldest first, as `{"operations": [...],
"last_operation_id": n}` (the next call's `since`). With `feed=longpoll`, a call that finds
none waits, push-based, up to `timeout` seconds for the next one. pointlog's own endpoint:
Qdrant has no change feed."""

from __future__ import annotations

import falcon

from api.http import ok
from api.params import int_param
from api.points import Resource
from projections import operations_feed
from projections.collections import Collection
from projections.errors import QueryFormatError
from projections.jsontypes import JsonObject

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
DEFAULT_LONGPOLL_SECONDS = 30
MAX_LONGPOLL_SECONDS = 300
FEEDS = ("normal", "longpoll")


class Changes(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        since = int_param(req, "since", -1, minimum=-1)
        limit = int_param(req, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        feed = req.get_param("feed") or "normal"
        if feed not in FEEDS:
            raise QueryFormatError(f"feed: unknown variant `{feed}`, expected one of {FEEDS}")
        timeout = int_param(
            req, "timeout", DEFAULT_LONGPOLL_SECONDS, minimum=1, maximum=MAX_LONGPOLL_SECONDS
        )
        r = self._ctx.r

        def run(collection: Collection) -> JsonObject:
            page = operations_feed.read(r, collection, since, limit)
            if not page.operations and feed == "longpoll":
                # the checkpoint passes operation since + 1 once it reaches since + 2
                self._ctx.progress.wait(collection.keys, since + 2, timeout)
                page = operations_feed.read(r, collection, since, limit)
            return {"operations": page.operations, "last_operation_id": page.last_operation_id}

        ok(req, resp, self._ctx.using(name, run))
