"""Service endpoints: version, liveness, readiness (not wrapped in the envelope, as Qdrant)."""

from __future__ import annotations

import falcon
import orjson

from api.context import Context
from api.http import ok
from projections import store
from projections.memory import WriteLimit

# qdrant-client warns unless the server's minor version is within one of its own.
QDRANT_API_VERSION = "1.19.0"


class Root:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "application/json"
        resp.data = orjson.dumps({"title": "pointlog", "version": QDRANT_API_VERSION})


class Cluster:
    """`GET /cluster`: Qdrant's answer when it runs without distributed mode. pointlog scales
    through Redis and its pods, not Qdrant's consensus."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ok(req, resp, {"status": "disabled"})


class Live:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "healthz check passed"


class Ready:
    """503 when the store does not answer. A full store keeps the pod ready (reads still
    work) and says that writes are refused."""

    def __init__(self, ctx: Context, limit: WriteLimit) -> None:
        self._ctx = ctx
        self._limit = limit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        if not store.reachable(self._ctx.r):
            resp.status = 503
            resp.text = "some shards are not ready"
            return
        problem = self._limit.problem()
        refused = "" if problem is None else f"; writes are refused: {problem}"
        resp.text = f"all shards are ready{refused}"
