"""The Falcon application: `create_app()` is what `waitress-serve --call` runs."""

from __future__ import annotations

import falcon

from api import http
from api.auth import ApiKeys
from api.collections import CollectionExists, CollectionItem, CollectionList
from api.context import Context
from api.metrics import Metrics
from api.points import (
    Batch,
    Count,
    Index,
    Point,
    Points,
    Query,
    QueryBatch,
    Scroll,
    Write,
)
from api.service import Live, Ready, Root
from api.writes import Writer, job_queue
from projections import collections, events, logs, store
from projections.progress import Progress
from projections.settings import Settings


def create_app(settings: Settings | None = None) -> falcon.App:
    settings = settings or Settings.from_env()
    logs.configure()
    # Every web thread may hold a connection, plus the progress subscriber and slack for kicks.
    r = store.connect(settings.redis_url, max_connections=settings.web_threads + 8)
    progress = Progress(r)
    metrics = Metrics(r)
    writer = Writer(
        r, job_queue(r, settings.queue_name), progress, settings.default_wait_seconds, metrics.waits
    )
    ctx = Context(r, settings, progress, writer, collections.Cache(r))

    keys = ApiKeys(settings.api_key, settings.read_only_api_key)
    app = falcon.App(middleware=[http.Timing(), keys, metrics])
    app.req_options.strip_url_path_trailing_slash = True
    http.install(app)
    app.add_route("/", Root())
    app.add_route("/healthz", Live())
    app.add_route("/livez", Live())
    app.add_route("/readyz", Ready(ctx))
    app.add_route("/metrics", metrics)
    app.add_route("/collections", CollectionList(ctx))
    app.add_route("/collections/{name}", CollectionItem(ctx))
    app.add_route("/collections/{name}/exists", CollectionExists(ctx))
    points = "/collections/{name}/points"
    app.add_route(points, Points(ctx))
    app.add_route(points + "/{point_id}", Point(ctx))
    app.add_route(points + "/delete", Write(ctx, post=events.add_delete))
    app.add_route(
        points + "/payload",
        Write(ctx, post=events.add_set_payload, put=events.add_overwrite_payload),
    )
    app.add_route(points + "/payload/delete", Write(ctx, post=events.add_delete_payload))
    app.add_route(points + "/payload/clear", Write(ctx, post=events.add_clear_payload))
    app.add_route(points + "/vectors", Write(ctx, put=events.add_update_vectors))
    app.add_route(points + "/vectors/delete", Write(ctx, post=events.add_delete_vectors))
    app.add_route(points + "/batch", Batch(ctx))
    index = Index(ctx)
    app.add_route("/collections/{name}/index", index)
    app.add_route("/collections/{name}/index/{field}", index, suffix="field")
    app.add_route(points + "/scroll", Scroll(ctx))
    app.add_route(points + "/count", Count(ctx))
    app.add_route(points + "/query", Query(ctx))
    app.add_route(points + "/query/batch", QueryBatch(ctx))
    return app
