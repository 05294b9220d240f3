"""Service endpoints: version, liveness, readiness (not wrapped in the envelope, as Qdrant)."""

from __future__ import annotations

import os

import falcon
import orjson

from api.context import Context
from api.http import ok
from projections import store
from projections.memory import WriteLimit

# qdrant-client warns unless the server's minor version is within one of its own.
QDRANT_API_VERSION = "1.19.0"


# The build's commit, where the platform says it (Heroku sets SOURCE_VERSION while building
# and HEROKU_SLUG_COMMIT with dyno metadata); without it `commit` is left out, as Qdrant does.
COMMIT_VARIABLES = ("SOURCE_VERSION", "HEROKU_SLUG_COMMIT", "GIT_COMMIT")


class Root:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        shown = {"title": "pointlog", "version": QDRANT_API_VERSION}
        commit = next((os.environ[v] for v in COMMIT_VARIABLES if os.environ.get(v)), None)
        if commit is not None:
            shown["commit"] = commit
        resp.content_type = "application/json"
        resp.data = orjson.dumps(shown)


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
