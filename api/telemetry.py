"""`GET /telemetry`: Qdrant's telemetry shape for a pointlog deployment. `collections` counts
them (with `details_level` 1 or more, each one aggregated: its vectors and params),
`requests.rest.responses` is what this web process has answered, per route and status."""

from __future__ import annotations

from datetime import datetime

import falcon

from api.collections import params
from api.context import Context
from api.http import ok
from api.metrics import vector_counts
from api.params import int_param, read_params
from api.request_stats import RequestStats
from api.service import QDRANT_API_VERSION
from projections import store
from projections.figures import overview
from projections.jsontypes import JsonObject


class Telemetry:
    def __init__(self, ctx: Context, stats: RequestStats, started: datetime) -> None:
        self._ctx = ctx
        self._stats = stats
        self._started = started

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        details = int_param(req, "details_level", 0, 0)
        read_params(req)  # `timeout`
        for flag in ("anonymize", "per_collection"):  # accepted; names are shown as they are
            req.get_param_as_bool(flag)
        r = self._ctx.r
        ok(
            req,
            resp,
            {
                "id": store.instance_id(r),
                "app": {
                    "name": "pointlog",
                    "version": QDRANT_API_VERSION,
                    "startup": self._started.isoformat(),
                },
                "collections": self._collections(details),
                "cluster": {"enabled": False},
                "requests": {
                    "rest": {"responses": self._stats.responses()},
                    "grpc": {"responses": {}},
                },
            },
        )

    def _collections(self, details: int) -> JsonObject:
        figures = overview(self._ctx.r)
        shown: JsonObject = {"number_of_collections": len(figures)}
        if details >= 1:
            vectors: dict[str, int] = {}
            for name, _, count in vector_counts(self._ctx.r, figures):
                vectors[name] = vectors.get(name, 0) + count
            shown["collections"] = [
                {
                    "vectors": vectors.get(found.collection.name, 0),
                    "optimizers_status": "ok",
                    "params": params(found.collection),
                }
                for found in figures
            ]
        return shown
