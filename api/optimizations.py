"""`GET /collections/{name}/optimizations`: Qdrant's optimization progress, for pointlog the
vector graphs the answering web process is building for the collection (the pod a client asks
is the pod whose graphs serve its queries, as for the collection's `status`)."""

from __future__ import annotations

import uuid

import falcon

from api.context import Context
from api.http import ok
from api.params import int_param
from projections import reads
from projections.collections import Collection
from projections.jsontypes import JsonObject
from projections.vector_model import Build

WITH = ("queued", "completed", "idle_segments")


class Optimizations:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        wanted = [part for part in (req.get_param("with") or "").split(",") if part]
        completed_limit = int_param(req, "completed_limit", 16, 0)

        def describe(collection: Collection) -> JsonObject:
            running: list[JsonObject] = []
            done: list[JsonObject] = []
            idle: list[JsonObject] = []
            for part in collection.parts:  # a shard's read model: a segment
                points, _ = reads.overview(self._ctx.reader(part))
                segment = {"uuid": str(uuid.UUID(int=part.cid)), "points_count": points}
                model = self._ctx.vectors.of(part)
                builds = model.builds() if model else []
                running += [_shown(part, b, segment) for b in builds]
                finished = list(model.completed)[::-1][:completed_limit] if model else []
                done += [_shown(part, b, segment) for b in finished]
                idle += [] if builds else [segment]
            shown: JsonObject = {
                "summary": {
                    "queued_optimizations": 0,
                    "queued_segments": 0,
                    "queued_points": 0,
                    "idle_segments": len(idle),
                },
                "running": running,
            }
            lists = {"queued": [], "completed": done[:completed_limit], "idle_segments": idle}
            shown.update({part: lists[part] for part in wanted if part in WITH})
            return shown

        ok(req, resp, self._ctx.using(name, describe))


def _shown(collection: Collection, build: Build, segment: JsonObject) -> JsonObject:
    """A graph build as Qdrant's `Optimization`."""
    progress: JsonObject = {
        "name": f"hnsw graph of vector `{build.vector}`",
        "started_at": build.started.isoformat(),
        "total": build.rows,
    }
    if build.finished is not None:
        progress["finished_at"] = build.finished.isoformat()
        progress["duration_sec"] = (build.finished - build.started).total_seconds()
        progress["done"] = build.rows
    key = f"{collection.cid}/{build.vector}/{build.started.isoformat()}"
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_OID, key)),
        "optimizer": "indexing",
        "status": "optimizing" if build.finished is None else "done",
        "segments": [segment],
        "progress": progress,
    }
